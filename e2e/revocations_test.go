package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/redistest"
)

// feedAnswer is a decoded GET /revocations answer.
type feedAnswer struct {
	Cursor        string `json:"cursor"`
	Complete      bool   `json:"complete"`
	RevokedTokens []struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	} `json:"revoked_tokens"`
	RevokedSessions []struct {
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	} `json:"revoked_sessions"`
}

// introAuth is the Basic header of the introspecting client.
var introAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("intro:"+introSecret))

// feedClientEnv returns baseEnv with one more client, "rs", allowed to
// introspect, whose secret is of the generated kind (`authsvc
// gen-client-secret`): checking it costs no slow hash and no store round
// trip, as for a resource server in production. It returns the env and the
// client's Basic header.
func feedClientEnv(tb testing.TB, redisURL string) (map[string]string, string) {
	tb.Helper()
	env := baseEnv(tb, redisURL)
	secret, hash, err := credential.GenerateClientSecret()
	if err != nil {
		tb.Fatal(err)
	}
	creds, err := os.ReadFile(env["CREDENTIALS_FILE"])
	if err != nil {
		tb.Fatal(err)
	}
	creds = append(creds, fmt.Sprintf("  - client_id: rs\n    client_secret_hash: %q\n    grant_types: [client_credentials]\n    scopes: []\n    introspect: true\n", hash)...)
	if err := os.WriteFile(env["CREDENTIALS_FILE"], creds, 0o600); err != nil {
		tb.Fatal(err)
	}
	env[feedSecretKey] = secret
	return env, "Basic " + base64.StdEncoding.EncodeToString([]byte("rs:"+secret))
}

// getFeed reads GET /revocations with query q as the introspecting client.
func getFeed(tb testing.TB, base string, q url.Values) (*response, feedAnswer) {
	tb.Helper()
	u := base + "/revocations"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	r := call(tb, http.MethodGet, u, "", "", "Authorization", introAuth)
	var a feedAnswer
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &a); err != nil {
			tb.Fatalf("GET /revocations: %v: %s", err, r.Body)
		}
	}
	return r, a
}

// jwtClaim returns a claim of a JWT, read without verification.
func jwtClaim(tb testing.TB, token, name string) any {
	tb.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m[name]
}

