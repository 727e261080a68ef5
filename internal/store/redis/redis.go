// Package redisstore is the production store.Store, kept in Redis: a single
// node, a Sentinel-managed primary or a Cluster, whichever
// goredis.UniversalClient is given to New.
//
// # Keys
//
// Every key starts with the prefix given to New and has a TTL:
//
//	<prefix>s:{<tag>}.<rand>  hash        one refresh-token family; expires with its current token
//	<prefix>u:{<tag>}         sorted set  the subject's index: session id → its current token's exp (ms);
//	                                      expires with its longest-lived member
//	<prefix>deny:{<jti>}      string      a denylisted access token; expires with the token
//	<prefix>fail:{<address>}  hash        the login-failure counters of one client address; expires with its window
//	<prefix>dpop:{<id>}       string      a used DPoP proof id; expires when the proof is too old
//	<prefix>rev:{feed}:log    stream      the revocation feed in order; trimmed to store.FeedRetention
//	<prefix>rev:{feed}:set    zset        the feed's entries in force ("t:<jti>", "s:<sid>"), score exp ms
//	<prefix>rev:{feed}:meta   hash        the feed's epoch, latest id and trim floor
//
// A session id is "<tag>.<rand>" (store.NewSessionID): the tag is 16 hex
// digits of the SHA-256 of the subject. The braces make the tag the Cluster
// hash tag, so a subject's families and its index share one slot and every
// operation, ending all of a subject's sessions included, runs in one
// script on one node. The index is found from a session id alone (the admin
// API ends a session by id). Subjects whose tags collide share an index;
// the scripts compare the family's subject, so they never touch each
// other's sessions.
//
// The index needs no sweeper: each write to it first drops the entries
// whose score (expiry) has passed, a rotation moves its session's score,
// and the key's own TTL is its highest score, so a subject who stops
// logging in leaves nothing behind, and one who logs in daily for a year
// holds only the sessions still live.
//
// Sessions created before the index existed (ids without a tag, kept at
// <prefix>s:{<id>}) are not found: their refresh tokens get invalid_grant
// and their records expire by themselves (see CHANGELOG.md).
//
// The family hash holds only ids, claims and unix-millisecond times, never
// a token.
//
// The three feed keys share one hash tag, so one script updates them
// together on a Cluster; they expire when no entry in them matters any more.
// The stream carries the increments a cursor asks for, and readers block on
// it (XREAD) to learn of a new entry at once; the sorted set is the complete
// set, trimmed by exp, so the feed holds only what still matters. A cursor
// is the feed's epoch (changed whenever the feed's data is lost) and a
// stream id; one whose entries were trimmed is answered with the complete
// set.
//
// The other keys are one per id, the braces making the id the Cluster hash
// tag; each of their operations touches one key.
//
// The family hash's fields:
//
//	sub cid scope auth max   the Session (auth, max: AuthTime, MaxExpiresAt)
//	org                      the Session's Origin ("" for the credentials file)
//	cur iat exp              the current refresh token's jti, iat, exp
//	aid aiat aexp ascope     the access token minted with it
//	ajkt                     that access token's DPoP key thumbprint (cnf.jkt), "" for none
//	jkt                      the DPoP key the session is bound to, "" for none
//	prev rot                 the previous jti and the req.Now of its rotation
//
// # Atomicity
//
// CreateSession and Rotate are each one Lua script, run in one round trip
// (EVALSHA, falling back to EVAL), so Redis executes them without
// interleaving: of N concurrent rotations of the same token exactly one sees
// it current. Both scripts also tolerate being run twice for the same call,
// which go-redis does when a reply is lost and it retries; see Rotate.
//
// # Time
//
// Rotate judges expiry and the grace window by req.Now, the application's
// clock; TTLs are absolute (PEXPIREAT, PXAT), so Redis removes a record at
// the instant the application computed. DenyAccessToken compares exp with
// the local clock only to skip entries already expired.
//
// # Errors
//
// Every error that means the data cannot be read or written right now is
// wrapped so that errors.Is(err, store.ErrUnavailable) holds: network
// errors, timeouts (including a context deadline), a closed client or
// exhausted pool, and the Redis replies LOADING, READONLY, CLUSTERDOWN,
// TRYAGAIN, MOVED, ASK, MASTERDOWN, NOREPLICAS, BUSY, MISCONF and OOM, and
// the refusals of a Redis whose credentials or permissions are wrong (NOAUTH,
// WRONGPASS, NOPERM: an operator must fix them, and meanwhile nothing can be
// read or written, exactly as when Redis is down). A
// context canceled by the caller is returned as it is. Error messages carry
// no token data.
package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/store"
)

