package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/store"
)

func retryAfter(err error) time.Duration {
	var e *auth.Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// TestPassword_StormGetsAtMostMaxChecks sends 300 concurrent wrong
// passwords for one user from one address: at most LOGIN_FAILURES_MAX are
// checked, every other one is 429 with Retry-After.
func TestPassword_StormGetsAtMostMaxChecks(t *testing.T) {
	const max, storm = 5, 300
	f := newFixture(t, auth.Config{LoginFailuresMax: max, LoginFailuresWindow: 15 * time.Minute})
	var wg sync.WaitGroup
	var grants, limited, other atomic.Int64
	for i := range storm {
		wg.Go(func() {
			err := f.loginAs("alice", fmt.Sprintf("wrong-%d", i), "192.0.2.1")
			switch auth.CodeOf(err) {
			case auth.InvalidGrant:
				grants.Add(1)
			case auth.TooManyRequests:
				limited.Add(1)
				if retryAfter(err) <= 0 {
					t.Error("429 without Retry-After")
				}
			default:
				other.Add(1)
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if checks := f.count(audit.EventLoginFailed); checks > max || grants.Load() != int64(checks) {
		t.Fatalf("%d password checks (%d invalid_grant), want at most %d", checks, grants.Load(), max)
	}
	if grants.Load()+limited.Load() != storm {
		t.Fatalf("%d invalid_grant + %d too_many_requests of %d", grants.Load(), limited.Load(), storm)
	}
	// While locked, even the right password is refused, unchecked.
	if err := f.loginAs("alice", userPassword, "192.0.2.1"); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("right password while locked: %v", err)
	}
	// The lock is per (user, address): alice from elsewhere, and bob from
	// the same address, are not affected.
	if err := f.loginAs("alice", userPassword, "198.51.100.2"); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
	if err := f.loginAs("bob", userPassword, "192.0.2.1"); err != nil {
		t.Fatalf("bob from the storm's address: %v", err)
	}
}

// TestPassword_SuccessResetsNoCounter checks that a successful login does
// not clear failures: neither another address's nor its own.
func TestPassword_SuccessResetsNoCounter(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: 15 * time.Minute})
	for range 3 {
		f.loginAs("alice", "wrong", "192.0.2.1")
	}
	f.loginAs("alice", "wrong", "198.51.100.2")
	f.loginAs("alice", "wrong", "198.51.100.2")
	if err := f.loginAs("alice", userPassword, "198.51.100.2"); err != nil {
		t.Fatalf("login below the limit: %v", err)
	}
	if err := f.loginAs("alice", userPassword, "192.0.2.1"); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("another address's success reset the lock: %v", err)
	}
	if err := f.loginAs("alice", "wrong", "198.51.100.2"); auth.CodeOf(err) != auth.InvalidGrant {
		t.Fatalf("third failure: %v", err)
	}
	if err := f.loginAs("alice", userPassword, "198.51.100.2"); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("own success reset the counter: %v", err)
	}
}

// TestPassword_ParallelCorrectLoginsAreNotRefused runs many more correct
// logins of one pair at once than the limit: none may be refused.
func TestPassword_ParallelCorrectLoginsAreNotRefused(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 2, LoginFailuresWindow: 15 * time.Minute})
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if err := f.loginAs("alice", userPassword, "192.0.2.1"); err != nil {
				t.Errorf("correct login refused: %v", err)
			}
		})
	}
	wg.Wait()
}

// TestClientCredentials_SecretLockout applies the same limit to client
// secrets that are not generated ones.
func TestClientCredentials_SecretLockout(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: 15 * time.Minute})
	cc := func(secret string) error {
		_, err := f.svc.ClientCredentials(context.Background(), &auth.ClientAuth{ID: "legacy", Secret: secret}, "", auth.Meta{Addr: "192.0.2.9"})
		return err
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { cc("wrong") })
	}
	wg.Wait()
	if n := f.count(audit.EventClientAuthFailed); n > 3 {
		t.Fatalf("%d secret checks, want at most 3", n)
	}
	if err := cc(f.secrets["legacy"]); auth.CodeOf(err) != auth.TooManyRequests || retryAfter(err) <= 0 {
		t.Fatalf("right secret while locked: %v", err)
	}
}

// countingCounters counts the store's failure-counter calls.
type countingCounters struct {
	store.Store
	reads, writes atomic.Int64
}

func (s *countingCounters) Failures(ctx context.Context, k store.FailureKey) (store.FailureCount, error) {
	s.reads.Add(1)
	return s.Store.Failures(ctx, k)
}

