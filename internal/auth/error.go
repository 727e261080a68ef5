package auth

import (
	"errors"
	"time"
)

// Code is an OAuth 2.0 error code (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 9449
// §5) or one of the two codes authsvc adds for rate limiting and store
// outages.
type Code string

// The error codes authsvc returns. The handler package maps each to its HTTP
// status in one table.
const (
	InvalidRequest         Code = "invalid_request"
	InvalidClient          Code = "invalid_client"
	InvalidGrant           Code = "invalid_grant"
	UnauthorizedClient     Code = "unauthorized_client"
	UnsupportedGrantType   Code = "unsupported_grant_type"
	InvalidScope           Code = "invalid_scope"
	TooManyRequests        Code = "too_many_requests"
	TemporarilyUnavailable Code = "temporarily_unavailable"
	InvalidTarget          Code = "invalid_target" // RFC 8707 §2
	// InvalidDPoPProof: a bad DPoP proof, or a required one missing (RFC
	// 9449 §5, §7.1).
	InvalidDPoPProof Code = "invalid_dpop_proof"
	// UseDPoPNonce: the DPoP proof lacks the server's current nonce (RFC
	// 9449 §8); the answer carries the nonce to use.
	UseDPoPNonce Code = "use_dpop_nonce"
	ServerError  Code = "server_error"
	// NotFound: the admin API's answer for a session that does not exist.
	NotFound Code = "not_found"
	// InvalidConfig: a refused configuration reload (admin API); the
	// error's Problems list why.
	InvalidConfig Code = "invalid_config"
)

// Error is a protocol error. Code and Description are public: they go to the
// client verbatim, so they never carry a secret, a token or an internal
// detail. Err is the internal cause, for logs only.
type Error struct {
	Code        Code
	Description string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Problems, for InvalidConfig, lists every problem found, one sentence
	// each; public like Description.
	Problems []string
	// DPoPNonce, when set, is sent as the DPoP-Nonce header (RFC 9449 §8).
	DPoPNonce string
	// Err is the internal cause; it never reaches the client.
	Err error
}

// Error returns the code and public description; it deliberately omits Err
// so that a stray log of the error cannot leak more than the client saw.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Description }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of err when it is (or wraps) an *Error, and
// ServerError otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ServerError
}

func newError(code Code, desc string) *Error { return &Error{Code: code, Description: desc} }

// ErrorF returns a protocol error with code and description, for the layers
// above the domain (request parsing) that reject input themselves.
func ErrorF(code Code, desc string) *Error { return newError(code, desc) }

// unavailable wraps a store error that means "cannot read or write now".
func unavailable(err error) *Error {
	return &Error{
		Code:        TemporarilyUnavailable,
		Description: "the token store is unavailable; try again shortly",
		RetryAfter:  time.Second,
		Err:         err,
	}
}

// authenticatorUnavailable wraps a user-authenticator error that means no
// usable answer came; nothing was counted.
func authenticatorUnavailable(err error) *Error {
	return &Error{
		Code:        TemporarilyUnavailable,
		Description: "the user authenticator is unavailable; try again shortly",
		RetryAfter:  time.Second,
		Err:         err,
	}
}

// internal wraps an unexpected error; its description is fixed.
func internal(err error) *Error {
	return &Error{Code: ServerError, Description: "internal error", Err: err}
}

// Public descriptions used in more than one place.
var (
	errBadCredentials = "invalid username or password"
	errBadClient      = "client authentication failed"
	errBadRefresh     = "refresh token is invalid, expired or revoked"
)
