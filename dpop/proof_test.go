package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	testURL   = "https://auth.example.com/token"
	testToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
)

var (
	t0      = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	keyOnce sync.Once
	ecKey   *ecdsa.PrivateKey
	ec384   *ecdsa.PrivateKey
	edKey   ed25519.PrivateKey
	rsaKey  *rsa.PrivateKey
	rsa1024 *rsa.PrivateKey
)

// keys generates the test keys once per test binary.
func keys(tb testing.TB) {
	tb.Helper()
	keyOnce.Do(func() {
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ec384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsa1024, _ = rsa.GenerateKey(rand.Reader, 1024)
	})
}

// publicJWK and rawProof are the shared forgers of testkit.
var (
	publicJWK = testkit.PublicJWK
	rawProof  = testkit.ForgeDPoPProof
)

func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{"jti": "id-1", "htm": "POST", "htu": testURL, "iat": t0.Unix()}
}

func newChecker(tb testing.TB, o dpop.Options) *dpop.Checker {
	tb.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return t0 }
	}
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	c, err := dpop.NewChecker(o)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCheck_Accepts(t *testing.T) {
	keys(t)
	tests := []struct {
		name   string
		method jwt.SigningMethod
		key    crypto.Signer
		url    string // htu in the proof; testURL when empty
	}{
		{name: "ES256", method: jwt.SigningMethodES256, key: ecKey},
		{name: "EdDSA", method: jwt.SigningMethodEdDSA, key: edKey},
		{name: "RS256", method: jwt.SigningMethodRS256, key: rsaKey},
		{name: "PS256", method: jwt.SigningMethodPS256, key: rsaKey},
		{name: "htu with query and fragment", method: jwt.SigningMethodES256, key: ecKey, url: testURL + "?a=b#frag"},
		{name: "htu with other case and default port", method: jwt.SigningMethodES256, key: ecKey, url: "HTTPS://Auth.Example.COM:443/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := goodClaims()
			if tt.url != "" {
				cl["htu"] = tt.url
			}
			proof := rawProof(t, tt.method, tt.key, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, tt.key.Public())}, cl)
			p, err := newChecker(t, dpop.Options{}).Check(proof, dpop.Request{Method: "POST", URL: testURL})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			sum, _ := (&jose.JSONWebKey{Key: tt.key.Public()}).Thumbprint(crypto.SHA256)
			if want := base64.RawURLEncoding.EncodeToString(sum); p.JKT != want {
				t.Errorf("JKT = %q, want %q", p.JKT, want)
			}
			if p.ID != "id-1" || !p.IssuedAt.Equal(t0) {
				t.Errorf("ID, IssuedAt = %q, %v", p.ID, p.IssuedAt)
			}
			if want := t0.Add(90 * time.Second); !p.ReplayUntil.Equal(want) {
				t.Errorf("ReplayUntil = %v, want %v (iat + lifetime + leeway)", p.ReplayUntil, want)
			}
		})
	}
}

