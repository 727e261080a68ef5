package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
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
// secrets.
func TestClientCredentials_SecretLockout(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: 15 * time.Minute})
	cc := func(secret string) error {
		_, err := f.svc.ClientCredentials(context.Background(), &auth.ClientAuth{ID: "svc", Secret: secret}, "", auth.Meta{Addr: "192.0.2.9"})
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
	if err := cc(f.secrets["svc"]); auth.CodeOf(err) != auth.TooManyRequests || retryAfter(err) <= 0 {
		t.Fatalf("right secret while locked: %v", err)
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
