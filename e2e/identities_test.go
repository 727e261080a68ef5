package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/redistest"
)

// Fixtures of the user-authenticator tests. The passwords are distinctive so
// that the leak checks can search the log for them.
const (
	extPassword     = "ext-Pa55word-Okapi-11"
	extWrong        = "ext-Wrong-Tapir-58"
	authnToken      = "authn-Token-Gecko-0042"
	authnTimeout    = 300 * time.Millisecond
	extSubject      = "ext|42"
	mobileClientID  = "mobile"
	webClientSecret = "web-Secret-Lemur-64"
)

// fakeAuthenticator is a real HTTP user authenticator the tests start: a
// small user table keyed by username, each with the answer it gives.
type fakeAuthenticator struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int // username → calls
	bad   []string       // problems seen in requests (wrong method, token…)
	// flaky, while set, makes "ext-flaky" answer 500.
	flaky atomic.Bool
}

func startFakeAuthenticator(tb testing.TB) *fakeAuthenticator {
	tb.Helper()
	f := &fakeAuthenticator{calls: map[string]int{}}
	f.flaky.Store(true)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAuthenticator) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		ClientID string `json:"client_id"`
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	switch {
	case r.Method != http.MethodPost:
		f.bad = append(f.bad, "method "+r.Method)
	case r.Header.Get("Content-Type") != "application/json":
		f.bad = append(f.bad, "content type "+r.Header.Get("Content-Type"))
	case r.Header.Get("Authorization") != "Bearer "+authnToken:
		f.bad = append(f.bad, "no or wrong bearer token")
	case json.Unmarshal(body, &req) != nil:
		f.bad = append(f.bad, "body is not JSON")
	}
	f.calls[req.Username]++
	f.mu.Unlock()

	answer := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	good := req.Password == extPassword
	switch req.Username {
	case "ext-ok", "ext-flaky":
		if req.Username == "ext-flaky" && f.flaky.Load() {
			answer(500, `{"error":"database down"}`)
			return
		}
		if !good {
			answer(401, `{"error":"invalid credentials"}`)
			return
		}
		answer(200, fmt.Sprintf(`{"sub":%q,"scopes":["read","write"],"claims":{"tenant":"acme","tier":"bronze","client_seen":%q}}`, extSubject, req.ClientID))
	case "ext-403":
		answer(403, ``)
	case "ext-404":
		answer(404, `{"error":"no such user"}`)
	case "ext-500":
		answer(500, `oops`)
	case "ext-badjson":
		answer(200, `{"sub":`)
	case "ext-nosub":
		answer(200, `{"scopes":["read"]}`)
	case "ext-slow":
		select {
		case <-time.After(5 * authnTimeout):
		case <-r.Context().Done():
		}
		answer(200, `{"sub":"slow"}`)
	case "ext-reserved":
		answer(200, `{"sub":"ext|7","scopes":["read"],"claims":{"sub":"root","aud":"evil","client_id":"x","tenant":"kept"}}`)
	case "ext-big":
		answer(200, `{"sub":"ext|8","claims":{"blob":"`+strings.Repeat("x", 2100)+`"}}`)
	default:
		answer(404, `{}`)
	}
}

func (f *fakeAuthenticator) callsFor(username string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[username]
}

func (f *fakeAuthenticator) problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bad...)
}

