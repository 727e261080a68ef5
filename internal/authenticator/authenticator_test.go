package authenticator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testPassword = "s3cret-Pa55word!"

// server starts an authenticator answering with h and counting calls.
func server(tb testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	tb.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv, &calls
}

func mustNew(tb testing.TB, cfg Config) *Client {
	tb.Helper()
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

func answerWith(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestAuthenticate_Answers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		want    error
		sub     string
		claims  string
		dropped string
	}{
		{name: "200", h: answerWith(200, `{"sub":"u-1","scopes":["read"],"claims":{"tenant":"acme"}}`), sub: "u-1", claims: `{"tenant":"acme"}`},
		{name: "200 extra members ignored", h: answerWith(200, `{"sub":"u-1","display_name":"A"}`), sub: "u-1", claims: `{}`},
		{name: "200 reserved claims dropped", h: answerWith(200, `{"sub":"u-1","claims":{"sub":"root","aud":"x","tenant":"acme"}}`), sub: "u-1", claims: `{"tenant":"acme"}`, dropped: "aud,sub"},
		{name: "401", h: answerWith(401, `{"error":"nope"}`), want: ErrRejected},
		{name: "403", h: answerWith(403, ``), want: ErrRejected},
		{name: "404", h: answerWith(404, `not found`), want: ErrRejected},
		{name: "500", h: answerWith(500, `oops`), want: ErrUnavailable},
		{name: "400", h: answerWith(400, `{}`), want: ErrUnavailable},
		{name: "302 not followed", h: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, want: ErrUnavailable},
		{name: "bad JSON", h: answerWith(200, `{"sub":`), want: ErrUnavailable},
		{name: "not an object", h: answerWith(200, `["u-1"]`), want: ErrUnavailable},
		{name: "missing sub", h: answerWith(200, `{"scopes":["read"]}`), want: ErrUnavailable},
		{name: "empty sub", h: answerWith(200, `{"sub":""}`), want: ErrUnavailable},
		{name: "sub not a string", h: answerWith(200, `{"sub":7}`), want: ErrUnavailable},
		{name: "invalid scope", h: answerWith(200, `{"sub":"u","scopes":["a b"]}`), want: ErrUnavailable},
		{name: "claims not an object", h: answerWith(200, `{"sub":"u","claims":[1]}`), want: ErrUnavailable},
		{name: "claims too large", h: answerWith(200, `{"sub":"u","claims":{"big":"`+strings.Repeat("x", 2100)+`"}}`), want: ErrUnavailable},
		{name: "answer too long", h: answerWith(200, `{"sub":"u","pad":"`+strings.Repeat("x", MaxAnswerBytes)+`"}`), want: ErrUnavailable},
		{name: "trailing data", h: answerWith(200, `{"sub":"u"} {"sub":"v"}`), want: ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := server(t, tc.h)
			c := mustNew(t, Config{URL: srv.URL, Timeout: 2 * time.Second})
			u, err := c.Authenticate(context.Background(), Request{Username: "alice", Password: testPassword})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if strings.Contains(err.Error(), testPassword) {
					t.Errorf("the error holds the password: %v", err)
				}
			} else {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if u.Subject != tc.sub || string(u.Claims.AppendObject(nil)) != tc.claims || strings.Join(u.Dropped, ",") != tc.dropped {
					t.Errorf("user = %+v claims %s", u, u.Claims.AppendObject(nil))
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the authenticator was called %d times, want exactly 1", n)
			}
		})
	}
}

