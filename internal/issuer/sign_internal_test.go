package issuer

import (
	"crypto/elliptic"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/testkit"
)

// TestSign_MatchesGolangJWT holds the precomputed signing path to golang-jwt's
// own: for the deterministic algorithms the token is byte-for-byte what
// jwt.Token.SignedString gives for the same header, claims and key; for
// ES256 golang-jwt's parser accepts it. HMAC states reused from the pool
// give the same signature every time, also under concurrent use.
func TestSign_MatchesGolangJWT(t *testing.T) {
	claims := &accessJWT{Issuer: "https://auth.test", Subject: "alice <&>", Audience: audience{"api"},
		ExpiresAt: 2000000000, IssuedAt: 1900000000, NotBefore: 1900000000, ID: "jti-1", Type: typeAccess, Scope: "read write"}
	hmacKey := []byte("0123456789abcdef0123456789abcdef")
	cur, _ := hmacEntries(hmacKey, nil, typAccess)
	entries := map[string]keyEntry{"HS256": cur}
	for _, alg := range []string{"RS256", "EdDSA", "ES256"} {
		var key = testkit.MustSigner(t, alg)
		if alg == "ES256" {
			key = testkit.MustECDSA(t, elliptic.P256())
		}
		e, err := newAsymmetricEntry(alg, key, typAccess)
		if err != nil {
			t.Fatal(err)
		}
		entries[alg] = e
	}
	for alg, e := range entries {
		t.Run(alg, func(t *testing.T) {
			got, err := e.signer.sign(claims)
			if err != nil {
				t.Fatal(err)
			}
			method := jwt.GetSigningMethod(alg)
			want, err := (&jwt.Token{Header: e.header, Claims: claims, Method: method}).SignedString(e.signKey)
			if err != nil {
				t.Fatal(err)
			}
			if alg == "ES256" {
				if _, err := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation()).Parse(got, func(*jwt.Token) (any, error) { return e.verifyKey, nil }); err != nil {
					t.Fatalf("golang-jwt rejects the ES256 token: %v", err)
				}
				return
			}
			if got != want {
				t.Fatalf("token differs from golang-jwt's:\n got  %s\n want %s", got, want)
			}
			if alg != "HS256" {
				return
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 50 {
						if again, err := e.signer.sign(claims); err != nil || again != want {
							t.Errorf("pooled HMAC state gave %q, %v", again, err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestHMACMethod_RefusesAnotherKey checks that a bound HMAC method never
// signs with a key it was not built for.
func TestHMACMethod_RefusesAnotherKey(t *testing.T) {
	m := newHMACMethod([]byte("0123456789abcdef0123456789abcdef"))
	if _, err := m.Sign("x.y", []byte("another-key-another-key-another-k")); err == nil {
		t.Fatal("signed with another key")
	}
}
