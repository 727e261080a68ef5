package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	testIssuer   = "https://auth.test"
	testAudience = "api.test"
	accessTTL    = 15 * time.Minute
	refreshTTL   = time.Hour
	userPassword = "alice-password"
)

// fixture is a Service on a memory store with a manual clock, two users
// (alice, bob) and clients with generated secrets — intro (may
// introspect), plain, billing and app (may log users in), svc
// (client_credentials) — and legacy (client_credentials, a password-like
// secret under a slow hash).
type fixture struct {
	svc     *auth.Service
	clock   *testkit.Clock
	secrets map[string]string // client_id → secret
	// yaml is the credentials file the fixture started with, for tests
	// that reload an edited copy.
	yaml string

	mu     sync.Mutex
	events []audit.Event // every audit event, in order
}

// count returns how many audit events named name were emitted.
func (f *fixture) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.Name == name {
			n++
		}
	}
	return n
}

// newFixture builds the fixture; cfg, when given, overrides the default
// lifetimes and limits field by field (zero fields keep the defaults).
func newFixture(t *testing.T, cfg ...auth.Config) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, cfg...)
}

// newFixtureWith is newFixture with the memory store wrapped by wrap, when
// not nil.
func newFixtureWith(t *testing.T, wrap func(store.Store) store.Store, cfg ...auth.Config) *fixture {
	t.Helper()
	clk := testkit.NewClock(testkit.T0)
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("test-secret-key-0123456789-abcdefghij"),
		Issuer: testIssuer, Audience: []string{testAudience}, Leeway: 30 * time.Second, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	pw := testkit.MustHash(t, userPassword)
	f := &fixture{clock: clk, secrets: map[string]string{}}
	yaml := fmt.Sprintf("users:\n  - username: alice\n    password_hash: %q\n    scopes: [read, write]\n"+
		"  - username: bob\n    password_hash: %q\n    scopes: [read]\nclients:\n", pw, pw)
	for _, c := range []struct {
		id         string
		introspect bool
		scopes     string
		grants     string
	}{
		{"intro", true, "read, write", "password, refresh_token"},
		{"plain", false, "read, write", "password, refresh_token"},
		{"billing", false, "read, write", "password, refresh_token"},
		{"app", false, "read", "password, refresh_token"},
		{"svc", false, "read", "client_credentials"},
	} {
		secret, hash, err := credential.GenerateClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		f.secrets[c.id] = secret
		yaml += fmt.Sprintf("  - client_id: %s\n    client_secret_hash: %q\n    grant_types: [%s]\n    scopes: [%s]\n    introspect: %t\n",
			c.id, hash, c.grants, c.scopes, c.introspect)
	}
	// legacy has a password-like secret under a slow hash: unlike the
	// generated secrets above, it stays under the brute-force limits.
	f.secrets["legacy"] = "legacy-Secret-Walrus-61"
	yaml += fmt.Sprintf("  - client_id: legacy\n    client_secret_hash: %q\n    grant_types: [client_credentials]\n    scopes: [read]\n",
		testkit.MustHash(t, f.secrets["legacy"]))
	creds, _, err := credential.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f.yaml = yaml
	c := auth.Config{AccessTTL: accessTTL, RefreshTTL: refreshTTL, SessionMaxTTL: 24 * time.Hour, ClockSkew: 30 * time.Second}
	if len(cfg) > 0 {
		o := cfg[0]
		c.ReuseGrace, c.LoginFailuresMax, c.LoginFailuresWindow = o.ReuseGrace, o.LoginFailuresMax, o.LoginFailuresWindow
		c.LoginFailuresMaxPerAddress = o.LoginFailuresMaxPerAddress
		if o.RefreshTTL != 0 {
			c.RefreshTTL = o.RefreshTTL
		}
		if o.SessionMaxTTL != 0 {
			c.SessionMaxTTL = o.SessionMaxTTL
		}
	}
	var st store.Store = memory.New(clk.Now)
	if wrap != nil {
		st = wrap(st)
	}
	f.svc = auth.New(c, auth.Deps{Issuer: iss, Store: st, Credentials: creds, Now: clk.Now,
		OnEvent: func(e audit.Event) {
			f.mu.Lock()
			f.events = append(f.events, e)
			f.mu.Unlock()
		}})
	return f
}

func (f *fixture) client(id string) *auth.ClientAuth {
	return &auth.ClientAuth{ID: id, Secret: f.secrets[id]}
}

// mustLogin logs alice in, through client when it is not empty.
func (f *fixture) mustLogin(t *testing.T, client string) *auth.TokenSet {
	t.Helper()
	req := auth.PasswordRequest{Username: "alice", Password: userPassword, Scope: "read"}
	if client != "" {
		req.Client = f.client(client)
	}
	set, err := f.svc.Password(context.Background(), req, auth.Meta{Addr: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Password: %v", err)
	}
	return set
}

func (f *fixture) mustRefresh(t *testing.T, rt string) *auth.TokenSet {
	t.Helper()
	set, err := f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: rt}, auth.Meta{})
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return set
}

// refresh rotates rt without client authentication.
func (f *fixture) refresh(rt string) (*auth.TokenSet, error) {
	return f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: rt}, auth.Meta{Addr: "192.0.2.1"})
}

// password logs alice in from addr with password, through client when given.
func (f *fixture) password(addr, password string, client *auth.ClientAuth, scope string) (*auth.TokenSet, error) {
	return f.svc.Password(context.Background(), auth.PasswordRequest{Username: "alice", Password: password, Scope: scope, Client: client}, auth.Meta{Addr: addr})
}

// loginAs runs a password grant for user from addr.
func (f *fixture) loginAs(user, password, addr string) error {
	_, err := f.svc.Password(context.Background(), auth.PasswordRequest{Username: user, Password: password}, auth.Meta{Addr: addr})
	return err
}

func wantCode(t *testing.T, err error, code auth.Code) {
	t.Helper()
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}
