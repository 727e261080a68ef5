package testkit

import (
	"crypto"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// PublicJWK returns the members of key's public JWK, as a DPoP proof's jwk
// header carries them.
func PublicJWK(tb testing.TB, key crypto.PublicKey) map[string]any {
	tb.Helper()
	return jwkMembers(tb, key)
}

// ForgeDPoPProof signs a DPoP proof with any header and claims, free to
// break every rule of RFC 9449: header members are set over golang-jwt's
// (alg, typ), and a nil value deletes one.
func ForgeDPoPProof(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

// PrivateJWK returns the members of key's private JWK: what a proof's jwk
// header must never carry.
func PrivateJWK(tb testing.TB, key crypto.Signer) map[string]any {
	tb.Helper()
	return jwkMembers(tb, key)
}

// jwkMembers returns the members of key's JWK.
func jwkMembers(tb testing.TB, key any) map[string]any {
	tb.Helper()
	raw, err := (&jose.JSONWebKey{Key: key}).MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}