var (
	//go:embed lib.lua
	libSrc string
	//go:embed create.lua
	createSrc string
	//go:embed rotate.lua
	rotateSrc string
	//go:embed list.lua
	listSrc string
	//go:embed endone.lua
	endOneSrc string
	//go:embed endall.lua
	endAllSrc string
	//go:embed logoutall.lua
	logoutAllSrc string
	//go:embed addfailure.lua
	addFailureSrc string
	//go:embed failures.lua
	failuresSrc string

	// The scripts that touch a subject's index share lib.lua's helpers.
	createScript     = goredis.NewScript(libSrc + createSrc)
	rotateScript     = goredis.NewScript(libSrc + rotateSrc)
	listScript       = goredis.NewScript(libSrc + listSrc)
	endOneScript     = goredis.NewScript(libSrc + endOneSrc)
	endAllScript     = goredis.NewScript(libSrc + endAllSrc)
	logoutAllScript  = goredis.NewScript(libSrc + logoutAllSrc)
	addFailureScript = goredis.NewScript(addFailureSrc)
	failuresScript   = goredis.NewScript(failuresSrc)
)

// Store is a store.Store in Redis. Create it with New.
type Store struct {
	client goredis.UniversalClient
	prefix string
	now    func() time.Time // only to skip denylist entries and report families already expired
	// retention overrides store.FeedRetention when positive (tests only).
	retention time.Duration
}

var _ store.Store = (*Store)(nil)

// New returns a Store that keeps its keys, all starting with prefix, in the
// Redis behind client. The Store takes ownership of client: Close closes it.
// A prefix containing braces would put its own hash tag in front of the
// ids'; that is allowed (every operation touches one key) but spreads
// nothing across a Cluster.
func New(client goredis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix, now: time.Now}
}

// Field values of a family hash, in the order the scripts take and return
// them (see the package comment).
const (
	fSubject = iota
	fClientID
	fScope
	fAuthTime
	fMaxExpiresAt
	fID
	fIssuedAt
	fExpiresAt
	fAccessID
	fAccessIssuedAt
	fAccessExpiresAt
	fAccessScope
	fAccessJKT
	fJKT
	fOrigin
	nFields
)

// Replies of rotate.lua.
const (
	rotateNotFound = 0
	rotateRotated  = 1
	rotateRetried  = 2
	rotateReused   = 3
	rotateWrongKey = 4
	rotateNoProof  = 5
)

// sessionKeys returns the key of the family id and of its subject's index,
// both under the subject tag the id starts with, and the family key prefix
// of that tag (the scripts' BASE). ok is false for an id without a tag: no
// session with such an id is kept (see the package comment on upgrades).
func (s *Store) sessionKeys(id string) (family, index, base string, ok bool) {
	tag, ok := store.SessionTag(id)
	if !ok {
		return "", "", "", false
	}
	base = s.prefix + "s:{" + tag + "}"
	return base + id[len(tag):], s.indexKey(tag), base, true
}

// indexKey returns the key of the index of the subjects tagged tag.
func (s *Store) indexKey(tag string) string {
	return s.prefix + "u:{" + tag + "}"
}

// denyKey returns the denylist key of an access-token jti.
func (s *Store) denyKey(jti string) string {
	return s.prefix + "deny:{" + jti + "}"
}

// failKey returns the key of the login-failure hash of a client address.
func (s *Store) failKey(addr string) string {
	return s.prefix + "fail:{" + addr + "}"
}

