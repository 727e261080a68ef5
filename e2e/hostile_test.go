package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/redistest"
)

// The second round of the attack suite: what an attacker can do to the
// store, the lockout, the hash queue and the defaults. Each test prints its
// figures (go test -v); docs/security.md quotes them.

// redisClient is a client of the test's own Redis, for filling it and
// reading what authsvc left there.
func redisClient(tb testing.TB, rds *redistest.Server, opts ...func(*goredis.Options)) *goredis.Client {
	tb.Helper()
	o := &goredis.Options{Addr: rds.Addr()}
	for _, f := range opts {
		f(o)
	}
	c := goredis.NewClient(o)
	tb.Cleanup(func() { c.Close() })
	return c
}

// keysUnder counts the keys with prefix, with SCAN (the test's own Redis).
func keysUnder(tb testing.TB, c *goredis.Client, prefix string) int {
	tb.Helper()
	n := 0
	iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// tokenFrom posts a password or client_credentials grant as if through a
// proxy at 127.0.0.1 for the client address addr.
func tokenFrom(tb testing.TB, svc *proc, addr string, kv ...string) *response {
	tb.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return call(tb, "POST", svc.URL+"/token", "application/x-www-form-urlencoded", v.Encode(), "X-Forwarded-For", addr)
}

// TestAttack_RandomNamesCannotFillRedis sends failed logins and client
// checks for thousands of random names from one address. Before, each name
// left a 15-minute key behind (443 bytes each); now the address holds one
// hash of at most 100 keyed-hash names, whatever it sends.
func TestAttack_RandomNamesCannotFillRedis(t *testing.T) {
	rds := redistest.Start(t, redistest.WithArgs("--maxmemory", "64mb", "--maxmemory-policy", "noeviction"))
	rc := redisClient(t, rds)
	env := baseEnv(t, rds.URL())
	env["TRUSTED_PROXIES"] = "127.0.0.1/32"
	env["LOGIN_FAILURES_MAX_PER_ADDRESS"] = "0" // only the 100-name bound
	env["LOG_LEVEL"] = "warn"
	svc := startAuthsvc(t, env)
	prefix := env["REDIS_KEY_PREFIX"]

	const names = 2000
	before, _ := rc.Info(context.Background(), "memory").Result()
	statuses := make(map[int]int)
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= names; i = next.Add(1) {
				var r *response
				if i%2 == 0 {
					r = tokenFrom(t, svc, "203.0.113.7", "grant_type", "password", "username", rand.Text(), "password", "guess")
				} else {
					r = tokenFrom(t, svc, "203.0.113.7", "grant_type", "client_credentials", "client_id", rand.Text(), "client_secret", "guess")
				}
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	keys := keysUnder(t, rc, prefix+"fail:")
	fields, _ := rc.HLen(context.Background(), prefix+"fail:{203.0.113.7}").Result()
	after, _ := rc.Info(context.Background(), "memory").Result()
	t.Logf("%d random names from one address in %v: answers %v; failure keys in Redis %d, names held %d (plus the total), used_memory %s → %s",
		names, elapsed.Round(time.Millisecond), statuses, keys, fields-1, usedMemory(before), usedMemory(after))
	if keys != 1 {
		t.Errorf("%d failure keys in Redis after %d random names, want 1", keys, names)
	}
	if fields-1 > 100 {
		t.Errorf("the address holds %d names, want at most 100", fields-1)
	}
	// 100 names fill the address; checks already admitted when the
	// hundredth was counted (at most one per worker) still run, but are
	// counted in the address's total only.
	if checked := statuses[400] + statuses[401]; checked < 100 || checked > 100+8 || checked+statuses[429] != names {
		t.Errorf("answers %v, want 100 to 108 checked (400/401), the rest refused (429)", statuses)
	}
	// Another address is not affected.
	if r := tokenFrom(t, svc, "198.51.100.1", "grant_type", "password", "username", "alice", "password", alicePassword); r.Status != 200 {
		t.Fatalf("alice from another address: %d %s", r.Status, r.Body)
	}
}

func usedMemory(info string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory_human:"); ok {
			return v
		}
	}
	return "?"
}

