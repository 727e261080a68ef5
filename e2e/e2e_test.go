package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/redistest"
)

// TestE2E_LoginRefreshReuseStory plays the central story of docs/api.md over a
// real listener and a real Redis: login, refresh, replay of the used token
// (reuse → whole family revoked), and the newest token dead afterwards.
func TestE2E_LoginRefreshReuseStory(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))

	for _, enc := range []struct {
		name string
		post func(testing.TB, string, ...string) *response
	}{{"form", postForm}, {"json", postJSON}} {
		t.Run(enc.name, func(t *testing.T) {
			r := enc.post(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword, "scope", "read")
			if r.Status != http.StatusOK {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			for h, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
				if got := r.Header.Get(h); !strings.HasPrefix(got, want) {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if r.str("token_type") != "Bearer" || r.JSON["expires_in"] != 900.0 || r.JSON["refresh_expires_in"] != 604800.0 || r.str("scope") != "read" {
				t.Fatalf("token response fields: %s", r.Body)
			}
			access, rt1 := r.str("access_token"), r.str("refresh_token")
			claims := verifyLikeResourceServer(t, access)
			if claims["sub"] != "alice" || claims["scope"] != "read" || claims["type"] != "access" {
				t.Errorf("access claims: %v", claims)
			}
			if _, err := parseAccess(rt1); err == nil {
				t.Errorf("a resource server accepted the refresh token as an access token")
			}

			r2 := enc.post(t, svc.URL+"/refresh", "refresh_token", rt1)
			if r2.Status != http.StatusOK {
				t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
			}
			rt2 := r2.str("refresh_token")
			if rt2 == "" || rt2 == rt1 {
				t.Fatalf("refresh did not rotate the refresh token")
			}
			// The refresh_token grant of /token behaves like /refresh.
			r3 := enc.post(t, svc.URL+"/token", "grant_type", "refresh_token", "refresh_token", rt2)
			if r3.Status != http.StatusOK {
				t.Fatalf("refresh via /token: %d %s", r3.Status, r3.Body)
			}
			rt3 := r3.str("refresh_token")

			// Replaying rt1 is a reuse: 400 invalid_grant, family revoked.
			wantError(t, enc.post(t, svc.URL+"/refresh", "refresh_token", rt1), 400, "invalid_grant")
			wantError(t, enc.post(t, svc.URL+"/refresh", "refresh_token", rt3), 400, "invalid_grant")
			if !strings.Contains(svc.logs.String(), `"event":"reuse_detected"`) {
				t.Errorf("no reuse_detected audit event in the log")
			}
		})
	}
}

// TestE2E_ScopeNarrowingOnRefresh checks that a refresh may ask for a subset
// of the session's scope, and not more.
func TestE2E_ScopeNarrowingOnRefresh(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := login(t, svc.URL)
	if r.str("scope") != "read write" {
		t.Fatalf("scope = %q, want all allowed", r.str("scope"))
	}
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token"), "scope", "admin"), 400, "invalid_scope")
	r2 := postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token"), "scope", "read")
	if r2.Status != 200 || r2.str("scope") != "read" {
		t.Fatalf("narrowed refresh: %d %s", r2.Status, r2.Body)
	}
	// The session keeps its scope: the next refresh without scope gets it all.
	r3 := postForm(t, svc.URL+"/refresh", "refresh_token", r2.str("refresh_token"))
	if r3.Status != 200 || r3.str("scope") != "read write" {
		t.Fatalf("refresh after narrowing: %d %s", r3.Status, r3.Body)
	}
}

// TestE2E_ClientCredentials covers the client_credentials grant and both
// ways of client authentication.
func TestE2E_ClientCredentials(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("billing")+":"+url.QueryEscape(billingSecret)))
	r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=billing", "Authorization", basic)
	if r.Status != 200 {
		t.Fatalf("basic: %d %s", r.Status, r.Body)
	}
	if _, ok := r.JSON["refresh_token"]; ok {
		t.Errorf("client_credentials returned a refresh token")
	}
	if _, ok := r.JSON["refresh_expires_in"]; ok {
		t.Errorf("client_credentials returned refresh_expires_in")
	}
	c := verifyLikeResourceServer(t, r.str("access_token"))
	if c["sub"] != "billing" || c["client_id"] != "billing" || c["scope"] != "billing" {
		t.Errorf("claims: %v", c)
	}

	r = postJSON(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", billingSecret)
	if r.Status != 200 || r.str("scope") != "read write billing" {
		t.Fatalf("body auth: %d %s", r.Status, r.Body)
	}
	// A client without the grant type.
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", "other", "client_secret", otherSecret), 400, "unauthorized_client")
}

