package credential

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/oauth"
)

// fixture is a small credentials file with known passwords and secrets.
type fixture struct {
	set           *Set
	billingSecret string
	billingHash   string
	aliceHash     string
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	f := fixture{aliceHash: mustBcrypt(tb, "alice-pw", bcrypt.MinCost)}
	f.billingSecret, f.billingHash = mustSecret(tb)
	f.set, _ = mustParse(tb, fmt.Sprintf(`
users:
  - username: alice
    password_hash: %s
    scopes: [read, write]
  - username: bob
    password_hash: %s
  - username: long
    password_hash: %s
clients:
  - client_id: billing
    client_secret_hash: %s
    grant_types: [client_credentials]
    scopes: [billing]
  - client_id: web
    client_secret_hash: %s
    grant_types: [password, refresh_token]
    introspect: true
`, yamlQuote(f.aliceHash),
		yamlQuote(mustBcrypt(tb, "bob-pw", bcrypt.MinCost)),
		yamlQuote(mustBcrypt(tb, strings.Repeat("L", 72), bcrypt.MinCost)),
		f.billingHash,
		yamlQuote(mustBcrypt(tb, "web-secret", bcrypt.MinCost))))
	return f
}

func TestSet_AuthenticateUser(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		username   string
		password   string
		wantOK     bool
		wantScopes []string
	}{
		{"right password", "alice", "alice-pw", true, []string{"read", "write"}},
		{"right password, no scopes", "bob", "bob-pw", true, nil},
		{"wrong password", "alice", "alice-pW", false, nil},
		{"another user's password", "alice", "bob-pw", false, nil},
		{"unknown user", "carol", "alice-pw", false, nil},
		{"empty username", "", "alice-pw", false, nil},
		{"username differs in case", "Alice", "alice-pw", false, nil},
		{"empty password", "alice", "", false, nil},
		{"72-byte password", "long", strings.Repeat("L", 72), true, nil},
		{"73-byte password against bcrypt", "long", strings.Repeat("L", 73), false, nil},
		{"password over MaxPasswordLen", "alice", strings.Repeat("p", oauth.MaxPasswordLen+1), false, nil},
		{"username over MaxNameLen", strings.Repeat("a", oauth.MaxNameLen+1), "alice-pw", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := authUser(f.set, tt.username, []byte(tt.password))
			if ok != tt.wantOK {
				t.Fatalf("AuthenticateUser ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if u.Username != "" || u.PasswordHash != "" || u.Scopes != nil {
					t.Errorf("failed AuthenticateUser returned %v", u)
				}
				return
			}
			if u.Username != tt.username || !slices.Equal(u.Scopes, tt.wantScopes) {
				t.Errorf("user = %v, want %s with scopes %q", u, tt.username, tt.wantScopes)
			}
		})
	}
}

func TestSet_AuthenticateClient(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		clientID string
		secret   string
		wantOK   bool
	}{
		{"sha256 secret right", "billing", f.billingSecret, true},
		{"sha256 secret wrong", "billing", f.billingSecret[1:] + "A", false},
		{"bcrypt secret right", "web", "web-secret", true},
		{"bcrypt secret wrong", "web", "web-secreT", false},
		{"another client's secret", "web", f.billingSecret, false},
		{"unknown client", "nobody", f.billingSecret, false},
		{"empty secret", "billing", "", false},
		{"client id over MaxNameLen", strings.Repeat("c", oauth.MaxNameLen+1), f.billingSecret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := authClient(f.set, tt.clientID, []byte(tt.secret))
			if ok != tt.wantOK {
				t.Fatalf("AuthenticateClient ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && c.ClientID != tt.clientID {
				t.Errorf("client = %v, want %s", c, tt.clientID)
			}
			if !ok && c.ClientID != "" {
				t.Errorf("failed AuthenticateClient returned %v", c)
			}
		})
	}
}

