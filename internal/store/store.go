package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// Sentinel errors returned by every Store implementation. Callers test them
// with errors.Is; implementations may wrap them with context.
var (
	// ErrNotFound means the session does not exist: it never did, it expired,
	// or it was revoked.
	ErrNotFound = errors.New("store: session not found")
	// ErrReused means a refresh token that was already rotated away was
	// presented. The implementation has revoked the whole session before
	// returning it (RFC 9700 §4.14.2).
	ErrReused = errors.New("store: refresh token reused; session revoked")
	// ErrExists means CreateSession was given an ID that is already in use.
	ErrExists = errors.New("store: session already exists")
	// ErrUnavailable means the data cannot be read or written right now
	// (connection refused, timeout, LOADING, READONLY, CLUSTERDOWN, TRYAGAIN,
	// a redirect left over after retries, NOAUTH, WRONGPASS, NOPERM, OOM,
	// MISCONF). The caller must fail closed: no
	// token whose state was not stored may be handed out.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrKeyMismatch means Rotate was asked to rotate a session bound to a
	// DPoP key without a proof made with that key. Nothing changed.
	ErrKeyMismatch = errors.New("store: session bound to another DPoP key")
	// ErrProofRequired means Rotate was told a DPoP proof is required and
	// none came with the request. Nothing changed.
	ErrProofRequired = errors.New("store: DPoP proof required")
)

// Token describes one issued refresh token together with the access token
// minted beside it, by the claims needed to mint both again. Tokens are never
// stored as strings: a stolen database yields no usable token.
type Token struct {
	// ID is the refresh token's jti.
	ID string
	// IssuedAt and ExpiresAt are the refresh token's iat and exp.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// AccessID, AccessIssuedAt, AccessExpiresAt and AccessScope are the jti,
	// iat, exp and scope of the access token issued with this refresh token.
	AccessID        string
	AccessIssuedAt  time.Time
	AccessExpiresAt time.Time
	AccessScope     string
	// AccessJKT is the cnf.jkt of that access token, empty for a bearer
	// token (RFC 9449 §6.1).
	AccessJKT string
}

// Session is a refresh-token family: one login and every refresh token
// rotated from it.
type Session struct {
	// ID is the family id, carried in every refresh token of the family.
	ID string
	// Subject is the user (sub) the session belongs to.
	Subject string
	// ClientID is the client the session is bound to, empty for none.
	ClientID string
	// Scope is the space-separated scope granted at login.
	Scope string
	// AuthTime is the moment of the login.
	AuthTime time.Time
	// MaxExpiresAt is the absolute end of the session (AuthTime plus
	// SESSION_MAX_TTL); no refresh token of the family outlives it.
	MaxExpiresAt time.Time
	// JKT is the thumbprint of the DPoP key the session is bound to (RFC
	// 9449 §5), empty for none. It never changes: every rotation of a bound
	// session must come with a proof made with that key.
	JKT string
	// Origin says where the subject was authenticated: OriginFile (the
	// credentials file, re-checked at every refresh) or
	// OriginAuthenticator.
	Origin string
}

// Origins of a session (Session.Origin).
const (
	// OriginFile is a user of the credentials file; the zero value, so a
	// session that names no origin is re-checked.
	OriginFile = ""
	// OriginAuthenticator is a user vouched for by the user authenticator
	// (USER_AUTHENTICATOR_URL); refresh does not re-check it.
	OriginAuthenticator = "authenticator"
)

// SessionInfo is one live session as the per-subject index lists it.
type SessionInfo struct {
	Session
	// Current is the session's current refresh token; Current.ExpiresAt is
	// when the session ends unless it is refreshed.
	Current Token
	// RefreshedAt is the time of the last rotation, zero before the first.
	RefreshedAt time.Time
}

// LogoutAllRequest asks LogoutAll to end every session of the subject of a
// presented refresh token.
type LogoutAllRequest struct {
	// SessionID is the family id from the presented token.
	SessionID string
	// Presented is the jti of the presented refresh token.
	Presented string
	// Now is the time of the request.
	Now time.Time
	// Grace is REFRESH_REUSE_GRACE: the previous token is accepted within
	// Grace of its rotation, as Rotate accepts a retry.
	Grace time.Duration
	// JKT is the thumbprint of the key of the request's DPoP proof, empty
	// when it has none. A session bound to a key (Session.JKT) ends its
	// subject's sessions only with it: otherwise, after the reuse check,
	// LogoutAll returns ErrKeyMismatch and nothing changes.
	JKT string
}

// tagLen is the length of the subject tag that starts every session id.
const tagLen = 16

