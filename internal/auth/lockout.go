package auth

import (
	"context"
	"strconv"
	"sync"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/oauth"
)

// The brute-force limit (LOGIN_FAILURES_MAX per LOGIN_FAILURES_WINDOW) counts
// failed password and client-secret checks per (name, client address) in the
// store, so it holds across replicas. A pair at the limit gets 429
// too_many_requests with Retry-After before any hash is computed, so the
// hash cost cannot be used to burn CPU. Success resets nothing: a login that
// succeeds leaves every counter, its own included, as it was.
//
// Reading the counter and then checking would let a burst of concurrent
// guesses all pass the read before any failure is counted. Within one
// process, attempts closes that gap: a check is admitted only while the
// failures counted so far plus the checks still in flight stay below the
// limit, so a storm of wrong passwords gets at most LOGIN_FAILURES_MAX hash
// checks. Correct logins of one pair in parallel are not refused by this;
// beyond the limit in flight at once they wait for a slot. Across replicas
// each one can have checks in flight at the moment the limit is reached, so
// the bound there is the limit plus (replicas − 1) at worst.

// Kinds of names the failure counters are kept for.
const (
	kindUser   = "u"
	kindClient = "c"
)

// checked runs check, a password or secret verification of name from
// m.Addr, under the brute-force limit: it returns a too_many_requests error
// without calling check when the pair is locked out, and counts a failure
// when check returns false.
func (s *Service) checked(ctx context.Context, kind, name string, m Meta, check func() bool) (bool, error) {
	return s.checkedOr(ctx, kind, name, m, func() (bool, error) { return check(), nil })
}

// checkedOr is checked for a check that can also fail to decide (a user
// authenticator that does not answer): its error is returned and nothing is
// counted.
func (s *Service) checkedOr(ctx context.Context, kind, name string, m Meta, check func() (bool, error)) (bool, error) {
	if s.cfg.LoginFailuresMax <= 0 {
		return check()
	}
	key := failureKey(kind, name, m.Addr)
	p := s.attempts.hold(key)
	defer s.attempts.release(key, p)
	if err := s.admit(ctx, key, p, name, m); err != nil {
		return false, err
	}
	ok, err := check()
	if err != nil {
		s.attempts.finish(p, false)
		return false, err
	}
	if !ok {
		// Counted in the store before the slot is given back, so the
		// next admission sees it either there or in p.failed.
		if _, _, err := s.store.AddFailure(ctx, key, s.cfg.LoginFailuresWindow); err != nil {
			s.log.WarnContext(ctx, "count login failure", "error", err.Error(), "request_id", m.RequestID)
		}
	}
	s.attempts.finish(p, !ok)
	return ok, nil
}

// admit waits until a check of key may run and takes a slot for it, or
// returns too_many_requests when the failures counted already reach the
// limit.
func (s *Service) admit(ctx context.Context, key string, p *pair, name string, m Meta) error {
	limit := int64(s.cfg.LoginFailuresMax)
	for {
		before := s.attempts.failures(p)
		n, reset, err := s.store.Failures(ctx, key)
		if err != nil {
			return storeError(err)
		}
		// Failures that finished during the read may or may not be in n;
		// counting them again errs on the side of refusing.
		admitted, locked, wait := s.attempts.tryAdmit(p, n, before, limit)
		switch {
		case admitted:
			return nil
		case locked:
			if reset <= 0 {
				reset = s.cfg.LoginFailuresWindow
			}
			s.emit(audit.Event{Name: audit.EventRateLimited, Subject: name, Addr: m.Addr, RequestID: m.RequestID, Reason: "login_failures"})
			return &Error{Code: TooManyRequests, Description: "too many failed attempts; try again later", RetryAfter: reset}
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return unavailable(ctx.Err())
		}
	}
}

// failureKey names a (user or client, address) pair. The name is
// length-prefixed so that no two pairs share a key. An IPv6 address counts
// as its /64, like for the request limit, so one host cannot spread its
// guesses over the addresses of its network.
func failureKey(kind, name, addr string) string {
	return kind + ":" + strconv.Itoa(len(name)) + ":" + name + "|" + oauth.AddressKey(addr)
}

// attempts tracks, per failure key, the checks in flight in this process.
// An entry lives while a request holds it, so the map is bounded by the
// requests in progress.
type attempts struct {
	mu    sync.Mutex
	pairs map[string]*pair
}

// pair is the in-process state of one failure key. Its fields are guarded
// by attempts.mu.
type pair struct {
	holders  int           // requests holding the entry
	inflight int           // admitted checks not yet finished
	failed   int64         // checks that failed (and were counted) while the entry lived
	changed  chan struct{} // closed, and replaced, when a check finishes
}

func (a *attempts) hold(key string) *pair {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pairs == nil {
		a.pairs = make(map[string]*pair)
	}
	p := a.pairs[key]
	if p == nil {
		p = &pair{changed: make(chan struct{})}
		a.pairs[key] = p
	}
	p.holders++
	return p
}

func (a *attempts) release(key string, p *pair) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.holders--; p.holders == 0 {
		delete(a.pairs, key)
	}
}

func (a *attempts) failures(p *pair) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return p.failed
}

// tryAdmit decides with the store's count n, read after p.failed was
// before: admitted (a slot is taken), locked (the limit is reached), or
// neither, and then wait is closed when a check in flight finishes.
func (a *attempts) tryAdmit(p *pair, n, before, limit int64) (admitted, locked bool, wait <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	counted := n + (p.failed - before)
	switch {
	case counted >= limit:
		return false, true, nil
	case counted+int64(p.inflight) < limit:
		p.inflight++
		return true, false, nil
	}
	return false, false, p.changed
}

func (a *attempts) finish(p *pair, failed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p.inflight--
	if failed {
		p.failed++
	}
	close(p.changed)
	p.changed = make(chan struct{})
}
