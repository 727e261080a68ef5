package credential

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/oauth"
)

func TestParse_Valid(t *testing.T) {
	aliceHash := mustBcrypt(t, "alice-pw", bcrypt.MinCost)
	bobHash := mustArgon2id(t, "bob-pw", 64, 1, 1)
	_, billingHash := mustSecret(t)

	tests := []struct {
		name string
		data string
	}{
		{"yaml", fmt.Sprintf(`
# users and clients
users:
  - username: alice
    password_hash: %s
    scopes: [read, write]
  - username: bob
    password_hash: '%s'
    scopes:
      - read
clients:
  - client_id: billing
    client_secret_hash: "%s"
    grant_types: [client_credentials, password, refresh_token]
    scopes: [read, billing:admin]
    introspect: true
    dpop_bound_access_tokens: true
`, yamlQuote(aliceHash), bobHash, billingHash)},
		{"json", fmt.Sprintf(`{
  "users": [
    {"username": "alice", "password_hash": %s, "scopes": ["read", "write"]},
    {"username": "bob", "password_hash": %s, "scopes": ["read"]}
  ],
  "clients": [
    {"client_id": "billing", "client_secret_hash": %s,
     "grant_types": ["client_credentials", "password", "refresh_token"],
     "scopes": ["read", "billing:admin"], "introspect": true, "dpop_bound_access_tokens": true}
  ]
}`, yamlQuote(aliceHash), yamlQuote(bobHash), yamlQuote(billingHash))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := mustParse(t, tt.data)

			alice, ok := authUser(s, "alice", []byte("alice-pw"))
			if !ok {
				t.Fatal("alice does not authenticate")
			}
			if alice.Username != "alice" || alice.PasswordHash != aliceHash || !slices.Equal(alice.Scopes, []string{"read", "write"}) {
				t.Errorf("alice = %v", alice)
			}
			bob, ok := authUser(s, "bob", []byte("bob-pw"))
			if !ok || !slices.Equal(bob.Scopes, []string{"read"}) {
				t.Errorf("bob = %v, %v", bob, ok)
			}
			c, ok := s.Client("billing")
			want := Client{
				ClientID: "billing", SecretHash: billingHash,
				GrantTypes: []string{"client_credentials", "password", "refresh_token"},
				Scopes:     []string{"read", "billing:admin"}, Introspect: true, DPoPBound: true,
			}
			if !ok || c.String() != want.String() || c.SecretHash != want.SecretHash {
				t.Errorf("Client(billing) = %v, %v; want %v", c, ok, want)
			}
			if got, want := s.Scopes(), []string{"billing:admin", "read", "write"}; !slices.Equal(got, want) {
				t.Errorf("Scopes() = %q, want %q", got, want)
			}
		})
	}
}