// identityCredentials is a credentials file with custom claims, clients
// with their own audience and lifetimes, and a public client.
func identityCredentials(tb testing.TB) string {
	tb.Helper()
	yaml := fmt.Sprintf(`users:
  - username: alice
    password_hash: %q
    scopes: [read, write]
    claims: {tenant: acme, tier: bronze}
clients:
  - client_id: web
    client_secret_hash: %q
    grant_types: [password, refresh_token, client_credentials]
    scopes: [read, write]
    audience: [web-api, reports]
    access_token_ttl: 5m
    refresh_token_ttl: 1h
    claims: {tier: gold, app: web}
  - client_id: mobile
    public: true
    grant_types: [password, refresh_token]
    scopes: [read, write]
  - client_id: intro
    client_secret_hash: %q
    grant_types: [client_credentials]
    introspect: true
`, mustHash(tb, alicePassword), mustHash(tb, webClientSecret), mustHash(tb, introSecret))
	path := filepath.Join(tb.TempDir(), "credentials.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// accessClaims verifies an access token with the shared secret and issuer
// (any audience) and returns its claims.
func accessClaims(tb testing.TB, tok string) jwt.MapClaims {
	tb.Helper()
	c := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(testIssuer), jwt.WithExpirationRequired()).
		ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	if err != nil {
		tb.Fatalf("access token does not verify: %v", err)
	}
	return c
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// postFormAuth posts form fields with an Authorization header.
func postFormAuth(tb testing.TB, u, authorization string, kv ...string) *response {
	tb.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return call(tb, http.MethodPost, u, "application/x-www-form-urlencoded", v.Encode(), "Authorization", authorization)
}

// wantNoSecretsInLog fails when the log holds any of secrets.
func wantNoSecretsInLog(tb testing.TB, logs string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			tb.Errorf("the log holds a secret (%.6s…)", s)
		}
	}
}

func authenticatorEnv(tb testing.TB, redisURL string, f *fakeAuthenticator) map[string]string {
	env := baseEnv(tb, redisURL)
	env["USER_AUTHENTICATOR_URL"] = f.srv.URL + "/check"
	env["USER_AUTHENTICATOR_TOKEN"] = authnToken
	env["USER_AUTHENTICATOR_TIMEOUT"] = authnTimeout.String()
	env["LOGIN_FAILURES_MAX"] = "3"
	return env
}

// TestE2E_Authenticator_Answers drives each answer of the user
// authenticator through the real binary: the status and error code the
// client gets, one call per grant, and nothing secret in the log.
func TestE2E_Authenticator_Answers(t *testing.T) {
	rds := redistest.Start(t)
	f := startFakeAuthenticator(t)
	svc := startAuthsvc(t, authenticatorEnv(t, rds.URL(), f))

	for _, tc := range []struct {
		username, password string
		status             int
		code               string
	}{
		{"ext-ok", extWrong, 400, "invalid_grant"},
		{"ext-403", extPassword, 400, "invalid_grant"},
		{"ext-404", extPassword, 400, "invalid_grant"},
		{"ext-500", extPassword, 503, "temporarily_unavailable"},
		{"ext-badjson", extPassword, 503, "temporarily_unavailable"},
		{"ext-nosub", extPassword, 503, "temporarily_unavailable"},
		{"ext-slow", extPassword, 503, "temporarily_unavailable"},
		{"ext-big", extPassword, 503, "temporarily_unavailable"},
	} {
		t.Run(tc.username, func(t *testing.T) {
			start := time.Now()
			r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", tc.username, "password", tc.password)
			wantError(t, r, tc.status, tc.code)
			if tc.status == 503 && r.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if tc.username == "ext-slow" && time.Since(start) > 4*authnTimeout+2*time.Second {
				t.Errorf("the slow answer took %s to give up (timeout %s)", time.Since(start), authnTimeout)
			}
			if n := f.callsFor(tc.username); n != 1 {
				t.Errorf("the authenticator was called %d times, want 1", n)
			}
		})
	}
	// A wrong password gives the very same answer as for a file user.
	ext := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-ok", "password", extWrong)
	file := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", extWrong)
	if ext.Status != file.Status || string(ext.Body) != string(file.Body) {
		t.Errorf("authenticator reject %d %s, file user reject %d %s", ext.Status, ext.Body, file.Status, file.Body)
	}

	t.Run("200", func(t *testing.T) {
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-ok", "password", extPassword, "scope", "read")
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		c := verifyLikeResourceServer(t, r.str("access_token"))
		if c["sub"] != extSubject || c["scope"] != "read" || c["tenant"] != "acme" || c["tier"] != "bronze" || c["client_seen"] != "" {
			t.Errorf("claims = %v", c)
		}
		if _, ok := c["client_id"]; ok {
			t.Errorf("client_id in a token issued without a client: %v", c)
		}
		// A refresh keeps the claims and does not ask the authenticator.
		before := f.callsFor("ext-ok")
		r2 := postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token"))
		if r2.Status != 200 {
			t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
		}
		c2 := verifyLikeResourceServer(t, r2.str("access_token"))
		if c2["sub"] != extSubject || c2["tenant"] != "acme" {
			t.Errorf("claims after refresh = %v", c2)
		}
		if n := f.callsFor("ext-ok"); n != before {
			t.Errorf("refresh called the authenticator (%d → %d calls)", before, n)
		}
	})
	t.Run("reserved claims dropped", func(t *testing.T) {
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-reserved", "password", extPassword)
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		c := verifyLikeResourceServer(t, r.str("access_token"))
		if c["sub"] != "ext|7" || c["aud"] != testAudience || c["tenant"] != "kept" {
			t.Errorf("claims = %v", c)
		}
		if _, ok := c["client_id"]; ok {
			t.Errorf("a reserved claim of the answer reached the token: %v", c)
		}
		if !strings.Contains(svc.logs.String(), "reserved claim names") {
			t.Errorf("no warning about the dropped claims in the log")
		}
	})
	t.Run("file users never reach it", func(t *testing.T) {
		login(t, svc.URL)
		wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", "nope"), 400, "invalid_grant")
		if n := f.callsFor("alice"); n != 0 {
			t.Errorf("the authenticator was asked about a file user %d times", n)
		}
	})
	if p := f.problems(); len(p) > 0 {
		t.Errorf("malformed requests reached the authenticator: %q", p)
	}
	wantNoSecretsInLog(t, svc.logs.String(), extPassword, extWrong, authnToken, alicePassword)
}

