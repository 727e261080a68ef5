// Package dpop checks and makes DPoP proofs (RFC 9449): the short signed
// JWTs with which a client shows, on every request, that it holds the
// private key its tokens are bound to.
//
// authsvc uses it at its token endpoints, the verifier package at resource
// servers, and client programs (and tests) may use Signer to make proofs.
// It depends only on the standard library, golang-jwt/jwt/v5 (the JWS) and
// go-jose/go-jose/v4 (the embedded JWK and its RFC 7638 thumbprint).
//
// A Checker does every check that needs no state: the JWS and its header,
// the claims, the time window, htm, htu and ath. Two checks are left to the
// caller because they need state it owns: that each proof jti is used once
// (Proof.ReplayUntil says how long to remember it), and, where the server
// demands nonces, that Proof.Nonce is one of its own (see Nonces). Do the
// nonce check last: a proof whose only fault is its nonce deserves a
// use_dpop_nonce answer (RFC 9449 §8), every other fault invalid_dpop_proof.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Errors of Check. Every rejection wraps ErrInvalidProof; its message
// names the failed check and never repeats the proof.
var (
	// ErrInvalidProof means the proof is malformed, badly signed, or does
	// not fit the request (RFC 9449 §4.3).
	ErrInvalidProof = errors.New("invalid DPoP proof")
	// ErrReplayed means the proof's jti was seen before. It wraps
	// ErrInvalidProof. Check does not return it: it is for the callers that
	// keep the jti.
	ErrReplayed = fmt.Errorf("%w: the proof was already used", ErrInvalidProof)
	// ErrUseNonce means the proof lacks the server's current nonce (RFC
	// 9449 §8). Check does not return it: it is for the callers that demand
	// nonces, once every other check has passed.
	ErrUseNonce = errors.New("the DPoP proof lacks the server's current nonce")
)

// Limits of a proof.
const (
	// MaxProofBytes bounds a proof; a larger one is refused before parsing.
	// An RSA 8192-bit key still fits.
	MaxProofBytes = 8 << 10
	// MaxIDBytes bounds the jti claim.
	MaxIDBytes = 128
	// minRSABits is the smallest RSA key accepted (RFC 7518 §3.3).
	minRSABits = 2048
)

// typ is the media type every proof names in its typ header (RFC 9449 §4.2).
const typ = "dpop+jwt"

// DefaultAlgs are the proof signing algorithms accepted when none are
// configured: the common asymmetric ones.
var DefaultAlgs = []string{"ES256", "EdDSA", "RS256", "PS256"}