// TestAttack_LimitsTellNobodyWhoExists: known and unknown names get the
// same answers attempt by attempt, and LOGIN_FAILURES_MAX_PER_ADDRESS stops
// credential stuffing over many names from one address.
func TestAttack_LimitsTellNobodyWhoExists(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["TRUSTED_PROXIES"], env["LOGIN_FAILURES_MAX"], env["LOGIN_FAILURES_MAX_PER_ADDRESS"] = "127.0.0.1/32", "3", "8"
	svc := startAuthsvc(t, env)
	var known, unknown []int
	for range 5 {
		known = append(known, tokenFrom(t, svc, "203.0.113.1", "grant_type", "password", "username", "alice", "password", "wrong").Status)
		unknown = append(unknown, tokenFrom(t, svc, "203.0.113.1", "grant_type", "password", "username", "mallory", "password", "wrong").Status)
	}
	t.Logf("attempts 1-5, known name: %v, unknown name: %v", known, unknown)
	if fmt.Sprint(known) != fmt.Sprint(unknown) || fmt.Sprint(known) != "[400 400 400 429 429]" {
		t.Fatalf("known %v, unknown %v: want both [400 400 400 429 429]", known, unknown)
	}

	// Stuffing: one guess for each of many names.
	var stuffing []int
	for i := range 10 {
		stuffing = append(stuffing, tokenFrom(t, svc, "203.0.113.2", "grant_type", "password", "username", fmt.Sprint("user", i), "password", "123456").Status)
	}
	r := tokenFrom(t, svc, "203.0.113.2", "grant_type", "password", "username", "bob", "password", bobPassword)
	t.Logf("stuffing from one address: %v; then bob's right password: %d", stuffing, r.Status)
	wantError(t, r, 429, "too_many_requests")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if r := tokenFrom(t, svc, "203.0.113.3", "grant_type", "password", "username", "bob", "password", bobPassword); r.Status != 200 {
		t.Fatalf("bob from another address: %d", r.Status)
	}
}

// fillRedis writes into the test's own Redis, then lowers its maxmemory
// below what it holds, as a Redis that has reached its limit: from then on
// it refuses every write with OOM (noeviction).
func fillRedis(tb testing.TB, c *goredis.Client) {
	tb.Helper()
	ctx := context.Background()
	big := strings.Repeat("x", 64<<10)
	for i := range 32 {
		if err := c.Set(ctx, fmt.Sprintf("filler:%d", i), big, 0).Err(); err != nil {
			tb.Fatalf("filling Redis: %v", err)
		}
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		tb.Fatal(err)
	}
	if err := c.Set(ctx, "probe", "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		tb.Fatalf("a write to the full Redis: %v, want OOM", err)
	}
}

