// Package memory is a store.Store kept in the memory of one process, for
// development and tests only: its state is lost on exit and not shared
// between replicas, so reuse detection and login-failure limits hold only
// within one process.
//
// One mutex guards everything, which makes every method trivially atomic.
// Expiry is measured with the clock given to New: an expired record is
// deleted when it is next touched, and every so often a write sweeps all
// expired records, so memory stays proportional to the live records.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// minSweepEvery is the fewest writes between two sweeps of expired records.
const minSweepEvery = 64

// Store is an in-memory store.Store. Create it with New.
type Store struct {
	now func() time.Time

	mu       sync.Mutex
	families map[string]*family
	// bySubject is the per-subject index: subject → ids of its families.
	bySubject map[string]map[string]struct{}
	denied    map[string]time.Time // jti → exp
	failures  map[string]*failures // client address → its window
	proofs    map[string]time.Time // used DPoP proof id → until

	// Sweep bookkeeping: a sweep runs once there have been as many writes
	// as there were live records after the previous sweep (at least
	// minSweepEvery), which keeps its cost amortised O(1) per write and the
	// dead records at most about as many as the live ones.
	writes    int
	sweepNext int

	// feed is the revocation feed; it has its own lock.
	feed feed
}

var _ store.Store = (*Store)(nil)

// family is one refresh-token family.
type family struct {
	session store.Session
	current store.Token
	// previous is the jti rotated away last, empty before the first
	// rotation; rotatedAt is the req.Now of that rotation.
	previous  string
	rotatedAt time.Time
}

// failures is the login-failure window of one client address.
type failures struct {
	total int64
	names map[string]int64
	end   time.Time
}

// New returns an empty Store that reads the time from now (time.Now when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:       now,
		families:  make(map[string]*family),
		bySubject: make(map[string]map[string]struct{}),
		denied:    make(map[string]time.Time),
		failures:  make(map[string]*failures),
		proofs:    make(map[string]time.Time),
		sweepNext: minSweepEvery,
	}
}

// CreateSession stores a new family whose current token is first; see
// store.Store. Repeating the call with the same first token is not an error,
// so it is safe to retry.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, first store.Token) error {
	_, err := s.CreateSessionCapped(ctx, sess, first, 0, s.now())
	return err
}

// CreateSessionCapped is CreateSession keeping the subject within limit
// live sessions; see store.Store.
func (s *Store) CreateSessionCapped(_ context.Context, sess store.Session, first store.Token, limit int, _ time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if f := s.live(sess.ID, now); f != nil {
		if f.previous == "" && f.current.ID == first.ID {
			return nil, nil // a repeat of the call that created it
		}
		return nil, fmt.Errorf("memory: create session %s: %w", sess.ID, store.ErrExists)
	}
	s.wrote(now)
	var ended []string
	if limit > 0 {
		live := s.subjectSessions(sess.Subject, now)
		for i := 0; i < len(live)-limit+1; i++ {
			s.drop(live[i].ID)
			ended = append(ended, live[i].ID)
		}
	}
	if !first.ExpiresAt.After(now) {
		return ended, nil // expired on arrival, as in Redis
	}
	s.families[sess.ID] = &family{session: sess, current: first}
	ids := s.bySubject[sess.Subject]
	if ids == nil {
		ids = make(map[string]struct{})
		s.bySubject[sess.Subject] = ids
	}
	ids[sess.ID] = struct{}{}
	return ended, nil
}

// subjectSessions returns the live sessions of subject, oldest login
// first, dropping the index entries of expired ones. s.mu must be held.
func (s *Store) subjectSessions(subject string, now time.Time) []store.SessionInfo {
	var out []store.SessionInfo
	for id := range s.bySubject[subject] {
		f := s.live(id, now)
		if f == nil {
			continue
		}
		sess := f.session
		sess.ID = id
		out = append(out, store.SessionInfo{Session: sess, Current: f.current, RefreshedAt: f.rotatedAt})
	}
	store.SortSessions(out)
	return out
}

// drop deletes the family id and its index entry. s.mu must be held.
func (s *Store) drop(id string) {
	f, ok := s.families[id]
	if !ok {
		return
	}
	delete(s.families, id)
	if ids := s.bySubject[f.session.Subject]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.bySubject, f.session.Subject)
		}
	}
}

