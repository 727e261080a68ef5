package issuer

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenSize is the length in bytes above which a token is rejected before
// it is parsed: 64 KiB, the largest request body the service reads. Tokens
// grow with scope lists and custom claims, so a tighter bound would refuse
// tokens the service itself issued (a client's and a user's claims alone may
// take 2 KiB each before encoding).
const maxTokenSize = 64 << 10

// ErrInvalidToken is wrapped by every verification failure: bad format,
// signature, algorithm, header, key id, claims or age.
var ErrInvalidToken = errors.New("invalid token")

// ErrExpired is wrapped by the error for a token whose signature and claims
// are good but whose exp has passed (beyond Config.Leeway). It wraps
// ErrInvalidToken, so errors.Is(err, ErrInvalidToken) holds for it too.
var ErrExpired = fmt.Errorf("%w: expired", ErrInvalidToken)

// Causes of verification failures found by this package rather than by
// golang-jwt. They never carry values taken from the token.
var (
	errTooLarge     = errors.New("token larger than 64 KiB")
	errHeaderParam  = errors.New("header has a parameter other than alg, typ and kid")
	errTyp          = errors.New("header typ does not match the token kind")
	errNoKID        = errors.New("header kid is missing")
	errUnknownKID   = errors.New("header kid names no key accepted now")
	errAlg          = errors.New("header alg does not match the configured algorithm")
	errClaims       = errors.New("token has unexpected claims")
	nonExpiryFaults = []error{
		errClaims,
		jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenInvalidSubject,
		jwt.ErrTokenInvalidId,
		jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued,
		jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrInvalidType,
	}
)

// kind is everything needed to sign and verify one kind of token (access or
// refresh). Its keys are an immutable KeySet behind an atomic pointer: a
// reload swaps the pointer, and each signature or verification reads it
// once and uses that snapshot to the end.
type kind struct {
	name   string // "access" or "refresh", for error messages
	typ    string // typ header value
	method jwt.SigningMethod
	keys   atomic.Pointer[KeySet]
	now    func() time.Time
	// parser is replaced whole when the accepted audiences change
	// (Issuer.AcceptAudiences); a verification reads it once.
	parser  atomic.Pointer[jwt.Parser]
	keyfunc jwt.Keyfunc
}

// kindConfig holds the arguments of newKind.
type kindConfig struct {
	name, typ string
	method    jwt.SigningMethod
	keys      *KeySet
	now       func() time.Time
	parser    *jwt.Parser
}

// newKind builds a kind from c.
func newKind(c kindConfig) *kind {
	k := &kind{
		name:   c.name,
		typ:    c.typ,
		method: c.method,
		now:    c.now,
	}
	k.parser.Store(c.parser)
	k.keys.Store(c.keys)
	k.keyfunc = k.keyFor // one method value, not one per verification
	return k
}

// sign signs claims with the key of k that signs now, through the key's
// precomputed header segment and bound signing method (sign.go).
func (k *kind) sign(claims encodedClaims) (string, error) {
	e, ok := k.keys.Load().signingAt(k.now())
	if !ok {
		return "", ErrNoActiveKey
	}
	return e.signer.sign(claims)
}

// verify is the one verification path: it checks the size, lets golang-jwt
// parse the token with k's parser options and key function, and maps every
// failure to ErrInvalidToken or ErrExpired.
func (k *kind) verify(token string, claims jwt.Claims) error {
	if len(token) > maxTokenSize {
		return fmt.Errorf("verify %s token: %w: %w", k.name, ErrInvalidToken, errTooLarge)
	}
	if _, err := k.parser.Load().ParseWithClaims(token, claims, k.keyfunc); err != nil {
		if expiredOnly(err) {
			return fmt.Errorf("verify %s token: %w: %w", k.name, ErrExpired, err)
		}
		return fmt.Errorf("verify %s token: %w: %w", k.name, ErrInvalidToken, err)
	}
	return nil
}

// expiredOnly reports whether err from ParseWithClaims says the token is
// expired and nothing else is wrong with it. The parser validates claims only
// after the signature, so such a token is genuine.
func expiredOnly(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, f := range nonExpiryFaults {
		if errors.Is(err, f) {
			return false
		}
	}
	return true
}

// keyFor is the jwt.Keyfunc of k. golang-jwt has already checked alg against
// WithValidMethods when it runs. It rejects any header parameter other than
// alg, typ and kid (so jku, x5u, jwk, x5c and crit never take effect), checks
// typ, and returns the key named by kid among the keys published now, of the
// type the pinned algorithm needs. A token without kid is rejected, and so is
// one whose key has retired.
func (k *kind) keyFor(t *jwt.Token) (any, error) {
	if t.Method == nil || t.Method.Alg() != k.method.Alg() {
		return nil, errAlg
	}
	for name := range t.Header {
		switch name {
		case "alg", "typ", "kid":
		default:
			return nil, errHeaderParam
		}
	}
	typ, _ := t.Header["typ"].(string)
	if !typMatches(typ, k.typ) {
		return nil, errTyp
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKID
	}
	if key, ok := k.keys.Load().lookup(kid, k.now()); ok {
		return key, nil
	}
	return nil, errUnknownKID
}

// typMatches reports whether the typ header got names the media type want,
// with or without the "application/" prefix, ignoring case (RFC 7515 §4.1.9,
// RFC 9068 §4).
func typMatches(got, want string) bool {
	const prefix = "application/"
	if len(got) > len(prefix) && strings.EqualFold(got[:len(prefix)], prefix) {
		got = got[len(prefix):]
	}
	return strings.EqualFold(got, want)
}