// TestE2E_Authenticator_Lockout checks that wrong passwords checked by the
// authenticator count toward LOGIN_FAILURES_MAX (then even the right
// password gets 429 and the authenticator is not asked), and that answers
// that decide nothing (500) count nothing.
func TestE2E_Authenticator_Lockout(t *testing.T) {
	rds := redistest.Start(t)
	f := startFakeAuthenticator(t)
	svc := startAuthsvc(t, authenticatorEnv(t, rds.URL(), f)) // LOGIN_FAILURES_MAX=3

	for range 3 {
		wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-ok", "password", extWrong), 400, "invalid_grant")
	}
	r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-ok", "password", extPassword)
	wantError(t, r, 429, "too_many_requests")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if n := f.callsFor("ext-ok"); n != 3 {
		t.Errorf("the authenticator was called %d times, want 3 (not while locked)", n)
	}

	for range 5 {
		wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-flaky", "password", extPassword), 503, "temporarily_unavailable")
	}
	f.flaky.Store(false)
	if r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "ext-flaky", "password", extPassword); r.Status != 200 {
		t.Fatalf("after 5 unanswered checks the user is locked out: %d %s", r.Status, r.Body)
	}
	wantNoSecretsInLog(t, svc.logs.String(), extPassword, extWrong, authnToken)
}