// TestE2E_ClientBoundRefresh checks that a refresh token issued through a
// client can only be used with that client's authentication.
func TestE2E_ClientBoundRefresh(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := login(t, svc.URL, "client_id", "billing", "client_secret", billingSecret)
	if c := verifyLikeResourceServer(t, r.str("access_token")); c["client_id"] != "billing" {
		t.Fatalf("client_id claim: %v", c)
	}
	rt := r.str("refresh_token")
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt), 401, "invalid_client")
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "other", "client_secret", otherSecret), 400, "invalid_grant")
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "billing", "client_secret", "wrong"), 401, "invalid_client")
	if r := postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "billing", "client_secret", billingSecret); r.Status != 200 {
		t.Fatalf("refresh with the right client: %d %s", r.Status, r.Body)
	}
	// Scope of a password grant with a client: user ∩ client.
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "bob", "password", bobPassword,
		"client_id", "billing", "client_secret", billingSecret, "scope", "write"), 400, "invalid_scope")
}

// TestE2E_ErrorTable walks the rows of the error table of docs/api.md that this
// service covers without a store outage.
func TestE2E_ErrorTable(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	form := "application/x-www-form-urlencoded"
	good := "grant_type=password&username=alice&password=" + url.QueryEscape(alicePassword)
	basicBilling := "Basic " + base64.StdEncoding.EncodeToString([]byte("billing:"+billingSecret))

	cases := []struct {
		name        string
		path, ctype string
		body        string
		hdr         []string
		status      int
		code        string
	}{
		{"unsupported content type", "/token", "text/plain", good, nil, 415, "invalid_request"},
		{"no content type", "/token", "", good, nil, 415, "invalid_request"},
		{"xml", "/token", "application/xml", "<a/>", nil, 415, "invalid_request"},
		{"body over 64 KiB", "/token", form, good + "&scope=" + strings.Repeat("a", 70<<10), nil, 413, "invalid_request"},
		{"parameter twice", "/token", form, good + "&username=bob", nil, 400, "invalid_request"},
		{"query string", "/token?username=alice", form, good, nil, 400, "invalid_request"},
		{"missing grant_type", "/token", form, "username=alice&password=x", nil, 400, "invalid_request"},
		{"unknown grant_type", "/token", form, "grant_type=implicit", nil, 400, "unsupported_grant_type"},
		{"missing username", "/token", form, "grant_type=password&password=x", nil, 400, "invalid_request"},
		{"wrong password", "/token", form, "grant_type=password&username=alice&password=nope", nil, 400, "invalid_grant"},
		{"unknown user", "/token", form, "grant_type=password&username=mallory&password=nope", nil, 400, "invalid_grant"},
		{"scope not allowed", "/token", form, good + "&scope=admin", nil, 400, "invalid_scope"},
		{"malformed scope", "/token", form, good + "&scope=%22read%22", nil, 400, "invalid_scope"},
		{"basic and body credentials", "/token", form, "grant_type=client_credentials&client_id=billing&client_secret=" + billingSecret, []string{"Authorization", basicBilling}, 400, "invalid_request"},
		{"client_credentials without client", "/token", form, "grant_type=client_credentials", nil, 401, "invalid_client"},
		{"unknown client", "/token", form, "grant_type=client_credentials&client_id=nobody&client_secret=x", nil, 401, "invalid_client"},
		{"wrong client secret", "/token", form, "grant_type=client_credentials&client_id=billing&client_secret=x", nil, 401, "invalid_client"},
		{"client without password grant", "/token", form, good + "&client_id=intro&client_secret=" + introSecret, nil, 400, "unauthorized_client"},
		{"refresh missing token", "/refresh", form, "", nil, 400, "invalid_request"},
		{"refresh forged token", "/refresh", form, "refresh_token=eyJhbGciOiJIUzI1NiJ9.e30.x", nil, 400, "invalid_grant"},
		{"json non-string value", "/token", "application/json", `{"grant_type":"password","username":"alice","password":1}`, nil, 400, "invalid_request"},
		{"json duplicate key", "/token", "application/json", `{"grant_type":"password","username":"alice","username":"bob","password":"x"}`, nil, 400, "invalid_request"},
		{"json not an object", "/token", "application/json", `["grant_type"]`, nil, 400, "invalid_request"},
		{"json trailing data", "/token", "application/json", `{"grant_type":"password"} {}`, nil, 400, "invalid_request"},
		{"revoke missing token", "/revoke", form, "", nil, 400, "invalid_request"},
		{"non-UTF-8", "/token", form, "grant_type=password&username=%ff%fe&password=x", nil, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", svc.URL+tc.path, tc.ctype, tc.body, tc.hdr...)
			wantError(t, r, tc.status, tc.code)
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") != `Basic realm="authsvc"` {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("unknown user and wrong password are indistinguishable", func(t *testing.T) {
		a := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", "wrong")
		b := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "nobody-here", "password", "wrong")
		if a.Status != b.Status || string(a.Body) != string(b.Body) {
			t.Fatalf("responses differ: %d %s vs %d %s", a.Status, a.Body, b.Status, b.Body)
		}
	})
}

