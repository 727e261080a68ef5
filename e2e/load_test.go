package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is what one request of a load got back. It holds the new refresh
// token of a 200; never print it.
type answer struct {
	status     int // 0: no HTTP answer at all
	code       string
	refresh    string
	retryAfter bool
}

// ok reports a 200.
func (a answer) ok() bool { return a.status == http.StatusOK }

// unavailable reports the documented answer for a store outage: 503
// temporarily_unavailable with Retry-After.
func (a answer) unavailable() bool {
	return a.status == http.StatusServiceUnavailable && a.code == "temporarily_unavailable" && a.retryAfter
}

// invalidGrant reports 400 invalid_grant.
func (a answer) invalidGrant() bool {
	return a.status == http.StatusBadRequest && a.code == "invalid_grant"
}

// String describes a without any token.
func (a answer) String() string {
	if a.status == 0 {
		return "no answer"
	}
	return fmt.Sprintf("%d %s", a.status, a.code)
}

// loadClient sends requests from many goroutines at once and keeps count.
// Unlike call, it never calls t.Fatal, so goroutines may use it.
type loadClient struct {
	hc *http.Client

	mu        sync.Mutex
	counts    map[string]int // "<label> <status> <code>" → answers
	bad       []string       // unexpected answers, described without tokens
	successes map[string]int // presented refresh token → 200s it got
}

// newLoadClient returns a loadClient keeping up to conns connections per
// authsvc open.
func newLoadClient(conns int) *loadClient {
	return &loadClient{
		hc: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 3 * conns, MaxIdleConnsPerHost: conns,
		}},
		counts:    map[string]int{},
		successes: map[string]int{},
	}
}

// post sends a form POST; a transport error is an answer with status 0.
func (l *loadClient) post(u string, kv ...string) answer {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	resp, err := l.hc.PostForm(u, v)
	if err != nil {
		return answer{}
	}
	defer resp.Body.Close()
	var body struct {
		Error        string `json:"error"`
		RefreshToken string `json:"refresh_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return answer{status: resp.StatusCode, code: body.Error, refresh: body.RefreshToken,
		retryAfter: resp.Header.Get("Retry-After") != ""}
}

// login runs alice's password grant on the authsvc at base.
func (l *loadClient) login(base, label string) answer {
	a := l.post(base+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
	l.note(label+" login", a)
	return a
}

// refresh presents rt to the authsvc at base and remembers a success of rt.
func (l *loadClient) refresh(base, label, rt string) answer {
	a := l.post(base+"/refresh", "refresh_token", rt)
	l.note(label+" refresh", a)
	if a.ok() {
		l.mu.Lock()
		l.successes[rt]++
		l.mu.Unlock()
	}
	return a
}

// note counts a under label.
func (l *loadClient) note(label string, a answer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[strings.TrimSpace(label+" "+a.String())]++
}

// unexpected records an answer the test does not allow.
func (l *loadClient) unexpected(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bad = append(l.bad, fmt.Sprintf(format, args...))
}

// count returns the answers whose key contains every one of parts.
func (l *loadClient) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, c := range l.counts {
		if containsAll(k, parts) {
			n += c
		}
	}
	return n
}

// containsAll reports whether s contains every one of parts.
func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// report returns every count, one "key: n" per line, sorted, and the total.
func (l *loadClient) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.counts))
	total := 0
	for k, n := range l.counts {
		keys = append(keys, k)
		total += n
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests", total)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n\t%s: %d", k, l.counts[k])
	}
	return b.String()
}

// check fails the test for every unexpected answer, and for a refresh token
// that was honoured more than once when noDoubleUse is set.
func (l *loadClient) check(tb testing.TB, noDoubleUse bool) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		tb.Errorf("unexpected: %s", b)
	}
	if !noDoubleUse {
		return
	}
	for _, n := range l.successes {
		if n > 1 {
			tb.Errorf("a refresh token succeeded %d times", n)
		}
	}
}

// loop runs step(i, n), n = 0, 1, …, in one goroutine per client i until
// the returned stop is called; stop returns once every goroutine is done.
func loop(clients int, step func(i, n int)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				step(i, n)
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// waitFor polls cond until it holds, or fails the test after timeout. The
// timeout bounds the test; it is not a performance assertion.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sessionOf returns the session id (sid) inside a refresh token, read
// without verifying it.
func sessionOf(tb testing.TB, rt string) string {
	tb.Helper()
	parts := strings.Split(rt, ".")
	if len(parts) != 3 {
		tb.Fatalf("refresh token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("refresh token payload: %v", err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.SID == "" {
		tb.Fatalf("refresh token has no sid (%v)", err)
	}
	return c.SID
}

// alive fails the test when the authsvc process has exited.
func (p *proc) alive(tb testing.TB) {
	tb.Helper()
	if p.p.Exited() {
		tb.Fatalf("authsvc exited: %v\n%s", p.p.Err(), p.logs.String())
	}
}
