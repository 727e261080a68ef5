package verifier_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify compares Verify of a token whose key is known with a bare
// golang-jwt parse of the same token with the same key (MapClaims, the
// algorithm pinned, exp checked): the price of the package's strictness,
// claims and revocation check over the signature check every verifier
// pays. It fails if Verify fetched anything (docs/performance.md).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "HS256"} {
		f := newFake(b, alg)
		cfg := f.config()
		cfg.Now = nil
		v := mustVerifier(b, cfg)
		f.clock.Set(f.clock.Now()) // tokens issued now by the wall clock
		tok := f.token(b, "bench-jti", "read write")
		key := any(f.cfg.Secret)
		if alg != "HS256" {
			key = f.cfg.PrivateKey.Public()
		}
		before := f.jwksFetches.Load()
		b.Run(alg+"/verifier", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		if n := f.jwksFetches.Load() - before; n != 0 {
			b.Fatalf("Verify fetched the JWKS %d times", n)
		}
		b.Run(alg+"/golang-jwt", func(b *testing.B) {
			p := jwt.NewParser(jwt.WithValidMethods([]string{alg}))
			kf := func(*jwt.Token) (any, error) { return key, nil }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ParseWithClaims(tok, jwt.MapClaims{}, kf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
