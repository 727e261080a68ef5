package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
)

func TestRefresh_NeverOutlivesSessionMaxTTL(t *testing.T) {
	f := newFixture(t, auth.Config{RefreshTTL: time.Hour, SessionMaxTTL: 150 * time.Minute})
	set := f.mustLogin(t, "")
	if set.RefreshExpiresIn != time.Hour {
		t.Fatalf("first refresh lifetime %v", set.RefreshExpiresIn)
	}
	var err error
	// A rotation at 50 minutes gets a fresh hour…
	f.clock.Advance(50 * time.Minute)
	if set, err = f.refresh(set.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if set.RefreshExpiresIn != time.Hour {
		t.Fatalf("lifetime at 50m = %v, want 1h", set.RefreshExpiresIn)
	}
	f.clock.Advance(50 * time.Minute)
	if set, err = f.refresh(set.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if set.RefreshExpiresIn != 50*time.Minute {
		t.Fatalf("lifetime at 100m = %v, want 50m (capped by SESSION_MAX_TTL)", set.RefreshExpiresIn)
	}
	// …and at 140 minutes only 10 are left of the 150-minute session.
	f.clock.Advance(40 * time.Minute)
	if set, err = f.refresh(set.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if set.RefreshExpiresIn != 10*time.Minute {
		t.Fatalf("lifetime at 140m = %v, want 10m (capped by SESSION_MAX_TTL)", set.RefreshExpiresIn)
	}
	f.clock.Advance(10 * time.Minute)
	_, err = f.refresh(set.RefreshToken)
	wantCode(t, err, auth.InvalidGrant)
}

func TestRefresh_ExpiredTokenIsInvalidGrant(t *testing.T) {
	f := newFixture(t, auth.Config{RefreshTTL: time.Hour})
	set := f.mustLogin(t, "")
	f.clock.Advance(time.Hour + time.Minute)
	_, err := f.refresh(set.RefreshToken)
	wantCode(t, err, auth.InvalidGrant)
}

func TestRefresh_GraceWindow(t *testing.T) {
	cases := []struct {
		name      string
		grace     time.Duration
		wait      time.Duration
		wantRetry bool
	}{
		{"off: immediate repeat is a reuse", 0, 0, false},
		{"inside the window", 10 * time.Second, 9 * time.Second, true},
		{"at the window's end", 10 * time.Second, 10 * time.Second, true},
		{"after the window", 10 * time.Second, 11 * time.Second, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, auth.Config{ReuseGrace: tc.grace})
			first := f.mustLogin(t, "")
			f.clock.Advance(time.Minute)
			next, err := f.refresh(first.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(tc.wait)
			again, err := f.refresh(first.RefreshToken)
			if !tc.wantRetry {
				wantCode(t, err, auth.InvalidGrant)
				// The reuse revoked the family: the successor is dead too.
				_, err = f.refresh(next.RefreshToken)
				wantCode(t, err, auth.InvalidGrant)
				if n := f.count(audit.EventReuseDetected); n != 1 {
					t.Errorf("%d reuse_detected events, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if again.RefreshToken != next.RefreshToken || again.AccessToken != next.AccessToken {
				t.Fatal("the retry minted a different successor")
			}
			if again.ExpiresIn != next.ExpiresIn-tc.wait {
				t.Errorf("retry reports %v left, want %v", again.ExpiresIn, next.ExpiresIn-tc.wait)
			}
		})
	}
}

func TestPassword_LockoutAfterMaxFailures(t *testing.T) {
	f := newFixture(t, auth.Config{LoginFailuresMax: 3, LoginFailuresWindow: time.Minute})
	try := func(addr, password string) error {
		_, err := f.password(addr, password, nil, "")
		return err
	}
	for range 3 {
		wantCode(t, try("192.0.2.7", "wrong"), auth.InvalidGrant)
	}
	// Locked: even the right password gets 429, with a Retry-After.
	err := try("192.0.2.7", userPassword)
	wantCode(t, err, auth.TooManyRequests)
	var e *auth.Error
	if errors.As(err, &e); e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %v", e.RetryAfter)
	}
	// Another address is not locked.
	if err := try("192.0.2.8", userPassword); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// The window ends.
	f.clock.Advance(time.Minute + time.Second)
	if err := try("192.0.2.7", userPassword); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestPassword_ScopeWithClient(t *testing.T) {
	f := newFixture(t)
	set, err := f.password("", userPassword, f.client("app"), "")
	if err != nil {
		t.Fatal(err)
	}
	if set.Scope != "read" {
		t.Fatalf("scope = %q, want the user's ∩ the client's", set.Scope)
	}
	_, err = f.password("", userPassword, f.client("app"), "write")
	wantCode(t, err, auth.InvalidScope)
	_, err = f.password("", userPassword, &auth.ClientAuth{ID: "app", Secret: "nope"}, "")
	wantCode(t, err, auth.InvalidClient)
}

func TestRevoke_AccessTokenOfAnotherClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	set, err := f.password("", userPassword, f.client("app"), "")
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.Revoke(ctx, auth.RevokeRequest{Token: set.AccessToken}, auth.Meta{}), auth.InvalidClient)
	wantCode(t, f.svc.Revoke(ctx, auth.RevokeRequest{Token: set.RefreshToken}, auth.Meta{}), auth.InvalidClient)
	// Nothing was revoked by the refused calls.
	if _, err := f.svc.Refresh(ctx, auth.RefreshRequest{RefreshToken: set.RefreshToken, Client: f.client("app")}, auth.Meta{}); err != nil {
		t.Fatalf("refresh after refused revoke: %v", err)
	}
}