func (s *countingCounters) AddFailure(ctx context.Context, k store.FailureKey, w time.Duration, n int) (store.FailureCount, error) {
	s.writes.Add(1)
	return s.Store.AddFailure(ctx, k, w, n)
}

// TestClientCredentials_GeneratedSecretExempt: a client whose secret was
// generated (256 random bits, the fast hash) is not held by the limits when
// its secret is right, and its grant reads no counter; a wrong secret for
// it is still 401 and counted against the name and the address, so the
// address's other logins are locked as usual.
func TestClientCredentials_GeneratedSecretExempt(t *testing.T) {
	cs := &countingCounters{}
	f := newFixtureWith(t, func(s store.Store) store.Store { cs.Store = s; return cs },
		auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: 15 * time.Minute, LoginFailuresMaxPerAddress: 5})
	const addr = "192.0.2.10"
	cc := func(id, secret string) error {
		_, err := f.svc.ClientCredentials(context.Background(), &auth.ClientAuth{ID: id, Secret: secret}, "", auth.Meta{Addr: addr})
		return err
	}
	if err := cc("svc", f.secrets["svc"]); err != nil {
		t.Fatalf("right generated secret: %v", err)
	}
	if r, w := cs.reads.Load(), cs.writes.Load(); r != 0 || w != 0 {
		t.Fatalf("a right generated secret made %d counter reads and %d writes, want none", r, w)
	}
	for i := range 8 {
		if err := cc("svc", "wrong-"+strconv.Itoa(i)); auth.CodeOf(err) != auth.InvalidClient {
			t.Fatalf("wrong generated secret %d: %v, want invalid_client (never 429)", i, err)
		}
	}
	if w := cs.writes.Load(); w != 8 {
		t.Fatalf("%d failures counted for 8 wrong generated secrets, want 8", w)
	}
	// The address is past LOGIN_FAILURES_MAX_PER_ADDRESS: other grants
	// from it are locked, the right generated secret is not.
	if err := f.loginAs("alice", userPassword, addr); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("password grant from the address after 8 failures: %v, want too_many_requests", err)
	}
	if err := cc("legacy", f.secrets["legacy"]); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("slow-hash client from the address after 8 failures: %v, want too_many_requests", err)
	}
	if err := cc("svc", f.secrets["svc"]); err != nil {
		t.Fatalf("right generated secret from a locked address: %v", err)
	}
}

// TestPassword_IPv6CountsPer64 checks that one host cannot escape the
// limit by moving through the addresses of its /64.
func TestPassword_IPv6CountsPer64(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 2, LoginFailuresWindow: 15 * time.Minute})
	f.loginAs("alice", "wrong", "2001:db8:7:7::1")
	f.loginAs("alice", "wrong", "2001:db8:7:7::2")
	if err := f.loginAs("alice", "wrong", "2001:db8:7:7:abcd::3"); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("third guess from the same /64: %v", err)
	}
	if err := f.loginAs("alice", userPassword, "2001:db8:7:8::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

// failingCounters is a store whose failure counters cannot be read or
// written, as a Redis at its memory limit refuses writes.
type failingCounters struct {
	store.Store
	read, write bool
	// addCtxCancellable records whether AddFailure got a context that
	// can be cancelled.
	addCtxCancellable atomic.Bool
}

func (s *failingCounters) Failures(ctx context.Context, k store.FailureKey) (store.FailureCount, error) {
	if s.read {
		return store.FailureCount{}, fmt.Errorf("read: %w", store.ErrUnavailable)
	}
	return s.Store.Failures(ctx, k)
}

func (s *failingCounters) AddFailure(ctx context.Context, k store.FailureKey, w time.Duration, n int) (store.FailureCount, error) {
	s.addCtxCancellable.Store(ctx.Done() != nil)
	if s.write {
		return store.FailureCount{}, fmt.Errorf("OOM: %w", store.ErrUnavailable)
	}
	return s.Store.AddFailure(ctx, k, w, n)
}

// TestPassword_FailsClosedWhenCountersFail: when a failure cannot be read
// or counted, right and wrong passwords alike get 503, so the answer tells
// nothing and the limit cannot be outrun.
func TestPassword_FailsClosedWhenCountersFail(t *testing.T) {
	tests := []struct {
		name        string
		read, write bool
		wantRight   auth.Code // "" for success
	}{
		{"counter cannot be read", true, false, auth.TemporarilyUnavailable},
		{"failure cannot be written", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &failingCounters{read: tt.read, write: tt.write}
			f := newFixtureWith(t, func(s store.Store) store.Store { fc.Store = s; return fc },
				auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: time.Minute})
			for range 5 {
				wantCode(t, f.loginAs("alice", "wrong", "192.0.2.1"), auth.TemporarilyUnavailable)
			}
			err := f.loginAs("alice", userPassword, "192.0.2.1")
			if tt.wantRight == "" {
				// Only a failure writes, and a right password needs no
				// write: it succeeds, as nothing was left uncounted.
				if err != nil {
					t.Fatalf("right password: %v", err)
				}
				return
			}
			wantCode(t, err, tt.wantRight)
		})
	}
}

