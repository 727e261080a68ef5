package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// writeSecret writes a secret file the way Kubernetes and Docker mount
// them, and returns its path.
func writeSecret(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o400); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestE2E_SecretsFromFiles runs the binary with every secret given as
// NAME_FILE: the keys (with and without a trailing newline) sign and verify
// tokens a resource server accepts with the plain key, and a Redis URL with
// a password, read from a file, reaches a Redis that requires it.
func TestE2E_SecretsFromFiles(t *testing.T) {
	const redisPassword = "redis-Pa55-from-a-file-Okapi-8"
	rds := redistest.Start(t, redistest.WithArgs("--requirepass", redisPassword))
	env := baseEnv(t, "")
	delete(env, "SECRET_KEY")
	delete(env, "REFRESH_SECRET_KEY")
	delete(env, "REDIS_URL")
	env["SECRET_KEY_FILE"] = writeSecret(t, "secret_key", testSecret+"\n")
	env["REFRESH_SECRET_KEY_FILE"] = writeSecret(t, "refresh_secret_key", testRefreshSecret)
	env["SECRET_KEY_PREVIOUS_FILE"] = writeSecret(t, "secret_key_previous", "previous-key-0123456789-abcdefghijklmnop\n")
	env["REDIS_URL_FILE"] = writeSecret(t, "redis_url", "redis://:"+redisPassword+"@"+rds.Addr()+"/0\n")
	svc := startAuthsvc(t, env)

	waitForReady(t, svc)
	r := login(t, svc.URL)
	if claims := verifyLikeResourceServer(t, r.str("access_token")); claims["sub"] != "alice" {
		t.Fatalf("access claims: %v", claims)
	}
	if r2 := postForm(t, svc.URL+"/refresh", "refresh_token", r.str("refresh_token")); r2.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
	}
	for _, s := range []string{redisPassword, testSecret, testRefreshSecret} {
		if strings.Contains(svc.logs.String(), s) {
			t.Errorf("the log holds a secret read from a file")
		}
	}
}

// secretVars returns the variables that may be given as NAME_FILE, read
// from cmd/authsvc's own list (its TestSecretVars_AreSecretFields holds that
// list to the Config struct), so a variable added there is tested here too:
// this package drives the binary from outside and cannot import it.
func secretVars(tb testing.TB) []string {
	tb.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../cmd/authsvc/secretfile.go", nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "secretVars" || len(vs.Values) != 1 {
			return true
		}
		for _, e := range vs.Values[0].(*ast.CompositeLit).Elts {
			name, err := strconv.Unquote(e.(*ast.BasicLit).Value)
			if err != nil {
				tb.Fatal(err)
			}
			names = append(names, name)
		}
		return false
	})
	if len(names) < 7 {
		tb.Fatalf("found %d secret variables in cmd/authsvc/secretfile.go: %q", len(names), names)
	}
	return names
}

// TestE2E_SecretFileProblems checks the start-up errors of the NAME_FILE
// variables: for every secret variable, setting both NAME and NAME_FILE is
// an error naming both; an unreadable file names the variable and the path.
// No secret reaches the output.
func TestE2E_SecretFileProblems(t *testing.T) {
	const value = "a-secret-value-that-must-not-be-printed-0123"
	type tc struct {
		name  string
		env   map[string]string
		wants []string
	}
	var cases []tc
	for _, n := range secretVars(t) {
		cases = append(cases, tc{"both " + n, map[string]string{n: value, n + "_FILE": writeSecret(t, n, value)},
			[]string{n + " and " + n + "_FILE are both set"}})
	}
	missing := filepath.Join(t.TempDir(), "missing")
	cases = append(cases, tc{"unreadable", map[string]string{"SECRET_KEY_FILE": missing},
		[]string{"SECRET_KEY_FILE: cannot read " + missing}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := baseEnv(t, "redis://127.0.0.1:1/0")
			delete(env, "SECRET_KEY")
			if c.env["SECRET_KEY"] == "" && c.env["SECRET_KEY_FILE"] == "" {
				env["SECRET_KEY"] = testSecret
			}
			delete(env, "REFRESH_SECRET_KEY")
			for k, v := range c.env {
				env[k] = v
			}
			cmd := exec.Command(binPath)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + freeAddr(t)}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("start-up succeeded; output:\n%s", out)
			}
			for _, w := range c.wants {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), value) || strings.Contains(string(out), testSecret) {
				t.Errorf("output contains a secret:\n%s", out)
			}
		})
	}
}