// TestE2E_ClaimsAudienceLifetimes checks custom claims (client wins),
// a client's own audience and lifetimes, and that introspection accepts a
// token issued for a client audience.
func TestE2E_ClaimsAudienceLifetimes(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = identityCredentials(t)
	svc := startAuthsvc(t, env)

	t.Run("no client: global audience and lifetimes, the user's claims", func(t *testing.T) {
		r := login(t, svc.URL)
		if r.JSON["expires_in"] != 900.0 || r.JSON["refresh_expires_in"] != 604800.0 {
			t.Errorf("lifetimes: %s", r.Body)
		}
		c := verifyLikeResourceServer(t, r.str("access_token"))
		if c["tenant"] != "acme" || c["tier"] != "bronze" || c["aud"] != testAudience {
			t.Errorf("claims = %v", c)
		}
	})
	t.Run("client web: its audience, lifetimes and claims", func(t *testing.T) {
		r := postFormAuth(t, svc.URL+"/token", basic("web", webClientSecret), "grant_type", "password", "username", "alice", "password", alicePassword)
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		if r.JSON["expires_in"] != 300.0 || r.JSON["refresh_expires_in"] != 3600.0 {
			t.Errorf("lifetimes: %s", r.Body)
		}
		c := accessClaims(t, r.str("access_token"))
		aud, _ := c["aud"].([]any)
		if len(aud) != 2 || aud[0] != "web-api" || aud[1] != "reports" {
			t.Errorf("aud = %v", c["aud"])
		}
		if c["tenant"] != "acme" || c["tier"] != "gold" || c["app"] != "web" || c["client_id"] != "web" {
			t.Errorf("claims = %v (the client's tier must win)", c)
		}
		if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
			t.Errorf("exp - iat = %v", exp-iat)
		}
		// The refresh keeps the client's policy.
		r2 := postFormAuth(t, svc.URL+"/refresh", basic("web", webClientSecret), "refresh_token", r.str("refresh_token"))
		if r2.Status != 200 || r2.JSON["expires_in"] != 300.0 || r2.JSON["refresh_expires_in"] != 3600.0 {
			t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
		}
		if c := accessClaims(t, r2.str("access_token")); c["tier"] != "gold" || c["tenant"] != "acme" {
			t.Errorf("claims after refresh = %v", c)
		}
		// Introspection accepts a token of a client audience.
		in := postFormAuth(t, svc.URL+"/introspect", basic("intro", introSecret), "token", r2.str("access_token"))
		if in.Status != 200 || in.JSON["active"] != true {
			t.Errorf("introspect: %d %s", in.Status, in.Body)
		}
	})
	t.Run("client_credentials: the client's audience, lifetime and claims", func(t *testing.T) {
		r := postFormAuth(t, svc.URL+"/token", basic("web", webClientSecret), "grant_type", "client_credentials")
		if r.Status != 200 || r.JSON["expires_in"] != 300.0 {
			t.Fatalf("client_credentials: %d %s", r.Status, r.Body)
		}
		c := accessClaims(t, r.str("access_token"))
		if c["sub"] != "web" || c["client_id"] != "web" || c["tier"] != "gold" {
			t.Errorf("claims = %v", c)
		}
	})
}