// TestPassword_CheckThatRanIsCounted: the failure is written with a
// context the client cannot cancel, and a client gone before its check is
// not checked at all.
func TestPassword_CheckThatRanIsCounted(t *testing.T) {
	fc := &failingCounters{}
	f := newFixtureWith(t, func(s store.Store) store.Store { fc.Store = s; return fc },
		auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: time.Minute})
	wantCode(t, f.loginAs("alice", "wrong", "192.0.2.1"), auth.InvalidGrant)
	if fc.addCtxCancellable.Load() {
		t.Fatal("the failure was counted with a context the client can cancel")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.svc.Password(ctx, auth.PasswordRequest{Username: "alice", Password: "wrong"}, auth.Meta{Addr: "192.0.2.1"})
	wantCode(t, err, auth.TemporarilyUnavailable)
	if n := f.count(audit.EventLoginFailed); n != 1 {
		t.Fatalf("%d checks ran, want 1: a gone client's request was checked", n)
	}
}

// TestPassword_KnownAndUnknownNamesSameAnswers: attempt by attempt, an
// existing and a made-up name get the same answer, so the limit does not
// tell who exists.
func TestPassword_KnownAndUnknownNamesSameAnswers(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: time.Minute})
	for i := range 6 {
		known := auth.CodeOf(f.loginAs("alice", "wrong", "192.0.2.1"))
		unknown := auth.CodeOf(f.loginAs("nobody-"+"x", "wrong", "192.0.2.1"))
		if known != unknown {
			t.Fatalf("attempt %d: known name %s, unknown name %s", i+1, known, unknown)
		}
	}
}

// TestPassword_AddressHoldsBoundedNames: one address fails for
// MaxNamesPerAddress names; then it gets 429 on the grants (right password
// included), no new name is checked anywhere, and names it already failed
// for stay checkable outside the grants.
func TestPassword_AddressHoldsBoundedNames(t *testing.T) {
	fc := &failingCounters{}
	f := newFixtureWith(t, func(s store.Store) store.Store { fc.Store = s; return fc },
		auth.Config{LoginFailuresMax: 10, LoginFailuresWindow: time.Minute})
	for i := range auth.MaxNamesPerAddress {
		wantCode(t, f.loginAs(fmt.Sprintf("name-%d", i), "wrong", "192.0.2.1"), auth.InvalidGrant)
	}
	wantCode(t, f.loginAs("another-name", "wrong", "192.0.2.1"), auth.TooManyRequests)
	wantCode(t, f.loginAs("alice", userPassword, "192.0.2.1"), auth.TooManyRequests)
	if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: "x", Client: &auth.ClientAuth{ID: "ghost", Secret: "s"}}, auth.Meta{Addr: "192.0.2.1"}); auth.CodeOf(err) != auth.TooManyRequests {
		t.Fatalf("a new name on /revoke from a full address: %v, want too_many_requests", err)
	}
	c, err := fc.Store.Failures(context.Background(), store.FailureKey{Address: "192.0.2.1", Name: "?"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Names != auth.MaxNamesPerAddress {
		t.Fatalf("the address holds %d names, want %d", c.Names, auth.MaxNamesPerAddress)
	}
	// Another address is not affected.
	if err := f.loginAs("alice", userPassword, "198.51.100.7"); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
}

// TestPassword_PerAddressLimit: failures over several names from one
// address reach LOGIN_FAILURES_MAX_PER_ADDRESS; then the grants answer 429
// there even for the right password, while other addresses log in.
func TestPassword_PerAddressLimit(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 10, LoginFailuresMaxPerAddress: 4, LoginFailuresWindow: time.Minute})
	for i := range 4 {
		wantCode(t, f.loginAs(fmt.Sprintf("user-%d", i), "wrong", "192.0.2.1"), auth.InvalidGrant)
	}
	err := f.loginAs("alice", userPassword, "192.0.2.1")
	wantCode(t, err, auth.TooManyRequests)
	if retryAfter(err) <= 0 {
		t.Error("429 without Retry-After")
	}
	if err := f.loginAs("alice", userPassword, "198.51.100.7"); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
	f.clock.Advance(time.Minute + time.Second)
	if err := f.loginAs("alice", userPassword, "192.0.2.1"); err != nil {
		t.Fatalf("alice after the window: %v", err)
	}
}