// SupportedAlgs are every algorithm a Checker can be configured with. All
// are asymmetric: a proof signed with a shared secret proves nothing.
var SupportedAlgs = []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// Options configure a Checker.
type Options struct {
	// Algs are the accepted alg values; nil means DefaultAlgs.
	Algs []string
	// Lifetime is how old a proof may be (DPOP_PROOF_LIFETIME); 0 means
	// 60 seconds.
	Lifetime time.Duration
	// Leeway absorbs clock differences with the client (CLOCK_SKEW): a
	// proof is accepted with now − Lifetime − Leeway ≤ iat ≤ now + Leeway.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker checks proofs. It is safe for concurrent use.
type Checker struct {
	algs     []string
	lifetime time.Duration
	leeway   time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

// NewChecker returns a Checker, or an error naming an unsupported algorithm.
func NewChecker(o Options) (*Checker, error) {
	c := &Checker{algs: o.Algs, lifetime: o.Lifetime, leeway: o.Leeway, now: o.Now}
	if c.algs == nil {
		c.algs = DefaultAlgs
	}
	if len(c.algs) == 0 {
		return nil, errors.New("dpop: no signing algorithm configured")
	}
	for _, a := range c.algs {
		if !supported(a) {
			return nil, fmt.Errorf("dpop: unsupported signing algorithm %q (supported: %s)", a, strings.Join(SupportedAlgs, ","))
		}
	}
	if c.lifetime <= 0 {
		c.lifetime = 60 * time.Second
	}
	if c.leeway < 0 {
		return nil, errors.New("dpop: negative leeway")
	}
	if c.now == nil {
		c.now = time.Now
	}
	// exp and nbf, which proofs need not carry, are checked when present;
	// iat gets the stricter window below.
	c.parser = jwt.NewParser(jwt.WithValidMethods(c.algs), jwt.WithLeeway(c.leeway), jwt.WithTimeFunc(c.now))
	return c, nil
}

// Algs returns the accepted algorithms, for metadata
// (dpop_signing_alg_values_supported) and WWW-Authenticate challenges.
func (c *Checker) Algs() []string { return append([]string(nil), c.algs...) }

// Lifetime returns how old a proof may be.
func (c *Checker) Lifetime() time.Duration { return c.lifetime }

func supported(alg string) bool {
	for _, a := range SupportedAlgs {
		if a == alg {
			return true
		}
	}
	return false
}

// Request is what a proof must fit.
type Request struct {
	// Method is the HTTP method (htm).
	Method string
	// URL is the request's URL as the client reached it (htu), scheme and
	// host included. Its query and fragment, and the proof's, are ignored.
	URL string
	// AccessToken, when set, must be what the proof's ath hashes (RFC 9449
	// §4.3 step 11): proofs sent to resource servers with a token.
	AccessToken string
}

// Proof is a proof that passed Check.
type Proof struct {
	// ID is the jti. The caller must accept each ID once until ReplayUntil.
	ID string
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url:
	// the value of a bound token's cnf.jkt.
	JKT string
	// IssuedAt is the iat.
	IssuedAt time.Time
	// ReplayUntil is the last moment the same proof would pass Check again.
	ReplayUntil time.Time
	// Nonce is the nonce claim, empty when absent.
	Nonce string
}

// claims are the claims of a proof (RFC 9449 §4.2).
type claims struct {
	jwt.RegisteredClaims
	Method string `json:"htm"`
	URL    string `json:"htu"`
	ATH    string `json:"ath,omitempty"`
	Nonce  string `json:"nonce,omitempty"`
}

// invalid returns an ErrInvalidProof naming what failed.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidProof}, args...)...)
}

// Check checks one proof against the request (RFC 9449 §4.3 steps 2–11,
// except the jti and nonce bookkeeping; see the package comment).
func (c *Checker) Check(proof string, r Request) (*Proof, error) {
	if proof == "" {
		return nil, invalid("empty proof")
	}
	if len(proof) > MaxProofBytes {
		return nil, invalid("the proof is too large")
	}
	var (
		cl  claims
		jkt string
	)
	_, err := c.parser.ParseWithClaims(proof, &cl, func(t *jwt.Token) (any, error) {
		if got, _ := t.Header["typ"].(string); !strings.EqualFold(got, typ) {
			return nil, reason("typ is not " + typ)
		}
		key, thumb, err := embeddedKey(t.Header["jwk"], t.Method.Alg())
		if err != nil {
			return nil, err
		}
		jkt = thumb
		return key, nil
	})
	if err != nil {
		return nil, invalid("%s", describe(err))
	}
	now := c.now()
	switch {
	case cl.ID == "":
		return nil, invalid("jti is missing")
	case len(cl.ID) > MaxIDBytes:
		return nil, invalid("jti is longer than %d bytes", MaxIDBytes)
	case cl.IssuedAt == nil:
		return nil, invalid("iat is missing")
	case cl.IssuedAt.After(now.Add(c.leeway)):
		return nil, invalid("iat is in the future")
	case cl.IssuedAt.Before(now.Add(-c.lifetime - c.leeway)):
		return nil, invalid("the proof is too old")
	case cl.Method == "":
		return nil, invalid("htm is missing")
	case cl.Method != r.Method:
		return nil, invalid("htm does not match the request method")
	case cl.URL == "":
		return nil, invalid("htu is missing")
	case !sameURL(cl.URL, r.URL):
		return nil, invalid("htu does not match the request URL")
	}
	if r.AccessToken != "" {
		if cl.ATH == "" {
			return nil, invalid("ath is missing")
		}
		if want := TokenHash(r.AccessToken); subtle.ConstantTimeCompare([]byte(cl.ATH), []byte(want)) != 1 {
			return nil, invalid("ath does not match the access token")
		}
	}
	iat := cl.IssuedAt.Time
	return &Proof{ID: cl.ID, JKT: jkt, IssuedAt: iat, ReplayUntil: iat.Add(c.lifetime + c.leeway), Nonce: cl.Nonce}, nil
}

// describe turns a parse error into a public reason. golang-jwt's messages
// name the failed check without quoting the token; the key function's own
// errors are wrapped in them.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the proof is not a well-formed JWS"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the proof has expired (exp)"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the proof is not valid yet (nbf)"
	}
	var r reason
	if errors.As(err, &r) {
		return string(r)
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenUnverifiable) {
		return "the proof's alg is not accepted or its signature cannot be checked"
	}
	return "the proof is not valid"
}

// reason is a public rejection reason raised inside the key function.
type reason string

func (r reason) Error() string { return string(r) }

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// embeddedKey parses the jwk header of a proof signed with alg: a public key
// of the type alg needs, with no private members. It returns the key for
// the signature check and its RFC 7638 thumbprint.
func embeddedKey(header any, alg string) (crypto.PublicKey, string, error) {
	members, ok := header.(map[string]any)
	if !ok {
		return nil, "", reason("the jwk header is missing or not an object")
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return nil, "", reason("the jwk header holds private key material")
		}
	}
	raw, err := json.Marshal(members)
	if err != nil {
		return nil, "", reason("the jwk header cannot be read")
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() || !k.IsPublic() {
		return nil, "", reason("the jwk header is not a valid public key")
	}
	if err := keyFits(k.Key, alg); err != nil {
		return nil, "", err
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", reason("the jwk header has no thumbprint")
	}
	return k.Key, base64.RawURLEncoding.EncodeToString(sum), nil
}

// keyFits reports whether key is of the type and size alg needs.
func keyFits(key crypto.PublicKey, alg string) error {
	var ok bool
	switch p := key.(type) {
	case *ecdsa.PublicKey:
		ok = (alg == "ES256" && p.Curve == elliptic.P256()) ||
			(alg == "ES384" && p.Curve == elliptic.P384()) ||
			(alg == "ES512" && p.Curve == elliptic.P521())
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			if p.N.BitLen() < minRSABits {
				return reason(fmt.Sprintf("the jwk is an RSA key shorter than %d bits", minRSABits))
			}
			ok = true
		}
	}
	if !ok {
		return reason("the jwk does not fit alg " + alg)
	}
	return nil
}

// TokenHash returns the ath of an access token: base64url of its SHA-256
// (RFC 9449 §4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sameURL compares an htu with the request URL after RFC 3986 §6.2.2 and
// §6.2.3 normalisation (case of scheme and host, default port, empty path),
// ignoring query and fragment (RFC 9449 §4.3 step 9).
func sameURL(htu, want string) bool {
	a, ok := normalURL(htu)
	if !ok {
		return false
	}
	b, ok := normalURL(want)
	return ok && a == b
}

// normalURL returns scheme://host[:port]/path of an absolute http(s) URL.
func normalURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}