// TestE2E_ResourceIndicators checks RFC 8707 on /token and /refresh.
func TestE2E_ResourceIndicators(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = identityCredentials(t)
	env["JWT_AUDIENCE"] = testAudience + ",second.e2e.test"
	svc := startAuthsvc(t, env)
	web := basic("web", webClientSecret)
	pw := []string{"grant_type", "password", "username", "alice", "password", alicePassword}

	r := postFormAuth(t, svc.URL+"/token", web, append(pw, "resource", "reports")...)
	if r.Status != 200 {
		t.Fatalf("resource=reports: %d %s", r.Status, r.Body)
	}
	if c := accessClaims(t, r.str("access_token")); c["aud"] != "reports" {
		t.Errorf("aud = %v, want exactly reports", c["aud"])
	}
	rt := r.str("refresh_token")
	// A resource the token cannot carry, or two: invalid_target, and the
	// presented refresh token stays usable.
	wantError(t, postFormAuth(t, svc.URL+"/token", web, append(pw, "resource", testAudience)...), 400, "invalid_target")
	wantError(t, postFormAuth(t, svc.URL+"/token", web, append(pw, "resource", "web-api", "resource", "reports")...), 400, "invalid_target")
	wantError(t, call(t, http.MethodPost, svc.URL+"/token", "application/json",
		`{"grant_type":"password","username":"alice","password":"`+alicePassword+`","resource":["web-api","reports"]}`, "Authorization", web), 400, "invalid_target")
	wantError(t, postFormAuth(t, svc.URL+"/refresh", web, "refresh_token", rt, "resource", "https://elsewhere.test"), 400, "invalid_target")
	wantError(t, postFormAuth(t, svc.URL+"/refresh", web, "refresh_token", rt, "resource", "a", "resource", "b"), 400, "invalid_target")
	r2 := postFormAuth(t, svc.URL+"/refresh", web, "refresh_token", rt, "resource", "web-api")
	if r2.Status != 200 {
		t.Fatalf("refresh after invalid_target: %d %s", r2.Status, r2.Body)
	}
	if c := accessClaims(t, r2.str("access_token")); c["aud"] != "web-api" {
		t.Errorf("aud after refresh = %v", c["aud"])
	}
	// Through /token's refresh_token grant too.
	r3 := postFormAuth(t, svc.URL+"/token", web, "grant_type", "refresh_token", "refresh_token", r2.str("refresh_token"), "resource", "reports")
	if r3.Status != 200 || accessClaims(t, r3.str("access_token"))["aud"] != "reports" {
		t.Fatalf("refresh_token grant with resource: %d %s", r3.Status, r3.Body)
	}
	// Without a client: one of JWT_AUDIENCE.
	r4 := postForm(t, svc.URL+"/token", append(pw, "resource", "second.e2e.test")...)
	if r4.Status != 200 || accessClaims(t, r4.str("access_token"))["aud"] != "second.e2e.test" {
		t.Fatalf("resource without a client: %d %s", r4.Status, r4.Body)
	}
	wantError(t, postForm(t, svc.URL+"/token", append(pw, "resource", "web-api")...), 400, "invalid_target")
	// client_credentials.
	r5 := postFormAuth(t, svc.URL+"/token", web, "grant_type", "client_credentials", "resource", "web-api")
	if r5.Status != 200 || accessClaims(t, r5.str("access_token"))["aud"] != "web-api" {
		t.Fatalf("client_credentials with resource: %d %s", r5.Status, r5.Body)
	}
}

