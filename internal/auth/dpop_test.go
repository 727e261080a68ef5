package auth_test

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
	"github.com/authsvc/authsvc/internal/testkit"
)

// dpopFixture is a Service with DPoP: one user (alice), a client "mobile"
// with dpop_bound_access_tokens, a client "web" without, a client "svc"
// for client_credentials with it, and two client keys.
type dpopFixture struct {
	svc     *auth.Service
	iss     *issuer.Issuer
	creds   *credential.Set
	clock   *testkit.Clock
	secrets map[string]string
	key     *dpop.Signer // the client's DPoP key
	other   *dpop.Signer // someone else's
	nonces  *dpop.Nonces // nil unless nonces are required
}

func newDPoPFixture(t *testing.T, nonces bool) *dpopFixture {
	t.Helper()
	clk := testkit.NewClock(testkit.T0)
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("test-secret-key-0123456789-abcdefghij"),
		Issuer: testIssuer, Audience: []string{testAudience}, Leeway: 30 * time.Second, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &dpopFixture{iss: iss, clock: clk, secrets: map[string]string{}}
	yaml := fmt.Sprintf("users:\n  - username: alice\n    password_hash: %q\n    scopes: [read, write]\nclients:\n", testkit.MustHash(t, userPassword))
	for _, c := range []struct {
		id, grants        string
		bound, introspect bool
	}{
		{"mobile", "password, refresh_token", true, false},
		{"web", "password, refresh_token", false, false},
		{"svc", "client_credentials", true, false},
		{"intro", "password", false, true},
	} {
		secret, hash, err := credential.GenerateClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		f.secrets[c.id] = secret
		yaml += fmt.Sprintf("  - client_id: %s\n    client_secret_hash: %q\n    grant_types: [%s]\n    scopes: [read]\n    dpop_bound_access_tokens: %t\n    introspect: %t\n",
			c.id, hash, c.grants, c.bound, c.introspect)
	}
	creds, _, err := credential.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f.creds = creds
	checker, err := dpop.NewChecker(dpop.Options{Leeway: 30 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.DPoPConfig{Checker: checker, BaseURL: testIssuer + "/"}
	if nonces {
		if f.nonces, err = dpop.NewNonces(testkit.MustRandom(t, 32), time.Minute, clk.Now); err != nil {
			t.Fatal(err)
		}
		cfg.Nonces = f.nonces
	}
	f.svc = auth.New(auth.Config{AccessTTL: accessTTL, RefreshTTL: refreshTTL, SessionMaxTTL: 24 * time.Hour, ClockSkew: 30 * time.Second},
		auth.Deps{Issuer: iss, Store: memory.New(clk.Now), Credentials: creds, Now: clk.Now, DPoP: cfg})
	if f.key, err = dpop.NewSigner(testkit.MustECDSA(t, elliptic.P256()), "ES256", clk.Now); err != nil {
		t.Fatal(err)
	}
	if f.other, err = dpop.NewSigner(testkit.MustEd25519(t), "EdDSA", clk.Now); err != nil {
		t.Fatal(err)
	}
	return f
}

// proof makes a proof by s for POST path.
func (f *dpopFixture) proof(t *testing.T, s *dpop.Signer, path, nonce string) string {
	t.Helper()
	p, err := s.Proof("POST", testIssuer+path, dpop.ProofOptions{Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// in is the DPoP input of a request to path carrying proofs.
func in(path string, proofs ...string) auth.Meta {
	return auth.Meta{Addr: "192.0.2.1", DPoP: auth.DPoPInput{Proofs: proofs, Path: path}}
}

func (f *dpopFixture) client(id string) *auth.ClientAuth {
	return &auth.ClientAuth{ID: id, Secret: f.secrets[id]}
}

func (f *dpopFixture) login(client string, m auth.Meta) (*auth.TokenSet, error) {
	return f.svc.Password(context.Background(), auth.PasswordRequest{
		Username: "alice", Password: userPassword, Client: f.client(client),
	}, m)
}

func (f *dpopFixture) refresh(client, rt string, m auth.Meta) (*auth.TokenSet, error) {
	return f.svc.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: rt, Client: f.client(client)}, m)
}

// mustBound checks that set is a DPoP token response bound to jkt ("" for
// a bearer one).
func (f *dpopFixture) mustBound(t *testing.T, set *auth.TokenSet, jkt string) {
	t.Helper()
	if set.DPoP != (jkt != "") {
		t.Errorf("TokenSet.DPoP = %v, want %v", set.DPoP, jkt != "")
	}
	ac, err := f.iss.VerifyAccess(set.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if ac.JKT != jkt {
		t.Errorf("access token cnf.jkt = %q, want %q", ac.JKT, jkt)
	}
}

func TestDPoP_WholeSession(t *testing.T) {
	f := newDPoPFixture(t, false)
	set, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.key.JKT())

	// Every refresh of the bound session needs the key.
	for range 3 {
		f.clock.Advance(time.Minute)
		if set, err = f.refresh("mobile", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", ""))); err != nil {
			t.Fatal(err)
		}
		f.mustBound(t, set, f.key.JKT())
	}
	// The refresh_token grant at /token needs a proof for /token.
	set, err = f.refresh("mobile", set.RefreshToken, in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.key.JKT())

	// Introspection names the binding of the access token and of the
	// refresh token's session (RFC 9449 §6.2).
	for _, tok := range []string{set.AccessToken, set.RefreshToken} {
		got, err := f.svc.Introspect(context.Background(), auth.IntrospectRequest{Token: tok, Client: f.client("intro")}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Active || got.JKT != f.key.JKT() {
			t.Errorf("Introspect(%s): active %v, JKT %q; want true, %q", got.TokenType, got.Active, got.JKT, f.key.JKT())
		}
	}
}

// TestDPoP_BoundSessionRejections: a missing proof, or one by another key,
// is invalid_grant and uses nothing up; a bad proof is invalid_dpop_proof.
func TestDPoP_BoundSessionRejections(t *testing.T) {
	f := newDPoPFixture(t, false)
	set, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	rt := set.RefreshToken
	tests := []struct {
		name string
		meta func() auth.Meta
		want auth.Code
	}{
		{name: "no proof", meta: func() auth.Meta { return in("/refresh") }, want: auth.InvalidGrant},
		{name: "another key", meta: func() auth.Meta { return in("/refresh", f.proof(t, f.other, "/refresh", "")) }, want: auth.InvalidGrant},
		{name: "proof for /token", meta: func() auth.Meta { return in("/refresh", f.proof(t, f.key, "/token", "")) }, want: auth.InvalidDPoPProof},
		{name: "two proofs", meta: func() auth.Meta {
			return in("/refresh", f.proof(t, f.key, "/refresh", ""), f.proof(t, f.key, "/refresh", ""))
		}, want: auth.InvalidDPoPProof},
		{name: "garbage", meta: func() auth.Meta { return in("/refresh", "not-a-proof") }, want: auth.InvalidDPoPProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.refresh("mobile", rt, tt.meta())
			wantCode(t, err, tt.want)
		})
	}
	// rt was used by none of them.
	set, err = f.refresh("mobile", rt, in("/refresh", f.proof(t, f.key, "/refresh", "")))
	if err != nil {
		t.Fatalf("the refresh token was used up by a rejected request: %v", err)
	}
	f.mustBound(t, set, f.key.JKT())
}

func TestDPoP_ReplayedProof(t *testing.T) {
	f := newDPoPFixture(t, false)
	proof := f.proof(t, f.key, "/token", "")
	if _, err := f.login("mobile", in("/token", proof)); err != nil {
		t.Fatal(err)
	}
	_, err := f.login("mobile", in("/token", proof))
	wantCode(t, err, auth.InvalidDPoPProof)
	// Past its lifetime the proof is refused for its age, not remembered.
	f.clock.Advance(2 * time.Minute)
	_, err = f.login("mobile", in("/token", proof))
	wantCode(t, err, auth.InvalidDPoPProof)
}

func TestDPoP_ReuseOfBoundSessionWithoutProofRevokes(t *testing.T) {
	f := newDPoPFixture(t, false)
	set, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.refresh("mobile", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", "")))
	if err != nil {
		t.Fatal(err)
	}
	// The thief replays the old token without the key: still a reuse.
	_, err = f.refresh("mobile", set.RefreshToken, in("/refresh"))
	wantCode(t, err, auth.InvalidGrant)
	_, err = f.refresh("mobile", next.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", "")))
	wantCode(t, err, auth.InvalidGrant)
}

func TestDPoP_ClientRule(t *testing.T) {
	f := newDPoPFixture(t, false)
	_, err := f.login("mobile", in("/token"))
	wantCode(t, err, auth.InvalidDPoPProof)
	_, err = f.svc.ClientCredentials(context.Background(), f.client("svc"), "", in("/token"))
	wantCode(t, err, auth.InvalidDPoPProof)

	set, err := f.svc.ClientCredentials(context.Background(), f.client("svc"), "", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.key.JKT())
}

// TestDPoP_UnboundSession: a client without the requirement may skip DPoP;
// a proof on a refresh of an unbound session binds the access token only.
func TestDPoP_UnboundSession(t *testing.T) {
	f := newDPoPFixture(t, false)
	set, err := f.login("web", in("/token"))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, "")
	set, err = f.refresh("web", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", "")))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.key.JKT())
	// The session is still unbound: no proof, or another key, is fine.
	set, err = f.refresh("web", set.RefreshToken, in("/refresh"))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, "")
	set, err = f.refresh("web", set.RefreshToken, in("/refresh", f.proof(t, f.other, "/refresh", "")))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.other.JKT())
}

func TestDPoP_Nonces(t *testing.T) {
	f := newDPoPFixture(t, true)
	if f.svc.DPoPNonce() == "" {
		t.Fatal("DPoPNonce is empty with nonces required")
	}
	_, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	wantCode(t, err, auth.UseDPoPNonce)
	var ae *auth.Error
	if !errors.As(err, &ae) || !f.nonces.Valid(ae.DPoPNonce) {
		t.Fatalf("use_dpop_nonce without a valid nonce to use: %+v", err)
	}
	// Another fault as well: invalid_dpop_proof wins.
	_, err = f.login("mobile", in("/token", f.proof(t, f.key, "/refresh", "")))
	wantCode(t, err, auth.InvalidDPoPProof)
	_, err = f.login("mobile", in("/token", f.proof(t, f.key, "/token", "made-up")))
	wantCode(t, err, auth.UseDPoPNonce)

	set, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", ae.DPoPNonce)))
	if err != nil {
		t.Fatal(err)
	}
	f.mustBound(t, set, f.key.JKT())
	// The nonce is still good a minute later, stale after two.
	f.clock.Advance(time.Minute)
	if set, err = f.refresh("mobile", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", ae.DPoPNonce))); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	_, err = f.refresh("mobile", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", ae.DPoPNonce)))
	wantCode(t, err, auth.UseDPoPNonce)
	if _, err = f.refresh("mobile", set.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", f.svc.DPoPNonce()))); err != nil {
		t.Fatalf("refresh after use_dpop_nonce: %v", err)
	}
}

// countingStore counts the store calls (each one Redis round trip in the
// Redis store) the service makes.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls []string
}

