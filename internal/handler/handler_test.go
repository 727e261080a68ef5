package handler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store/memory"
)

const (
	testPassword = "handler-test-Password-1"
	testSecret   = "handler-test-Secret-2"
)

// server is the whole HTTP stack in process: real auth service, memory
// store, cheap bcrypt hashes.
type server struct {
	h      http.Handler
	mu     sync.Mutex
	events []audit.Event
}

func (s *server) eventCount(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.Name == name {
			n++
		}
	}
	return n
}

func newServer(tb testing.TB, d Deps) *server {
	tb.Helper()
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("handler-test-secret-key-0123456789abcdef"),
		Issuer: "https://auth.test", Audience: []string{"api.test"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			tb.Fatal(err)
		}
		return string(h)
	}
	creds, _, err := credential.Parse(fmt.Appendf(nil, `users:
  - {username: alice, password_hash: %q, scopes: [read]}
clients:
  - {client_id: svc, client_secret_hash: %q, grant_types: [client_credentials, password], scopes: [read]}
`, hash(testPassword), hash(testSecret)))
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{}
	d.Auth = auth.New(auth.Config{
		AccessTTL: time.Minute, RefreshTTL: time.Hour, SessionMaxTTL: 2 * time.Hour,
		LoginFailuresMax: 10, LoginFailuresWindow: time.Minute,
	}, auth.Deps{Issuer: iss, Store: memory.New(time.Now), Credentials: creds, OnEvent: func(e audit.Event) {
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
	}})
	d.JWKS = iss.JWKS()
	s.h = New(d)
	return s
}

// do sends one request from addr and returns the recorded response.
func (s *server) do(method, path, addr string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	var body string
	if form != nil {
		body = form.Encode()
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = addr + ":40000"
	if form != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func passwordForm(user, pw string) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}
}

func TestMethods_OtherThanDocumentedGet405WithAllow(t *testing.T) {
	s := newServer(t, Deps{})
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, "/token", "POST"},
		{http.MethodPut, "/token", "POST"},
		{http.MethodDelete, "/refresh", "POST"},
		{http.MethodPatch, "/revoke", "POST"},
		{http.MethodPost, "/.well-known/jwks.json", "GET"},
		{http.MethodPut, "/healthz", "GET"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := s.do(tc.method, tc.path, "192.0.2.1", nil)
			if rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", rec.Code)
			}
			allow := strings.Split(strings.ReplaceAll(rec.Header().Get("Allow"), " ", ""), ",")
			if !slices.Contains(allow, tc.allow) {
				t.Fatalf("Allow = %q, want it to list %s", rec.Header().Get("Allow"), tc.allow)
			}
			if !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("not an RFC 6749 error: %s %v", rec.Body, rec.Header())
			}
		})
	}
}

func TestSecurityHeaders_OnEveryResponse(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		t.Run(fmt.Sprintf("hsts=%v", hsts), func(t *testing.T) {
			s := newServer(t, Deps{HSTS: hsts})
			responses := map[string]*httptest.ResponseRecorder{
				"token":       s.do(http.MethodPost, "/token", "192.0.2.1", passwordForm("alice", testPassword)),
				"error":       s.do(http.MethodPost, "/token", "192.0.2.1", url.Values{"grant_type": {"nope"}}),
				"revoke":      s.do(http.MethodPost, "/revoke", "192.0.2.1", url.Values{"token": {"x"}}),
				"jwks":        s.do(http.MethodGet, "/.well-known/jwks.json", "192.0.2.1", nil),
				"healthz":     s.do(http.MethodGet, "/healthz", "192.0.2.1", nil),
				"not found":   s.do(http.MethodGet, "/nope", "192.0.2.1", nil),
				"bad method":  s.do(http.MethodGet, "/token", "192.0.2.1", nil),
				"bad content": s.do(http.MethodPost, "/token", "192.0.2.1", nil, "Content-Type", "text/xml"),
			}
			if responses["token"].Code != http.StatusOK {
				t.Fatalf("login: %d %s", responses["token"].Code, responses["token"].Body)
			}
			for name, rec := range responses {
				h := rec.Header()
				if h.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s: no nosniff", name)
				}
				if h.Get("Server") != "" || h.Get("X-Powered-By") != "" {
					t.Errorf("%s: a server banner: %q %q", name, h.Get("Server"), h.Get("X-Powered-By"))
				}
				if got := h.Get("Strict-Transport-Security"); (got != "") != hsts {
					t.Errorf("%s: Strict-Transport-Security = %q with hsts=%v", name, got, hsts)
				}
			}
			for _, name := range []string{"token", "error", "revoke", "not found", "bad method", "bad content"} {
				if cc := responses[name].Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: Cache-Control = %q, want no-store", name, cc)
				}
			}
		})
	}
}

