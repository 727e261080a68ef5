// Package redisstore is the production store.Store, kept in Redis: a single
// node, a Sentinel-managed primary or a Cluster, whichever
// goredis.UniversalClient is given to New.
//
// # Keys
//
// Every key starts with the prefix given to New and has a TTL:
//
//	<prefix>s:{<session id>}  hash   one refresh-token family; expires with its current token
//	<prefix>deny:{<jti>}      string a denylisted access token; expires with the token
//	<prefix>fail:{<address>}  hash   the login-failure counters of one client address; expires with its window
//	<prefix>dpop:{<id>}       string a used DPoP proof id; expires when the proof is too old
//	<prefix>rev:{feed}:log    stream the revocation feed in order; trimmed to store.FeedRetention
//	<prefix>rev:{feed}:set    zset   the feed's entries in force ("t:<jti>", "s:<sid>"), score exp ms
//	<prefix>rev:{feed}:meta   hash   the feed's epoch, latest id and trim floor
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
// Every other operation touches exactly one key, and the braces make the id the
// Cluster hash tag, so anything later grouped by id stays in one slot. The
// family hash holds only ids, claims and unix-millisecond times, never a token.
//
//	sub cid scope auth max   the Session (auth, max: AuthTime, MaxExpiresAt)
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
	//go:embed create.lua
	createSrc string
	//go:embed rotate.lua
	rotateSrc string
	//go:embed addfailure.lua
	addFailureSrc string
	//go:embed failures.lua
	failuresSrc string

	createScript     = goredis.NewScript(createSrc)
	rotateScript     = goredis.NewScript(rotateSrc)
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

// sessionKey returns the key of the family id.
func (s *Store) sessionKey(id string) string {
	return s.prefix + "s:{" + id + "}"
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
// TTL ending at first.ExpiresAt; see store.Store. Running it again with the
// same first token, before any rotation, succeeds again instead of returning
// store.ErrExists, so a retry by the client library after a lost reply does
// not fail a login that succeeded.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, first store.Token) error {
	args := make([]any, 0, nFields)
	args = append(args, sess.Subject, sess.ClientID, sess.Scope, millis(sess.AuthTime), millis(sess.MaxExpiresAt))
	args = appendToken(args, first)
	args = append(args, first.AccessJKT, sess.JKT)
	created, err := createScript.Run(ctx, s.client, []string{s.sessionKey(sess.ID)}, args...).Int()
	if err != nil {
		return s.fail("create session", err)
	}
	if created == 0 {
		return fmt.Errorf("redisstore: create session %s: %w", sess.ID, store.ErrExists)
	}
	return nil
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
	args := make([]any, 0, 3+7+3)
	args = append(args, req.Presented, millis(req.Now), max(req.Grace.Milliseconds(), 0))
	args = appendToken(args, req.Next)
	args = append(args, req.Next.AccessJKT, req.JKT, flag(req.ProofRequired))
	reply, err := rotateScript.Run(ctx, s.client, []string{s.sessionKey(req.SessionID)}, args...).Slice()
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
var familyFields = []string{"sub", "cid", "scope", "auth", "max", "cur", "iat", "exp", "aid", "aiat", "aexp", "ascope", "ajkt", "jkt"}

// Session reads the family and its current token with one HMGET of its one
// key; see store.Store. A family whose current token has expired by the
// local clock is reported gone even if Redis has not removed it yet, as
// Rotate does.
func (s *Store) Session(ctx context.Context, id string) (store.Session, store.Token, error) {
	vals, err := s.client.HMGet(ctx, s.sessionKey(id), familyFields...).Result()
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

// parseRotateReply splits the reply of rotate.lua into its code and, for a
// rotation or retry, the nFields family fields.
func parseRotateReply(reply []any) (int64, []string, error) {
	if len(reply) == 0 {
		return 0, nil, errors.New("empty script reply")
	}
	code, ok := reply[0].(int64)
	if !ok {
		return 0, nil, fmt.Errorf("script reply code is %T", reply[0])
	}
	switch code {
	case rotateNotFound, rotateReused, rotateWrongKey, rotateNoProof:
		return code, nil, nil
	case rotateRotated, rotateRetried:
	default:
		return 0, nil, fmt.Errorf("unknown script reply code %d", code)
	}
	if len(reply) != 1+nFields {
		return 0, nil, fmt.Errorf("script reply has %d values, want %d", len(reply), 1+nFields)
	}
	fields := make([]string, nFields)
	for i, v := range reply[1:] {
		str, ok := v.(string)
		if !ok {
			return 0, nil, fmt.Errorf("family field %d is %T", i, v)
		}
		fields[i] = str
	}
	return code, fields, nil
}

// RevokeSession deletes the family; see store.Store.
func (s *Store) RevokeSession(ctx context.Context, sessionID string) error {
	if err := s.client.Del(ctx, s.sessionKey(sessionID)).Err(); err != nil {
		return s.fail("revoke session", err)
	}
	return nil
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
	if reply, ok := err.(goredis.Error); ok {
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