func (c *countingStore) note(op string) {
	c.mu.Lock()
	c.calls = append(c.calls, op)
	c.mu.Unlock()
}

func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *countingStore) Rotate(ctx context.Context, req store.RotateRequest) (store.RotateResult, error) {
	c.note("Rotate")
	return c.Store.Rotate(ctx, req)
}

func (c *countingStore) UseProof(ctx context.Context, id string, until time.Time) (bool, error) {
	c.note("UseProof")
	return c.Store.UseProof(ctx, id, until)
}

func (c *countingStore) CreateSession(ctx context.Context, s store.Session, first store.Token) error {
	c.note("CreateSession")
	return c.Store.CreateSession(ctx, s, first)
}

// TestDPoP_RefreshCostsOneStoreCallMore: a refresh with a proof makes one
// store call more than one without, the proof's jti; the binding is checked
// inside the rotation itself.
func TestDPoP_RefreshCostsOneStoreCallMore(t *testing.T) {
	f := newDPoPFixture(t, false)
	cs := &countingStore{Store: memory.New(f.clock.Now)}
	f.svc = auth.New(auth.Config{AccessTTL: accessTTL, RefreshTTL: refreshTTL, SessionMaxTTL: 24 * time.Hour, ClockSkew: 30 * time.Second},
		auth.Deps{Issuer: f.iss, Store: cs, Credentials: f.creds, Now: f.clock.Now,
			DPoP: auth.DPoPConfig{BaseURL: testIssuer}})

	bearer, err := f.login("web", in("/token"))
	if err != nil {
		t.Fatal(err)
	}
	bound, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	cs.take()
	if _, err := f.refresh("web", bearer.RefreshToken, in("/refresh")); err != nil {
		t.Fatal(err)
	}
	without := cs.take()
	if _, err := f.refresh("mobile", bound.RefreshToken, in("/refresh", f.proof(t, f.key, "/refresh", ""))); err != nil {
		t.Fatal(err)
	}
	with := cs.take()
	if !slices.Equal(without, []string{"Rotate"}) || !slices.Equal(with, []string{"UseProof", "Rotate"}) {
		t.Errorf("store calls: without DPoP %v, with %v; want [Rotate] and [UseProof Rotate]", without, with)
	}
}