// TestE2E_Revoke covers RFC 7009 revocation of refresh and access tokens.
func TestE2E_Revoke(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))

	t.Run("refresh token revokes its family", func(t *testing.T) {
		r := login(t, svc.URL)
		rt1 := r.str("refresh_token")
		r2 := postForm(t, svc.URL+"/refresh", "refresh_token", rt1)
		rt2 := r2.str("refresh_token")
		rv := postForm(t, svc.URL+"/revoke", "token", rt1, "token_type_hint", "refresh_token")
		if rv.Status != 200 || len(rv.Body) != 0 {
			t.Fatalf("revoke: %d %q", rv.Status, rv.Body)
		}
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt2), 400, "invalid_grant")
	})
	t.Run("unknown, forged and garbage tokens get 200", func(t *testing.T) {
		for _, tok := range []string{"garbage", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("x", 4000)} {
			if r := postForm(t, svc.URL+"/revoke", "token", tok, "token_type_hint", "bogus_hint"); r.Status != 200 {
				t.Errorf("revoke %q...: %d %s", tok[:5], r.Status, r.Body)
			}
		}
	})
	t.Run("client-bound token needs its client", func(t *testing.T) {
		r := login(t, svc.URL, "client_id", "billing", "client_secret", billingSecret)
		rt := r.str("refresh_token")
		wantError(t, postForm(t, svc.URL+"/revoke", "token", rt), 401, "invalid_client")
		wantError(t, postForm(t, svc.URL+"/revoke", "token", rt, "client_id", "other", "client_secret", otherSecret), 401, "invalid_client")
		// Nothing was revoked by the refused attempts.
		r2 := postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "billing", "client_secret", billingSecret)
		if r2.Status != 200 {
			t.Fatalf("refresh after refused revokes: %d %s", r2.Status, r2.Body)
		}
		if rv := postForm(t, svc.URL+"/revoke", "token", r2.str("refresh_token"), "client_id", "billing", "client_secret", billingSecret); rv.Status != 200 {
			t.Fatalf("revoke with client: %d %s", rv.Status, rv.Body)
		}
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", r2.str("refresh_token"), "client_id", "billing", "client_secret", billingSecret), 400, "invalid_grant")
	})
	t.Run("access token is denylisted", func(t *testing.T) {
		r := login(t, svc.URL)
		if rv := postForm(t, svc.URL+"/revoke", "token", r.str("access_token"), "token_type_hint", "access_token"); rv.Status != 200 {
			t.Fatalf("revoke access: %d %s", rv.Status, rv.Body)
		}
		c := verifyLikeResourceServer(t, r.str("access_token"))
		jti, _ := c["jti"].(string)
		if jti == "" {
			t.Fatal("no jti")
		}
		// The session itself is untouched by revoking an access token.
		if r2 := postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token")); r2.Status != 200 {
			t.Fatalf("refresh after access revoke: %d %s", r2.Status, r2.Body)
		}
	})
}

