package verifier

import (
	"errors"
	"fmt"
)

// Errors returned by Verify and VerifyRequest. Test them with errors.Is.
var (
	// ErrInvalidToken is wrapped by every refusal of a token: bad format,
	// signature, algorithm, header, key id, claims, age, revocation or
	// binding. A resource server answers it with 401 invalid_token.
	ErrInvalidToken = errors.New("verifier: invalid token")
	// ErrExpired is wrapped by the error for a token whose only fault is
	// that its exp has passed (beyond the leeway). It wraps
	// ErrInvalidToken.
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrRevoked is wrapped by the error for a token the revocation feed
	// lists, by its jti or its session. It wraps ErrInvalidToken.
	ErrRevoked = fmt.Errorf("%w: revoked", ErrInvalidToken)
	// ErrUnknownKey is wrapped by the error for a token whose kid names no
	// key the Verifier knows, even after a refetch. It wraps
	// ErrInvalidToken.
	ErrUnknownKey = fmt.Errorf("%w: unknown key id", ErrInvalidToken)
	// ErrDPoPBound is wrapped by the error for a token bound to a DPoP key
	// (cnf.jkt) presented without a proof, as a Bearer token or to Verify.
	// It wraps ErrInvalidToken.
	ErrDPoPBound = fmt.Errorf("%w: bound to a DPoP key", ErrInvalidToken)
	// ErrNoToken means the request carries no access token at all.
	ErrNoToken = errors.New("verifier: no access token")
	// ErrStale means the Verifier has not heard from the revocation feed
	// for longer than FeedConfig.MaxStale, so it accepts no token. A
	// resource server answers it with 503.
	ErrStale = errors.New("verifier: revocation feed is stale")
)

// Causes wrapped together with ErrInvalidToken. They never carry values
// taken from the token.
var (
	errTooLarge    = errors.New("token larger than 64 KiB")
	errHeaderParam = errors.New("header has a parameter other than alg, typ and kid")
	errTyp         = errors.New("header typ is not at+jwt")
	errNoKID       = errors.New("header kid is missing")
	errAlg         = errors.New("header alg does not match the key")
	errType        = errors.New(`claim type is not "access"`)
	errMissing     = errors.New("a required claim (iat, jti or sub) is missing")
)