// NewSessionID returns the id of a new session of subject: the subject's
// tag (SubjectTag), a dot, and random, which must hold at least 128 random
// bits in a form without dots (base64url). Stores keep a session beside its
// subject's index by the tag, so one subject's sessions and index live in
// one Redis Cluster hash slot, and the index can be found from the id alone.
func NewSessionID(subject, random string) string {
	return SubjectTag(subject) + "." + random
}

// SubjectTag returns the tag of subject: 16 hex digits of its SHA-256. The
// tag groups, it does not identify: stores still compare the subject itself.
func SubjectTag(subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return hex.EncodeToString(sum[:tagLen/2])
}

// SessionTag returns the subject tag a session id starts with, and false for
// an id not made by NewSessionID (such as a session from before the index
// existed).
func SessionTag(id string) (string, bool) {
	tag, rest, ok := strings.Cut(id, ".")
	if !ok || len(tag) != tagLen || rest == "" {
		return "", false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return tag, true
}

// RotateRequest asks Rotate to replace the family's current refresh token.
type RotateRequest struct {
	// SessionID is the family id from the presented token.
	SessionID string
	// Presented is the jti of the presented refresh token.
	Presented string
	// Next is the successor to install when Presented is current. Its
	// ExpiresAt must not be after the session's MaxExpiresAt.
	Next Token
	// Now is the time of the request.
	Now time.Time
	// Grace is the idempotent-retry window (REFRESH_REUSE_GRACE); zero
	// disables it.
	Grace time.Duration
	// JKT is the thumbprint of the key of the request's DPoP proof, empty
	// when it has none. A session bound to a key rotates only with it.
	JKT string
	// ProofRequired says the client must send a DPoP proof
	// (dpop_bound_access_tokens): without one (JKT empty) nothing rotates.
	ProofRequired bool
}

// RotateResult tells what Rotate did.
type RotateResult struct {
	// Session is the family the token belongs to.
	Session Session
	// Current is the family's current token after the call: req.Next when
	// Retried is false, the successor installed by the earlier rotation when
	// Retried is true.
	Current Token
	// Retried is true when Presented was the immediately previous token,
	// presented again within Grace of its rotation: nothing changed, and the
	// caller must hand out Current again, not a new branch.
	Retried bool
}

// FailureKey names one login-failure counter: a name within the bucket of
// a client address.
type FailureKey struct {
	// Address is the client address the failures come from, in the form
	// the limits use (an IPv6 address as its /64).
	Address string
	// Name is a fixed-size keyed hash of the username or client id, never
	// the name as typed: a store dump cannot show what was typed, and a
	// hostile name cannot make a counter larger.
	Name string
}

// FailureCount is the state of an address's failure counters, seen from one
// name.
type FailureCount struct {
	// Name is the failures counted for the name in the window.
	Name int64
	// Address is the failures of every name from the address in the window.
	Address int64
	// Names is the number of names with a counter of their own.
	Names int
	// ResetIn is the time left until the address's window ends; zero when
	// no window is open.
	ResetIn time.Duration
}

// Store keeps refresh-token families, the access-token denylist, login
// failure counters and the DPoP proof ids already used. Every method is safe for concurrent use by many
// goroutines and, for shared implementations, by many processes.
type Store interface {
	// CreateSession stores a new family whose current refresh token is
	// first. The record expires by itself at first.ExpiresAt. It returns
	// ErrExists when the ID is taken, except for a repeat of the very same
	// call (same first.ID), which succeeds.
	CreateSession(ctx context.Context, s Session, first Token) error

	// Rotate MUST be atomic. When req.Presented is the family's current
	// token, req.Next becomes current, the presented token becomes the
	// previous one (remembered with req.Now as its rotation time), the
	// record's expiry moves to req.Next.ExpiresAt, and the result has
	// Retried false. When req.Presented is the previous token and req.Now is
	// within req.Grace of its rotation, nothing changes and the result
	// carries the current token with Retried true. Any other token of a
	// live family is a reuse: the family is deleted and ErrReused returned.
	// After that reuse check, and before anything changes, the DPoP rules
	// apply (RFC 9449 §5): a session bound to a key (Session.JKT) whose
	// req.JKT differs gives ErrKeyMismatch, and then req.ProofRequired with
	// an empty req.JKT gives ErrProofRequired; either way nothing changes,
	// so the presented token stays usable.
	// A family that does not exist (never created, expired or revoked)
	// gives ErrNotFound. Of N concurrent calls presenting the same current
	// token, exactly one rotates. A call repeated by the client library after
	// a lost reply (Presented is the previous token and req.Next.ID is
	// already current) returns that rotation again instead of a reuse: only
	// the original caller knows Next.ID. Times come back with millisecond
	// precision.
	Rotate(ctx context.Context, req RotateRequest) (RotateResult, error)

	// Session returns the family id and its current refresh token, read in
	// one step, for introspection (RFC 7662): a refresh token is active
	// when its family exists and its jti is the returned token's ID. A
	// family that does not exist (never created, expired by the
	// application's clock or Redis, revoked, or deleted on a reuse) gives
	// ErrNotFound. It changes nothing. Times come back with millisecond
	// precision.
	Session(ctx context.Context, id string) (Session, Token, error)

	// RevokeSession deletes the family and its index entry. Revoking a
	// family that does not exist is not an error.
	RevokeSession(ctx context.Context, sessionID string) error

	// CreateSessionCapped is CreateSession that also keeps the subject at
	// most limit live sessions (MAX_SESSIONS_PER_SUBJECT; 0 = no limit):
	// when the subject already has limit or more, the oldest by AuthTime
	// (then by id) end first, in the same atomic step as the creation. It
	// returns the ids of the sessions it ended. now is the request's time,
	// by which index entries count as expired.
	CreateSessionCapped(ctx context.Context, s Session, first Token, limit int, now time.Time) (ended []string, err error)

	// Sessions lists the subject's live sessions, oldest login first, in
	// time proportional to the subject's own sessions (never a scan of all
	// sessions). Sessions whose current token expired by now are left out;
	// it may drop their index entries. A subject with none gives an empty
	// list.
	Sessions(ctx context.Context, subject string, now time.Time) ([]SessionInfo, error)

	// EndSession deletes the family id and its index entry, atomically, and
	// returns the session it was. A family that does not exist (or expired
	// by now) gives ErrNotFound.
	EndSession(ctx context.Context, id string, now time.Time) (Session, error)

	// EndSessions MUST be atomic: it ends every live session of subject in
	// one step and returns their ids. A session created concurrently is
	// either ended (its creation came first) or survives untouched (it
	// came after); it is never left half-indexed.
	EndSessions(ctx context.Context, subject string, now time.Time) ([]string, error)

	// LogoutAll MUST be atomic: when req.Presented is the family's current
	// token, or its previous one within req.Grace of the rotation, every
	// live session of the family's subject ends, as EndSessions, and their
	// ids are returned with the subject. Any other token of a live family
	// is a reuse: that family is deleted and ErrReused returned, nothing
	// else ends. A family that does not exist gives ErrNotFound.
	LogoutAll(ctx context.Context, req LogoutAllRequest) (subject string, ended []string, err error)

	// DenyAccessToken puts an access-token jti on the denylist until exp;
	// an exp in the past is a no-op.
	DenyAccessToken(ctx context.Context, jti string, exp time.Time) error

	// AccessTokenDenied reports whether jti is on the denylist.
	AccessTokenDenied(ctx context.Context, jti string) (bool, error)

	// AddFailure counts one failed password or secret check of k.Name from
	// k.Address. The address's total always grows by one. k.Name gets a
	// counter of its own when it has one already or when the address holds
	// fewer than maxNames named counters; otherwise only the total grows, so
	// no input makes the store hold more than maxNames counters per address.
	// The window is fixed: it starts with the address's first failure, lasts
	// window, and covers every counter of the address. It returns the counts
	// after the call.
	AddFailure(ctx context.Context, k FailureKey, window time.Duration, maxNames int) (FailureCount, error)

	// Failures returns the counts of k in the address's current window (all
	// zero when there is none). It changes nothing.
	Failures(ctx context.Context, k FailureKey) (FailureCount, error)

	// UseProof records that the DPoP proof id was used and reports whether
	// this was its first use (RFC 9449 §11.1). It MUST be atomic: of any
	// number of concurrent calls with the same id, across processes,
	// exactly one gets true. The record expires at until, after which the
	// proof would be refused for its age anyway; an until not after now
	// records nothing and returns true. id is opaque to the store: callers
	// pass a fixed-size hash, never a raw proof value.
	UseProof(ctx context.Context, id string, until time.Time) (first bool, err error)

	// Ping reports whether the store answers; an error means unavailable.
	Ping(ctx context.Context) error

	// RevocationFeed keeps the revocation feed (see its methods).
	RevocationFeed

	// Close releases the store's resources.
	Close() error
}

// SortSessions orders sessions oldest login first, then by id, the order
// Store.Sessions returns.
func SortSessions(s []SessionInfo) {
	slices.SortFunc(s, func(a, b SessionInfo) int {
		if c := a.AuthTime.Compare(b.AuthTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// CheckDPoP applies the DPoP rules of Store.Rotate to a presented token that
// is not a reuse, for implementations that can run Go in their atomic step:
// it returns ErrKeyMismatch or ErrProofRequired, or nil to go on.
func CheckDPoP(sessionJKT string, req RotateRequest) error {
	switch {
	case sessionJKT != "" && req.JKT != sessionJKT:
		return ErrKeyMismatch
	case req.ProofRequired && req.JKT == "":
		return ErrProofRequired
	}
	return nil
}
