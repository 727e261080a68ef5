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

// composeRedisPassword is the REDIS_PASSWORD the compose tests give.
const composeRedisPassword = "0123456789abcdef0123456789abcdef"

// composeEnvironment returns the environment docker-compose.yml gives the
// authsvc service, as `docker-compose config` resolves it with only
// SECRET_KEY, REDIS_PASSWORD and AUTHSVC_CREDENTIALS_FILE set (a local .env
// is not read).
func composeEnvironment(t *testing.T) map[string]string {
	t.Helper()
	out, err := composeConfig(t, "SECRET_KEY="+testSecret, "REDIS_PASSWORD="+composeRedisPassword,
		"AUTHSVC_CREDENTIALS_FILE=./credentials.yaml")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
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

// composeConfig runs `docker-compose config` on the repository's file with
// exactly vars in the environment, and returns its output (stdout and
// stderr).
func composeConfig(t *testing.T, vars ...string) ([]byte, error) {
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
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, vars...)
	return cmd.CombinedOutput()
}

// TestCompose_RequiresCredentialsAndRedisPassword: compose refuses to start
// without your own credentials file (the demo file is no default) or
// without a Redis password, and its Redis is reachable from authsvc only.
func TestCompose_RequiresCredentialsAndRedisPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars []string
		want string
	}{
		{"no REDIS_PASSWORD", []string{"SECRET_KEY=" + testSecret, "AUTHSVC_CREDENTIALS_FILE=./c.yaml"}, "set REDIS_PASSWORD in .env"},
		{"no AUTHSVC_CREDENTIALS_FILE", []string{"SECRET_KEY=" + testSecret, "REDIS_PASSWORD=" + composeRedisPassword}, "set AUTHSVC_CREDENTIALS_FILE in .env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := composeConfig(t, tc.vars...)
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("docker-compose config: %v, want a failure saying %q:\n%s", err, tc.want, out)
			}
		})
	}
	out, err := composeConfig(t, "SECRET_KEY="+testSecret, "REDIS_PASSWORD="+composeRedisPassword, "AUTHSVC_CREDENTIALS_FILE=./c.yaml")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var doc struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []any             `yaml:"ports"`
			Networks    map[string]any    `yaml:"networks"`
		} `yaml:"services"`
		Networks map[string]struct {
			Internal bool `yaml:"internal"`
		} `yaml:"networks"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	redis := doc.Services["redis"]
	if len(redis.Ports) > 0 {
		t.Error("compose publishes Redis's port")
	}
	for n := range redis.Networks {
		if !doc.Networks[n].Internal {
			t.Errorf("Redis is on network %s, which is not internal", n)
		}
	}
	if !strings.Contains(strings.Join(redis.Command, " "), "requirepass") || redis.Environment["REDISCLI_AUTH"] != composeRedisPassword {
		t.Errorf("Redis gets no password from REDIS_PASSWORD: command %q", redis.Command)
	}
	if strings.Contains(strings.Join(redis.Command, " "), composeRedisPassword) {
		t.Error("the Redis password is on its command line")
	}
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
	for k, want := range map[string]string{"STORE": "redis", "REDIS_URL": "redis://:" + composeRedisPassword + "@redis:6379/0",
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
