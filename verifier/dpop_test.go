package verifier_test

import (
	"crypto/elliptic"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/verifier"
)

// boundToken mints an access token bound to the key of s (cnf.jkt).
func (f *fakeAuthsvc) boundToken(t testing.TB, s *dpop.Signer) string {
	t.Helper()
	now := f.clock.Now()
	tok, err := f.iss.SignAccess(issuer.AccessClaims{ID: "bound-" + s.JKT()[:8], Subject: "alice", ClientID: "mobile",
		Scope: "read", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), JKT: s.JKT()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustDPoPSigner(t testing.TB, f *fakeAuthsvc) *dpop.Signer {
	t.Helper()
	s, err := dpop.NewSigner(testkit.MustECDSA(t, elliptic.P256()), "ES256", f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopRequest is a request to url with the token as DPoP and each proof
// in a DPoP header.
func dpopRequest(method, url, scheme, token string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, url, nil)
	r.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func TestVerifyRequest_DPoP(t *testing.T) {
	f := newFake(t, "ES256")
	v := mustVerifier(t, f.config())
	key, other := mustDPoPSigner(t, f), mustDPoPSigner(t, f)
	tok := f.boundToken(t, key)
	unbound := f.token(t, "plain", "read")
	const u = "http://api.test/orders"
	proof := func(s *dpop.Signer, method, url, token string) string {
		p, err := s.Proof(method, url, dpop.ProofOptions{AccessToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	// The accepted case, with the query ignored.
	c, err := v.VerifyRequest(dpopRequest(http.MethodGet, u+"?page=2", "DPoP", tok, proof(key, http.MethodGet, u, tok)))
	if err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
	if c.JKT != key.JKT() || c.Subject != "alice" {
		t.Errorf("claims: JKT %q, sub %q; want %q, alice", c.JKT, c.Subject, key.JKT())
	}

	replayed := proof(key, http.MethodGet, u, tok)
	if _, err := v.VerifyRequest(dpopRequest(http.MethodGet, u, "DPoP", tok, replayed)); err != nil {
		t.Fatalf("first use of a proof: %v", err)
	}
	tests := []struct {
		name string
		r    *http.Request
		want error
	}{
		{"bound token as Bearer", dpopRequest(http.MethodGet, u, "Bearer", tok, proof(key, http.MethodGet, u, tok)), verifier.ErrDPoPBound},
		{"no proof", dpopRequest(http.MethodGet, u, "DPoP", tok), verifier.ErrInvalidDPoPProof},
		{"two proofs", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(key, http.MethodGet, u, tok), proof(key, http.MethodGet, u, tok)), verifier.ErrInvalidDPoPProof},
		{"proof by another key", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(other, http.MethodGet, u, tok)), verifier.ErrInvalidDPoPProof},
		{"proof for another method", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(key, http.MethodPost, u, tok)), verifier.ErrInvalidDPoPProof},
		{"proof for another URL", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(key, http.MethodGet, "http://api.test/admin", tok)), verifier.ErrInvalidDPoPProof},
		{"proof for another token", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(key, http.MethodGet, u, unbound)), verifier.ErrInvalidDPoPProof},
		{"proof without ath", dpopRequest(http.MethodGet, u, "DPoP", tok, proof(key, http.MethodGet, u, "")), verifier.ErrInvalidDPoPProof},
		{"replayed proof", dpopRequest(http.MethodGet, u, "DPoP", tok, replayed), verifier.ErrInvalidDPoPProof},
		{"unbound token with the DPoP scheme", dpopRequest(http.MethodGet, u, "DPoP", unbound, proof(key, http.MethodGet, u, unbound)), verifier.ErrInvalidToken},
		{"forged token", dpopRequest(http.MethodGet, u, "DPoP", tok+"x", proof(key, http.MethodGet, u, tok+"x")), verifier.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.VerifyRequest(tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyRequest: %v, want %v", err, tt.want)
			}
			if tt.want == verifier.ErrInvalidToken && errors.Is(err, verifier.ErrInvalidDPoPProof) { //nolint:errorlint // which sentinel the table names, not a returned error
				t.Errorf("VerifyRequest: %v blames the proof, want the token", err)
			}
		})
	}

	// A proof too old is refused whatever the cache remembers.
	old := proof(key, http.MethodGet, u, tok)
	f.clock.Advance(2 * time.Minute)
	if _, err := v.VerifyRequest(dpopRequest(http.MethodGet, u, "DPoP", tok, old)); !errors.Is(err, verifier.ErrInvalidDPoPProof) {
		t.Errorf("a proof of two minutes ago: %v, want ErrInvalidDPoPProof", err)
	}
}

// TestVerifyRequest_DPoPPublicURL: behind a proxy the proof names the public
// URL, not the address the request arrived at.
func TestVerifyRequest_DPoPPublicURL(t *testing.T) {
	f := newFake(t, "HS256")
	cfg := f.config()
	cfg.PublicURL = "https://api.example.com/"
	v := mustVerifier(t, cfg)
	key := mustDPoPSigner(t, f)
	tok := f.boundToken(t, key)
	for _, tt := range []struct {
		htu  string
		want bool
	}{
		{"https://api.example.com/orders", true},
		{"http://10.0.0.7:8080/orders", false},
	} {
		p, err := key.Proof(http.MethodGet, tt.htu, dpop.ProofOptions{AccessToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.VerifyRequest(dpopRequest(http.MethodGet, "http://10.0.0.7:8080/orders", "DPoP", tok, p))
		if (err == nil) != tt.want {
			t.Errorf("htu %s: %v, want accepted %v", tt.htu, err, tt.want)
		}
	}
}

// TestMiddleware_DPoPChallenges checks the RFC 9449 §7.1 answers.
func TestMiddleware_DPoPChallenges(t *testing.T) {
	f := newFake(t, "HS256")
	cfg := f.config()
	cfg.DPoPSigningAlgs = []string{"ES256", "EdDSA"}
	v := mustVerifier(t, cfg)
	key := mustDPoPSigner(t, f)
	tok := f.boundToken(t, key)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.FromContext(r.Context())
		_, _ = w.Write([]byte(c.JKT))
	}))
	const u = "http://api.test/orders"
	good, _ := key.Proof(http.MethodGet, u, dpop.ProofOptions{AccessToken: tok})
	tests := []struct {
		name      string
		r         *http.Request
		status    int
		challenge string
	}{
		{"valid", dpopRequest(http.MethodGet, u, "DPoP", tok, good), http.StatusOK, ""},
		{"no proof", dpopRequest(http.MethodGet, u, "DPoP", tok), http.StatusUnauthorized, `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"`},
		{"forged token", dpopRequest(http.MethodGet, u, "DPoP", tok+"x", good), http.StatusUnauthorized, `DPoP error="invalid_token", algs="ES256 EdDSA"`},
		{"bound token as Bearer", dpopRequest(http.MethodGet, u, "Bearer", tok), http.StatusUnauthorized, `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.r)
			if w.Code != tt.status || w.Header().Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("got %d %q, want %d %q (%s)", w.Code, w.Header().Get("WWW-Authenticate"), tt.status, tt.challenge, w.Body)
			}
			if tt.status == http.StatusOK && w.Body.String() != key.JKT() {
				t.Errorf("claims in the context: JKT %q, want %q", w.Body, key.JKT())
			}
		})
	}
}
