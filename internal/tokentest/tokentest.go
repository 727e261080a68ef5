// Package tokentest holds the one suite of access-token cases that every
// verifier of authsvc's access tokens must judge alike: authsvc's own
// (internal/issuer) and the public verifier package. Each case is a token
// made from a genuine one and whether it must be accepted: forgeries,
// expiry, wrong typ, iss, aud or type, alg none, algorithm confusion,
// unknown or missing kid, header parameters that would fetch or embed keys.
//
//	for _, c := range tokentest.Cases(t, tokentest.Template{Token: good, Key: key, Now: now}) {
//		_, err := verify(c.Token)
//		if (err == nil) != c.Accept { ... }
//	}
package tokentest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Template is a genuine access token and what made it.
type Template struct {
	// Token is a valid access token, issued at Now, expiring at least a
	// minute later, with the verifier's leeway at most 30 seconds and
	// at least 10.
	Token string
	// Key is the key that signed it: []byte for HS256, a crypto.Signer
	// otherwise.
	Key any
	// Now is the verifier's clock.
	Now time.Time
}

// Case is one token to verify.
type Case struct {
	Name   string
	Token  string
	Accept bool
	// Expired says the only fault is the token's age.
	Expired bool
}

// Cases returns the suite's cases built from tmpl.
func Cases(tb testing.TB, tmpl Template) []Case {
	tb.Helper()
	header, claims := decode(tb, tmpl.Token)
	alg, _ := header["alg"].(string)
	now := tmpl.Now.Unix()

	// edit returns a token with the header and claims edited, signed with
	// the genuine key.
	edit := func(h func(map[string]any), c func(map[string]any)) string {
		hh, cc := clone(header), clone(claims)
		if h != nil {
			h(hh)
		}
		if c != nil {
			c(cc)
		}
		return sign(tb, hh, cc, jwt.GetSigningMethod(alg), tmpl.Key)
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }

	cases := []Case{
		{Name: "genuine", Token: tmpl.Token, Accept: true},
		{Name: "re-signed unchanged", Token: edit(nil, nil), Accept: true},
		{Name: "typ with application/ prefix", Token: edit(set("typ", "application/at+jwt"), nil), Accept: true},
		{Name: "expired within the leeway", Token: edit(nil, set("exp", now-5)), Accept: true},
		{Name: "expired beyond the leeway", Token: edit(nil, set("exp", now-3600)), Expired: true},
		{Name: "typ JWT", Token: edit(set("typ", "JWT"), nil)},
		{Name: "typ missing", Token: edit(del("typ"), nil)},
		{Name: "typ of a refresh token", Token: edit(set("typ", "rt+jwt"), nil)},
		{Name: "wrong iss", Token: edit(nil, set("iss", "https://evil.example"))},
		{Name: "iss missing", Token: edit(nil, del("iss"))},
		{Name: "wrong aud", Token: edit(nil, set("aud", "another-api"))},
		{Name: "aud missing", Token: edit(nil, del("aud"))},
		{Name: "type refresh", Token: edit(nil, set("type", "refresh"))},
		{Name: "type missing", Token: edit(nil, del("type"))},
		{Name: "exp missing", Token: edit(nil, del("exp"))},
		{Name: "nbf in the future", Token: edit(nil, set("nbf", now+3600))},
		{Name: "iat in the future", Token: edit(nil, set("iat", now+3600))},
		{Name: "jti missing", Token: edit(nil, del("jti"))},
		{Name: "sub missing", Token: edit(nil, del("sub"))},
		{Name: "kid missing", Token: edit(del("kid"), nil)},
		{Name: "unknown kid", Token: edit(set("kid", "no-such-key"), nil)},
		{Name: "jku header", Token: edit(set("jku", "https://evil.example/jwks"), nil)},
		{Name: "x5u header", Token: edit(set("x5u", "https://evil.example/cert"), nil)},
		{Name: "crit header", Token: edit(set("crit", []string{"exp"}), nil)},
		{Name: "payload tampered", Token: tamper(tmpl.Token)},
		{Name: "signature stripped", Token: strings.Join(strings.Split(tmpl.Token, ".")[:2], ".") + "."},
		{Name: "not a JWS", Token: "not.a.token"},
		{Name: "empty", Token: ""},
		{Name: "alg none", Token: unsigned(header, claims, "none")},
		{Name: "alg NONE", Token: unsigned(header, claims, "NONE")},
	}

	// Forgeries with keys an attacker holds, under the genuine kid.
	forged := func(name string, m jwt.SigningMethod, key any, h func(map[string]any)) Case {
		hh := clone(header)
		hh["alg"] = m.Alg()
		if h != nil {
			h(hh)
		}
		return Case{Name: name, Token: sign(tb, hh, clone(claims), m, key)}
	}
	attackerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, attackerEd, _ := ed25519.GenerateKey(rand.Reader)
	cases = append(cases,
		forged("forged with another HMAC key", jwt.SigningMethodHS256, []byte("attacker-secret-0123456789-abcdefgh"), nil),
		forged("forged with another EC key", jwt.SigningMethodES256, attackerEC, nil),
		forged("forged with another RSA key", jwt.SigningMethodRS256, attackerRSA, nil),
		forged("forged with another Ed25519 key", jwt.SigningMethodEdDSA, attackerEd, nil),
		forged("HS384 with the genuine HMAC key", jwt.SigningMethodHS384, hmacOr(tmpl.Key, []byte("x-0123456789-0123456789-0123456789")), nil),
	)
	if signer, ok := tmpl.Key.(crypto.Signer); ok {
		// Algorithm confusion (RFC 8725 §2.1): HMAC keyed with the public
		// key, the way a verifier that trusts alg would check it.
		der, err := x509.MarshalPKIXPublicKey(signer.Public())
		if err != nil {
			tb.Fatal(err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		cases = append(cases,
			forged("algorithm confusion: HS256 keyed with the public key (PEM)", jwt.SigningMethodHS256, pemKey, nil),
			forged("algorithm confusion: HS256 keyed with the public key (DER)", jwt.SigningMethodHS256, der, nil),
			forged("embedded jwk header", jwt.GetSigningMethod(alg), attackerKeyOfType(signer, attackerEC, attackerRSA, attackerEd),
				set("jwk", map[string]any{"kty": "EC", "crv": "P-256", "x": b64(attackerEC.X.Bytes()), "y": b64(attackerEC.Y.Bytes())})),
		)
	}
	return cases
}

// hmacOr returns k when it is an HMAC key, else alt.
func hmacOr(k any, alt []byte) any {
	if b, ok := k.([]byte); ok {
		return b
	}
	return alt
}

// attackerKeyOfType returns the attacker's key of the genuine key's type.
func attackerKeyOfType(genuine crypto.Signer, ec *ecdsa.PrivateKey, r *rsa.PrivateKey, ed ed25519.PrivateKey) any {
	switch genuine.(type) {
	case *rsa.PrivateKey:
		return r
	case ed25519.PrivateKey:
		return ed
	}
	return ec
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decode splits a JWS into its header and claims, unverified.
func decode(tb testing.TB, token string) (map[string]any, map[string]any) {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("tokentest: template is not a compact JWS")
	}
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatal(err)
		}
	}
	return h, c
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sign signs claims under header with method and key.
func sign(tb testing.TB, header, claims map[string]any, m jwt.SigningMethod, key any) string {
	tb.Helper()
	t := jwt.Token{Header: header, Claims: jwt.MapClaims(claims), Method: m}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("tokentest: sign with %s: %v", m.Alg(), err)
	}
	return s
}

// unsigned returns the token with alg set to alg and no signature.
func unsigned(header, claims map[string]any, alg string) string {
	h := clone(header)
	h["alg"] = alg
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	return b64(hb) + "." + b64(cb) + "."
}

// tamper changes the payload of token and keeps its signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	c["sub"] = "mallory"
	cb, _ := json.Marshal(c)
	return parts[0] + "." + b64(cb) + "." + parts[2]
}