// TestSet_UnknownNameVerifiesDummy checks that an unknown username or
// client id costs a real verification, against a valid dummy hash with the
// settings most entries have.
func TestSet_UnknownNameVerifiesDummy(t *testing.T) {
	bc5 := mustBcrypt(t, "pw", 5)
	bc4 := mustBcrypt(t, "pw", bcrypt.MinCost)
	ar := mustArgon2id(t, "pw", 64, 1, 1)
	ar2 := mustArgon2id(t, "pw", 128, 1, 1)
	_, fast := mustSecret(t)
	users := func(hashes ...string) string {
		var b strings.Builder
		b.WriteString("users:\n")
		for i, h := range hashes {
			fmt.Fprintf(&b, "  - username: user%d\n    password_hash: %s\n", i, yamlQuote(h))
		}
		return b.String()
	}
	clients := func(hashes ...string) string {
		var b strings.Builder
		b.WriteString("clients:\n")
		for i, h := range hashes {
			fmt.Fprintf(&b, "  - client_id: client%d\n    client_secret_hash: %s\n    grant_types: [client_credentials]\n", i, yamlQuote(h))
		}
		return b.String()
	}
	owasp := hashParams{kind: kindArgon2id, memory: 19456, time: 2, threads: 1, saltLen: 16, keyLen: 32}
	sha := hashParams{kind: kindSHA256, saltLen: 16, keyLen: 32}

	tests := []struct {
		name       string
		data       string
		wantUser   hashParams
		wantClient hashParams
	}{
		{"all bcrypt cost 5", users(bc5, bc5) + clients(fast),
			hashParams{kind: kindBcrypt, cost: 5}, sha},
		{"argon2id most common", users(bc4, ar, ar) + clients(bc5, fast, bc5),
			hashParams{kind: kindArgon2id, memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32},
			hashParams{kind: kindBcrypt, cost: 5}},
		{"tie goes to the first", users(ar2, bc4, bc5, ar) + clients(fast),
			hashParams{kind: kindArgon2id, memory: 128, time: 1, threads: 1, saltLen: 16, keyLen: 32}, sha},
		{"no users: Hash settings", clients(bc4), owasp, hashParams{kind: kindBcrypt, cost: 4}},
		{"no clients: sha256", users(bc4), hashParams{kind: kindBcrypt, cost: 4}, sha},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := mustParse(t, tt.data)
			for _, c := range []struct {
				what    string
				dummy   *parsedHash
				encoded string
				want    hashParams
				auth    func() bool
			}{
				{"user", s.userDummy, s.userDummyEncoded, tt.wantUser,
					func() bool { _, ok := authUser(s, "nobody", []byte("pw")); return ok }},
				{"client", s.clientDummy, s.clientDummyEncoded, tt.wantClient,
					func() bool { _, ok := authClient(s, "nobody", []byte("pw")); return ok }},
			} {
				// The dummy is a real hash with the expected settings.
				if c.dummy == nil || c.dummy.hashParams != c.want {
					t.Fatalf("%s dummy = %v, want %v", c.what, c.dummy, c.want)
				}
				parsed, err := parseHash(c.encoded)
				if err != nil || parsed.hashParams != c.want {
					t.Fatalf("%s dummy %v does not parse to %v: %v", c.what, parsed, c.want, err)
				}
				if ok, err := Verify(c.encoded, []byte("pw")); ok || err != nil {
					t.Errorf("%s dummy Verify = %v, %v; want false, nil", c.what, ok, err)
				}

				// The unknown name is verified against it, exactly once.
				var verified []*parsedHash
				s.onVerify = func(h *parsedHash) { verified = append(verified, h) }
				if c.auth() {
					t.Errorf("unknown %s authenticated", c.what)
				}
				s.onVerify = nil
				if len(verified) != 1 || verified[0] != c.dummy {
					t.Errorf("unknown %s verified %v, want the dummy once", c.what, verified)
				}
			}
		})
	}
}

// TestSet_KnownAndUnknownTakeSamePath checks that a wrong password for a
// known user and any password for an unknown one each verify one hash of
// the same settings.
func TestSet_KnownAndUnknownTakeSamePath(t *testing.T) {
	f := newFixture(t)
	var verified []hashParams
	f.set.onVerify = func(h *parsedHash) { verified = append(verified, h.hashParams) }
	authUser(f.set, "alice", []byte("wrong"))
	authUser(f.set, "carol", []byte("wrong"))
	authUser(f.set, "long", []byte(strings.Repeat("L", 73)))
	want := []hashParams{{kind: kindBcrypt, cost: bcrypt.MinCost}, {kind: kindBcrypt, cost: bcrypt.MinCost}, {kind: kindBcrypt, cost: bcrypt.MinCost}}
	if !slices.Equal(verified, want) {
		t.Errorf("verified %v, want %v", verified, want)
	}
}

func TestSet_ReturnsCopies(t *testing.T) {
	f := newFixture(t)
	u, _ := authUser(f.set, "alice", []byte("alice-pw"))
	u.Scopes[0] = "admin"
	c, _ := f.set.Client("billing")
	c.Scopes[0] = "admin"
	c.GrantTypes[0] = "password"
	sc := f.set.Scopes()
	sc[0] = "admin"

	u, _ = authUser(f.set, "alice", []byte("alice-pw"))
	c, _ = f.set.Client("billing")
	if u.Scopes[0] != "read" || c.Scopes[0] != "billing" || c.GrantTypes[0] != "client_credentials" ||
		f.set.Scopes()[0] != "billing" {
		t.Errorf("a caller changed the Set: user %v, client %v, scopes %q", u, c, f.set.Scopes())
	}
}

