package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/redistest"
)

// basicAuth returns an HTTP Basic header value for a client (RFC 6749 §2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// introspect asks /introspect as the intro client (HTTP Basic) about tok.
func introspect(tb testing.TB, base, tok string, kv ...string) *response {
	tb.Helper()
	v := url.Values{"token": {tok}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	r := call(tb, http.MethodPost, base+"/introspect", "application/x-www-form-urlencoded", v.Encode(),
		"Authorization", basicAuth("intro", introSecret))
	if r.Status != http.StatusOK {
		tb.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("introspection Cache-Control = %q, want no-store", cc)
	}
	return r
}

// wantInactive checks that an introspection answer is exactly {"active":false}.
func wantInactive(tb testing.TB, r *response, what string) {
	tb.Helper()
	if strings.TrimSpace(string(r.Body)) != `{"active":false}` {
		tb.Errorf("%s: introspection = %s, want {\"active\":false}", what, r.Body)
	}
}

// wantActive checks an active answer field by field against the token's
// own claims: exactly the fields of RFC 7662 §2.2 that docs/api.md lists, each equal.
func wantActive(tb testing.TB, r *response, tokenType string, claims jwt.MapClaims) {
	tb.Helper()
	want := map[string]any{"active": true, "token_type": tokenType}
	for _, k := range []string{"sub", "scope", "client_id", "exp", "iat", "iss", "aud", "jti"} {
		if v, ok := claims[k]; ok {
			want[k] = v
		}
	}
	got := map[string]any{}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		tb.Fatalf("introspection body: %v: %s", err, r.Body)
	}
	if gb, wb := mustJSON(tb, got), mustJSON(tb, want); gb != wb {
		tb.Errorf("introspection\n got %s\nwant %s", gb, wb)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// unverifiedClaims decodes a JWS's header and claims without verifying it.
func unverifiedClaims(tb testing.TB, tok string) (map[string]any, jwt.MapClaims) {
	tb.Helper()
	c := jwt.MapClaims{}
	t, _, err := jwt.NewParser().ParseUnverified(tok, c)
	if err != nil {
		tb.Fatalf("parse %s…: %v", tok[:10], err)
	}
	return t.Header, c
}

// resign signs claims, edited by edit, under the header of tok (its alg,
// typ and kid) with key: with authsvc's own key this is a genuine token of
// authsvc's making, as if minted at another time.
func resign(tb testing.TB, tok, key string, edit func(jwt.MapClaims)) string {
	tb.Helper()
	hdr, c := unverifiedClaims(tb, tok)
	edit(c)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header = hdr
	s, err := t.SignedString([]byte(key))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestE2E_Introspect checks POST /introspect (RFC 7662, docs/api.md) field
// by field for each kind and state of token, and who may ask.
func TestE2E_Introspect(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := login(t, svc.URL, "client_id", "billing", "client_secret", billingSecret, "scope", "read write")
	at, rt := r.str("access_token"), r.str("refresh_token")
	_, atClaims := unverifiedClaims(t, at)
	_, rtClaims := unverifiedClaims(t, rt)

	t.Run("active access token", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token", "unknown_hint"} {
			wantActive(t, introspect(t, svc.URL, at, "token_type_hint", hint), "access_token", atClaims)
		}
		if atClaims["client_id"] != "billing" || atClaims["aud"] != testAudience || atClaims["iss"] != testIssuer {
			t.Fatalf("the fixture's claims are not what the test assumes: %v", atClaims)
		}
	})
	t.Run("active refresh token", func(t *testing.T) {
		wantActive(t, introspect(t, svc.URL, rt, "token_type_hint", "refresh_token"), "refresh_token", jwt.MapClaims{
			"sub": rtClaims["sub"], "scope": rtClaims["scope"], "client_id": "billing", "exp": rtClaims["exp"],
			"iat": rtClaims["iat"], "iss": testIssuer, "aud": testIssuer, "jti": rtClaims["jti"],
		})
	})
	t.Run("JSON body and client credentials in the body", func(t *testing.T) {
		r := postJSON(t, svc.URL+"/introspect", "token", at, "client_id", "intro", "client_secret", introSecret)
		if r.Status != 200 || r.JSON["active"] != true {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("refresh token: current is active, rotated is not", func(t *testing.T) {
		r := login(t, svc.URL)
		old := r.str("refresh_token")
		r2 := postForm(t, svc.URL+"/refresh", "refresh_token", old)
		if r2.Status != 200 {
			t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
		}
		wantInactive(t, introspect(t, svc.URL, old), "rotated refresh token")
		cur := r2.str("refresh_token")
		_, c := unverifiedClaims(t, cur)
		c["iss"], c["aud"] = testIssuer, testIssuer
		delete(c, "type")
		wantActive(t, introspect(t, svc.URL, cur), "refresh_token", c)
		// Introspection used nothing up: the current token still rotates.
		if r3 := postForm(t, svc.URL+"/refresh", "refresh_token", cur); r3.Status != 200 {
			t.Fatalf("refresh after introspection: %d %s", r3.Status, r3.Body)
		}
		wantInactive(t, introspect(t, svc.URL, cur), "refresh token rotated after introspection")
	})
	t.Run("revoked and reused sessions", func(t *testing.T) {
		r := login(t, svc.URL)
		if rv := postForm(t, svc.URL+"/revoke", "token", r.str("refresh_token")); rv.Status != 200 {
			t.Fatalf("revoke: %d", rv.Status)
		}
		wantInactive(t, introspect(t, svc.URL, r.str("refresh_token")), "revoked refresh token")

		r = login(t, svc.URL)
		r2 := postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token"))
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token")), 400, "invalid_grant")
		wantInactive(t, introspect(t, svc.URL, r2.str("refresh_token")), "newest refresh token after a reuse")
	})
	t.Run("denylisted access token after /revoke", func(t *testing.T) {
		r := login(t, svc.URL)
		tok := r.str("access_token")
		if introspect(t, svc.URL, tok).JSON["active"] != true {
			t.Fatal("fresh access token inactive")
		}
		if rv := postForm(t, svc.URL+"/revoke", "token", tok, "token_type_hint", "access_token"); rv.Status != 200 {
			t.Fatalf("revoke: %d", rv.Status)
		}
		wantInactive(t, introspect(t, svc.URL, tok), "denylisted access token")
		// Revoking the access token left the session alone.
		if introspect(t, svc.URL, r.str("refresh_token")).JSON["active"] != true {
			t.Error("the refresh token died with its access token")
		}
	})
	t.Run("expired and forged tokens", func(t *testing.T) {
		past := func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			if _, ok := c["auth_time"]; ok {
				c["auth_time"] = c["iat"]
			}
		}
		fresh := func(c jwt.MapClaims) { c["jti"] = c["jti"].(string) + "x" }
		// The re-signing is genuine: with a future exp it is active.
		if r := introspect(t, svc.URL, resign(t, at, testSecret, fresh)); r.JSON["active"] != true {
			t.Fatalf("re-signed access token inactive: %s", r.Body)
		}
		cases := map[string]string{
			"expired access token":             resign(t, at, testSecret, past),
			"expired refresh token":            resign(t, rt, testRefreshSecret, past),
			"access token signed with another": resign(t, at, "another-key-of-at-least-32-bytes-long", fresh),
			"refresh signed with access key":   resign(t, rt, testSecret, func(jwt.MapClaims) {}),
			"alg none":                         "eyJhbGciOiJub25lIn0." + strings.Split(at, ".")[1] + ".",
			"garbage":                          "garbage",
			"truncated":                        at[:len(at)-3],
		}
		for name, tok := range cases {
			wantInactive(t, introspect(t, svc.URL, tok), name)
		}
	})
	t.Run("who may ask", func(t *testing.T) {
		form := "application/x-www-form-urlencoded"
		body := "token=" + url.QueryEscape(at)
		for name, hdr := range map[string][]string{
			"no client authentication":          nil,
			"wrong secret":                      {"Authorization", basicAuth("intro", "wrong")},
			"unknown client":                    {"Authorization", basicAuth("nobody", "x")},
			"client without introspect: true":   {"Authorization", basicAuth("billing", billingSecret)},
			"another client without introspect": {"Authorization", basicAuth("other", otherSecret)},
		} {
			r := call(t, http.MethodPost, svc.URL+"/introspect", form, body, hdr...)
			wantError(t, r, 401, "invalid_client")
			if r.Header.Get("WWW-Authenticate") != `Basic realm="authsvc"` {
				t.Errorf("%s: WWW-Authenticate = %q", name, r.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(r.Body), "active") {
				t.Errorf("%s: the refusal says something about the token: %s", name, r.Body)
			}
		}
		wantError(t, call(t, http.MethodPost, svc.URL+"/introspect", form, "", "Authorization", basicAuth("intro", introSecret)), 400, "invalid_request")
		wantError(t, call(t, http.MethodPost, svc.URL+"/introspect?"+body, form, "", "Authorization", basicAuth("intro", introSecret)), 400, "invalid_request")
	})
}

// TestE2E_Metadata checks the RFC 8414 document field by field, and that
// every endpoint it names answers on the service.
func TestE2E_Metadata(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := call(t, http.MethodGet, svc.URL+"/.well-known/oauth-authorization-server", "", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("metadata: %d %v %s", r.Status, r.Header, r.Body)
	}
	if !strings.HasPrefix(r.Header.Get("Cache-Control"), "public, max-age=") {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	authMethods := []any{"client_secret_basic", "client_secret_post"}
	want := map[string]any{
		"issuer":                                        testIssuer,
		"token_endpoint":                                testIssuer + "/token",
		"revocation_endpoint":                           testIssuer + "/revoke",
		"introspection_endpoint":                        testIssuer + "/introspect",
		"jwks_uri":                                      testIssuer + "/.well-known/jwks.json",
		"grant_types_supported":                         []any{"password", "client_credentials", "refresh_token"},
		"token_endpoint_auth_methods_supported":         authMethods,
		"revocation_endpoint_auth_methods_supported":    authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods,
		"response_types_supported":                      []any{},
		// The union of every user's and client's scopes, sorted.
		"scopes_supported":         []any{"billing", "read", "write"},
		"revocation_feed_endpoint": testIssuer + "/revocations",
		// DPOP_SIGNING_ALGS, by default.
		"dpop_signing_alg_values_supported": []any{"ES256", "EdDSA", "RS256", "PS256"},
		// /token and /refresh take RFC 8707's resource parameter.
		"resource_indicators_supported": true,
	}
	if got, w := mustJSON(t, r.JSON), mustJSON(t, want); got != w {
		t.Errorf("metadata\n got %s\nwant %s", got, w)
	}

	// Each endpoint URL points at a route of this service (issuer = its
	// public base URL).
	for _, field := range []string{"token_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri", "revocation_feed_endpoint"} {
		path := strings.TrimPrefix(r.str(field), testIssuer)
		method := http.MethodPost
		if field == "jwks_uri" || field == "revocation_feed_endpoint" {
			method = http.MethodGet
		}
		if got := call(t, method, svc.URL+path, "application/x-www-form-urlencoded", ""); got.Status == 404 || got.Status == 405 {
			t.Errorf("%s %s: %d", method, path, got.Status)
		}
	}

	t.Run("without scopes the field is absent", func(t *testing.T) {
		env := baseEnv(t, rds.URL())
		path := t.TempDir() + "/creds.yaml"
		creds := "users:\n  - username: zoe\n    password_hash: \"" + mustHash(t, "pw") + "\"\n    scopes: []\n"
		if err := os.WriteFile(path, []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		env["CREDENTIALS_FILE"] = path
		env["JWT_ISSUER"] = "https://auth.example.test/tenant/"
		svc := startAuthsvc(t, env)
		r := call(t, http.MethodGet, svc.URL+"/.well-known/oauth-authorization-server", "", "")
		if _, ok := r.JSON["scopes_supported"]; ok {
			t.Errorf("scopes_supported present: %s", r.Body)
		}
		// The issuer is kept exactly; the endpoints hang below it.
		if r.str("issuer") != "https://auth.example.test/tenant/" || r.str("token_endpoint") != "https://auth.example.test/tenant/token" {
			t.Errorf("issuer with a path: %s", r.Body)
		}
		if !strings.Contains(string(r.Body), `"response_types_supported":[]`) {
			t.Errorf("response_types_supported must be []: %s", r.Body)
		}
	})
}
