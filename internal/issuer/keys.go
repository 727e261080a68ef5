package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

const (
	// refreshKeyInfo is the HKDF info string of the derived refresh key.
	refreshKeyInfo = "authsvc refresh-token key v1"
	// refreshKeyLen is the length of the derived refresh key in bytes.
	refreshKeyLen = 32
	// hmacKIDLabel is the message MACed with an HMAC key to name it.
	hmacKIDLabel = "authsvc kid v1"
	// hmacKIDLen is the length of an HMAC kid in base64url characters (96 bits).
	hmacKIDLen = 16
)

// deriveRefreshKey derives the refresh-token key from an access secret with
// HKDF-SHA256 (RFC 5869), no salt, info "authsvc refresh-token key v1".
func deriveRefreshKey(secret []byte) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, secret, nil, refreshKeyInfo, refreshKeyLen)
	if err != nil {
		return nil, fmt.Errorf("derive refresh key: %w", err)
	}
	return k, nil
}

// hmacKID names an HMAC key: the first 16 characters of
// base64url(HMAC-SHA256(key, "authsvc kid v1")). Being keyed, it does not let
// anyone test guesses of the key offline the way sha256(key) would.
func hmacKID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(hmacKIDLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:hmacKIDLen]
}

// jwk is one entry of the JWKS (RFC 7517 §4, RFC 7518 §6).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// newJWK describes pub, already checked by verificationKey, as a JWK for alg,
// with its RFC 7638 thumbprint as kid.
func newJWK(alg string, pub crypto.PublicKey) (jwk, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	k := jwk{Use: "sig", Alg: alg}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Kty = "RSA"
		k.N = b64(p.N.Bytes())
		k.E = b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		// Uncompressed point 0x04 || X || Y, coordinates already padded to
		// the field size as RFC 7518 §6.2.1.2 requires.
		pt, err := p.Bytes()
		if err != nil || len(pt) != 65 {
			return jwk{}, errors.New("invalid ECDSA P-256 public key")
		}
		k.Kty, k.Crv = "EC", "P-256"
		k.X, k.Y = b64(pt[1:33]), b64(pt[33:])
	case ed25519.PublicKey:
		k.Kty, k.Crv = "OKP", "Ed25519"
		k.X = b64(p)
	default:
		return jwk{}, errors.New("unsupported public key type")
	}
	k.Kid = thumbprint(k)
	return k, nil
}

// thumbprint computes the RFC 7638 JWK thumbprint of k: base64url of the
// SHA-256 of the required members in lexicographic order, without
// whitespace. All member values are base64url strings or fixed names, which
// need no JSON escaping.
func thumbprint(k jwk) string {
	var s string
	switch k.Kty {
	case "RSA":
		s = `{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`
	case "EC":
		s = `{"crv":"` + k.Crv + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`
	case "OKP":
		s = `{"crv":"` + k.Crv + `","kty":"OKP","x":"` + k.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// marshalJWKS encodes keys as {"keys":[…]}; no keys give {"keys":[]}.
func marshalJWKS(keys []jwk) ([]byte, error) {
	if keys == nil {
		keys = []jwk{}
	}
	return json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
}
