package issuer_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/authsvc/authsvc/internal/issuer"
)

// FuzzVerify presents arbitrary strings as tokens to the one verification
// path, for an HMAC and an asymmetric configuration: nothing may panic and
// nothing may verify, as access or as refresh token. The seed corpus in
// testdata/fuzz holds forged shapes: alg none, algorithm confusion, kid
// injection, jku/x5u/jwk headers, huge and truncated tokens.
func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	var issuers []*issuer.Issuer
	for _, cfg := range []issuer.Config{
		{Algorithm: "HS256", Secret: mustSecret(f, 32)},
		{Algorithm: "EdDSA", Secret: mustSecret(f, 32), PrivateKey: edKey},
	} {
		cfg.Issuer, cfg.Audience = testIssuer, []string{testAud}
		iss, err := issuer.New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		issuers = append(issuers, iss)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, iss := range issuers {
			if _, err := iss.VerifyAccess(token); !errors.Is(err, issuer.ErrInvalidToken) {
				t.Fatalf("%s VerifyAccess: err = %v, want ErrInvalidToken", iss.Algorithm(), err)
			}
			if _, err := iss.VerifyRefresh(token); !errors.Is(err, issuer.ErrInvalidToken) {
				t.Fatalf("%s VerifyRefresh: err = %v, want ErrInvalidToken", iss.Algorithm(), err)
			}
		}
	})
}
