package issuer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// Signing is on the hot path of every token response, so a key entry keeps
// what golang-jwt would otherwise recompute on every call: the encoded
// header segment, and for HMAC keys a pool of keyed hash states. Tokens stay
// byte-for-byte what jwt.Token.SignedString gives for the same header,
// claims and key (TestSign_MatchesGolangJWT holds it to that); the signature
// itself always comes from a jwt.SigningMethod. Verification does not use
// any of this: it stays on golang-jwt's Parser with its own methods.

// segment is the base64url encoding JWS uses (RFC 7515 §2), as golang-jwt
// encodes segments by default.
var segment = base64.RawURLEncoding

// encodedClaims is implemented by the claim types of this package, which
// encode themselves without reflection (encode.go).
type encodedClaims interface {
	jwt.Claims
	MarshalJSON() ([]byte, error)
}

// signer is what a key entry signs with: the header segment and the
// signing method bound to the entry's key.
type signer struct {
	headerSeg string            // base64url of the JSON header, as golang-jwt marshals the map
	method    jwt.SigningMethod // golang-jwt's, or hmacMethod for HMAC keys
	key       any
}

// newSigner encodes header (a map, marshalled as golang-jwt does, keys
// sorted) and binds method to key; HMAC keys get a pooled hmacMethod.
func newSigner(header map[string]any, method jwt.SigningMethod, key any) (signer, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return signer{}, err
	}
	s := signer{headerSeg: segment.EncodeToString(h), method: method, key: key}
	if method == jwt.SigningMethodHS256 {
		k, ok := key.([]byte)
		if !ok {
			return signer{}, jwt.ErrInvalidKeyType
		}
		s.method = newHMACMethod(k)
	}
	return s, nil
}

// sign returns the compact JWS of claims: header segment, claims segment
// and the method's signature, each base64url, joined by dots.
func (s signer) sign(claims encodedClaims) (string, error) {
	payload, err := claims.MarshalJSON()
	if err != nil {
		return "", err
	}
	buf := make([]byte, 0, len(s.headerSeg)+1+segment.EncodedLen(len(payload))+1+segment.EncodedLen(512))
	buf = append(buf, s.headerSeg...)
	buf = append(buf, '.')
	buf = segment.AppendEncode(buf, payload)
	sig, err := s.method.Sign(string(buf), s.key)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = segment.AppendEncode(buf, sig)
	return string(buf), nil
}

// hmacMethod is HS256 bound to one key, implementing jwt.SigningMethod. It
// reuses keyed HMAC states from a pool instead of keying a new one for
// every token: an HMAC state holds only the key's inner and outer pads and
// is Reset before each use, so sharing it across calls (never at once) is
// safe. Verify is golang-jwt's own.
type hmacMethod struct {
	key  []byte
	pool sync.Pool
}

// errWrongHMACKey means a hmacMethod was asked to sign with a key other
// than the one it is bound to.
var errWrongHMACKey = errors.New("hmac method called with a key it is not bound to")

func newHMACMethod(key []byte) *hmacMethod {
	m := &hmacMethod{key: key}
	m.pool.New = func() any { return hmac.New(sha256.New, key) }
	return m
}

// Alg returns "HS256".
func (m *hmacMethod) Alg() string { return jwt.SigningMethodHS256.Alg() }

// Verify is golang-jwt's HS256 verification.
func (m *hmacMethod) Verify(signingString string, sig []byte, key any) error {
	return jwt.SigningMethodHS256.Verify(signingString, sig, key)
}

// Sign returns the HS256 signature of signingString. key must be the key m
// is bound to.
func (m *hmacMethod) Sign(signingString string, key any) ([]byte, error) {
	if k, ok := key.([]byte); !ok || !hmac.Equal(k, m.key) {
		return nil, errWrongHMACKey
	}
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(signingString))
	sig := h.Sum(make([]byte, 0, sha256.Size))
	m.pool.Put(h)
	return sig, nil
}
