package credential

import (
	"strings"
	"testing"
	"time"
)

func TestParse_ClientPolicyAndClaims(t *testing.T) {
	_, hash := mustSecret(t)
	userHash := mustBcrypt(t, "pw", 4)
	s, warnings := mustParse(t, `
users:
  - username: alice
    password_hash: "`+userHash+`"
    scopes: [read]
    claims: {tenant: acme, roles: [admin, dev], since: 2026-01-02, level: 3}
clients:
  - client_id: billing
    client_secret_hash: "`+hash+`"
    grant_types: [password, refresh_token]
    audience: [billing-api, reports]
    access_token_ttl: 5m
    refresh_token_ttl: 24h
    claims: {tier: gold}
  - client_id: mobile
    public: true
    grant_types: [password, refresh_token, client_credentials]
`)
	u, ok := s.User("alice")
	if !ok {
		t.Fatal("alice missing")
	}
	if got := string(u.Claims.AppendObject(nil)); got != `{"level":3,"roles":["admin","dev"],"since":"2026-01-02","tenant":"acme"}` &&
		got != `{"level":3,"roles":["admin","dev"],"since":"2026-01-02T00:00:00Z","tenant":"acme"}` {
		t.Errorf("user claims = %s", got)
	}
	c, ok := s.Client("billing")
	if !ok {
		t.Fatal("billing missing")
	}
	if c.Public || c.AccessTokenTTL != 5*time.Minute || c.RefreshTokenTTL != 24*time.Hour ||
		strings.Join(c.Audience, ",") != "billing-api,reports" || string(c.Claims.AppendObject(nil)) != `{"tier":"gold"}` {
		t.Errorf("billing = %+v claims %s", c, c.Claims.AppendObject(nil))
	}
	m, ok := s.Client("mobile")
	if !ok || !m.Public || m.SecretHash != "" {
		t.Errorf("mobile = %+v, %v", m, ok)
	}
	if !s.HasPublicClients() {
		t.Error("HasPublicClients = false")
	}
	if got := strings.Join(s.Audiences(), ","); got != "billing-api,reports" {
		t.Errorf("Audiences = %s", got)
	}
	if !s.HasUser("alice") || s.HasUser("bob") {
		t.Error("HasUser wrong")
	}
	if !strings.Contains(strings.Join(warnings, "\n"), `"mobile"`) {
		t.Errorf("no warning for the public client allowing client_credentials: %q", warnings)
	}
	// A public client never authenticates with a secret.
	if _, ok := authClient(s, "mobile", []byte("anything")); ok {
		t.Error("a secret authenticated a public client")
	}
}

func TestParse_PolicyErrors(t *testing.T) {
	_, hash := mustSecret(t)
	userHash := mustBcrypt(t, "pw", 4)
	for _, tc := range []struct{ name, entry, want string }{
		{"reserved user claim", "users:\n  - {username: a, password_hash: \"" + userHash + "\", claims: {sub: x}}", `reserved claim name`},
		{"reserved client claim", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", claims: {client_id: x}}", `reserved claim name`},
		{"claims not a mapping", "users:\n  - {username: a, password_hash: \"" + userHash + "\", claims: [a]}", "claims must be a mapping"},
		{"claims too large", "users:\n  - {username: a, password_hash: \"" + userHash + "\", claims: {big: " + strings.Repeat("x", 2100) + "}}", "claims too large"},
		{"claims alias", "users:\n  - {username: a, password_hash: \"" + userHash + "\", claims: {a: &x 1, b: *x}}", "aliases"},
		{"public with secret", "clients:\n  - {client_id: c, public: true, client_secret_hash: \"" + hash + "\"}", "a public client has no secret"},
		{"confidential without secret", "clients:\n  - {client_id: c, grant_types: [password]}", "client_secret_hash is missing"},
		{"bad ttl", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", access_token_ttl: soon}", "access_token_ttl is not a Go duration"},
		{"negative ttl", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", refresh_token_ttl: -1h}", "refresh_token_ttl must be positive"},
		{"access not below refresh", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", access_token_ttl: 1h, refresh_token_ttl: 1h}", "must be below refresh_token_ttl"},
		{"empty audience", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", audience: [\"\"]}", "audience: an entry is empty"},
		{"repeated audience", "clients:\n  - {client_id: c, client_secret_hash: \"" + hash + "\", audience: [a, a]}", "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.entry))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			assertNoHash(t, err.Error(), hash, userHash)
		})
	}
}

func TestCheckLimits(t *testing.T) {
	_, hash := mustSecret(t)
	limits := Limits{AccessTTL: 15 * time.Minute, RefreshTTL: 168 * time.Hour, SessionMaxTTL: 720 * time.Hour}
	for _, tc := range []struct{ name, fields, want string }{
		{"within", "access_token_ttl: 5m, refresh_token_ttl: 24h", ""},
		{"access only", "access_token_ttl: 15m", ""},
		{"access above global", "access_token_ttl: 16m", "above ACCESS_TOKEN_TTL"},
		{"refresh above session", "refresh_token_ttl: 721h", "above SESSION_MAX_TTL"},
		{"refresh below global access", "refresh_token_ttl: 10m", "must be below the refresh token lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := mustParse(t, "clients:\n  - {client_id: c, client_secret_hash: \""+hash+"\", "+tc.fields+"}")
			err := s.CheckLimits(limits)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), `clients "c"`) {
				t.Errorf("the error does not name the client: %v", err)
			}
		})
	}
	var nilSet *Set
	if err := nilSet.CheckLimits(limits); err != nil {
		t.Errorf("nil set: %v", err)
	}
}