// TestE2E_ConcurrentRefreshAcrossTwoProcesses presents one refresh token 50
// times at once to two authsvc processes sharing one Redis: exactly one
// request may succeed.
func TestE2E_ConcurrentRefreshAcrossTwoProcesses(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	a, b := startAuthsvc(t, env), startAuthsvc(t, env)
	rt := login(t, a.URL).str("refresh_token")

	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := a.URL
			if i%2 == 1 {
				base = b.URL
			}
			<-start
			resp, err := client.PostForm(base+"/refresh", url.Values{"refresh_token": {rt}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 400:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d requests succeeded, want exactly 1 (statuses %v)", ok, statuses)
	}
}

// TestE2E_ReuseGraceReturnsSameSuccessor checks the idempotent retry: inside
// REFRESH_REUSE_GRACE the previous token gets the identical successor.
func TestE2E_ReuseGraceReturnsSameSuccessor(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["REFRESH_REUSE_GRACE"] = "30s"
	svc := startAuthsvc(t, env)
	rt1 := login(t, svc.URL).str("refresh_token")
	r1 := postForm(t, svc.URL+"/refresh", "refresh_token", rt1)
	r2 := postForm(t, svc.URL+"/refresh", "refresh_token", rt1)
	if r1.Status != 200 || r2.Status != 200 {
		t.Fatalf("statuses %d %d: %s", r1.Status, r2.Status, r2.Body)
	}
	if r1.str("refresh_token") != r2.str("refresh_token") {
		t.Fatalf("the retry got a different refresh token: a second branch")
	}
	c1, c2 := verifyLikeResourceServer(t, r1.str("access_token")), verifyLikeResourceServer(t, r2.str("access_token"))
	if c1["jti"] != c2["jti"] || c1["exp"] != c2["exp"] {
		t.Fatalf("the retry's access token has other claims: %v vs %v", c1, c2)
	}
	// The successor still rotates, and then rt1 is a reuse.
	r3 := postForm(t, svc.URL+"/refresh", "refresh_token", r1.str("refresh_token"))
	if r3.Status != 200 {
		t.Fatalf("successor: %d %s", r3.Status, r3.Body)
	}
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt1), 400, "invalid_grant")
	wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", r3.str("refresh_token")), 400, "invalid_grant")
}

// TestE2E_RedisDown checks that authsvc fails closed while Redis is away,
// starts without it, and recovers without a restart.
func TestE2E_RedisDown(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	rt := login(t, svc.URL).str("refresh_token")
	rds.Stop()

	wantUnavailable := func(r *response) {
		t.Helper()
		wantError(t, r, 503, "temporarily_unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
	}
	wantUnavailable(postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword))
	wantUnavailable(postForm(t, svc.URL+"/refresh", "refresh_token", rt))
	wantUnavailable(postForm(t, svc.URL+"/revoke", "token", rt))
	if r := call(t, "GET", svc.URL+"/readyz", "", ""); r.Status != 503 {
		t.Errorf("/readyz = %d while Redis is down", r.Status)
	}
	if r := call(t, "GET", svc.URL+"/healthz", "", ""); r.Status != 200 {
		t.Errorf("/healthz = %d while Redis is down", r.Status)
	}

	rds.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for call(t, "GET", svc.URL+"/readyz", "", "").Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not follow Redis back within 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Redis ran without persistence, so the old session is gone; a new
	// login works without restarting authsvc.
	login(t, svc.URL)
}

// TestE2E_StartsWithoutRedis checks that an unreachable Redis at start-up
// is not a start-up error, and that when Redis then appears at that
// address the same process becomes ready (within the 5 s docs/operations.md promises) and
// serves logins: no crash loop, no restart.
func TestE2E_StartsWithoutRedis(t *testing.T) {
	addr := freeAddr(t)
	svc := startAuthsvc(t, baseEnv(t, "redis://"+addr+"/0"))
	if r := call(t, "GET", svc.URL+"/readyz", "", ""); r.Status != 503 {
		t.Fatalf("/readyz = %d", r.Status)
	}
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword), 503, "temporarily_unavailable")

	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	redistest.Start(t, redistest.WithPort(p))
	waitForReady(t, svc)
	login(t, svc.URL)
	svc.alive(t)
}

// TestE2E_JWKS checks the key set document for HS256 (empty) and ES256.
func TestE2E_JWKS(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := call(t, "GET", svc.URL+"/.well-known/jwks.json", "", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Cache-Control"), "public, max-age=") {
		t.Fatalf("jwks: %d %v", r.Status, r.Header)
	}
	var doc struct{ Keys []map[string]any }
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc.Keys == nil || len(doc.Keys) != 0 {
		t.Fatalf("HS256 JWKS must be an empty list: %s", r.Body)
	}
}