func TestRateLimit_PerAddress429WithRetryAfter(t *testing.T) {
	allowed := map[string]int{}
	var mu sync.Mutex
	limit := func(addr string) (bool, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		allowed[addr]++
		return allowed[addr] <= 2, 300 * time.Millisecond
	}
	s := newServer(t, Deps{RateLimit: limit})
	for i := range 2 {
		if rec := s.do(http.MethodPost, "/revoke", "192.0.2.1", url.Values{"token": {"x"}}); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	for _, path := range []string{"/token", "/refresh", "/revoke"} {
		rec := s.do(http.MethodPost, path, "192.0.2.1", passwordForm("alice", testPassword))
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"error":"too_many_requests"`) {
			t.Fatalf("%s over the limit: %d %s", path, rec.Code, rec.Body)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "1" {
			t.Fatalf("%s: Retry-After = %q, want 1 (whole seconds, at least one)", path, ra)
		}
	}
	if n := s.eventCount(audit.EventRateLimited); n != 3 {
		t.Fatalf("%d rate_limited events, want 3", n)
	}
	if rec := s.do(http.MethodPost, "/token", "198.51.100.1", passwordForm("alice", testPassword)); rec.Code != 200 {
		t.Fatalf("another address: %d %s", rec.Code, rec.Body)
	}
	// GET endpoints are not limited.
	if rec := s.do(http.MethodGet, "/healthz", "192.0.2.1", nil); rec.Code != 200 {
		t.Fatalf("/healthz: %d", rec.Code)
	}
}

func TestRequest_10KBUsernameRefusedBeforeAnyCheck(t *testing.T) {
	s := newServer(t, Deps{})
	rec := s.do(http.MethodPost, "/token", "192.0.2.1", passwordForm(strings.Repeat("u", 10<<10), "x"))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "invalid_request") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if n := s.eventCount(audit.EventLoginFailed); n != 0 {
		t.Fatalf("%d password checks for a 10 KB username", n)
	}
}

// TestTiming_UnknownNameAndWrongSecretTakeTheSameTime compares the median
// time of many interleaved requests: an unknown user against a wrong
// password, and an unknown client against a wrong client secret. It is a
// comparison with a generous tolerance, not a speed assertion: a service
// that skipped the hash for unknown names would be two orders of magnitude
// apart. Each request comes from its own address, so the brute-force limit
// stays out of the way while its store lookup still runs.
func TestTiming_UnknownNameAndWrongSecretTakeTheSameTime(t *testing.T) {
	s := newServer(t, Deps{})
	cases := []struct {
		name          string
		known, absent func(addr string) *httptest.ResponseRecorder
		wantStatus    int
	}{
		{"user", func(a string) *httptest.ResponseRecorder {
			return s.do(http.MethodPost, "/token", a, passwordForm("alice", "wrong-password"))
		}, func(a string) *httptest.ResponseRecorder {
			return s.do(http.MethodPost, "/token", a, passwordForm("nobody", "wrong-password"))
		}, 400},
		{"client", func(a string) *httptest.ResponseRecorder {
			return s.do(http.MethodPost, "/token", a, url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"wrong-secret"}})
		}, func(a string) *httptest.ResponseRecorder {
			return s.do(http.MethodPost, "/token", a, url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"wrong-secret"}})
		}, 401},
	}
	const rounds = 41
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var known, absent []time.Duration
			for i := range rounds {
				addr := fmt.Sprintf("10.%d.%d.%d", len(tc.name), i/250, i%250)
				// Alternate which goes first so drift hits both alike.
				first, second := tc.known, tc.absent
				if i%2 == 1 {
					first, second = second, first
				}
				d1, r1 := timed(func() *httptest.ResponseRecorder { return first(addr) })
				d2, r2 := timed(func() *httptest.ResponseRecorder { return second(addr) })
				if r1.Code != tc.wantStatus || r2.Code != tc.wantStatus || r1.Body.String() != r2.Body.String() {
					t.Fatalf("responses differ: %d %s / %d %s", r1.Code, r1.Body, r2.Code, r2.Body)
				}
				if i%2 == 1 {
					d1, d2 = d2, d1
				}
				known, absent = append(known, d1), append(absent, d2)
			}
			mk, ma := median(known), median(absent)
			ratio := float64(ma) / float64(mk)
			t.Logf("median known %v, unknown %v, ratio %.2f", mk, ma, ratio)
			if ratio < 0.5 || ratio > 2 {
				t.Fatalf("unknown %s takes %.2f× the time of a wrong secret (medians %v vs %v)", tc.name, ratio, ma, mk)
			}
		})
	}
}

func timed(f func() *httptest.ResponseRecorder) (time.Duration, *httptest.ResponseRecorder) {
	start := time.Now()
	r := f()
	return time.Since(start), r
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestRequestID_KeptOnlyFromTrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted func(*http.Request) bool
		keep    bool
	}{
		{"no trusted proxies", nil, false},
		{"untrusted peer", func(*http.Request) bool { return false }, false},
		{"trusted proxy", func(*http.Request) bool { return true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			e.Use(requestID(tc.trusted))
			e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(echo.HeaderXRequestID, "from-the-client")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			got := rec.Header().Get(echo.HeaderXRequestID)
			if (got == "from-the-client") != tc.keep || got == "" {
				t.Fatalf("X-Request-ID %q, keep %v", got, tc.keep)
			}
		})
	}
}

func TestJWKS_CacheControlFollowsTheKeySet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{"far from a change", 300 * time.Second, "public, max-age=300"},
		{"a switch in seven seconds", 7 * time.Second, "public, max-age=7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"keys":[{"kid":"k"}]}`
			s := newServer(t, Deps{PublishedJWKS: func() ([]byte, time.Duration) { return []byte(doc), tc.maxAge }})
			rec := s.do(http.MethodGet, "/.well-known/jwks.json", "192.0.2.1", nil)
			if rec.Code != http.StatusOK || rec.Body.String() != doc {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != tc.want {
				t.Errorf("Cache-Control = %q, want %q", cc, tc.want)
			}
		})
	}
}
