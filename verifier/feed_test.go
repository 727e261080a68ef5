package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authsvc/authsvc/verifier"
)

// feedConfig returns a Config following f's feed, discovered from the
// metadata.
func feedConfig(f *fakeAuthsvc, maxStale time.Duration) verifier.Config {
	cfg := f.config()
	cfg.Now = nil // the feed's freshness is real time
	cfg.Feed = &verifier.FeedConfig{ClientID: feedClientID, ClientSecret: feedClientSecret, MaxStale: maxStale}
	return cfg
}

func TestFeed_RevokedTokensAndSessions(t *testing.T) {
	f := newFake(t, "HS256")
	f.revoke("old-jti", "") // in the complete set New reads
	v := mustVerifier(t, feedConfig(f, 0))
	ctx := context.Background()
	if _, err := v.Verify(ctx, f.token(t, "old-jti", "read")); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("a jti in the complete set: %v, want ErrRevoked", err)
	}

	tok := f.token(t, "new-jti", "read")
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the follower is waiting on the long poll
	f.revoke("new-jti", "")
	took := eventually(t, 2*time.Second, "a revoked jti refused", func() bool {
		_, err := v.Verify(ctx, tok)
		return errors.Is(err, verifier.ErrRevoked)
	})
	t.Logf("revoked jti refused %v after the feed listed it", took)

	// A token of an ended session, by its sid.
	hdr, claims := splitJWT(t, f.token(t, "jti-s", "read"))
	claims["sid"] = "session-1"
	withSID := signHS(t, hdr, claims, f.cfg.Secret)
	if _, err := v.Verify(ctx, withSID); err != nil {
		t.Fatal(err)
	}
	f.revoke("", "session-1")
	eventually(t, 2*time.Second, "a token of an ended session refused", func() bool {
		_, err := v.Verify(ctx, withSID)
		return errors.Is(err, verifier.ErrRevoked)
	})
}

func TestFeed_DownKeepsLastSetThenStale(t *testing.T) {
	f := newFake(t, "HS256")
	f.revoke("gone", "")
	v := mustVerifier(t, feedConfig(f, 1500*time.Millisecond))
	ctx := context.Background()
	good, revoked := f.token(t, "ok", "read"), f.token(t, "gone", "read")

	f.setFeedDown(true)
	// Within MaxStale the last known set still works.
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatalf("feed down, within MaxStale: %v", err)
	}
	if _, err := v.Verify(ctx, revoked); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("feed down, within MaxStale, revoked token: %v", err)
	}
	eventually(t, 5*time.Second, "every token refused once MaxStale passed", func() bool {
		_, err := v.Verify(ctx, good)
		return errors.Is(err, verifier.ErrStale)
	})
	// Middleware answers 503.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+good)
	w := httptest.NewRecorder()
	v.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("stale: %d %v, want 503 with Retry-After", w.Code, w.Header())
	}
	// The feed back: tokens are accepted again.
	f.setFeedDown(false)
	eventually(t, 10*time.Second, "tokens accepted once the feed answers again", func() bool {
		_, err := v.Verify(ctx, good)
		return err == nil
	})
}

func TestFeed_WithoutMaxStaleNeverStale(t *testing.T) {
	f := newFake(t, "HS256")
	v := mustVerifier(t, feedConfig(f, 0))
	f.setFeedDown(true)
	time.Sleep(300 * time.Millisecond)
	if _, err := v.Verify(context.Background(), f.token(t, "ok", "read")); err != nil {
		t.Errorf("MaxStale 0, feed down: %v", err)
	}
}

func TestFeed_NewFailsWithoutFeed(t *testing.T) {
	f := newFake(t, "HS256")
	cfg := feedConfig(f, 0)
	cfg.Feed.ClientSecret = "wrong"
	if _, err := verifier.New(context.Background(), cfg); err == nil {
		t.Error("New succeeded although the feed refused the client")
	}
}
