package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/store"
)

// claimOf returns a string claim of a JWT, read without verification.
func claimOf(t *testing.T, token, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	switch v := claims[name].(type) {
	case string:
		return v
	case float64:
		return time.Unix(int64(v), 0).UTC().Format(time.RFC3339)
	}
	t.Fatalf("token has no claim %q", name)
	return ""
}

// mustFeed reads the complete revocation feed as the introspecting client.
func (f *fixture) mustFeed(t *testing.T) store.RevocationPage {
	t.Helper()
	page, err := f.svc.Revocations(context.Background(), auth.FeedRequest{Client: f.client("intro")}, auth.Meta{})
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	if !page.Complete {
		t.Fatalf("Revocations without a cursor: Complete = false")
	}
	return page
}

// wantEntry checks that page holds exactly one entry, of kind and id, in
// force until exp.
func wantEntry(t *testing.T, page store.RevocationPage, kind store.RevocationKind, id string, exp time.Time) {
	t.Helper()
	if len(page.Entries) != 1 {
		t.Fatalf("feed holds %d entries, want 1: %+v", len(page.Entries), page.Entries)
	}
	got := page.Entries[0]
	if got.Kind != kind || got.ID != id || !got.ExpiresAt.Equal(exp) {
		t.Errorf("feed entry = %+v, want kind %d id %q exp %v", got, kind, id, exp)
	}
}

func TestRevoke_RecordsInFeed(t *testing.T) {
	const skew = 30 * time.Second
	t.Run("refresh token ends its session", func(t *testing.T) {
		f := newFixture(t)
		set := f.mustLogin(t, "")
		f.clock.Advance(time.Minute)
		if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: set.RefreshToken}, auth.Meta{}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		wantEntry(t, f.mustFeed(t), store.RevokedSession, claimOf(t, set.RefreshToken, "sid"),
			f.clock.Now().Add(accessTTL+skew))
	})
	t.Run("access token by its jti", func(t *testing.T) {
		f := newFixture(t)
		set := f.mustLogin(t, "")
		if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: set.AccessToken}, auth.Meta{}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		exp, _ := time.Parse(time.RFC3339, claimOf(t, set.AccessToken, "exp"))
		wantEntry(t, f.mustFeed(t), store.RevokedToken, claimOf(t, set.AccessToken, "jti"), exp.Add(skew))
	})
	t.Run("detected reuse ends the session", func(t *testing.T) {
		f := newFixture(t)
		first := f.mustLogin(t, "")
		f.mustRefresh(t, first.RefreshToken)
		f.clock.Advance(time.Second)
		_, err := f.refresh(first.RefreshToken)
		wantCode(t, err, auth.InvalidGrant)
		wantEntry(t, f.mustFeed(t), store.RevokedSession, claimOf(t, first.RefreshToken, "sid"),
			f.clock.Now().Add(accessTTL+skew))
	})
	t.Run("a forged token records nothing", func(t *testing.T) {
		f := newFixture(t)
		set := f.mustLogin(t, "")
		if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: set.AccessToken + "x"}, auth.Meta{}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if page := f.mustFeed(t); len(page.Entries) != 0 {
			t.Errorf("feed holds %+v after a forged token's revocation", page.Entries)
		}
	})
}

func TestRevocations_Rules(t *testing.T) {
	f := newFixture(t)
	start := f.mustFeed(t)
	tests := []struct {
		name string
		req  auth.FeedRequest
		want auth.Code
	}{
		{"no client", auth.FeedRequest{}, auth.InvalidClient},
		{"client may not introspect", auth.FeedRequest{Client: f.client("plain")}, auth.InvalidClient},
		{"wrong secret", auth.FeedRequest{Client: &auth.ClientAuth{ID: "intro", Secret: "nope"}}, auth.InvalidClient},
		{"malformed cursor", auth.FeedRequest{Client: f.client("intro"), Since: "nope"}, auth.InvalidRequest},
		{"negative wait", auth.FeedRequest{Client: f.client("intro"), Wait: -time.Second}, auth.InvalidRequest},
		{"wait over 30 s", auth.FeedRequest{Client: f.client("intro"), Wait: 31 * time.Second}, auth.InvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Revocations(context.Background(), tt.req, auth.Meta{Addr: "192.0.2.9"})
			wantCode(t, err, tt.want)
		})
	}
	t.Run("increment after a cursor", func(t *testing.T) {
		set := f.mustLogin(t, "")
		if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: set.AccessToken}, auth.Meta{}); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		page, err := f.svc.Revocations(context.Background(), auth.FeedRequest{Client: f.client("intro"), Since: start.Cursor}, auth.Meta{})
		if err != nil {
			t.Fatalf("Revocations: %v", err)
		}
		if page.Complete || len(page.Entries) != 1 || page.Entries[0].ID != claimOf(t, set.AccessToken, "jti") {
			t.Errorf("increment = %+v, want the one revoked jti", page)
		}
	})
}