// TestE2E_PublicClients checks a public client on every endpoint it may use
// and every one it may not.
func TestE2E_PublicClients(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = identityCredentials(t)
	adminAddr := freeAddr(t)
	env["ADMIN_ADDR"] = adminAddr
	svc := startAuthsvc(t, env)
	pw := []string{"grant_type", "password", "username", "alice", "password", alicePassword}

	// Password grant with client_id alone in the body.
	r := postForm(t, svc.URL+"/token", append(pw, "client_id", mobileClientID)...)
	if r.Status != 200 {
		t.Fatalf("password, client_id alone: %d %s", r.Status, r.Body)
	}
	if c := verifyLikeResourceServer(t, r.str("access_token")); c["client_id"] != mobileClientID {
		t.Errorf("client_id claim = %v", c["client_id"])
	}
	// Basic with an empty password counts as the client_id alone.
	rb := postFormAuth(t, svc.URL+"/token", basic(mobileClientID, ""), pw...)
	if rb.Status != 200 {
		t.Fatalf("password, Basic with empty password: %d %s", rb.Status, rb.Body)
	}
	// A secret sent for a public client: 401.
	wantError(t, postForm(t, svc.URL+"/token", append(pw, "client_id", mobileClientID, "client_secret", "anything")...), 401, "invalid_client")
	wantError(t, postFormAuth(t, svc.URL+"/token", basic(mobileClientID, "anything"), pw...), 401, "invalid_client")
	// A confidential client's id alone: 401.
	wantError(t, postForm(t, svc.URL+"/token", append(pw, "client_id", "web")...), 401, "invalid_client")
	wantError(t, postFormAuth(t, svc.URL+"/token", basic("web", ""), pw...), 401, "invalid_client")

	// /refresh and the refresh_token grant with client_id alone; the bound
	// token needs it.
	rt := r.str("refresh_token")
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt), 401, "invalid_client")
	r2 := postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", mobileClientID)
	if r2.Status != 200 {
		t.Fatalf("refresh, client_id alone: %d %s", r2.Status, r2.Body)
	}
	r3 := postForm(t, svc.URL+"/token", "grant_type", "refresh_token", "refresh_token", r2.str("refresh_token"), "client_id", mobileClientID)
	if r3.Status != 200 {
		t.Fatalf("refresh_token grant, client_id alone: %d %s", r3.Status, r3.Body)
	}
	// /revoke with client_id alone ends the session.
	if rv := postForm(t, svc.URL+"/revoke", "token", r3.str("refresh_token"), "client_id", mobileClientID); rv.Status != 200 {
		t.Fatalf("revoke, client_id alone: %d %s", rv.Status, rv.Body)
	}
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", r3.str("refresh_token"), "client_id", mobileClientID), 400, "invalid_grant")

	// Never client_credentials or introspection.
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", mobileClientID), 401, "invalid_client")
	wantError(t, postFormAuth(t, svc.URL+"/token", basic(mobileClientID, ""), "grant_type", "client_credentials"), 401, "invalid_client")
	wantError(t, postForm(t, svc.URL+"/introspect", "token", rb.str("access_token"), "client_id", mobileClientID), 401, "invalid_client")
	wantError(t, postFormAuth(t, svc.URL+"/introspect", basic(mobileClientID, ""), "token", rb.str("access_token")), 401, "invalid_client")

	// /logout-all with client_id alone ends the subject's sessions.
	rl := postForm(t, svc.URL+"/token", append(pw, "client_id", mobileClientID)...)
	if rl.Status != 200 {
		t.Fatalf("login for logout-all: %d %s", rl.Status, rl.Body)
	}
	wantError(t, postForm(t, svc.URL+"/logout-all", "refresh_token", rl.str("refresh_token"), "client_id", mobileClientID, "client_secret", "x"), 401, "invalid_client")
	lo := postForm(t, svc.URL+"/logout-all", "refresh_token", rl.str("refresh_token"), "client_id", mobileClientID)
	if lo.Status != 200 {
		t.Fatalf("logout-all, client_id alone: %d %s", lo.Status, lo.Body)
	}
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rl.str("refresh_token"), "client_id", mobileClientID), 400, "invalid_grant")

	// Never the admin API.
	wantError(t, call(t, http.MethodGet, "http://"+adminAddr+"/admin/subjects/alice/sessions", "", "", "Authorization", basic(mobileClientID, "")), 401, "invalid_client")

	// Nor the revocation feed.
	wantError(t, call(t, http.MethodGet, svc.URL+"/revocations", "", "", "Authorization", basic(mobileClientID, "")), 401, "invalid_client")

	// The metadata lists "none".
	md := call(t, http.MethodGet, svc.URL+"/.well-known/oauth-authorization-server", "", "")
	methods, _ := md.JSON["token_endpoint_auth_methods_supported"].([]any)
	if !containsAny(methods, "none") || md.JSON["resource_indicators_supported"] != true {
		t.Errorf("metadata: %s", md.Body)
	}
	intro, _ := md.JSON["introspection_endpoint_auth_methods_supported"].([]any)
	if containsAny(intro, "none") {
		t.Errorf("introspection lists none: %s", md.Body)
	}
}

func containsAny(list []any, want string) bool {
	for _, v := range list {
		if v == want {
			return true
		}
	}
	return false
}

// TestE2E_MetadataWithoutPublicClients checks that "none" is listed only
// when a public client exists, as the credentials in force say: a reload
// that adds one brings it in.
func TestE2E_MetadataWithoutPublicClients(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	svc := startAuthsvc(t, env)
	hasNone := func() bool {
		md := call(t, http.MethodGet, svc.URL+"/.well-known/oauth-authorization-server", "", "")
		methods, _ := md.JSON["token_endpoint_auth_methods_supported"].([]any)
		return containsAny(methods, "none")
	}
	if hasNone() {
		t.Fatal("none listed without a public client")
	}
	data, err := os.ReadFile(identityCredentials(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(env["CREDENTIALS_FILE"], data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := svc.signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !hasNone() {
		if time.Now().After(deadline) {
			t.Fatalf("none not listed after a reload that added a public client\n%s", svc.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
