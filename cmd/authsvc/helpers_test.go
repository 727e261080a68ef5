package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// binPath is the authsvc binary built once by TestMain; the end-to-end
// tests run it as a real process.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authsvc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "authsvc")
	build := exec.Command("go", "build", "-race", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building authsvc for the end-to-end tests:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Test fixtures. The passwords are distinctive so that the leak tests can
// search the logs for them.
const (
	testSecret        = "e2e-secret-key-0123456789-abcdefghijklmnop"
	testRefreshSecret = "e2e-refresh-key-9876543210-zyxwvutsrqponml"
	testIssuer        = "https://auth.e2e.test"
	testAudience      = "api.e2e.test"
	alicePassword     = "alice-Pa55word-Zebra-77"
	bobPassword       = "bob-Pa55word-Quokka-42"
	billingSecret     = "billing-Secret-Narwhal-19"
	otherSecret       = "other-Secret-Axolotl-23"
	introSecret       = "intro-Secret-Pangolin-31"
)

// mustHash returns a cheap bcrypt hash: the credentials file accepts any
// valid hash, and the tests should not spend seconds hashing.
func mustHash(tb testing.TB, pw string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

var (
	credsOnce sync.Once
	credsYAML string
)

// testCredentials returns the credentials file used by the tests.
func testCredentials(tb testing.TB) string {
	tb.Helper()
	credsOnce.Do(func() {
		credsYAML = fmt.Sprintf(`users:
  - username: alice
    password_hash: %q
    scopes: [read, write]
  - username: bob
    password_hash: %q
    scopes: [read]
clients:
  - client_id: billing
    client_secret_hash: %q
    grant_types: [client_credentials, password, refresh_token]
    scopes: [read, write, billing]
  - client_id: other
    client_secret_hash: %q
    grant_types: [password, refresh_token]
    scopes: [read]
  - client_id: intro
    client_secret_hash: %q
    grant_types: [client_credentials]
    scopes: []
    introspect: true
`, mustHash(tb, alicePassword), mustHash(tb, bobPassword), mustHash(tb, billingSecret),
			mustHash(tb, otherSecret), mustHash(tb, introSecret))
	})
	path := filepath.Join(tb.TempDir(), "credentials.yaml")
	if err := os.WriteFile(path, []byte(credsYAML), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// freeAddr returns a loopback address with a free port.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// baseEnv is a valid configuration against the given Redis URL.
func baseEnv(tb testing.TB, redisURL string) map[string]string {
	return map[string]string{
		"SECRET_KEY":         testSecret,
		"REFRESH_SECRET_KEY": testRefreshSecret,
		"JWT_ISSUER":         testIssuer,
		"JWT_AUDIENCE":       testAudience,
		"CREDENTIALS_FILE":   testCredentials(tb),
		"STORE":              "redis",
		"REDIS_URL":          redisURL,
		"REDIS_KEY_PREFIX":   "e2e:" + strings.ReplaceAll(tb.Name(), "/", "_") + ":",
		"LOG_LEVEL":          "debug",
		// Tests read the log right after each response: no batching.
		// TestE2E_BatchedLogReachesStderr covers the production default.
		"LOG_FLUSH_INTERVAL": "0",
	}
}

// proc is a running authsvc process.
type proc struct {
	URL  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// syncBuffer collects a process's output safely while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAuthsvc runs the binary with env (plus a free HTTP_ADDR) and waits
// until /healthz answers. It is stopped with SIGTERM at cleanup, and must
// then exit 0.
func startAuthsvc(tb testing.TB, env map[string]string) *proc {
	tb.Helper()
	addr := freeAddr(tb)
	cmd := exec.Command(binPath)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + addr}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	scheme, probe := "http", http.DefaultClient
	if env["TLS_CERT_FILE"] != "" {
		scheme, probe = "https", insecureClient
	}
	p := &proc{URL: scheme + "://" + addr, cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := probe.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-p.done:
			tb.Fatalf("authsvc exited at start-up: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			tb.Fatalf("authsvc did not answer /healthz in time\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() { p.stop(tb) })
	return p
}

// insecureClient polls an HTTPS authsvc whose test certificate it does not
// check; the TLS tests use a client that trusts the certificate.
var insecureClient = &http.Client{Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // readiness probe only
}}

// stop sends SIGTERM and requires a clean exit within 10 seconds.
func (p *proc) stop(tb testing.TB) {
	tb.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			tb.Errorf("authsvc exited with %v after SIGTERM\n%s", err, p.logs.String())
		}
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		tb.Errorf("authsvc did not exit within 10s of SIGTERM")
	}
	p.cmd.ProcessState = &os.ProcessState{}
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (r *response) str(k string) string { s, _ := r.JSON[k].(string); return s }

// call sends one request. body is sent as is; contentType may be empty.
func call(tb testing.TB, method, u, contentType, body string, hdr ...string) *response {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, u, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

// postForm posts form fields (pairs of name, value).
func postForm(tb testing.TB, u string, kv ...string) *response {
	tb.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return call(tb, http.MethodPost, u, "application/x-www-form-urlencoded", v.Encode())
}

// postJSON posts a JSON object of string fields (pairs of name, value).
func postJSON(tb testing.TB, u string, kv ...string) *response {
	tb.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return call(tb, http.MethodPost, u, "application/json", string(b))
}

// login runs a password grant for alice and returns the response, which
// must be 200.
func login(tb testing.TB, base string, kv ...string) *response {
	tb.Helper()
	r := postForm(tb, base+"/token", append([]string{"grant_type", "password", "username", "alice", "password", alicePassword}, kv...)...)
	if r.Status != http.StatusOK {
		tb.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return r
}

// wantError checks an RFC 6749 error response.
func wantError(tb testing.TB, r *response, status int, code string) {
	tb.Helper()
	if r.Status != status || r.str("error") != code {
		tb.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("error response Cache-Control = %q, want no-store", cc)
	}
}
