package verifier_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/verifier"
)

const (
	testAudience     = "api.test"
	feedClientID     = "rs"
	feedClientSecret = "rs-secret"
)

// fakeAuthsvc serves what a Verifier fetches from authsvc: the RFC 8414
// metadata, the JWKS of a real issuer.Issuer, and a revocation feed whose
// entries the test adds. It counts the requests.
type fakeAuthsvc struct {
	srv   *httptest.Server
	iss   *issuer.Issuer
	cfg   issuer.Config
	clock *testkit.Clock

	jwksFetches atomic.Int64
	feedReads   atomic.Int64

	mu           sync.Mutex
	jwks         []byte
	cacheControl string
	feedDown     bool
	entries      []feedEntry // in order; the cursor is the count seen
	changed      chan struct{}
}

type feedEntry struct {
	jti, sid string
	exp      int64
}

// newFake starts a fake authsvc signing with alg.
func newFake(t testing.TB, alg string) *fakeAuthsvc {
	t.Helper()
	f := &fakeAuthsvc{clock: testkit.NewClock(time.Now().Truncate(time.Second)), cacheControl: "public, max-age=300",
		changed: make(chan struct{})}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.cfg = issuer.Config{
		Algorithm: alg, Secret: testkit.MustRandom(t, 32), PrivateKey: testkit.MustSigner(t, alg),
		Issuer: f.srv.URL, Audience: []string{testAudience, "other.api"}, Leeway: 30 * time.Second, Now: f.clock.Now,
	}
	if alg == "HS256" {
		f.cfg.PrivateKey = nil
	}
	var err error
	if f.iss, err = issuer.New(f.cfg); err != nil {
		t.Fatal(err)
	}
	f.jwks = f.iss.JWKS()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": f.srv.URL, "jwks_uri": f.srv.URL + "/.well-known/jwks.json",
			"revocation_feed_endpoint": f.srv.URL + "/revocations",
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.jwksFetches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Cache-Control", f.cacheControl)
		_, _ = w.Write(f.jwks)
	})
	mux.HandleFunc("GET /revocations", f.serveFeed)
	return f
}

// serveFeed is a small GET /revocations: the cursor is the number of
// entries the reader has seen.
func (f *fakeAuthsvc) serveFeed(w http.ResponseWriter, r *http.Request) {
	f.feedReads.Add(1)
	id, secret, ok := r.BasicAuth()
	if !ok || id != feedClientID || secret != feedClientSecret {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	wait, _ := strconv.Atoi(q.Get("wait"))
	since := -1
	if s := q.Get("since"); s != "" {
		since, _ = strconv.Atoi(s)
	}
	deadline := time.After(time.Duration(wait) * time.Second)
	for {
		f.mu.Lock()
		down, n, ch := f.feedDown, len(f.entries), f.changed
		f.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if since < 0 || n > since || wait == 0 {
			break
		}
		select {
		case <-ch:
		case <-deadline:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	type tok struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	type ses struct {
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	}
	body := struct {
		Cursor   string `json:"cursor"`
		Complete bool   `json:"complete"`
		Tokens   []tok  `json:"revoked_tokens"`
		Sessions []ses  `json:"revoked_sessions"`
	}{Cursor: strconv.Itoa(len(f.entries)), Complete: since < 0, Tokens: []tok{}, Sessions: []ses{}}
	from := max(since, 0)
	for _, e := range f.entries[from:] {
		if e.jti != "" {
			body.Tokens = append(body.Tokens, tok{e.jti, e.exp})
		} else {
			body.Sessions = append(body.Sessions, ses{e.sid, e.exp})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// revoke adds a feed entry and wakes waiting reads.
func (f *fakeAuthsvc) revoke(jti, sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, feedEntry{jti: jti, sid: sid, exp: time.Now().Add(time.Hour).Unix()})
	close(f.changed)
	f.changed = make(chan struct{})
}

// setFeedDown makes the feed answer 503 (or serve again).
func (f *fakeAuthsvc) setFeedDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedDown = down
	close(f.changed)
	f.changed = make(chan struct{})
}

// token mints an access token for alice with the given scope, id and extra
// claims of the AccessClaims.
func (f *fakeAuthsvc) token(t testing.TB, jti, scope string) string {
	t.Helper()
	now := f.clock.Now()
	s, err := f.iss.SignAccess(issuer.AccessClaims{ID: jti, Subject: "alice", ClientID: "billing", Scope: scope,
		IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// config returns a Config for a Verifier of f's tokens.
func (f *fakeAuthsvc) config() verifier.Config {
	c := verifier.Config{Issuer: f.srv.URL, Audience: testAudience, Now: f.clock.Now}
	if f.cfg.Algorithm == "HS256" {
		c.HMACSecret = f.cfg.Secret
	}
	return c
}

// mustVerifier builds a Verifier from cfg, closed when the test ends.
func mustVerifier(t testing.TB, cfg verifier.Config) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// eventually polls cond every 10 ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, d)
	return 0
}
