package issuer_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/authsvc/authsvc/internal/claims"
	"github.com/authsvc/authsvc/internal/issuer"
)

func mustClaims(tb testing.TB, s string) claims.Set {
	tb.Helper()
	c, err := claims.Decode([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestSignAccess_CustomClaimsAndAudience checks the wire form of an access
// token with custom claims and its own audience, and that VerifyAccess
// accepts it only once the audience is accepted.
func TestSignAccess_CustomClaimsAndAudience(t *testing.T) {
	f := newFixture(t, "HS256")
	c := f.accessClaims()
	c.SignAudience = []string{"billing-api"}
	c.Claims = mustClaims(t, `{"tenant":"acme","roles":["a","b"]}`)
	tok := f.signAccess(t, c)
	want := `{"iss":"https://auth.example.test","sub":"alice","aud":"billing-api",` +
		`"exp":1893554345,"iat":1893553445,"nbf":1893553445,"jti":"jti-access-1","type":"access",` +
		`"scope":"read write","client_id":"billing","roles":["a","b"],"tenant":"acme"}`
	if got := rawSegment(t, tok, 1); got != want {
		t.Errorf("claims JSON\n got %s\nwant %s", got, want)
	}
	if _, err := f.iss.VerifyAccess(tok); !errors.Is(err, issuer.ErrInvalidToken) {
		t.Fatalf("before AcceptAudiences: err = %v, want ErrInvalidToken (aud not accepted)", err)
	}
	f.iss.AcceptAudiences([]string{"billing-api"})
	got, err := f.iss.VerifyAccess(tok)
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	if len(got.Audience) != 1 || got.Audience[0] != "billing-api" || got.ClientID != "billing" {
		t.Errorf("claims = %+v", got)
	}
	// The global audience still verifies.
	if _, err := f.iss.VerifyAccess(f.signAccess(t, f.accessClaims())); err != nil {
		t.Errorf("global audience after AcceptAudiences: %v", err)
	}
	// A refresh token is still refused as an access token.
	if _, err := f.iss.VerifyAccess(f.signRefresh(t, f.refreshClaims())); err == nil {
		t.Error("a refresh token verified as an access token")
	}
}

// TestSignRefresh_OriginAndUserClaimsRoundTrip checks that an
// authenticator session's origin and claims survive the refresh token, and
// that a file session's token has neither member.
func TestSignRefresh_OriginAndUserClaimsRoundTrip(t *testing.T) {
	f := newFixture(t, "HS256")
	c := f.refreshClaims()
	c.Origin = issuer.OriginAuthenticator
	c.UserClaims = mustClaims(t, `{"tenant":"acme"}`)
	tok := f.signRefresh(t, c)
	if tok != f.signRefresh(t, c) {
		t.Error("refresh signing is not deterministic")
	}
	got, err := f.iss.VerifyRefresh(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != issuer.OriginAuthenticator || string(got.UserClaims.AppendObject(nil)) != `{"tenant":"acme"}` {
		t.Errorf("got origin %q claims %s", got.Origin, got.UserClaims.AppendObject(nil))
	}
	plain := f.signRefresh(t, f.refreshClaims())
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rawSegment(t, plain, 1)), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["origin"]; ok {
		t.Error("a file session's refresh token has an origin claim")
	}
	if _, ok := m["user_claims"]; ok {
		t.Error("a file session's refresh token has user_claims")
	}
}