// proofKey returns the key of a used DPoP proof id.
func (s *Store) proofKey(id string) string {
	return s.prefix + "dpop:{" + id + "}"
}

// CreateSession stores a new family whose current token is first, with a
// TTL ending at first.ExpiresAt, and indexes it under its subject; see
// store.Store. Running it again with the same first token, before any
// rotation, succeeds again instead of returning store.ErrExists, so a retry
// by the client library after a lost reply does not fail a login that
// succeeded.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, first store.Token) error {
	_, err := s.CreateSessionCapped(ctx, sess, first, 0, s.now())
	return err
}

// CreateSessionCapped is CreateSession keeping the subject within limit
// live sessions, in the same script; see store.Store.
func (s *Store) CreateSessionCapped(ctx context.Context, sess store.Session, first store.Token, limit int, now time.Time) ([]string, error) {
	fam, idx, base, ok := s.sessionKeys(sess.ID)
	if !ok {
		return nil, fmt.Errorf("redisstore: create session: %w", errUntagged)
	}
	args := make([]any, 0, nFields+5)
	args = append(args, sess.Subject, sess.ClientID, sess.Scope, millis(sess.AuthTime), millis(sess.MaxExpiresAt))
	args = appendToken(args, first)
	args = append(args, first.AccessJKT, sess.JKT, sess.Origin, sess.ID, millis(now), max(limit, 0), base)
	reply, err := createScript.Run(ctx, s.client, []string{fam, idx}, args...).Slice()
	if err != nil {
		return nil, s.fail("create session", err)
	}
	code, ids, err := codeAndStrings(reply)
	if err != nil {
		return nil, fmt.Errorf("redisstore: create session %s: %w", sess.ID, err)
	}
	if code == 0 {
		return nil, fmt.Errorf("redisstore: create session %s: %w", sess.ID, store.ErrExists)
	}
	return ids, nil
}

// errUntagged is returned for a session id that store.NewSessionID did not
// make.
var errUntagged = errors.New("session id carries no subject tag")

// codeAndStrings splits a script reply {code, string...}.
func codeAndStrings(reply []any) (int64, []string, error) {
	if len(reply) == 0 {
		return 0, nil, errors.New("empty script reply")
	}
	code, ok := reply[0].(int64)
	if !ok {
		return 0, nil, fmt.Errorf("script reply code is %T", reply[0])
	}
	out, err := stringsOf(reply[1:])
	return code, out, err
}

// stringsOf converts a script's array of strings.
func stringsOf(vals []any) ([]string, error) {
	var out []string
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("script reply value %d is %T", i, v)
		}
		out = append(out, str)
	}
	return out, nil
}

// Rotate replaces the family's current token in one atomic script; see
// store.Store for the rules.
//
// One case is added to them: when the presented token is the previous one and
// the current token is req.Next itself, this exact request already rotated
// the family (go-redis resends a command whose reply was lost), so the result
// is that rotation again, Retried false, even without grace. Nobody else can
// send it: Next.ID is fresh, known only to the caller that made it.
func (s *Store) Rotate(ctx context.Context, req store.RotateRequest) (store.RotateResult, error) {
	fam, idx, _, ok := s.sessionKeys(req.SessionID)
	if !ok {
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session: %w: %w", store.ErrNotFound, errUntagged)
	}
	args := make([]any, 0, 3+7+4)
	args = append(args, req.Presented, millis(req.Now), max(req.Grace.Milliseconds(), 0))
	args = appendToken(args, req.Next)
	args = append(args, req.Next.AccessJKT, req.JKT, flag(req.ProofRequired), req.SessionID)
	reply, err := rotateScript.Run(ctx, s.client, []string{fam, idx}, args...).Slice()
	if err != nil {
		return store.RotateResult{}, s.fail("rotate session", err)
	}
	code, fields, err := parseRotateReply(reply)
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session %s: %w", req.SessionID, err)
	}
	switch code {
	case rotateNotFound:
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session %s: %w", req.SessionID, store.ErrNotFound)
	case rotateReused:
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session %s: %w", req.SessionID, store.ErrReused)
	case rotateWrongKey:
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session %s: %w", req.SessionID, store.ErrKeyMismatch)
	case rotateNoProof:
		return store.RotateResult{}, fmt.Errorf("redisstore: rotate session %s: %w", req.SessionID, store.ErrProofRequired)
	}
	res := store.RotateResult{Session: sessionOf(req.SessionID, fields)}
	if code == rotateRotated {
		res.Current = req.Next
		return res, nil
	}
	res.Retried = true
	res.Current = tokenOf(fields)
	return res, nil
}