func TestRevocations_Endpoint(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))

	md := call(t, http.MethodGet, svc.URL+"/.well-known/oauth-authorization-server", "", "")
	if got := md.str("revocation_feed_endpoint"); got != testIssuer+"/revocations" {
		t.Errorf("metadata revocation_feed_endpoint = %q", got)
	}

	r, start := getFeed(t, svc.URL, nil)
	if r.Status != http.StatusOK || !start.Complete || start.Cursor == "" {
		t.Fatalf("complete set: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(r.Body), `"revoked_tokens":[]`) {
		t.Errorf("empty feed: Cache-Control %q, body %s", r.Header.Get("Cache-Control"), r.Body)
	}

	t.Run("client authentication", func(t *testing.T) {
		for name, hdr := range map[string][]string{
			"none":                  nil,
			"client not introspect": {"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("billing:"+billingSecret))},
			"wrong secret":          {"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("intro:nope"))},
			"bearer":                {"Authorization", "Bearer x"},
		} {
			r := call(t, http.MethodGet, svc.URL+"/revocations", "", "", hdr...)
			wantError(t, r, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: WWW-Authenticate = %q", name, r.Header.Get("WWW-Authenticate"))
			}
		}
	})
	t.Run("malformed parameters", func(t *testing.T) {
		for _, q := range []string{"since=nope", "since=%zz", "wait=%", "wait=x", "wait=-1", "wait=31", "wait=1.5", "since=" + url.QueryEscape(start.Cursor) + "&since=" + url.QueryEscape(start.Cursor), "wait=1&wait=2"} {
			r := call(t, http.MethodGet, svc.URL+"/revocations?"+q, "", "", "Authorization", introAuth)
			wantError(t, r, http.StatusBadRequest, "invalid_request")
		}
	})
	t.Run("revocations appear", func(t *testing.T) {
		tok := login(t, svc.URL)
		access, refresh := tok.str("access_token"), tok.str("refresh_token")
		if r := postForm(t, svc.URL+"/revoke", "token", access); r.Status != http.StatusOK {
			t.Fatalf("revoke access: %d", r.Status)
		}
		_, inc := getFeed(t, svc.URL, url.Values{"since": {start.Cursor}})
		if inc.Complete || len(inc.RevokedTokens) != 1 || inc.RevokedTokens[0].JTI != jwtClaim(t, access, "jti") {
			t.Fatalf("increment after /revoke of an access token: %+v", inc)
		}
		if want := int64(jwtClaim(t, access, "exp").(float64)) + 30; inc.RevokedTokens[0].Exp != want {
			t.Errorf("revoked token exp = %d, want exp + CLOCK_SKEW = %d", inc.RevokedTokens[0].Exp, want)
		}
		before := time.Now()
		if r := postForm(t, svc.URL+"/revoke", "token", refresh); r.Status != http.StatusOK {
			t.Fatalf("revoke refresh: %d", r.Status)
		}
		_, inc2 := getFeed(t, svc.URL, url.Values{"since": {inc.Cursor}})
		if inc2.Complete || len(inc2.RevokedSessions) != 1 || len(inc2.RevokedTokens) != 0 {
			t.Fatalf("increment after /revoke of a refresh token: %+v", inc2)
		}
		lo, hi := before.Add(15*time.Minute+30*time.Second).Unix(), time.Now().Add(15*time.Minute+31*time.Second).Unix()
		if e := inc2.RevokedSessions[0].Exp; e < lo || e > hi {
			t.Errorf("ended session exp = %d, want end + ACCESS_TOKEN_TTL + CLOCK_SKEW in [%d, %d]", e, lo, hi)
		}
		_, all := getFeed(t, svc.URL, nil)
		if !all.Complete || len(all.RevokedTokens) != 1 || len(all.RevokedSessions) != 1 {
			t.Errorf("complete set after both: %+v", all)
		}
	})
}

var (
	plainOnce sync.Once
	plainPath string
	plainErr  error
)

// plainBinary builds authsvc without the race detector, once, next to
// binPath.
func plainBinary(tb testing.TB) string {
	tb.Helper()
	plainOnce.Do(func() {
		plainPath = binPath + "-norace"
		out, err := exec.Command("go", "build", "-o", plainPath, mainPackage).CombinedOutput()
		if err != nil {
			plainErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if plainErr != nil {
		tb.Fatal(plainErr)
	}
	return plainPath
}

// clientCount returns the number of clients connected to rds other than
// the one asking, and how many of them are blocked in a command (XREAD).
func clientCount(t *testing.T, c *goredis.Client) (total, blocked int) {
	t.Helper()
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if strings.Contains(line, " cmd=client|list ") {
			continue
		}
		total++
		for _, f := range strings.Fields(line) {
			if flags, ok := strings.CutPrefix(f, "flags="); ok && strings.Contains(flags, "b") {
				blocked++
			}
		}
	}
	return total, blocked
}

// TestRevocations_ThousandLongPollsOneReader holds 1,000 long-polls against
// one process: the Redis connections stay few (the one reader per process
// holds the blocking read; the waiting requests hold none), and one
// revocation reaches every one of them within a second.
func TestRevocations_ThousandLongPollsOneReader(t *testing.T) {
	rds := redistest.Start(t)
	env, rsAuth := feedClientEnv(t, rds.URL())
	// The latency measured is the service's, not the race detector's: this
	// test runs a binary built without -race, logging as in production.
	env["LOG_FLUSH_INTERVAL"], env["LOG_LEVEL"] = "100ms", "info"
	svc := startAuthsvcBinary(t, plainBinary(t), env)
	opt, _ := goredis.ParseURL(rds.URL())
	inspect := goredis.NewClient(opt)
	defer inspect.Close()

	_, start := getFeed(t, svc.URL, nil)
	tok := login(t, svc.URL)
	const n = 1000
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	u := svc.URL + "/revocations?" + url.Values{"since": {start.Cursor}, "wait": {"25"}}.Encode()
	type result struct {
		at  time.Time
		err string
	}
	results := make(chan result, n)
	var launched sync.WaitGroup
	launched.Add(n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Authorization", rsAuth)
			launched.Done()
			resp, err := client.Do(req)
			at := time.Now() // the answer's headers are in
			if err != nil {
				results <- result{err: err.Error()}
				return
			}
			defer resp.Body.Close()
			var a feedAnswer
			if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
				results <- result{err: "status " + resp.Status}
				return
			}
			if len(a.RevokedTokens) != 1 {
				results <- result{err: "answer without the revoked token"}
				return
			}
			results <- result{at: at}
		}()
	}
	launched.Wait()
	// Let every request arrive and settle into its wait.
	time.Sleep(3 * time.Second)
	// Authenticating 1,000 requests at once reads the login-failure
	// counters, which fills the client's pool (10 per CPU) for a moment;
	// the waiting itself holds nothing but the reader's one blocked XREAD.
	held, blocked := clientCount(t, inspect)
	pool := 10 * runtime.NumCPU()
	t.Logf("Redis clients while %d long-polls are held: %d (pool size %d), blocked in XREAD: %d", n, held, pool, blocked)
	if held > pool {
		t.Errorf("%d Redis connections while %d long-polls wait; want at most the pool's %d", held, n, pool)
	}
	if blocked != 1 {
		t.Errorf("%d Redis connections blocked in a read; want exactly 1 (one reader per process)", blocked)
	}

	revoked := time.Now()
	if r := postForm(t, svc.URL+"/revoke", "token", tok.str("access_token")); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	clientSide := make([]time.Duration, 0, n)
	for range n {
		r := <-results
		if r.err != "" {
			t.Fatalf("a long-poll failed: %s", r.err)
		}
		clientSide = append(clientSide, r.at.Sub(revoked))
	}
	// When the service answered each held request: its request log line
	// is written as the answer goes out. The test's own client, built with
	// the race detector and sharing the machine, takes longer to read a
	// thousand answers; its figures are printed beside.
	// The log is written in batches (LOG_FLUSH_INTERVAL): wait for the last.
	var serverSide []time.Duration
	for wait := time.Now(); time.Since(wait) < 3*time.Second; time.Sleep(50 * time.Millisecond) {
		if serverSide = answeredAfter(t, svc.logs.String(), "/revocations", revoked); len(serverSide) >= n {
			break
		}
	}
	if len(serverSide) != n {
		t.Fatalf("%d long-polls answered after /revoke by the service's log, want %d", len(serverSide), n)
	}
	slices.Sort(clientSide)
	slices.Sort(serverSide)
	t.Logf("the revocation reached all %d long-polls after /revoke was sent: answered by the service first %v, median %v, last %v; received by the test's client first %v, median %v, last %v",
		n, serverSide[0], serverSide[n/2], serverSide[n-1], clientSide[0], clientSide[n/2], clientSide[n-1])
	if last := serverSide[n-1]; last > time.Second {
		t.Errorf("the service answered the last long-poll %v after /revoke, want within 1s", last)
	}
}

// answeredAfter returns, for every request to route answered 200 after t by
// the service's JSON request log, how long after t it was answered.
func answeredAfter(tb testing.TB, logs, route string, t time.Time) []time.Duration {
	tb.Helper()
	var out []time.Duration
	for _, line := range strings.Split(logs, "\n") {
		var rec struct {
			Time   time.Time `json:"time"`
			Msg    string    `json:"msg"`
			Route  string    `json:"route"`
			Status int       `json:"status"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "request" || rec.Route != route || rec.Status != 200 {
			continue
		}
		if rec.Time.After(t) {
			out = append(out, rec.Time.Sub(t))
		}
	}
	return out
}

// TestRevocations_HeldRequestOutlivesWriteTimeout holds a request for 12 s,
// past the server's 10-second write and read timeouts: it is answered 200
// when its wait is up, not cut.
func TestRevocations_HeldRequestOutlivesWriteTimeout(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	_, start := getFeed(t, svc.URL, nil)
	began := time.Now()
	r, a := getFeed(t, svc.URL, url.Values{"since": {start.Cursor}, "wait": {"12"}})
	took := time.Since(began)
	if r.Status != http.StatusOK || a.Complete || a.Cursor != start.Cursor || len(a.RevokedTokens) != 0 {
		t.Fatalf("held request: %d %s", r.Status, r.Body)
	}
	if took < 11*time.Second {
		t.Errorf("held request answered after %v, want its 12 s wait", took)
	}
}

// TestRevocations_ShutdownAnswersHeldRequests sends SIGTERM while requests
// are held: they are answered at once and the process exits within the
// 10-second rule.
func TestRevocations_ShutdownAnswersHeldRequests(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	_, start := getFeed(t, svc.URL, nil)
	const n = 20
	done := make(chan int, n)
	for range n {
		go func() {
			r, _ := getFeed(t, svc.URL, url.Values{"since": {start.Cursor}, "wait": {"30"}})
			done <- r.Status
		}()
	}
	time.Sleep(time.Second)
	began := time.Now()
	if err := svc.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range n {
		select {
		case status := <-done:
			if status != http.StatusOK {
				t.Errorf("held request answered %d on shutdown, want 200", status)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a held request was not answered within 5 s of SIGTERM")
		}
	}
	t.Logf("held requests answered %v after SIGTERM", time.Since(began))
	// The one SIGTERM must be enough: a clean exit within the 10-second
	// shutdown rule (a second SIGTERM sent while it exits would race it).
	waitFor(t, 10*time.Second, "authsvc to exit after SIGTERM", svc.p.Exited)
	if err := svc.p.Err(); err != nil {
		t.Errorf("authsvc exited with %v after SIGTERM\n%s", err, svc.logs.String())
	}
}