// TestDPoP_LogoutAllOfABoundSession: /logout-all of a bound session needs a
// proof by its key; without one nothing ends.
func TestDPoP_LogoutAllOfABoundSession(t *testing.T) {
	f := newDPoPFixture(t, false)
	set, err := f.login("mobile", in("/token", f.proof(t, f.key, "/token", "")))
	if err != nil {
		t.Fatal(err)
	}
	logoutAll := func(m auth.Meta) (int, error) {
		return f.svc.LogoutAll(context.Background(), auth.LogoutAllRequest{RefreshToken: set.RefreshToken, Client: f.client("mobile")}, m)
	}
	_, err = logoutAll(in("/logout-all"))
	wantCode(t, err, auth.InvalidGrant)
	_, err = logoutAll(in("/logout-all", f.proof(t, f.other, "/logout-all", "")))
	wantCode(t, err, auth.InvalidGrant)
	_, err = logoutAll(in("/logout-all", f.proof(t, f.key, "/refresh", "")))
	wantCode(t, err, auth.InvalidDPoPProof)

	n, err := logoutAll(in("/logout-all", f.proof(t, f.key, "/logout-all", "")))
	if err != nil || n != 1 {
		t.Fatalf("LogoutAll with the key: %d, %v; want 1 session ended", n, err)
	}
}