// Sessions lists the subject's live sessions; see store.Store.
func (s *Store) Sessions(_ context.Context, subject string, _ time.Time) ([]store.SessionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.subjectSessions(subject, s.now())
	if out == nil {
		out = []store.SessionInfo{}
	}
	return out, nil
}

// EndSession deletes the family id; see store.Store.
func (s *Store) EndSession(_ context.Context, id string, _ time.Time) (store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.live(id, now)
	if f == nil {
		return store.Session{}, fmt.Errorf("memory: end session %s: %w", id, store.ErrNotFound)
	}
	s.drop(id)
	s.wrote(now)
	sess := f.session
	sess.ID = id
	return sess, nil
}

// EndSessions ends every live session of subject; see store.Store.
func (s *Store) EndSessions(_ context.Context, subject string, _ time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endSubject(subject, s.now()), nil
}

// endSubject ends every live session of subject and returns their ids.
// s.mu must be held.
func (s *Store) endSubject(subject string, now time.Time) []string {
	var ended []string
	for _, si := range s.subjectSessions(subject, now) {
		s.drop(si.ID)
		ended = append(ended, si.ID)
	}
	s.wrote(now)
	return ended
}

// LogoutAll checks the presented token and ends every session of its
// subject; see store.Store.
func (s *Store) LogoutAll(_ context.Context, req store.LogoutAllRequest) (string, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.live(req.SessionID, now)
	switch {
	case f == nil:
		return "", nil, fmt.Errorf("memory: logout all %s: %w", req.SessionID, store.ErrNotFound)
	case req.Presented == f.current.ID,
		req.Presented == f.previous && req.Grace > 0 && req.Now.Sub(f.rotatedAt) <= req.Grace:
		if f.session.JKT != "" && req.JKT != f.session.JKT {
			return "", nil, fmt.Errorf("memory: logout all %s: %w", req.SessionID, store.ErrKeyMismatch)
		}
		return f.session.Subject, s.endSubject(f.session.Subject, now), nil
	default:
		s.drop(req.SessionID)
		s.wrote(now)
		return "", nil, fmt.Errorf("memory: logout all %s: %w", req.SessionID, store.ErrReused)
	}
}

// Rotate replaces the family's current token atomically; see store.Store.
// Replaying the exact call that made the current token (same Presented, same
// Next.ID) returns the same result again instead of reporting a reuse.
func (s *Store) Rotate(_ context.Context, req store.RotateRequest) (store.RotateResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.live(req.SessionID, now)
	if f == nil {
		return store.RotateResult{}, fmt.Errorf("memory: rotate session %s: %w", req.SessionID, store.ErrNotFound)
	}
	accepted := req.Presented == f.current.ID || (req.Presented == f.previous &&
		(req.Next.ID == f.current.ID || (req.Grace > 0 && req.Now.Sub(f.rotatedAt) <= req.Grace)))
	if accepted {
		if err := store.CheckDPoP(f.session.JKT, req); err != nil {
			return store.RotateResult{}, fmt.Errorf("memory: rotate session %s: %w", req.SessionID, err)
		}
	}
	switch {
	case req.Presented == f.current.ID:
		f.previous, f.rotatedAt = f.current.ID, req.Now
		f.current = req.Next
		s.wrote(now)
		if !f.current.ExpiresAt.After(now) {
			s.drop(req.SessionID) // PEXPIREAT in the past
		}
		return store.RotateResult{Session: f.session, Current: req.Next}, nil
	case req.Presented == f.previous && req.Next.ID == f.current.ID:
		// The same request again: it made the current token.
		return store.RotateResult{Session: f.session, Current: f.current}, nil
	case req.Presented == f.previous && req.Grace > 0 && req.Now.Sub(f.rotatedAt) <= req.Grace:
		return store.RotateResult{Session: f.session, Current: f.current, Retried: true}, nil
	default:
		// RFC 9700 §4.14.2: a rotated-away token was presented again.
		s.drop(req.SessionID)
		s.wrote(now)
		return store.RotateResult{}, fmt.Errorf("memory: rotate session %s: %w", req.SessionID, store.ErrReused)
	}
}

