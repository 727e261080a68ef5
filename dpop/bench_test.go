package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/authsvc/authsvc/dpop"
)

// BenchmarkCheck is the server's cost of one ES256 proof: parse, key,
// thumbprint, signature, claims.
func BenchmarkCheck(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpop.NewSigner(key, "ES256", nil)
	proof, _ := s.Proof(http.MethodPost, "https://auth.example.com/refresh", dpop.ProofOptions{})
	c, _ := dpop.NewChecker(dpop.Options{})
	req := dpop.Request{Method: http.MethodPost, URL: "https://auth.example.com/refresh"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Check(proof, req); err != nil {
			b.Fatal(err)
		}
	}
}