// TestCheck_Rejects has one row per rule of RFC 9449 §4.3 the Checker
// enforces.
func TestCheck_Rejects(t *testing.T) {
	keys(t)
	jwkOf := func(k crypto.Signer) map[string]any { return publicJWK(t, k.Public()) }
	withPrivate := func(member string) map[string]any {
		m := jwkOf(ecKey)
		m[member] = "AAAA"
		return m
	}
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := goodClaims()
		edit(c)
		return c
	}
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "jwk": jwkOf(ecKey)}
		edit(h)
		return h
	}
	es := jwt.SigningMethodES256
	tests := []struct {
		name    string
		proof   func() string
		req     dpop.Request // Method POST, URL testURL when empty
		opts    dpop.Options
		wantMsg string
	}{
		{name: "empty", proof: func() string { return "" }, wantMsg: "empty"},
		{name: "not a JWS", proof: func() string { return "not.a.jws" }, wantMsg: "well-formed"},
		{name: "too large", proof: func() string { return strings.Repeat("a", dpop.MaxProofBytes+1) }, wantMsg: "too large"},
		{name: "typ missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["typ"] = nil }), goodClaims())
		}, wantMsg: "typ"},
		{name: "typ JWT", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["typ"] = "JWT" }), goodClaims())
		}, wantMsg: "typ"},
		{name: "alg HS256", proof: func() string {
			return rawProof(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), hdr(func(map[string]any) {}), goodClaims())
		}, wantMsg: "alg"},
		{name: "alg none", proof: func() string {
			return rawProof(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr(func(map[string]any) {}), goodClaims())
		}, wantMsg: "alg"},
		{name: "alg not configured", proof: func() string {
			return rawProof(t, jwt.SigningMethodRS256, rsaKey, map[string]any{"typ": "dpop+jwt", "jwk": jwkOf(rsaKey)}, goodClaims())
		}, opts: dpop.Options{Algs: []string{"ES256"}}, wantMsg: "alg"},
		{name: "jwk missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = nil }), goodClaims())
		}, wantMsg: "jwk"},
		{name: "jwk not an object", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = "key" }), goodClaims())
		}, wantMsg: "jwk"},
		{name: "jwk with d", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = withPrivate("d") }), goodClaims())
		}, wantMsg: "private"},
		{name: "jwk symmetric", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "AAAA"} }), goodClaims())
		}, wantMsg: "private"},
		{name: "jwk garbage", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"} }), goodClaims())
		}, wantMsg: "valid public key"},
		{name: "jwk of another key", proof: func() string {
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return rawProof(t, es, ecKey, hdr(func(h map[string]any) { h["jwk"] = jwkOf(other) }), goodClaims())
		}, wantMsg: "alg"},
		{name: "jwk type does not fit alg", proof: func() string {
			return rawProof(t, jwt.SigningMethodEdDSA, edKey, hdr(func(h map[string]any) { h["jwk"] = jwkOf(ecKey) }), goodClaims())
		}, wantMsg: "does not fit"},
		{name: "ES256 with a P-384 key", proof: func() string {
			return rawProof(t, jwt.SigningMethodES384, ec384, hdr(func(h map[string]any) { h["alg"] = "ES256"; h["jwk"] = jwkOf(ec384) }), goodClaims())
		}, wantMsg: "does not fit"},
		{name: "RSA under 2048 bits", proof: func() string {
			return rawProof(t, jwt.SigningMethodRS256, rsa1024, hdr(func(h map[string]any) { h["jwk"] = jwkOf(rsa1024) }), goodClaims())
		}, wantMsg: "2048"},
		{name: "bad signature", proof: func() string {
			p := rawProof(t, es, ecKey, hdr(func(map[string]any) {}), goodClaims())
			other := rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["jti"] = "id-2" }))
			return p[:strings.LastIndex(p, ".")] + other[strings.LastIndex(other, "."):]
		}, wantMsg: "signature"},
		{name: "jti missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { delete(c, "jti") }))
		}, wantMsg: "jti"},
		{name: "jti too long", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["jti"] = strings.Repeat("x", 129) }))
		}, wantMsg: "jti"},
		{name: "jti not a string", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["jti"] = 7 }))
		}, wantMsg: "well-formed"},
		{name: "iat missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { delete(c, "iat") }))
		}, wantMsg: "iat"},
		{name: "iat too far ahead", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["iat"] = t0.Add(31 * time.Second).Unix() }))
		}, wantMsg: "future"},
		{name: "iat too old", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["iat"] = t0.Add(-91 * time.Second).Unix() }))
		}, wantMsg: "too old"},
		{name: "expired exp", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Hour).Unix() }))
		}, wantMsg: "exp"},
		{name: "htm missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { delete(c, "htm") }))
		}, wantMsg: "htm"},
		{name: "htm GET", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htm"] = "GET" }))
		}, wantMsg: "htm"},
		{name: "htm lower case", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htm"] = "post" }))
		}, wantMsg: "htm"},
		{name: "htu missing", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { delete(c, "htu") }))
		}, wantMsg: "htu"},
		{name: "htu other path", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htu"] = "https://auth.example.com/refresh" }))
		}, wantMsg: "htu"},
		{name: "htu other host", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htu"] = "https://evil.example.com/token" }))
		}, wantMsg: "htu"},
		{name: "htu other scheme", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htu"] = "http://auth.example.com/token" }))
		}, wantMsg: "htu"},
		{name: "htu relative", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["htu"] = "/token" }))
		}, wantMsg: "htu"},
		{name: "ath missing with a token", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), goodClaims())
		}, req: dpop.Request{AccessToken: testToken}, wantMsg: "ath"},
		{name: "ath of another token", proof: func() string {
			return rawProof(t, es, ecKey, hdr(func(map[string]any) {}), claims(func(c jwt.MapClaims) { c["ath"] = dpop.TokenHash("other") }))
		}, req: dpop.Request{AccessToken: testToken}, wantMsg: "ath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if req.Method == "" {
				req.Method = "POST"
			}
			if req.URL == "" {
				req.URL = testURL
			}
			_, err := newChecker(t, tt.opts).Check(tt.proof(), req)
			if !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("Check error = %v, want ErrInvalidProof", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Check error = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestCheck_ATHMatches(t *testing.T) {
	keys(t)
	cl := goodClaims()
	cl["ath"] = dpop.TokenHash(testToken)
	proof := rawProof(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, ecKey.Public())}, cl)
	if _, err := newChecker(t, dpop.Options{}).Check(proof, dpop.Request{Method: "POST", URL: testURL, AccessToken: testToken}); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheck_WindowEdges(t *testing.T) {
	keys(t)
	tests := []struct {
		iat  time.Time
		want bool
	}{
		{iat: t0.Add(30 * time.Second), want: true},
		{iat: t0.Add(31 * time.Second), want: false},
		{iat: t0.Add(-90 * time.Second), want: true},
		{iat: t0.Add(-91 * time.Second), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.iat.Sub(t0).String(), func(t *testing.T) {
			cl := goodClaims()
			cl["iat"] = tt.iat.Unix()
			proof := rawProof(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, ecKey.Public())}, cl)
			_, err := newChecker(t, dpop.Options{}).Check(proof, dpop.Request{Method: "POST", URL: testURL})
			if (err == nil) != tt.want {
				t.Errorf("Check error = %v, want accepted %v", err, tt.want)
			}
		})
	}
}

