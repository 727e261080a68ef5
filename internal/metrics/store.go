package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// Store returns s instrumented: every operation's latency goes to
// authsvc_store_operation_duration_seconds and its failures to
// authsvc_store_errors_total. The answers are s's own, unchanged.
func (m *Metrics) Store(s store.Store) store.Store {
	return &instrumentedStore{Store: s, m: m}
}

// instrumentedStore decorates a store.Store. It embeds the store, so a
// method added to the store interface later still passes through (uninstrumented
// until it is listed here).
type instrumentedStore struct {
	store.Store
	m *Metrics
}

// observe records one operation that started at start and ended with
// *err. Methods call it deferred: defer s.observe(op, time.Now(), &err).
func (s *instrumentedStore) observe(op string, start time.Time, err *error) {
	s.m.storeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	switch e := *err; {
	case e == nil, errors.Is(e, store.ErrNotFound), errors.Is(e, store.ErrReused), errors.Is(e, store.ErrExists),
		errors.Is(e, store.ErrInvalidCursor):
		// Answers, not failures.
	case errors.Is(e, store.ErrUnavailable):
		s.m.storeErrors.WithLabelValues(op, "unavailable").Inc()
	default:
		s.m.storeErrors.WithLabelValues(op, other).Inc()
	}
}

// CreateSession implements store.Store.
func (s *instrumentedStore) CreateSession(ctx context.Context, sess store.Session, first store.Token) (err error) {
	defer s.observe("create_session", time.Now(), &err)
	return s.Store.CreateSession(ctx, sess, first)
}

// Rotate implements store.Store.
func (s *instrumentedStore) Rotate(ctx context.Context, req store.RotateRequest) (_ store.RotateResult, err error) {
	defer s.observe("rotate", time.Now(), &err)
	return s.Store.Rotate(ctx, req)
}

// Session implements store.Store.
func (s *instrumentedStore) Session(ctx context.Context, id string) (_ store.Session, _ store.Token, err error) {
	defer s.observe("session", time.Now(), &err)
	return s.Store.Session(ctx, id)
}

// RevokeSession implements store.Store.
func (s *instrumentedStore) RevokeSession(ctx context.Context, sessionID string) (err error) {
	defer s.observe("revoke_session", time.Now(), &err)
	return s.Store.RevokeSession(ctx, sessionID)
}

// DenyAccessToken implements store.Store.
func (s *instrumentedStore) DenyAccessToken(ctx context.Context, jti string, exp time.Time) (err error) {
	defer s.observe("deny_access_token", time.Now(), &err)
	return s.Store.DenyAccessToken(ctx, jti, exp)
}

// AccessTokenDenied implements store.Store.
func (s *instrumentedStore) AccessTokenDenied(ctx context.Context, jti string) (_ bool, err error) {
	defer s.observe("access_token_denied", time.Now(), &err)
	return s.Store.AccessTokenDenied(ctx, jti)
}

// UseProof implements store.Store.
func (s *instrumentedStore) UseProof(ctx context.Context, id string, until time.Time) (_ bool, err error) {
	defer s.observe("use_proof", time.Now(), &err)
	return s.Store.UseProof(ctx, id, until)
}

// AddFailure implements store.Store.
func (s *instrumentedStore) AddFailure(ctx context.Context, k store.FailureKey, window time.Duration, maxNames int) (_ store.FailureCount, err error) {
	defer s.observe("add_failure", time.Now(), &err)
	return s.Store.AddFailure(ctx, k, window, maxNames)
}

// Failures implements store.Store.
func (s *instrumentedStore) Failures(ctx context.Context, k store.FailureKey) (_ store.FailureCount, err error) {
	defer s.observe("failures", time.Now(), &err)
	return s.Store.Failures(ctx, k)
}

// Ping implements store.Store.
func (s *instrumentedStore) Ping(ctx context.Context) (err error) {
	defer s.observe("ping", time.Now(), &err)
	return s.Store.Ping(ctx)
}

// CreateSessionCapped implements store.Store.
func (s *instrumentedStore) CreateSessionCapped(ctx context.Context, sess store.Session, first store.Token, limit int, now time.Time) (_ []string, err error) {
	defer s.observe("create_session", time.Now(), &err)
	return s.Store.CreateSessionCapped(ctx, sess, first, limit, now)
}

// Sessions implements store.Store.
func (s *instrumentedStore) Sessions(ctx context.Context, subject string, now time.Time) (_ []store.SessionInfo, err error) {
	defer s.observe("list_sessions", time.Now(), &err)
	return s.Store.Sessions(ctx, subject, now)
}

// EndSession implements store.Store.
func (s *instrumentedStore) EndSession(ctx context.Context, id string, now time.Time) (_ store.Session, err error) {
	defer s.observe("end_session", time.Now(), &err)
	return s.Store.EndSession(ctx, id, now)
}

// EndSessions implements store.Store.
func (s *instrumentedStore) EndSessions(ctx context.Context, subject string, now time.Time) (_ []string, err error) {
	defer s.observe("end_sessions", time.Now(), &err)
	return s.Store.EndSessions(ctx, subject, now)
}

// LogoutAll implements store.Store.
func (s *instrumentedStore) LogoutAll(ctx context.Context, req store.LogoutAllRequest) (_ string, _ []string, err error) {
	defer s.observe("logout_all", time.Now(), &err)
	return s.Store.LogoutAll(ctx, req)
}

// AddRevocation implements store.Store.
func (s *instrumentedStore) AddRevocation(ctx context.Context, r store.Revocation) (err error) {
	defer s.observe("add_revocation", time.Now(), &err)
	return s.Store.AddRevocation(ctx, r)
}

// Revocations implements store.Store. A read that may wait for news (the
// feed's one reader per process) is observed as its own operation, so its
// long waits do not blur the latency of the quick reads.
func (s *instrumentedStore) Revocations(ctx context.Context, cursor string, wait time.Duration) (_ store.RevocationPage, err error) {
	op := "revocations"
	if wait > 0 {
		op = "revocations_wait"
	}
	defer s.observe(op, time.Now(), &err)
	return s.Store.Revocations(ctx, cursor, wait)
}