// Session returns the family and its current token; see store.Store.
func (s *Store) Session(_ context.Context, id string) (store.Session, store.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.live(id, s.now())
	if f == nil {
		return store.Session{}, store.Token{}, fmt.Errorf("memory: read session %s: %w", id, store.ErrNotFound)
	}
	sess := f.session
	sess.ID = id
	return sess, f.current, nil
}

// RevokeSession deletes the family; see store.Store.
func (s *Store) RevokeSession(_ context.Context, sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop(sessionID)
	s.wrote(s.now())
	return nil
}

// DenyAccessToken denylists jti until exp; see store.Store.
func (s *Store) DenyAccessToken(_ context.Context, jti string, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !exp.After(now) {
		return nil
	}
	if old, ok := s.denied[jti]; !ok || exp.After(old) {
		s.denied[jti] = exp
	}
	s.wrote(now)
	return nil
}

// AccessTokenDenied reports whether jti is denylisted; see store.Store.
func (s *Store) AccessTokenDenied(_ context.Context, jti string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.denied[jti]
	if !ok {
		return false, nil
	}
	if !exp.After(s.now()) {
		delete(s.denied, jti)
		return false, nil
	}
	return true, nil
}

// AddFailure counts a failed check of k; see store.Store. The window must
// be positive.
func (s *Store) AddFailure(_ context.Context, k store.FailureKey, window time.Duration, maxNames int) (store.FailureCount, error) {
	if window <= 0 {
		return store.FailureCount{}, fmt.Errorf("memory: add failure: window %v is not positive", window)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.failures[k.Address]
	if f == nil || !f.end.After(now) {
		f = &failures{names: make(map[string]int64), end: now.Add(window)}
		s.failures[k.Address] = f
	}
	f.total++
	if _, ok := f.names[k.Name]; ok || len(f.names) < maxNames {
		f.names[k.Name]++
	}
	s.wrote(now)
	return f.count(k.Name, now), nil
}

// Failures returns the counts of k; see store.Store.
func (s *Store) Failures(_ context.Context, k store.FailureKey) (store.FailureCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.failures[k.Address]
	if f == nil {
		return store.FailureCount{}, nil
	}
	if !f.end.After(now) {
		delete(s.failures, k.Address)
		return store.FailureCount{}, nil
	}
	return f.count(k.Name, now), nil
}

func (f *failures) count(name string, now time.Time) store.FailureCount {
	return store.FailureCount{Name: f.names[name], Address: f.total, Names: len(f.names), ResetIn: f.end.Sub(now)}
}

// UseProof records a DPoP proof id until until; see store.Store.
func (s *Store) UseProof(_ context.Context, id string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !until.After(now) {
		return true, nil
	}
	if old, ok := s.proofs[id]; ok && old.After(now) {
		return false, nil
	}
	s.proofs[id] = until
	s.wrote(now)
	return true, nil
}

// Ping always succeeds.
func (s *Store) Ping(context.Context) error {
	return nil
}

// Close does nothing; the Store stays usable.
func (s *Store) Close() error {
	return nil
}

// live returns the live family id, deleting it when it has expired.
// s.mu must be held.
func (s *Store) live(id string, now time.Time) *family {
	f, ok := s.families[id]
	if !ok {
		return nil
	}
	if !f.current.ExpiresAt.After(now) {
		s.drop(id)
		return nil
	}
	return f
}

// wrote counts a write and sweeps expired records when enough writes have
// happened since the last sweep. s.mu must be held.
func (s *Store) wrote(now time.Time) {
	s.writes++
	if s.writes < s.sweepNext {
		return
	}
	for id, f := range s.families {
		if !f.current.ExpiresAt.After(now) {
			s.drop(id)
		}
	}
	for jti, exp := range s.denied {
		if !exp.After(now) {
			delete(s.denied, jti)
		}
	}
	for key, f := range s.failures {
		if !f.end.After(now) {
			delete(s.failures, key)
		}
	}
	for id, until := range s.proofs {
		if !until.After(now) {
			delete(s.proofs, id)
		}
	}
	s.writes = 0
	s.sweepNext = max(minSweepEvery, len(s.families)+len(s.denied)+len(s.failures)+len(s.proofs))
}

// size returns the number of records held, expired or not.
func (s *Store) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.families) + len(s.bySubject) + len(s.denied) + len(s.failures) + len(s.proofs)
}