// TestAttack_FullRedisLockoutFailsClosed fills a Redis with a tiny
// maxmemory: a failure can no longer be counted, so wrong and right
// passwords alike get 503, never a 400 past the limit and never an answer
// that tells which password was right.
func TestAttack_FullRedisLockoutFailsClosed(t *testing.T) {
	rds := redistest.Start(t, redistest.WithArgs("--maxmemory", "16mb", "--maxmemory-policy", "noeviction"))
	env := baseEnv(t, rds.URL())
	env["LOGIN_FAILURES_MAX"] = "3"
	svc := startAuthsvc(t, env)
	fillRedis(t, redisClient(t, rds))
	var answers []int
	for range 6 {
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", "wrong")
		answers = append(answers, r.Status)
		wantError(t, r, 503, "temporarily_unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	right := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
	t.Logf("Redis at maxmemory: six wrong passwords %v, the right one %d", answers, right.Status)
	wantError(t, right, 503, "temporarily_unavailable")
}

// halfClosedLogin sends a wrong password and closes its sending side at
// once, then reads whatever answer comes.
func halfClosedLogin(tb testing.TB, svc *proc, password string) int {
	tb.Helper()
	u, _ := url.Parse(svc.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {password}}.Encode()
	fmt.Fprintf(conn, "POST /token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		u.Host, len(body), body)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0 // no answer at all
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAttack_HalfClosedGuessesAreCounted: a client that half-closes its
// connection right after each guess still reads the answer, so every guess
// it is told was wrong must be counted. Over half-closed and ordinary
// guesses together, exactly LOGIN_FAILURES_MAX get 400; then the account
// is locked, the right password included.
func TestAttack_HalfClosedGuessesAreCounted(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["LOGIN_FAILURES_MAX"] = "4"
	svc := startAuthsvc(t, env)
	half := map[int]int{}
	for i := range 12 {
		half[halfClosedLogin(t, svc, fmt.Sprint("half-closed-", i))]++
	}
	told := half[400]
	for range 10 {
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", "wrong")
		if r.Status != 400 {
			break
		}
		told++
	}
	right := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
	t.Logf("12 half-closed guesses: answers %v (0 = none); wrong answers told in all: %d; the right password then: %d", half, told, right.Status)
	if told != 4 {
		t.Fatalf("%d guesses were told they were wrong, want LOGIN_FAILURES_MAX = 4: a half-closed guess went uncounted", told)
	}
	wantError(t, right, 429, "too_many_requests")
	if half[200] > 0 || half[500] > 0 {
		t.Fatalf("half-closed answers %v", half)
	}
}

// TestAttack_StoreRefusals: a Redis that wants a password (NOAUTH), refuses
// it (WRONGPASS), lacks a permission (NOPERM) or cannot persist (MISCONF)
// is a store that cannot be used right now: 503 temporarily_unavailable
// with Retry-After, never 500.
func TestAttack_StoreRefusals(t *testing.T) {
	rds := redistest.Start(t)
	admin := redisClient(t, rds)
	ctx := context.Background()
	for _, cmd := range [][]any{
		{"ACL", "SETUSER", "authsvc", "on", ">authsvc-pw", "~*", "+@all"},
		{"ACL", "SETUSER", "pingonly", "on", ">ping-pw", "~*", "-@all", "+ping", "+hello", "+auth"},
		{"CONFIG", "SET", "requirepass", "default-pw"},
	} {
		if err := admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd[:2], err)
		}
	}
	base := "redis://" + rds.Addr() + "/0"
	cases := []struct {
		name, url string
	}{
		{"NOAUTH: no password", base},
		{"WRONGPASS: wrong password", "redis://authsvc:not-the-password@" + rds.Addr() + "/0"},
		{"NOPERM: a user that may only ping", "redis://pingonly:ping-pw@" + rds.Addr() + "/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := startAuthsvc(t, baseEnv(t, tc.url))
			r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
			t.Logf("%s: login answered %d %s", tc.name, r.Status, r.str("error"))
			wantError(t, r, 503, "temporarily_unavailable")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
	t.Run("MISCONF: snapshots cannot be written", func(t *testing.T) {
		rds := redistest.Start(t, redistest.WithArgs("--enable-protected-configs", "yes"))
		svc := startAuthsvc(t, baseEnv(t, rds.URL()))
		login(t, svc.URL)
		c := redisClient(t, rds)
		gone := t.TempDir()
		for _, cmd := range [][]any{{"CONFIG", "SET", "save", "3600 1"}, {"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"}, {"CONFIG", "SET", "dir", gone}} {
			if err := c.Do(ctx, cmd...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		os.RemoveAll(gone) // the snapshot has nowhere to go
		c.Do(ctx, "BGSAVE")
		waitFor(t, 10*time.Second, "a failed BGSAVE", func() bool {
			info, _ := c.Info(ctx, "persistence").Result()
			return strings.Contains(info, "rdb_last_bgsave_status:err")
		})
		r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
		t.Logf("MISCONF: login answered %d %s", r.Status, r.str("error"))
		wantError(t, r, 503, "temporarily_unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		c.Do(ctx, "CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
	})
}

// slowCredentials writes a credentials file whose one user has a bcrypt
// hash slow enough that a flood of logins must queue.
func slowCredentials(tb testing.TB) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(alicePassword), 6)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "slow.yaml")
	yaml := fmt.Sprintf("users:\n  - username: alice\n    password_hash: %q\n    scopes: [read]\n", h)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestAttack_HashQueueDropsTheDead floods logins whose clients give up
// after 300 ms. Before, every one was still hashed and a real login right
// after waited for all of them; now a request whose client has gone is
// dropped before it is hashed.
func TestAttack_HashQueueDropsTheDead(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = slowCredentials(t)
	env["LOGIN_FAILURES_MAX"], env["LOGIN_FAILURES_MAX_PER_ADDRESS"] = "0", "0"
	env["HASH_QUEUE_TIMEOUT"] = "1m" // only the dead are dropped here
	env["LOG_LEVEL"] = "info"
	svc := startAuthsvc(t, env)

	quiet := time.Now()
	login(t, svc.URL)
	alone := time.Since(quiet)

	const flood = 200
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			body := url.Values{"grant_type": {"password"}, "username": {fmt.Sprint("nobody-", i)}, "password": {"guess"}}.Encode()
			resp, err := impatient.Post(svc.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	start := time.Now()
	login(t, svc.URL)
	after := time.Since(start)
	// Let whatever is still queued be hashed: the count settles once it
	// has not moved for two seconds.
	hashed := -1
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		n := strings.Count(svc.logs.String(), `"event":"login_failed"`)
		if n == hashed {
			break
		}
		hashed = n
		time.Sleep(2 * time.Second)
	}
	t.Logf("%d logins abandoned after 300 ms: %d hashed; a real login took %v alone, %v right after the flood",
		flood, hashed, alone.Round(time.Millisecond), after.Round(time.Millisecond))
	if hashed > flood/4 {
		t.Fatalf("%d of %d abandoned logins were hashed", hashed, flood)
	}
}

// TestAttack_HashQueueTimeout floods logins that do wait: beyond
// HASH_QUEUE_TIMEOUT they get 503 with Retry-After instead of waiting on.
func TestAttack_HashQueueTimeout(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = slowCredentials(t)
	env["LOGIN_FAILURES_MAX"], env["LOGIN_FAILURES_MAX_PER_ADDRESS"] = "0", "0"
	env["HASH_QUEUE_TIMEOUT"] = "300ms"
	svc := startAuthsvc(t, env)
	const flood = 60
	var mu sync.Mutex
	statuses := map[int]int{}
	var retryAfter atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for i := range flood {
		wg.Go(func() {
			r := postForm(t, svc.URL+"/token", "grant_type", "password", "username", fmt.Sprint("nobody-", i), "password", "guess")
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
			if r.Status == 503 && r.str("error") == "temporarily_unavailable" && r.Header.Get("Retry-After") != "" {
				retryAfter.Store(true)
			}
		})
	}
	wg.Wait()
	t.Logf("%d concurrent logins, HASH_QUEUE_TIMEOUT=300ms: answers %v in %v", flood, statuses, time.Since(start).Round(time.Millisecond))
	if statuses[503] == 0 || !retryAfter.Load() {
		t.Fatalf("answers %v: no 503 with Retry-After, the queue is unbounded", statuses)
	}
	if statuses[503]+statuses[400] != flood {
		t.Fatalf("answers %v", statuses)
	}
}

// TestAttack_ClientIPHeader: behind a proxy that sets X-Real-IP, a client's
// own X-Forwarded-For must not choose its address; and a deployment behind
// a proxy without TRUSTED_PROXIES is warned about.
func TestAttack_ClientIPHeader(t *testing.T) {
	rds := redistest.Start(t)
	t.Run("X-Real-IP proxy: a client's X-Forwarded-For is ignored", func(t *testing.T) {
		env := baseEnv(t, rds.URL())
		env["TRUSTED_PROXIES"], env["CLIENT_IP_HEADER"], env["LOGIN_FAILURES_MAX"] = "127.0.0.1/32", "X-Real-IP", "2"
		svc := startAuthsvc(t, env)
		var got []int
		for i := range 4 {
			r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded", "grant_type=password&username=alice&password=nope",
				"X-Real-IP", "192.0.2.50", "X-Forwarded-For", fmt.Sprint("198.51.100.", i))
			got = append(got, r.Status)
		}
		t.Logf("four guesses, one X-Real-IP, a new X-Forwarded-For each: %v", got)
		if fmt.Sprint(got) != "[400 400 429 429]" {
			t.Fatalf("answers %v, want [400 400 429 429]: the client chose its address", got)
		}
	})
	t.Run("forwarding headers without TRUSTED_PROXIES: one warning", func(t *testing.T) {
		svc := startAuthsvc(t, baseEnv(t, rds.URL()))
		for range 3 {
			logged(t, svc, call(t, "POST", svc.URL+"/revoke", "application/x-www-form-urlencoded", "token=x", "X-Forwarded-For", "192.0.2.9"))
		}
		if n := strings.Count(svc.logs.String(), "TRUSTED_PROXIES is empty"); n != 1 {
			t.Fatalf("%d warnings about forwarding headers without TRUSTED_PROXIES, want 1\n%s", n, svc.logs.String())
		}
	})
}

// TestAttack_DemoCredentialsAndWeakSecrets: the demo hashes (passwords in
// the README) and keys that are plainly not random stop the start.
func TestAttack_DemoCredentialsAndWeakSecrets(t *testing.T) {
	rds := redistest.Start(t)
	refused := []struct {
		name, key, value, want string
	}{
		{"demo credentials with Redis", "CREDENTIALS_FILE", "../configs/dev-credentials.yaml", "CREDENTIALS_FILE: user alice has a hash of the demo credentials"},
		{"a repeated pattern", "SECRET_KEY", strings.Repeat("changeme", 5), "SECRET_KEY: is one short pattern repeated"},
		{"one character", "REFRESH_SECRET_KEY", strings.Repeat("a", 40), "REFRESH_SECRET_KEY: is one short pattern repeated"},
		{"the Makefile's placeholder", "SECRET_KEY", "compose-config-check-only-not-a-real-key-0000", "SECRET_KEY: is an example value shipped with authsvc"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			env := baseEnv(t, rds.URL())
			env[tc.key] = tc.value
			_, stderr, code := runBinary(t, env)
			t.Logf("%s: exit %d, %q", tc.name, code, startupProblems(stderr))
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want non-zero with %q:\n%s", code, tc.want, stderr)
			}
			if strings.Contains(stderr, tc.value) && tc.key != "CREDENTIALS_FILE" {
				t.Fatal("the refused secret was printed")
			}
		})
	}
	t.Run("allowed with a warning: demo credentials in memory, a weak previous key", func(t *testing.T) {
		env := baseEnv(t, "")
		env["STORE"], env["CREDENTIALS_FILE"] = "memory", "../configs/dev-credentials.yaml"
		env["SECRET_KEY_PREVIOUS"] = strings.Repeat("changeme", 5)
		svc := startAuthsvc(t, env)
		logs := svc.logs.String()
		for _, want := range []string{"STORE=memory: sessions, revocations and failure counters live in this process only", "SECRET_KEY_PREVIOUS: entry 1 is one short pattern repeated"} {
			if !strings.Contains(logs, want) {
				t.Errorf("no warning %q:\n%s", want, logs)
			}
		}
		if strings.Contains(logs, "changemechangeme") {
			t.Fatal("the weak previous key was logged")
		}
	})
}

// TestAttack_HugeScopeOnRefresh sends an 8 KiB scope of repeats on
// /refresh: invalid_scope at once, and the refresh token is not used up.
func TestAttack_HugeScopeOnRefresh(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	rt := login(t, svc.URL).str("refresh_token")
	hostile := strings.TrimSpace(strings.Repeat("read ", 1600))
	var distinct strings.Builder
	for i := 0; distinct.Len() < 8000; i++ {
		fmt.Fprintf(&distinct, "s%d ", i)
	}
	for _, scope := range []string{hostile, strings.TrimSpace(distinct.String())} {
		start := time.Now()
		r := postForm(t, svc.URL+"/refresh", "refresh_token", rt, "scope", scope)
		t.Logf("%d-byte scope on /refresh: %d %s in %v", len(scope), r.Status, r.str("error"), time.Since(start).Round(time.Microsecond))
		wantError(t, r, 400, "invalid_scope")
	}
	if r := postForm(t, svc.URL+"/refresh", "refresh_token", rt); r.Status != 200 {
		t.Fatalf("the refresh token after the refusals: %d %s", r.Status, r.Body)
	}
}

// TestAttack_LogHygiene: a password typed into the username field never
// reaches the log, and a client cannot set the request id of its log lines.
func TestAttack_LogHygiene(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["TRUSTED_PROXIES"] = "10.0.0.0/8"
	svc := startAuthsvc(t, env)
	typo := "Correct-Horse-Battery-Staple-91"
	r := logged(t, svc, call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
		"grant_type=password&username="+typo+"&password=x", "X-Request-ID", "forged-request-id"))
	wantError(t, r, 400, "invalid_grant")
	logs := svc.logs.String()
	if strings.Contains(logs, typo) {
		t.Fatal("an unknown username (a password typed in the wrong field) reached the log")
	}
	if !strings.Contains(logs, `"unknown_name":"h:`) {
		t.Fatalf("the failed login's audit event has no name hash:\n%s", logs)
	}
	if r.Header.Get("X-Request-ID") == "forged-request-id" || strings.Contains(logs, "forged-request-id") {
		t.Fatal("X-Request-ID from an untrusted peer was kept")
	}
	// A known name is logged as it is.
	logged(t, svc, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "bob", "password", "wrong"))
	if !strings.Contains(svc.logs.String(), `"sub":"bob"`) {
		t.Fatal("a known user's failed login does not name the user")
	}
}

// TestAttack_AuditEventsSurviveSIGKILL: with batched log writes, an audit
// event reaches the log before the response that reports it, so killing
// the process right after the answer loses no security event.
func TestAttack_AuditEventsSurviveSIGKILL(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["LOG_FLUSH_INTERVAL"] = "10s" // nothing is flushed by the timer during the test
	env["LOG_LEVEL"] = "info"
	svc := startAuthsvc(t, env)
	r := login(t, svc.URL)
	id := r.Header.Get("X-Request-ID")
	if err := svc.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the process to die", svc.p.Exited)
	found := false
	for _, line := range strings.Split(svc.logs.String(), "\n") {
		if strings.Contains(line, `"event":"login"`) && strings.Contains(line, `"request_id":"`+id+`"`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("the login's audit event was lost to SIGKILL:\n%s", svc.logs.String())
	}
}
