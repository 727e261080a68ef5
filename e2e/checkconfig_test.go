package e2e

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runBinary runs authsvc with args and exactly env (plus PATH), and returns
// its stdout, its stderr and its exit code.
func runBinary(tb testing.TB, env map[string]string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			code = ee.ExitCode()
		default:
			tb.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		tb.Fatalf("authsvc %v did not exit within 20s", args)
	}
	return out.String(), errOut.String(), code
}

// startupProblems are the lines of out that report a problem ("authsvc: …").
func startupProblems(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "authsvc: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestE2E_CheckConfig runs `authsvc check-config` on good and broken
// configurations: exit 0 and one line on stdout when there is no problem;
// otherwise exit 1 and, on stderr, exactly the lines start-up prints for the
// same environment, with no secret among them.
func TestE2E_CheckConfig(t *testing.T) {
	creds := testCredentials(t)
	badKey := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(badKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := func() map[string]string {
		return map[string]string{"SECRET_KEY": testSecret, "REFRESH_SECRET_KEY": testRefreshSecret,
			"JWT_ISSUER": testIssuer, "JWT_AUDIENCE": testAudience, "CREDENTIALS_FILE": creds, "STORE": "memory"}
	}
	with := func(kv ...string) map[string]string {
		env := valid()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(env, kv[i])
			} else {
				env[kv[i]] = kv[i+1]
			}
		}
		return env
	}
	cases := []struct {
		name  string
		env   map[string]string
		wants []string // one per problem line, in order
	}{
		{"nothing set", map[string]string{}, []string{"SECRET_KEY: is required", "JWT_ISSUER: is required", "JWT_AUDIENCE: is required", "CREDENTIALS_FILE: is required"}},
		{"short key and bad duration", with("SECRET_KEY", "short-secret-value", "CLOCK_SKEW", "soon"),
			[]string{"SECRET_KEY: must be at least 32 bytes", "CLOCK_SKEW: is not a Go duration"}},
		{"both NAME and NAME_FILE", with("SECRET_KEY_FILE", writeSecret(t, "k", testSecret)),
			[]string{"SECRET_KEY and SECRET_KEY_FILE are both set"}},
		{"unreadable credentials", with("CREDENTIALS_FILE", "/nonexistent/creds.yaml"), []string{"CREDENTIALS_FILE: "}},
		{"bad private key", with("JWT_ALGORITHM", "ES256", "JWT_PRIVATE_KEY_FILE", badKey), []string{"JWT_PRIVATE_KEY_FILE: "}},
		{"missing TLS files", with("TLS_CERT_FILE", "/nonexistent/cert.pem", "TLS_KEY_FILE", "/nonexistent/key.pem"), []string{"/nonexistent/cert.pem"}},
		{"unknown DPoP algorithm", with("DPOP_SIGNING_ALGS", "ES256,HS256"), []string{"DPOP_SIGNING_ALGS"}},
		{"authenticator URL", with("USER_AUTHENTICATOR_URL", "ftp://authn.example"), []string{"USER_AUTHENTICATOR_URL"}},
		{"tracing protocol", with("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
			[]string{"OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf or grpc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, tc.env, "check-config")
			if code != 1 {
				t.Fatalf("exit code %d, want 1; stdout %q stderr:\n%s", code, stdout, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			got := startupProblems(stderr)
			if len(got) != len(tc.wants) {
				t.Fatalf("problem lines %q, want %d", got, len(tc.wants))
			}
			for i, w := range tc.wants {
				if !strings.Contains(got[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			if strings.Contains(stderr, testSecret) || strings.Contains(stderr, "short-secret-value") {
				t.Errorf("output holds a secret:\n%s", stderr)
			}
			// Start-up prints the same problem lines for the same environment.
			env := map[string]string{"HTTP_ADDR": freeAddr(t)}
			for k, v := range tc.env {
				env[k] = v
			}
			_, startErr, startCode := runBinary(t, env)
			if startCode == 0 || strings.Join(startupProblems(startErr), "\n") != strings.Join(got, "\n") {
				t.Errorf("start-up (exit %d) printed\n%s\ncheck-config printed\n%s", startCode, strings.Join(startupProblems(startErr), "\n"), strings.Join(got, "\n"))
			}
		})
	}

	t.Run("valid configuration, without listening or touching the store", func(t *testing.T) {
		// HTTP_ADDR is taken, so serving would fail; Redis is a listener
		// that counts connections, so touching the store would show.
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		fakeRedis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer fakeRedis.Close()
		var dialed atomic.Int32
		go func() {
			for {
				c, err := fakeRedis.Accept()
				if err != nil {
					return
				}
				dialed.Add(1)
				c.Close()
			}
		}()
		env := with("STORE", "redis", "REDIS_URL", "redis://"+fakeRedis.Addr().String()+"/0", "HTTP_ADDR", busy.Addr().String())
		stdout, stderr, code := runBinary(t, env, "check-config")
		if code != 0 {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
		}
		if stdout != "authsvc: configuration OK\n" {
			t.Errorf("stdout = %q", stdout)
		}
		if lines := startupProblems(stderr); len(lines) != 0 {
			t.Errorf("problem lines on a valid configuration: %q", lines)
		}
		if n := dialed.Load(); n != 0 {
			t.Errorf("check-config connected to the store %d times", n)
		}
	})
}