func TestSet_Client(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		clientID   string
		wantOK     bool
		introspect bool
		allows     map[string]bool
	}{
		{"billing", true, false, map[string]bool{
			oauth.GrantClientCredentials: true, oauth.GrantPassword: false, oauth.GrantRefreshToken: false, "implicit": false}},
		{"web", true, true, map[string]bool{
			oauth.GrantClientCredentials: false, oauth.GrantPassword: true, oauth.GrantRefreshToken: true, "": false}},
		{"nobody", false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.clientID, func(t *testing.T) {
			c, ok := f.set.Client(tt.clientID)
			if ok != tt.wantOK || c.Introspect != tt.introspect {
				t.Fatalf("Client = %v, %v", c, ok)
			}
			for g, want := range tt.allows {
				if got := c.Allows(g); got != want {
					t.Errorf("Allows(%q) = %v, want %v", g, got, want)
				}
			}
		})
	}
}

func TestSet_Zero(t *testing.T) {
	for name, s := range map[string]*Set{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			if _, ok := authUser(s, "alice", []byte("pw")); ok {
				t.Error("AuthenticateUser succeeded")
			}
			if _, ok := authClient(s, "c", []byte("pw")); ok {
				t.Error("AuthenticateClient succeeded")
			}
			if _, ok := s.Client("c"); ok {
				t.Error("Client found")
			}
			if len(s.Scopes()) != 0 {
				t.Error("Scopes not empty")
			}
		})
	}
}

func TestSet_Concurrent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			name, pw, want := "alice", "alice-pw", true
			if i%2 == 1 {
				name, pw, want = "nobody", "x", false
			}
			if _, ok := authUser(f.set, name, []byte(pw)); ok != want {
				t.Errorf("AuthenticateUser(%s) = %v", name, ok)
			}
			if _, ok := authClient(f.set, "billing", []byte(f.billingSecret)); !ok {
				t.Error("AuthenticateClient(billing) failed")
			}
			_ = f.set.Scopes()
		})
	}
	wg.Wait()
}

func TestUserClient_FormattingHidesHashes(t *testing.T) {
	f := newFixture(t)
	u, _ := authUser(f.set, "alice", []byte("alice-pw"))
	c, _ := f.set.Client("billing")
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("x", "user", u, "client", c)

	tests := []struct {
		name string
		text string
		want string
	}{
		{"user %v", fmt.Sprintf("%v", u), "alice"},
		{"user %+v", fmt.Sprintf("%+v", u), "alice"},
		{"user %#v", fmt.Sprintf("%#v", u), "alice"},
		{"client %v", fmt.Sprintf("%v", c), "billing"},
		{"client %+v", fmt.Sprintf("%+v", c), "billing"},
		{"client %#v", fmt.Sprintf("%#v", c), "billing"},
		{"slog", logged.String(), `"client_id":"billing"`},
		{"dummy hash", fmt.Sprintf("%v %#v", f.set.userDummy, f.set.userDummy), "bcrypt cost 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.text, tt.want) {
				t.Errorf("%q does not contain %q", tt.text, tt.want)
			}
			assertNoHash(t, tt.text, f.aliceHash, f.billingHash, f.set.userDummyEncoded)
		})
	}
}

func FuzzParse(f *testing.F) {
	bc := mustBcrypt(f, "pw", bcrypt.MinCost)
	ar := mustArgon2id(f, "pw", 64, 1, 1)
	_, fast := mustSecret(f)
	seeds := []string{
		"",
		"users: []",
		"users:\n  - username: alice\n    password_hash: " + yamlQuote(bc) + "\n    scopes: [read]\n",
		"users:\n  - username: bob\n    password_hash: " + ar + "\nclients:\n  - client_id: c\n    client_secret_hash: " + fast +
			"\n    grant_types: [password, client_credentials, refresh_token]\n    introspect: true\n",
		`{"users":[{"username":"a","password_hash":` + yamlQuote(bc) + `,"scopes":["x"]}],"clients":[]}`,
		"users:\n  - &a {username: a, password_hash: " + yamlQuote(bc) + "}\n  - *a\n",
		"users: [[[[[]]]]]\nclients: {a: b}\n",
		"<<: {users: []}\n",
		"--- \n...\n---\n",
		"users:\n  - username: a\n    password_hash: $argon2id$v=19$m=99999999999,t=1,p=1$AAAA$AAAA\n",
		"\x00\xff",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, warnings, err := Parse(data)
		if err != nil {
			if s != nil || warnings != nil {
				t.Fatal("Parse returned a Set or warnings with an error")
			}
			assertNoHash(t, err.Error(), bc, ar, fast)
			return
		}
		if s == nil || s.userDummy == nil || s.clientDummy == nil {
			t.Fatal("Parse returned an incomplete Set without an error")
		}
		if sc := s.Scopes(); !slices.IsSorted(sc) {
			t.Fatalf("Scopes() = %q, not sorted", sc)
		}
		for name := range s.users {
			if name == "" || len(name) > oauth.MaxNameLen {
				t.Fatalf("invalid username accepted (%d bytes)", len(name))
			}
		}
	})
}