func TestParse_Minimal(t *testing.T) {
	_, hash := mustSecret(t)
	tests := []struct {
		name string
		data string
	}{
		{"only a client, no optional fields", "clients:\n  - client_id: c\n    client_secret_hash: " + hash + "\n    grant_types: [client_credentials]\n"},
		{"only a user, null scopes", "users:\n  - username: u\n    password_hash: " + yamlQuote(mustBcrypt(t, "pw", bcrypt.MinCost)) + "\n    scopes: ~\nclients: []\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := mustParse(t, tt.data)
			if got := s.Scopes(); len(got) != 0 {
				t.Errorf("Scopes() = %q, want none", got)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	good := mustBcrypt(t, "pw", bcrypt.MinCost)
	secret, fast := mustSecret(t)
	_ = secret
	user := func(name, hash string) string {
		return fmt.Sprintf("  - username: %s\n    password_hash: %s\n", name, yamlQuote(hash))
	}
	client := func(id, hash, grants string) string {
		return fmt.Sprintf("  - client_id: %s\n    client_secret_hash: %s\n    grant_types: %s\n", id, yamlQuote(hash), grants)
	}

	tests := []struct {
		name string
		data string
		want []string // one substring per expected problem, in order
	}{
		{"empty file", "", []string{"no users and no clients"}},
		{"empty lists", "users: []\nclients: []\n", []string{"no users and no clients"}},
		{"syntax error", "users: [\n", []string{"invalid YAML"}},
		{"two documents", "users: []\n---\nclients: []\n", []string{"one YAML document"}},
		{"root is a list", "- a\n", []string{"the file must be a mapping"}},
		{"unknown top-level field", "users: []\nadmins: []\n", []string{`line 2: unknown field "admins"`}},
		{"unknown user field", "users:\n" + user("alice", good) + "    password: hunter2\n",
			[]string{`users[0] "alice" (line 2): line 4: unknown field "password"`}},
		{"unknown client field", "clients:\n" + client("c", fast, "[password]") + "    redirect_uri: x\n",
			[]string{`clients[0] "c" (line 2): line 5: unknown field "redirect_uri"`}},
		{"repeated field", "users:\n" + user("alice", good) + "    username: bob\n",
			[]string{`field "username" given twice (first at line 2)`}},
		{"users not a list", "users: alice\n", []string{"users must be a list"}},
		{"user not a mapping", "users:\n  - alice\n", []string{"the entry must be a mapping"}},
		{"scopes not a list", "users:\n" + user("alice", good) + "    scopes: read\n", []string{"scopes must be a list"}},
		{"scope item not a string", "users:\n" + user("alice", good) + "    scopes: [[read]]\n", []string{"scopes: item 0 must be a string"}},
		{"introspect not a bool", "clients:\n" + client("c", fast, "[password]") + "    introspect: yes please\n", []string{"introspect must be true or false"}},
		{"username a mapping", "users:\n  - username: {a: b}\n    password_hash: " + yamlQuote(good) + "\n", []string{"username must be a string", "username is missing"}},
		{"alias", "users:\n  - &a\n    username: alice\n    password_hash: " + yamlQuote(good) + "\n  - *a\n", []string{"aliases are not supported"}},
		{"missing username", "users:\n  - password_hash: " + yamlQuote(good) + "\n", []string{"users[0] (line 2): username is missing or empty"}},
		{"empty client id", "clients:\n" + client(`""`, fast, "[password]"), []string{"clients[0] (line 2): client_id is missing or empty"}},
		{"long username", "users:\n" + user(strings.Repeat("a", oauth.MaxNameLen+1), good), []string{"username is longer than 256 bytes"}},
		{"duplicate username", "users:\n" + user("alice", good) + user("alice", good),
			[]string{`users[1] "alice" (line 4): duplicate username (first at line 2)`}},
		{"duplicate client id", "clients:\n" + client("c", fast, "[password]") + client("c", fast, "[password]"),
			[]string{`clients[1] "c" (line 5): duplicate client_id (first at line 2)`}},
		{"missing hash", "users:\n  - username: alice\n", []string{`users[0] "alice" (line 2): password_hash is missing or empty`}},
		{"unparseable hash", "users:\n" + user("alice", "$2a$12$tooshort"), []string{"password_hash: malformed bcrypt hash"}},
		{"plain-text password", "users:\n" + user("alice", "hunter2"), []string{"password_hash: unrecognised format"}},
		{"argon2id beyond limits", "users:\n" + user("alice", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$"+strings.Repeat("A", 43)),
			[]string{"argon2id m=4194304 KiB is above the limit of 1048576 KiB"}},
		{"bcrypt cost beyond limit", "users:\n" + user("alice", good[:4]+"20"+good[6:]), []string{"bcrypt cost 20 is above the limit of 16"}},
		{"sha256 hash on a user", "users:\n" + user("alice", fast), []string{"sha256 hash is for generated client secrets only"}},
		{"unknown grant type", "clients:\n" + client("c", fast, "[password, implicit]"), []string{`unknown grant type "implicit"`}},
		{"repeated grant type", "clients:\n" + client("c", fast, "[password, password]"), []string{`grant_types: "password" given twice`}},
		{"invalid scope", "users:\n" + user("alice", good) + "    scopes: [\"read write\"]\n", []string{`"read write" is not a valid scope token`}},
		{"repeated scope", "users:\n" + user("alice", good) + "    scopes: [read, read]\n", []string{`scopes: "read" given twice`}},
		{"every problem at once", "users:\n" +
			user("alice", good) +
			user("alice", good) + // duplicate
			user(`""`, good) + // empty name
			user("carol", "$2a$12$bad") + // unparseable hash
			user("dave", fast) + // sha256 on a user
			"  - username: erin\n    password_hash: " + yamlQuote(good) + "\n    pasword: typo\n" + // unknown field
			"clients:\n" +
			client("c", fast, "[password, implicit]") + // unknown grant type
			client("c", fast, "[password]"), // duplicate id
			[]string{
				`users[1] "alice" (line 4): duplicate username`,
				`users[2] (line 6): username is missing or empty`,
				`users[3] "carol" (line 8): password_hash: malformed bcrypt hash`,
				`users[4] "dave" (line 10): password_hash: the sha256 hash is for generated client secrets only`,
				`users[5] "erin" (line 12): line 14: unknown field "pasword"`,
				`clients[0] "c" (line 16): grant_types: unknown grant type "implicit"`,
				`clients[1] "c" (line 19): duplicate client_id`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, warnings, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded (warnings %q), want errors %q", warnings, tt.want)
			}
			if s != nil {
				t.Error("Parse returned a Set with an error")
			}
			got := problems(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			assertNoHash(t, err.Error(), good, fast)
		})
	}
}

func TestParse_Warnings(t *testing.T) {
	// Well-formed hashes nobody verifies here; generating real ones under
	// -race takes seconds (Parse still computes one dummy of the same cost).
	fakeDigest := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 3)[:53]
	strongBcrypt := "$2b$12$" + fakeDigest
	weakBcrypt := "$2b$10$" + fakeDigest
	_, fast := mustSecret(t)
	weakArgon := mustArgon2id(t, "pw", 4096, 1, 1)
	owaspArgon := "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43)
	shortSaltArgon := "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43)

	tests := []struct {
		name string
		data string
		want []string // substrings, one per expected warning
	}{
		{"strong hashes, no warnings", "users:\n  - username: a\n    password_hash: " + yamlQuote(strongBcrypt) +
			"\nclients:\n  - client_id: c\n    client_secret_hash: " + fast + "\n    grant_types: [password]\n", nil},
		{"OWASP argon2id, no warning", "users:\n  - username: a\n    password_hash: " + owaspArgon + "\n", nil},
		{"bcrypt cost 10", "users:\n  - username: a\n    password_hash: " + yamlQuote(weakBcrypt) + "\n",
			[]string{`users[0] "a" (line 2): bcrypt cost 10 is below the recommended 12`}},
		{"weak argon2id", "users:\n  - username: a\n    password_hash: " + weakArgon + "\n",
			[]string{`users[0] "a" (line 2): argon2id m=4096 KiB, t=1 is below every OWASP recommendation`}},
		{"short argon2id salt", "users:\n  - username: a\n    password_hash: " + shortSaltArgon + "\n",
			[]string{"salt of 8 bytes is shorter than the recommended 16"}},
		{"weak client hash", "clients:\n  - client_id: c\n    client_secret_hash: " + yamlQuote(weakBcrypt) + "\n    grant_types: [password]\n",
			[]string{`clients[0] "c" (line 2): bcrypt cost 10`}},
		{"client that can do nothing", "clients:\n  - client_id: c\n    client_secret_hash: " + fast + "\n",
			[]string{"allows no grant type and may not introspect"}},
		{"mixed user hash settings", "users:\n  - username: a\n    password_hash: " + owaspArgon +
			"\n  - username: b\n    password_hash: " + yamlQuote(weakBcrypt) + "\n",
			[]string{`users[1] "b" (line 4): bcrypt cost 10`, "use 2 different algorithms or settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warnings := mustParse(t, tt.data)
			if len(warnings) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
				assertNoHash(t, warnings[i], strongBcrypt, fast, weakArgon, weakBcrypt, owaspArgon)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	hash := mustBcrypt(t, "pw", bcrypt.MinCost)
	valid := filepath.Join(dir, "valid.yaml")
	invalid := filepath.Join(dir, "invalid.yaml")
	mustWrite(t, valid, "users:\n  - username: alice\n    password_hash: "+yamlQuote(hash)+"\n")
	mustWrite(t, invalid, "users:\n  - username: alice\n    password_hash: "+yamlQuote(hash[:50])+"\n")

	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"valid file", valid, false},
		{"invalid file", invalid, true},
		{"missing file", filepath.Join(dir, "missing.yaml"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := Load(tt.path)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Load succeeded, want an error")
				}
				if !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q does not name the path", err)
				}
				assertNoHash(t, err.Error(), hash, hash[:50])
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if _, ok := authUser(s, "alice", []byte("pw")); !ok {
				t.Error("alice does not authenticate")
			}
		})
	}
}

func mustWrite(tb testing.TB, path, data string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		tb.Fatal(err)
	}
}
