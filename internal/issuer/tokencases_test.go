package issuer_test

import (
	"errors"
	"testing"

	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/tokentest"
)

// TestVerifyAccess_SharedTokenCases runs the token cases that the public
// verifier package runs too (verifier's TestVerify_SharedTokenCases), so
// both accept exactly the same tokens.
func TestVerifyAccess_SharedTokenCases(t *testing.T) {
	for _, alg := range []string{"HS256", "ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			tmpl := tokentest.Template{Token: f.signAccess(t, f.accessClaims()), Key: f.accessKey(), Now: f.clock.Now()}
			cases := tokentest.Cases(t, tmpl)
			cases = append(cases, tokentest.Case{Name: "refresh token", Token: f.signRefresh(t, f.refreshClaims())})
			for _, c := range cases {
				_, err := f.iss.VerifyAccess(c.Token)
				switch {
				case c.Accept && err != nil:
					t.Errorf("%s: refused: %v", c.Name, err)
				case !c.Accept && err == nil:
					t.Errorf("%s: accepted", c.Name)
				case !c.Accept && !errors.Is(err, issuer.ErrInvalidToken):
					t.Errorf("%s: error %v does not wrap ErrInvalidToken", c.Name, err)
				case !c.Accept && c.Expired != errors.Is(err, issuer.ErrExpired):
					t.Errorf("%s: errors.Is(err, ErrExpired) = %v, want %v (%v)", c.Name, !c.Expired, c.Expired, err)
				}
			}
		})
	}
}