func TestAuthenticate_RequestShape(t *testing.T) {
	var got struct {
		method, ctype, auth string
		body                map[string]any
	}
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		got.method, got.ctype, got.auth = r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got.body)
		answerWith(200, `{"sub":"u"}`)(w, r)
	})
	c := mustNew(t, Config{URL: srv.URL, Token: "tok-123"})
	if _, err := c.Authenticate(context.Background(), Request{Username: "alice", Password: `p"w<`, ClientID: "web"}); err != nil {
		t.Fatal(err)
	}
	if got.method != http.MethodPost || got.ctype != "application/json" || got.auth != "Bearer tok-123" {
		t.Errorf("request = %+v", got)
	}
	if got.body["username"] != "alice" || got.body["password"] != `p"w<` || got.body["client_id"] != "web" || len(got.body) != 3 {
		t.Errorf("body = %v", got.body)
	}
	// Without a client and a token: no client_id member, no Authorization.
	c = mustNew(t, Config{URL: srv.URL})
	got.body = nil
	if _, err := c.Authenticate(context.Background(), Request{Username: "alice", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.body["client_id"]; ok || got.auth != "" {
		t.Errorf("body = %v, Authorization %q", got.body, got.auth)
	}
}

func TestAuthenticate_SlowAnswerTimesOutOnce(t *testing.T) {
	release := make(chan struct{})
	srv, calls := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Authenticate(context.Background(), Request{Username: "alice", Password: testPassword})
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), testPassword) {
		t.Fatalf("err = %v, want ErrUnavailable without the password", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %s", d)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("called %d times, want 1 (no retry of a password check)", n)
	}
}

func TestAuthenticate_ReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(answerWith(200, `{"sub":"u"}`))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := mustNew(t, Config{URL: srv.URL})
	for range 5 {
		if _, err := c.Authenticate(context.Background(), Request{Username: "a", Password: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential calls, want 1", n)
	}
}

func TestAuthenticate_VerifiesTLS(t *testing.T) {
	srv := httptest.NewTLSServer(answerWith(200, `{"sub":"u"}`))
	defer srv.Close()
	// The default client does not trust the test server's certificate.
	c := mustNew(t, Config{URL: srv.URL})
	if _, err := c.Authenticate(context.Background(), Request{Username: "a", Password: testPassword}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("untrusted certificate: err = %v, want ErrUnavailable", err)
	}
	// With the CA injected it works.
	c = mustNew(t, Config{URL: srv.URL, HTTPClient: srv.Client()})
	if _, err := c.Authenticate(context.Background(), Request{Username: "a", Password: testPassword}); err != nil {
		t.Fatalf("trusted: %v", err)
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "http://user:pw@host/check", "://"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("New(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("the error quotes credentials: %v", err)
		}
	}
	if _, err := New(Config{URL: "http://x", Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}

func TestStrings_HideSecrets(t *testing.T) {
	r := Request{Username: "a", Password: testPassword}
	c := Config{URL: "http://x", Token: "tok-secret"}
	for _, s := range []string{r.String(), r.GoString(), c.String(), c.GoString()} {
		if strings.Contains(s, testPassword) || strings.Contains(s, "tok-secret") {
			t.Errorf("leak: %s", s)
		}
	}
}

// BenchmarkAuthenticate is one password check against a local
// authenticator that answers at once: the cost a password grant through the
// authenticator adds to authsvc — one HTTP round trip on a kept-alive
// connection, the request written and the answer parsed.
func BenchmarkAuthenticate(b *testing.B) {
	srv, calls := server(b, answerWith(200, `{"sub":"u-1","scopes":["read","write"],"claims":{"tenant":"acme"}}`))
	c := mustNew(b, Config{URL: srv.URL})
	ctx := context.Background()
	req := Request{Username: "alice", Password: testPassword, ClientID: "web"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Authenticate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
}

// TestCheckURL checks the URL rule that New applies and start-up checks
// first: http or https with a host, no credentials, never quoted.
func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"https://authn.example/check", nil},
		{"http://127.0.0.1:8081/check", nil},
		{"ftp://authn.example", ErrURLNotHTTP},
		{"https:///check", ErrURLNotHTTP},
		{"authn.example/check", ErrURLNotHTTP},
		{"https://user:" + testPassword + "@authn.example/check", ErrURLCredentials},
		{"ftp://user:" + testPassword + "@authn.example", ErrURLNotHTTP},
	} {
		_, err := CheckURL(tc.url)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckURL(%q) = %v, want %v", tc.url, err, tc.want)
		}
		_, nerr := New(Config{URL: tc.url})
		if !errors.Is(nerr, tc.want) || (tc.want == nil) != (nerr == nil) {
			t.Errorf("New(%q) = %v, want %v", tc.url, nerr, tc.want)
		}
		if nerr != nil && (strings.Contains(nerr.Error(), testPassword) || !strings.HasPrefix(nerr.Error(), "authenticator: URL must")) {
			t.Errorf("New(%q) = %q, want the rule, without the URL", tc.url, nerr)
		}
	}
}
