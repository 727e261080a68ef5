package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/oauth"
)

// introspect asks as the intro client, with hint.
func (f *fixture) introspect(t *testing.T, tok, hint string) auth.Introspection {
	t.Helper()
	in, err := f.svc.Introspect(context.Background(), auth.IntrospectRequest{Token: tok, TokenTypeHint: hint, Client: f.client("intro")}, auth.Meta{})
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !in.Active && fmt.Sprint(in) != fmt.Sprint(auth.Introspection{}) {
		t.Errorf("an inactive answer carries fields: %+v", in)
	}
	return in
}

func TestIntrospect_AccessToken(t *testing.T) {
	f := newFixture(t)
	issuedAt := f.clock.Now()
	set := f.mustLogin(t, "billing")

	for _, hint := range []string{"", oauth.TokenTypeAccess, oauth.TokenTypeRefresh, "bogus"} {
		in := f.introspect(t, set.AccessToken, hint)
		want := auth.Introspection{
			Active: true, TokenType: oauth.TokenTypeAccess, Subject: "alice", Scope: "read", ClientID: "billing",
			ExpiresAt: issuedAt.Add(accessTTL), IssuedAt: issuedAt, Issuer: testIssuer, Audience: []string{testAudience},
			ID: in.ID,
		}
		if in.ID == "" || fmt.Sprint(in) != fmt.Sprint(want) {
			t.Errorf("hint %q: got %+v, want %+v", hint, in, want)
		}
	}

	// Active up to its exp, without the verification leeway after it.
	f.clock.Advance(accessTTL - time.Second)
	if !f.introspect(t, set.AccessToken, "").Active {
		t.Errorf("inactive a second before exp")
	}
	f.clock.Advance(time.Second)
	if f.introspect(t, set.AccessToken, "").Active {
		t.Errorf("active at exp")
	}
}

func TestIntrospect_RevokedAccessTokenIsInactive(t *testing.T) {
	f := newFixture(t)
	set := f.mustLogin(t, "")
	if err := f.svc.Revoke(context.Background(), auth.RevokeRequest{Token: set.AccessToken}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if f.introspect(t, set.AccessToken, oauth.TokenTypeAccess).Active {
		t.Errorf("a denylisted access token is active")
	}
	// Its session lives on.
	if !f.introspect(t, set.RefreshToken, "").Active {
		t.Errorf("the refresh token died with the access token")
	}
}

func TestIntrospect_RefreshToken(t *testing.T) {
	f := newFixture(t)
	issuedAt := f.clock.Now()
	first := f.mustLogin(t, "")

	in := f.introspect(t, first.RefreshToken, oauth.TokenTypeRefresh)
	want := auth.Introspection{
		Active: true, TokenType: oauth.TokenTypeRefresh, Subject: "alice", Scope: "read",
		ExpiresAt: issuedAt.Add(refreshTTL), IssuedAt: issuedAt, Issuer: testIssuer, Audience: []string{testIssuer},
		ID: in.ID,
	}
	if in.ID == "" || fmt.Sprint(in) != fmt.Sprint(want) {
		t.Fatalf("got %+v, want %+v", in, want)
	}

	f.clock.Advance(time.Minute)
	second := f.mustRefresh(t, first.RefreshToken)
	if f.introspect(t, first.RefreshToken, "").Active {
		t.Errorf("a rotated-away refresh token is active")
	}
	if !f.introspect(t, second.RefreshToken, "").Active {
		t.Errorf("the current refresh token is inactive")
	}
	// Introspection reads; it is no reuse and uses nothing up.
	third := f.mustRefresh(t, second.RefreshToken)

	// A reuse ends the session: every token of it is inactive.
	if _, err := f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: first.RefreshToken}, auth.Meta{}); auth.CodeOf(err) != auth.InvalidGrant {
		t.Fatalf("reuse: %v", err)
	}
	if f.introspect(t, third.RefreshToken, "").Active {
		t.Errorf("the newest refresh token is active after a reuse")
	}

	// Expiry.
	fourth := f.mustLogin(t, "")
	f.clock.Advance(refreshTTL)
	if f.introspect(t, fourth.RefreshToken, oauth.TokenTypeRefresh).Active {
		t.Errorf("active at exp")
	}
}

func TestIntrospect_Garbage(t *testing.T) {
	f := newFixture(t)
	for _, tok := range []string{"", "garbage", "eyJhbGciOiJub25lIn0.e30."} {
		if f.introspect(t, tok, "").Active {
			t.Errorf("%q is active", tok)
		}
	}
}

func TestIntrospect_ClientAuthentication(t *testing.T) {
	f := newFixture(t)
	tok := f.mustLogin(t, "").AccessToken
	for _, tc := range []struct {
		name   string
		client *auth.ClientAuth
	}{
		{"none", nil},
		{"wrong secret", &auth.ClientAuth{ID: "intro", Secret: "wrong"}},
		{"unknown client", &auth.ClientAuth{ID: "nobody", Secret: "x"}},
		{"client not allowed to introspect", f.client("plain")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := f.svc.Introspect(context.Background(), auth.IntrospectRequest{Token: tok, Client: tc.client}, auth.Meta{})
			if auth.CodeOf(err) != auth.InvalidClient || in.Active {
				t.Fatalf("got %+v, %v; want invalid_client", in, err)
			}
		})
	}
}