// sessionOf builds the Session id from the nFields family fields.
func sessionOf(id string, fields []string) store.Session {
	return store.Session{
		ID:           id,
		Subject:      fields[fSubject],
		ClientID:     fields[fClientID],
		Scope:        fields[fScope],
		AuthTime:     fromMillis(fields[fAuthTime]),
		MaxExpiresAt: fromMillis(fields[fMaxExpiresAt]),
		JKT:          fields[fJKT],
		Origin:       fields[fOrigin],
	}
}

// tokenOf builds the current Token from the nFields family fields.
func tokenOf(fields []string) store.Token {
	return store.Token{
		ID:              fields[fID],
		IssuedAt:        fromMillis(fields[fIssuedAt]),
		ExpiresAt:       fromMillis(fields[fExpiresAt]),
		AccessID:        fields[fAccessID],
		AccessIssuedAt:  fromMillis(fields[fAccessIssuedAt]),
		AccessExpiresAt: fromMillis(fields[fAccessExpiresAt]),
		AccessScope:     fields[fAccessScope],
		AccessJKT:       fields[fAccessJKT],
	}
}

// familyFields are the hash fields of a family in the order of the f*
// constants.
var familyFields = []string{"sub", "cid", "scope", "auth", "max", "cur", "iat", "exp", "aid", "aiat", "aexp", "ascope", "ajkt", "jkt", "org"}

// Session reads the family and its current token with one HMGET of its one
// key; see store.Store. A family whose current token has expired by the
// local clock is reported gone even if Redis has not removed it yet, as
// Rotate does.
func (s *Store) Session(ctx context.Context, id string) (store.Session, store.Token, error) {
	fam, _, _, ok := s.sessionKeys(id)
	if !ok {
		return store.Session{}, store.Token{}, fmt.Errorf("redisstore: read session: %w: %w", store.ErrNotFound, errUntagged)
	}
	vals, err := s.client.HMGet(ctx, fam, familyFields...).Result()
	if err != nil {
		return store.Session{}, store.Token{}, s.fail("read session", err)
	}
	if len(vals) != nFields || vals[fID] == nil {
		return store.Session{}, store.Token{}, fmt.Errorf("redisstore: read session %s: %w", id, store.ErrNotFound)
	}
	fields := make([]string, nFields)
	for i, v := range vals {
		fields[i], _ = v.(string) // a missing field reads as empty
	}
	sess, cur := sessionOf(id, fields), tokenOf(fields)
	if !cur.ExpiresAt.After(s.now()) {
		return store.Session{}, store.Token{}, fmt.Errorf("redisstore: read session %s: %w", id, store.ErrNotFound)
	}
	return sess, cur, nil
}

// rotatedFields are the family fields a rotation returns, in reply order:
// the session's own; the current token is the one the caller sent.
var rotatedFields = [...]int{fSubject, fClientID, fScope, fAuthTime, fMaxExpiresAt, fJKT, fOrigin}

