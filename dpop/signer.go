package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Signer makes proofs with one private key, as a client does (RFC 9449
// §4). It is safe for concurrent use.
type Signer struct {
	key    crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]any
	jkt    string
	now    func() time.Time
}

// NewSigner returns a Signer that signs with key using alg (ES256 with a
// P-256 key, EdDSA with an Ed25519 key, RS256 or PS256 with an RSA key, …).
// now is the clock for iat; nil means time.Now.
func NewSigner(key crypto.Signer, alg string, now func() time.Time) (*Signer, error) {
	if !supported(alg) {
		return nil, fmt.Errorf("dpop: unsupported signing algorithm %q", alg)
	}
	if err := keyFits(key.Public(), alg); err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	switch key.(type) { // golang-jwt signs with these concrete types
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
	default:
		return nil, errors.New("dpop: key must be an *ecdsa.PrivateKey, *rsa.PrivateKey or ed25519.PrivateKey")
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	raw, err := pub.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("dpop: encode public key: %w", err)
	}
	var members map[string]any
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("dpop: encode public key: %w", err)
	}
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dpop: thumbprint: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, method: jwt.GetSigningMethod(alg), jwk: members,
		jkt: base64.RawURLEncoding.EncodeToString(sum), now: now}, nil
}

// JKT returns the RFC 7638 SHA-256 thumbprint of the Signer's public key,
// base64url: the cnf.jkt of the tokens bound to it.
func (s *Signer) JKT() string { return s.jkt }

// ProofOptions are the optional parts of a proof.
type ProofOptions struct {
	// AccessToken, when set, is hashed into ath: for requests to resource
	// servers that carry the token.
	AccessToken string
	// Nonce is the server's DPoP-Nonce, when it demands one.
	Nonce string
}

// Proof returns a fresh proof for a request with method to url, with a
// random 128-bit jti and iat now.
func (s *Signer) Proof(method, url string, o ProofOptions) (string, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("dpop: proof id: %w", err)
	}
	cl := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:       base64.RawURLEncoding.EncodeToString(id),
			IssuedAt: jwt.NewNumericDate(s.now()),
		},
		Method: method, URL: url, Nonce: o.Nonce,
	}
	if o.AccessToken != "" {
		cl.ATH = TokenHash(o.AccessToken)
	}
	t := jwt.NewWithClaims(s.method, cl)
	t.Header["typ"] = typ
	t.Header["jwk"] = s.jwk
	out, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	return out, nil
}