func TestNewChecker_RefusesBadOptions(t *testing.T) {
	for _, o := range []dpop.Options{
		{Algs: []string{"HS256"}},
		{Algs: []string{"none"}},
		{Algs: []string{}},
		{Leeway: -time.Second},
	} {
		if _, err := dpop.NewChecker(o); err == nil {
			t.Errorf("NewChecker(%+v) succeeded", o)
		}
	}
}

func TestSigner_ProofsPassCheck(t *testing.T) {
	keys(t)
	for _, tt := range []struct {
		alg string
		key crypto.Signer
	}{{"ES256", ecKey}, {"EdDSA", edKey}, {"RS256", rsaKey}, {"PS256", rsaKey}} {
		t.Run(tt.alg, func(t *testing.T) {
			s, err := dpop.NewSigner(tt.key, tt.alg, func() time.Time { return t0 })
			if err != nil {
				t.Fatal(err)
			}
			proof, err := s.Proof("GET", "https://api.example.com/items?x=1", dpop.ProofOptions{AccessToken: testToken, Nonce: "n-1"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := newChecker(t, dpop.Options{}).Check(proof, dpop.Request{Method: "GET", URL: "https://api.example.com/items", AccessToken: testToken})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if p.JKT != s.JKT() || p.Nonce != "n-1" {
				t.Errorf("JKT, Nonce = %q, %q; want %q, n-1", p.JKT, p.Nonce, s.JKT())
			}
		})
	}
}

func TestNewSigner_RefusesMismatchedKey(t *testing.T) {
	keys(t)
	if _, err := dpop.NewSigner(ecKey, "EdDSA", nil); err == nil {
		t.Error("NewSigner(EC key, EdDSA) succeeded")
	}
	if _, err := dpop.NewSigner(ecKey, "HS256", nil); err == nil {
		t.Error("NewSigner(HS256) succeeded")
	}
}

// TestSigner_JKTIsRFC7638 checks the thumbprint against one built by hand
// as RFC 7638 §3 says: the required members in lexicographic order, no
// whitespace, SHA-256, base64url.
func TestSigner_JKTIsRFC7638(t *testing.T) {
	keys(t)
	b64 := base64.RawURLEncoding.EncodeToString
	pt, err := ecKey.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	input := `{"crv":"P-256","kty":"EC","x":"` + b64(pt[1:33]) + `","y":"` + b64(pt[33:]) + `"}`
	sum := sha256.Sum256([]byte(input))
	s, err := dpop.NewSigner(ecKey, "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.JKT(), b64(sum[:]); got != want {
		t.Errorf("JKT = %s, want %s", got, want)
	}
	edInput := `{"crv":"Ed25519","kty":"OKP","x":"` + b64(edKey.Public().(ed25519.PublicKey)) + `"}`
	edSum := sha256.Sum256([]byte(edInput))
	es, err := dpop.NewSigner(edKey, "EdDSA", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := es.JKT(), b64(edSum[:]); got != want {
		t.Errorf("Ed25519 JKT = %s, want %s", got, want)
	}
}