// parseRotateReply checks the rotate script's reply and returns its code
// and, for a rotation or retry, the nFields family fields (for a rotation
// only the session's fields are filled: rotatedFields).
func parseRotateReply(reply []any) (int64, []string, error) {
	if len(reply) == 0 {
		return 0, nil, errors.New("empty script reply")
	}
	code, ok := reply[0].(int64)
	if !ok {
		return 0, nil, fmt.Errorf("script reply code is %T", reply[0])
	}
	var positions []int
	switch code {
	case rotateNotFound, rotateReused, rotateWrongKey, rotateNoProof:
		return code, nil, nil
	case rotateRotated:
		positions = rotatedFields[:]
	case rotateRetried:
	default:
		return 0, nil, fmt.Errorf("unknown script reply code %d", code)
	}
	want := nFields
	if positions != nil {
		want = len(positions)
	}
	if len(reply) != 1+want {
		return 0, nil, fmt.Errorf("script reply has %d values, want %d", len(reply), 1+want)
	}
	fields := make([]string, nFields)
	for i, v := range reply[1:] {
		str, ok := v.(string)
		if !ok {
			return 0, nil, fmt.Errorf("family field %d is %T", i, v)
		}
		if positions != nil {
			fields[positions[i]] = str
		} else {
			fields[i] = str
		}
	}
	return code, fields, nil
}

// RevokeSession deletes the family and its index entry in one script; see
// store.Store.
func (s *Store) RevokeSession(ctx context.Context, sessionID string) error {
	_, err := s.EndSession(ctx, sessionID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// EndSession deletes the family and its index entry in one script; see
// store.Store.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	fam, idx, _, ok := s.sessionKeys(id)
	if !ok {
		return store.Session{}, fmt.Errorf("redisstore: end session: %w: %w", store.ErrNotFound, errUntagged)
	}
	reply, err := endOneScript.Run(ctx, s.client, []string{fam, idx}, id, millis(now)).Slice()
	if err != nil {
		return store.Session{}, s.fail("end session", err)
	}
	code, f, err := codeAndStrings(reply)
	switch {
	case err != nil:
		return store.Session{}, fmt.Errorf("redisstore: end session %s: %w", id, err)
	case code == 0:
		return store.Session{}, fmt.Errorf("redisstore: end session %s: %w", id, store.ErrNotFound)
	case len(f) != 7:
		return store.Session{}, fmt.Errorf("redisstore: end session %s: script reply has %d values, want 8", id, len(f)+1)
	}
	return store.Session{
		ID: id, Subject: f[0], ClientID: f[1], Scope: f[2],
		AuthTime: fromMillis(f[3]), MaxExpiresAt: fromMillis(f[4]), Origin: f[5], JKT: f[6],
	}, nil
}

// listWidth is the number of values list.lua returns per session: its id,
// the nFields family fields and rot.
const listWidth = 1 + nFields + 1

// Sessions lists the subject's live sessions with one script over its
// index; see store.Store.
func (s *Store) Sessions(ctx context.Context, subject string, now time.Time) ([]store.SessionInfo, error) {
	tag := store.SubjectTag(subject)
	reply, err := listScript.Run(ctx, s.client, []string{s.indexKey(tag)},
		subject, millis(now), s.prefix+"s:{"+tag+"}").Slice()
	if err != nil {
		return nil, s.fail("list sessions", err)
	}
	vals, err := stringsOf(reply)
	if err != nil || len(vals)%listWidth != 0 {
		return nil, fmt.Errorf("redisstore: list sessions: malformed script reply (%d values): %w", len(vals), err)
	}
	out := make([]store.SessionInfo, 0, len(vals)/listWidth)
	for i := 0; i < len(vals); i += listWidth {
		fields := vals[i+1 : i+1+nFields]
		out = append(out, store.SessionInfo{
			Session:     sessionOf(vals[i], fields),
			Current:     tokenOf(fields),
			RefreshedAt: fromMillis(vals[i+listWidth-1]),
		})
	}
	store.SortSessions(out)
	return out, nil
}

// EndSessions ends every session of subject with one script over its
// index; see store.Store.
func (s *Store) EndSessions(ctx context.Context, subject string, now time.Time) ([]string, error) {
	tag := store.SubjectTag(subject)
	reply, err := endAllScript.Run(ctx, s.client, []string{s.indexKey(tag)},
		subject, millis(now), s.prefix+"s:{"+tag+"}").Slice()
	if err != nil {
		return nil, s.fail("end sessions", err)
	}
	ids, err := stringsOf(reply)
	if err != nil {
		return nil, fmt.Errorf("redisstore: end sessions: %w", err)
	}
	return ids, nil
}

// LogoutAll checks the presented token and ends every session of its
// subject, in one script; see store.Store.
func (s *Store) LogoutAll(ctx context.Context, req store.LogoutAllRequest) (string, []string, error) {
	fam, idx, base, ok := s.sessionKeys(req.SessionID)
	if !ok {
		return "", nil, fmt.Errorf("redisstore: logout all: %w: %w", store.ErrNotFound, errUntagged)
	}
	reply, err := logoutAllScript.Run(ctx, s.client, []string{fam, idx},
		req.Presented, millis(req.Now), max(req.Grace.Milliseconds(), 0), req.SessionID, base, req.JKT).Slice()
	if err != nil {
		return "", nil, s.fail("logout all", err)
	}
	code, vals, err := codeAndStrings(reply)
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("redisstore: logout all %s: %w", req.SessionID, err)
	case code == rotateNotFound:
		return "", nil, fmt.Errorf("redisstore: logout all %s: %w", req.SessionID, store.ErrNotFound)
	case code == rotateReused:
		return "", nil, fmt.Errorf("redisstore: logout all %s: %w", req.SessionID, store.ErrReused)
	case code == rotateWrongKey:
		return "", nil, fmt.Errorf("redisstore: logout all %s: %w", req.SessionID, store.ErrKeyMismatch)
	case len(vals) == 0:
		return "", nil, fmt.Errorf("redisstore: logout all %s: script reply has no subject", req.SessionID)
	}
	return vals[0], vals[1:], nil
}

