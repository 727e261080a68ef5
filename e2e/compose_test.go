package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authsvc/authsvc/internal/redistest"
)

// composeEnvironment returns the environment docker-compose.yml gives the
// authsvc service, as `docker-compose config` resolves it with only
// SECRET_KEY set (a local .env is not read).
func composeEnvironment(t *testing.T) map[string]string {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose not found: install it with `apt-get install docker-compose`")
		}
		t.Skip("docker-compose not installed (apt-get install docker-compose); CI runs this test")
	}
	empty := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--env-file", empty, "-f", "../docker-compose.yml", "config")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "SECRET_KEY=" + testSecret}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose config: %v", err)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("docker-compose config output: %v", err)
	}
	env := doc.Services["authsvc"].Environment
	if len(env) == 0 {
		t.Fatalf("no environment for the authsvc service:\n%s", out)
	}
	return env
}

// variablesRead returns the names of the variables authsvc reads, as
// configs/authsvc.env.example lists them; TestConfigs_EnvExampleListsEveryVariable
// in cmd/authsvc holds that list equal to the Config struct's.
func variablesRead(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../configs/authsvc.env.example")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			read[name] = true
		}
	}
	if len(read) == 0 {
		t.Fatal("configs/authsvc.env.example lists no variable")
	}
	return read
}

// TestCompose_EnvironmentIsAValidConfiguration runs the binary with the
// environment docker-compose.yml sets (its defaults, an empty value where
// it passes one through unset), so that the compose file and the
// configuration cannot drift apart: every variable it sets is one authsvc
// reads, and together they start a service that logs users in.
func TestCompose_EnvironmentIsAValidConfiguration(t *testing.T) {
	env := composeEnvironment(t)
	read := variablesRead(t)
	for k := range env {
		if !read[k] {
			t.Errorf("docker-compose.yml sets %s, which authsvc does not read", k)
		}
	}
	for k, want := range map[string]string{"STORE": "redis", "REDIS_URL": "redis://redis:6379/0",
		"CREDENTIALS_FILE": "/etc/authsvc/credentials.yaml", "HTTP_ADDR": ":8080", "LOG_FORMAT": "json"} {
		if env[k] != want {
			t.Errorf("compose sets %s=%q, want %q", k, env[k], want)
		}
	}

	// The container's paths and hosts, swapped for this machine's.
	rds := redistest.Start(t)
	env["REDIS_URL"] = rds.URL()
	env["CREDENTIALS_FILE"] = testCredentials(t)
	env["REDIS_KEY_PREFIX"] = "e2e:compose:"
	delete(env, "HTTP_ADDR") // startAuthsvc picks a free one
	svc := startAuthsvc(t, env)
	if r := call(t, "GET", svc.URL+"/readyz", "", ""); r.Status != 200 {
		t.Fatalf("/readyz: %d", r.Status)
	}
	login(t, svc.URL)
	// The log is batched (LOG_FLUSH_INTERVAL's default): the line arrives
	// within the interval.
	waitFor(t, 5*time.Second, "the JSON start-up line", func() bool {
		return strings.Contains(svc.logs.String(), `"msg":"authsvc listening"`)
	})
}
