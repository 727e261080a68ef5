package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	"github.com/authsvc/authsvc/internal/launch"
	"github.com/authsvc/authsvc/internal/testkit"
)

// binPath is the authsvc binary built once by TestMain; the end-to-end
// tests run it as a real process.
var binPath string

// mainPackage is the package TestMain builds.
const mainPackage = "github.com/authsvc/authsvc/cmd/authsvc"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authsvc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "authsvc")
	build := exec.Command("go", "build", "-race", "-o", binPath, mainPackage)
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

// mustHash returns a cheap bcrypt hash (testkit.MustHash).
var mustHash = testkit.MustHash

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
	addr, err := launch.FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
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
	p    *launch.Process
	logs *syncBuffer
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
	return startAuthsvcBinary(tb, binPath, env)
}

// startAuthsvcBinary is startAuthsvc with another build of authsvc.
func startAuthsvcBinary(tb testing.TB, bin string, env map[string]string) *proc {
	tb.Helper()
	addr := freeAddr(tb)
	spec := launch.Spec{Name: "authsvc", Path: bin, Env: []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + addr}}
	for k, v := range env {
		spec.Env = append(spec.Env, k+"="+v)
	}
	scheme, probe := "http", http.DefaultClient
	if env["TLS_CERT_FILE"] != "" {
		scheme, probe = "https", insecureClient
	}
	p := &proc{URL: scheme + "://" + addr, logs: &syncBuffer{}}
	spec.Output = p.logs
	var err error
	if p.p, err = launch.Start(spec); err != nil {
		tb.Fatal(err)
	}
	err = p.p.WaitReady(context.Background(), 15*time.Second, func() error {
		resp, err := probe.Get(p.URL + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %d", resp.StatusCode)
		}
		return nil
	})
	if errors.Is(err, launch.ErrExited) {
		tb.Fatalf("authsvc exited at start-up: %v\n%s", p.p.Err(), p.logs.String())
	}
	if err != nil {
		p.p.Stop(syscall.SIGKILL, time.Second)
		tb.Fatalf("authsvc did not answer /healthz in time\n%s", p.logs.String())
	}
	tb.Cleanup(func() { p.stop(tb) })
	return p
}

// insecureClient polls an HTTPS authsvc whose test certificate it does not
// check; the TLS tests use a client that trusts the certificate.
var insecureClient = &http.Client{Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // readiness probe only
}}

// pid returns the process id.
func (p *proc) pid() int { return p.p.Pid() }

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) error { return p.p.Signal(sig) }

// stop sends SIGTERM and requires a clean exit within 10 seconds.
func (p *proc) stop(tb testing.TB) {
	tb.Helper()
	if p.p.Exited() {
		return
	}
	killed, err := p.p.Stop(syscall.SIGTERM, 10*time.Second)
	switch {
	case killed:
		tb.Errorf("authsvc did not exit within 10s of SIGTERM")
	case err != nil:
		tb.Errorf("authsvc exited with %v after SIGTERM\n%s", err, p.logs.String())
	}
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