// DenyAccessToken denylists jti until exp, rounded up to the millisecond;
// see store.Store. An exp not after the local clock is a no-op: Redis would
// otherwise delete an existing entry for jti.
func (s *Store) DenyAccessToken(ctx context.Context, jti string, exp time.Time) error {
	if !exp.After(s.now()) {
		return nil
	}
	at := exp.Add(time.Millisecond - time.Nanosecond).UnixMilli()
	if err := s.client.Do(ctx, "SET", s.denyKey(jti), "1", "PXAT", at).Err(); err != nil {
		return s.fail("deny access token", err)
	}
	return nil
}

// AccessTokenDenied reports whether jti is denylisted; see store.Store.
func (s *Store) AccessTokenDenied(ctx context.Context, jti string) (bool, error) {
	n, err := s.client.Exists(ctx, s.denyKey(jti)).Result()
	if err != nil {
		return false, s.fail("check access-token denylist", err)
	}
	return n == 1, nil
}

// AddFailure counts a failed check of k in one script: the address total,
// and the name's own counter while the address holds fewer than maxNames
// names (or the name has one already), with a TTL of window when the hash
// has none (the first failure opens the window); see store.Store. The
// window must be at least a millisecond.
func (s *Store) AddFailure(ctx context.Context, k store.FailureKey, window time.Duration, maxNames int) (store.FailureCount, error) {
	if window < time.Millisecond {
		return store.FailureCount{}, fmt.Errorf("redisstore: add failure: window %v is shorter than a millisecond", window)
	}
	vals, err := addFailureScript.Run(ctx, s.client, []string{s.failKey(k.Address)}, k.Name, window.Milliseconds(), maxNames).Int64Slice()
	if err != nil {
		return store.FailureCount{}, s.fail("add login failure", err)
	}
	return countReply(vals)
}

// Failures returns the counts of k, read atomically by one script; see
// store.Store.
func (s *Store) Failures(ctx context.Context, k store.FailureKey) (store.FailureCount, error) {
	vals, err := failuresScript.Run(ctx, s.client, []string{s.failKey(k.Address)}, k.Name).Int64Slice()
	if err != nil {
		return store.FailureCount{}, s.fail("read login failures", err)
	}
	return countReply(vals)
}

// countReply turns a {name, total, names, pttl} script reply into a
// FailureCount; a hash without a TTL reports no time left.
func countReply(vals []int64) (store.FailureCount, error) {
	if len(vals) != 4 {
		return store.FailureCount{}, fmt.Errorf("redisstore: failure script reply has %d values, want 4", len(vals))
	}
	return store.FailureCount{
		Name: vals[0], Address: vals[1], Names: int(vals[2]),
		ResetIn: time.Duration(max(vals[3], 0)) * time.Millisecond,
	}, nil
}