// TestE2E_StartupValidation runs the binary with broken configurations:
// it must exit non-zero, name each variable, and print no secret.
func TestE2E_StartupValidation(t *testing.T) {
	creds := testCredentials(t)
	secretish := "short-secret-value"
	cases := []struct {
		name  string
		env   map[string]string
		wants []string
	}{
		{"nothing set", map[string]string{}, []string{"SECRET_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "CREDENTIALS_FILE"}},
		{"many problems at once", map[string]string{
			"SECRET_KEY": secretish, "REFRESH_SECRET_KEY": secretish, "JWT_ALGORITHM": "HS512",
			"JWT_ISSUER": "x", "JWT_AUDIENCE": "y", "CREDENTIALS_FILE": creds,
			"ACCESS_TOKEN_TTL": "2h", "REFRESH_TOKEN_TTL": "1h", "REFRESH_REUSE_GRACE": "2m", "CLOCK_SKEW": "soon",
		}, []string{"SECRET_KEY: must be at least 32 bytes", "REFRESH_SECRET_KEY", "JWT_ALGORITHM", "ACCESS_TOKEN_TTL", "REFRESH_REUSE_GRACE", "CLOCK_SKEW"}},
		{"refresh key equals secret", map[string]string{
			"SECRET_KEY": testSecret, "REFRESH_SECRET_KEY": testSecret, "JWT_ISSUER": "x", "JWT_AUDIENCE": "y", "CREDENTIALS_FILE": creds,
		}, []string{"REFRESH_SECRET_KEY: must differ from SECRET_KEY"}},
		{"asymmetric without key", map[string]string{
			"SECRET_KEY": testSecret, "JWT_ALGORITHM": "ES256", "JWT_ISSUER": "x", "JWT_AUDIENCE": "y", "CREDENTIALS_FILE": creds,
		}, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"unreadable key and credentials", map[string]string{
			"SECRET_KEY": testSecret, "JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY_FILE": "/nonexistent/key.pem",
			"JWT_ISSUER": "x", "JWT_AUDIENCE": "y", "CREDENTIALS_FILE": "/nonexistent/creds.yaml",
		}, []string{"JWT_PRIVATE_KEY_FILE", "CREDENTIALS_FILE"}},
		{"contradictory redis", map[string]string{
			"SECRET_KEY": testSecret, "JWT_ISSUER": "x", "JWT_AUDIENCE": "y", "CREDENTIALS_FILE": creds,
			"REDIS_CLUSTER_ADDRS": "127.0.0.1:1", "REDIS_SENTINEL_ADDRS": "127.0.0.1:2", "REDIS_SENTINEL_MASTER": "m",
		}, []string{"REDIS_CLUSTER_ADDRS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binPath)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + freeAddr(t)}
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("start-up succeeded; output:\n%s", out)
			}
			for _, w := range tc.wants {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{secretish, testSecret} {
				if strings.Contains(string(out), secret) {
					t.Errorf("output contains a secret:\n%s", out)
				}
			}
		})
	}
}

// TestE2E_HashPassword checks the hash-password command: the hash it prints
// verifies the password without its trailing newline.
func TestE2E_HashPassword(t *testing.T) {
	cmd := exec.Command(binPath, "hash-password")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader("s3cret-Horse\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(out))
	if strings.Count(string(out), "\n") != 1 || !strings.HasPrefix(line, "$argon2id$") {
		t.Fatalf("output %q is not one argon2id line", out)
	}
	// The printed hash logs alice in when put in a credentials file.
	path := t.TempDir() + "/creds.yaml"
	os.WriteFile(path, []byte("users:\n  - username: zoe\n    password_hash: \""+line+"\"\n    scopes: [read]\n"), 0o600)
	env := baseEnv(t, "redis://127.0.0.1:1/0")
	env["CREDENTIALS_FILE"] = path
	env["STORE"] = "memory"
	svc := startAuthsvc(t, env)
	if r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "zoe", "password", "s3cret-Horse"); r.Status != 200 {
		t.Fatalf("login with the printed hash: %d %s", r.Status, r.Body)
	}
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "zoe", "password", "s3cret-Horse\n"), 400, "invalid_grant")
}

// verifyLikeResourceServer verifies an access token the way docs/api.md
// tells resource servers to: HS256 only, with the shared secret, audience and
// issuer checked. It returns the claims.
func verifyLikeResourceServer(tb testing.TB, tok string) jwt.MapClaims {
	tb.Helper()
	c, err := parseAccess(tok)
	if err != nil {
		tb.Fatalf("resource-server verification failed: %v", err)
	}
	return c
}

func parseAccess(tok string) (jwt.MapClaims, error) {
	c := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(testAudience),
		jwt.WithIssuer(testIssuer), jwt.WithExpirationRequired()).
		ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	return c, err
}

// TestE2E_BatchedLogReachesStderr runs with the default, batched log
// (LOG_FLUSH_INTERVAL=100ms): the lines arrive within the interval, and the
// last ones are written out on shutdown.
func TestE2E_BatchedLogReachesStderr(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	delete(env, "LOG_FLUSH_INTERVAL")
	svc := startAuthsvc(t, env)
	r := login(t, svc.URL)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(svc.logs.String(), `"event":"login"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the login audit event never reached stderr:\n%s", svc.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	postForm(t, svc.URL+"/revoke", "token", r.str("refresh_token"))
	svc.stop(t)
	logs := svc.logs.String()
	for _, want := range []string{`"event":"revoke"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("after shutdown the log lacks %s:\n%s", want, logs)
		}
	}
}
