package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/oauth"
	"github.com/authsvc/authsvc/internal/store"
)

// The brute-force limits count failed password and client-secret checks in
// the store, so they hold across replicas:
//
//   - per (name, client address): LOGIN_FAILURES_MAX per window, then 429
//     for that name from that address, right password or not;
//   - per client address over every name: LOGIN_FAILURES_MAX_PER_ADDRESS
//     per window, then 429 on the password and client_credentials grants;
//   - at most MaxNamesPerAddress names per address and window: an address
//     that has failed for that many names gets 429 on those grants, and no
//     check of a name it has not failed for yet, so nothing it sends makes
//     the store hold more.
//
// Names are counted whether they exist or not, so known and unknown names
// get the same answers at the same attempt (the limit itself would tell who
// exists otherwise), and they are kept as fixed-size keyed hashes, never as
// typed. One window per address: it opens at the address's first failure
// and every counter of the address ends with it. A locked pair gets 429
// before any hash is computed, so the hash cost cannot be used to burn CPU.
// Success resets nothing.
//
// The accounting fails closed: when a counter cannot be read or written the
// answer is 503, whether the password was right or wrong, so a store at its
// memory limit can neither lift the limit nor tell which guess was right. A
// check that has run is counted even when the client has gone meanwhile
// (the write does not use the request's cancellation), and a request whose
// client has gone before its check starts is not checked at all.
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

// MaxNamesPerAddress is the most failure counters one client address holds
// per LOGIN_FAILURES_WINDOW.
const MaxNamesPerAddress = 100

// Kinds of names the failure counters are kept for.
const (
	kindUser   = "u"
	kindClient = "c"
)

// nameHashBytes is the size of a counter's name: 128 bits of HMAC-SHA256.
const nameHashBytes = 16

// check is a password or secret verification. err is not nil only when
// nothing was decided (the hash queue timed out, the client went away, the
// user authenticator did not answer); nothing is counted then.
type check func(ctx context.Context) (ok bool, err error)

// checked runs fn, a password or secret verification of name from m.Addr,
// under the brute-force limits: it returns a too_many_requests error
// without calling fn when the name or the address is locked out, and counts
// a failure when fn returns false. grant is true for the password and
// client_credentials grants, which the per-address limits also lock.
func (s *Service) checked(ctx context.Context, kind, name string, grant bool, m Meta, fn check) (bool, error) {
	if s.cfg.LoginFailuresMax <= 0 && s.cfg.LoginFailuresMaxPerAddress <= 0 {
		return s.runCheck(ctx, fn)
	}
	key := store.FailureKey{Address: oauth.AddressKey(m.Addr), Name: s.nameHash(kind, name)}
	pkey := key.Address + "|" + key.Name
	p := s.attempts.hold(pkey)
	defer s.attempts.release(pkey, p)
	if err := s.admit(ctx, key, p, grant, kind, name, m); err != nil {
		return false, err
	}
	ok, err := s.runCheck(ctx, fn)
	if err != nil {
		s.attempts.finish(p, false)
		return false, err
	}
	if !ok {
		// Counted in the store before the slot is given back, so the
		// next admission sees it either there or in p.failed. The check
		// has run, so it is counted whatever the client does now.
		_, err = s.store.AddFailure(context.WithoutCancel(ctx), key, s.cfg.LoginFailuresWindow, MaxNamesPerAddress)
	}
	s.attempts.finish(p, !ok && err == nil)
	if err != nil {
		// Fail closed: an uncounted failure must not answer 400, or the
		// limit would not hold while the store refuses writes.
		return false, storeError(err)
	}
	return ok, nil
}

// generatedSecret checks the secret of a client whose secret was generated
// (credential.Set.GeneratedSecret): a right secret is accepted without
// consulting the failure counters, a wrong one is counted against the
// client and the address (failing closed when the count cannot be
// written), and the client's limits still apply to nothing else.
func (s *Service) generatedSecret(ctx context.Context, set *credential.Set, c *credential.Client, ca ClientAuth, m Meta) (bool, error) {
	ok, err := s.runCheck(ctx, func(ctx context.Context) (ok bool, err error) {
		*c, ok, err = set.AuthenticateClient(ctx, ca.ID, []byte(ca.Secret))
		return ok, err
	})
	if err != nil || ok || (s.cfg.LoginFailuresMax <= 0 && s.cfg.LoginFailuresMaxPerAddress <= 0) {
		return ok, err
	}
	key := store.FailureKey{Address: oauth.AddressKey(m.Addr), Name: s.nameHash(kindClient, ca.ID)}
	if _, err := s.store.AddFailure(context.WithoutCancel(ctx), key, s.cfg.LoginFailuresWindow, MaxNamesPerAddress); err != nil {
		return false, storeError(err)
	}
	return false, nil
}