// UseProof records a DPoP proof id with one SET NX PXAT; see store.Store.
func (s *Store) UseProof(ctx context.Context, id string, until time.Time) (bool, error) {
	if !until.After(s.now()) {
		return true, nil
	}
	at := until.Add(time.Millisecond - time.Nanosecond).UnixMilli()
	err := s.client.Do(ctx, "SET", s.proofKey(id), "1", "NX", "PXAT", at).Err()
	switch {
	case errors.Is(err, goredis.Nil):
		return false, nil
	case err != nil:
		return false, s.fail("use DPoP proof", err)
	}
	return true, nil
}

// Ping reports whether Redis answers; see store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close closes the client given to New.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// appendToken appends t's fields in script order.
func appendToken(args []any, t store.Token) []any {
	return append(args,
		t.ID, millis(t.IssuedAt), millis(t.ExpiresAt),
		t.AccessID, millis(t.AccessIssuedAt), millis(t.AccessExpiresAt), t.AccessScope)
}

// flag returns a boolean as the script argument "1" or "0".
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// millis returns t as unix milliseconds, the form every time is stored in.
func millis(t time.Time) int64 {
	return t.UnixMilli()
}

// fromMillis parses unix milliseconds stored by millis, in UTC.
func fromMillis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// fail wraps err from operation op, marking it store.ErrUnavailable when it
// means Redis cannot be read or written right now.
func (s *Store) fail(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// unavailableReplies are the Redis error codes (the first word of an error
// reply) that mean "not now" rather than "never": the node is loading,
// read-only, cut off from its primary or cluster, redirecting, or busy.
var unavailableReplies = map[string]bool{
	"LOADING":     true,
	"READONLY":    true,
	"CLUSTERDOWN": true,
	"TRYAGAIN":    true,
	"MOVED":       true, // a redirect left over after the client's retries
	"ASK":         true,
	"MASTERDOWN":  true,
	"NOREPLICAS":  true,
	"BUSY":        true, // a script or module command is running too long
	"MISCONF":     true, // persistence is failing, so writes are refused
	"OOM":         true, // maxmemory reached, so writes are refused
	"NOAUTH":      true, // Redis wants a password that REDIS_URL does not give
	"WRONGPASS":   true, // the password or ACL user is wrong
	"NOPERM":      true, // the ACL user may not run a command or touch a key
}

// unavailable reports whether err means Redis cannot be read or written right
// now, as opposed to a bug, a refused request or the caller giving up.
func unavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false // the caller gave up; nothing to say about Redis
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, goredis.ErrClosed),
		errors.Is(err, goredis.ErrPoolTimeout),
		errors.Is(err, goredis.ErrPoolExhausted),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	// A reply from Redis itself: its code says whether to try again.
	if reply, ok := err.(goredis.Error); ok { //nolint:errorlint // only a reply itself, not one wrapped in a client error (next case)
		return unavailableReplies[replyCode(reply.Error())]
	}
	// A reply wrapped in a client error means the client could not reach
	// the node it needed: e.g. every sentinel answered that it knows no
	// such master ("all sentinels … unreachable: redis: nil").
	var wrapped goredis.Error
	return errors.As(err, &wrapped)
}

// replyCode returns the error code of a Redis error reply: its first word,
// or, for an error raised inside a script by Redis before 7.0
// ("ERR Error running script (call to f_…): @user_script:1: -READONLY …"),
// the code of the command that failed in it.
func replyCode(msg string) string {
	msg = strings.TrimPrefix(msg, "ERR ") // some servers prefix every error with ERR
	if strings.HasPrefix(msg, "Error running script") {
		if i := strings.LastIndex(msg, ": -"); i >= 0 {
			msg = msg[i+len(": -"):]
		}
	}
	code, _, _ := strings.Cut(msg, " ")
	return code
}