// runCheck runs fn unless the client has already gone, waiting for a
// slow-hash slot at most HashQueueTimeout.
func (s *Service) runCheck(ctx context.Context, fn check) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, gone(err)
	}
	hctx := ctx
	if s.cfg.HashQueueTimeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, s.cfg.HashQueueTimeout)
		defer cancel()
	}
	ok, err := fn(hctx)
	var pe *Error
	switch {
	case err == nil:
		return ok, nil
	case errors.Is(err, credential.ErrQueueTimeout):
		return false, &Error{Code: TemporarilyUnavailable, Description: "too many logins are waiting; try again shortly",
			RetryAfter: time.Second, Err: err}
	case errors.As(err, &pe):
		return false, err // the check's own answer (an authenticator that did not answer)
	}
	return false, gone(err)
}

// gone is the error of a request whose client went away before its check:
// 503, which nobody reads.
func gone(err error) *Error {
	return &Error{Code: TemporarilyUnavailable, Description: "the request was abandoned", RetryAfter: time.Second, Err: err}
}

// admit waits until a check of key may run and takes a slot for it, or
// returns too_many_requests when the failures counted already reach a
// limit.
func (s *Service) admit(ctx context.Context, key store.FailureKey, p *pair, grant bool, kind, name string, m Meta) error {
	limit := int64(s.cfg.LoginFailuresMax)
	if limit <= 0 {
		limit = 1 << 62
	}
	for {
		before := s.attempts.failures(p)
		c, err := s.store.Failures(ctx, key)
		if err != nil {
			return storeError(err)
		}
		reason := ""
		switch perAddr := int64(s.cfg.LoginFailuresMaxPerAddress); {
		case c.Names >= MaxNamesPerAddress && (grant || c.Name == 0):
			reason = "address_names"
		case grant && perAddr > 0 && c.Address >= perAddr:
			reason = "address_failures"
		}
		// Failures that finished during the read may or may not be in
		// c; counting them again errs on the side of refusing.
		admitted, locked, wait := false, false, (<-chan struct{})(nil)
		if reason == "" {
			admitted, locked, wait = s.attempts.tryAdmit(p, c.Name, before, limit)
			if locked {
				reason = "login_failures"
			}
		}
		switch {
		case admitted:
			return nil
		case reason != "":
			reset := c.ResetIn
			if reset <= 0 {
				reset = s.cfg.LoginFailuresWindow
			}
			e := audit.Event{Name: audit.EventRateLimited, Addr: m.Addr, RequestID: m.RequestID, Reason: reason}
			s.setName(&e, kind, name)
			s.emit(e)
			return &Error{Code: TooManyRequests, Description: "too many failed attempts; try again later", RetryAfter: reset}
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return gone(ctx.Err())
		}
	}
}

// nameHash is the fixed-size keyed hash a name's counter is kept under:
// HMAC-SHA256 with a key derived from SECRET_KEY, truncated to 128 bits,
// base64url. Every replica computes the same; nobody without the key can
// tell which name a counter belongs to.
func (s *Service) nameHash(kind, name string) string {
	mac := hmac.New(sha256.New, s.nameKey)
	mac.Write([]byte(kind))
	mac.Write([]byte{0})
	mac.Write([]byte(name))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:nameHashBytes])
}

// setName puts name into an audit event: as it is when it is a user or
// client of the credentials file, otherwise (a typo, a probe, or a password
// typed into the name field) as the start of its keyed hash, which carries
// nothing of what was typed but still lets repeated attempts be grouped.
func (s *Service) setName(e *audit.Event, kind, name string) {
	known := false
	switch kind {
	case kindUser:
		known = s.creds.Load().HasUser(name)
	case kindClient:
		_, known = s.creds.Load().Client(name)
	}
	switch {
	case !known:
		e.Unknown = "h:" + s.nameHash(kind, name)[:12]
	case kind == kindUser:
		e.Subject = name
	default:
		e.Client = name
	}
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
