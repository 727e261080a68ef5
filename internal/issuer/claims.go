package issuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/claims"
)

// Values of the "type" claim and of the typ header (RFC 9068 §2.1, docs/api.md).
const (
	typeAccess  = "access"
	typeRefresh = "refresh"
	typAccess   = "at+jwt"
	typRefresh  = "rt+jwt"
)

// errSignClaims is wrapped by Sign* when the claims given are incomplete.
var errSignClaims = errors.New("incomplete claims")

// AccessClaims are the claims of an access token (RFC 9068 §2.2).
type AccessClaims struct {
	// ID is the jti; use NewID.
	ID string
	// Subject is the sub: a username, or a client_id for client_credentials.
	Subject string
	// ClientID is the client_id claim, omitted when empty.
	ClientID string
	// Scope is the granted scope, space separated, omitted when empty.
	Scope string
	// SessionID is the "sid" claim: the session (refresh-token family) the
	// token was minted for; empty, and omitted, for client_credentials.
	SessionID string
	// IssuedAt is the iat; nbf is set equal to it. Sub-second precision is
	// dropped.
	IssuedAt time.Time
	// ExpiresAt is the exp; it must be after IssuedAt.
	ExpiresAt time.Time
	// Issuer is the iss, filled by VerifyAccess; SignAccess ignores it and
	// uses Config.Issuer.
	Issuer string
	// Audience is the aud, filled by VerifyAccess; SignAccess ignores it and
	// uses SignAudience.
	Audience []string
	// SignAudience is the aud SignAccess writes when it is not empty (a
	// client's own audience, or the one resource asked for, RFC 8707);
	// empty means Config.Audience.
	SignAudience []string
	// Claims are custom claims, written after every other claim; no name
	// may be one the issuer sets (package claims refuses those). VerifyAccess
	// does not fill it.
	Claims claims.Set
	// JKT, when set, binds the token to a DPoP key: the claim cnf.jkt, the
	// key's RFC 7638 thumbprint (RFC 9449 §6.1).
	JKT string
}

// confirmation is the cnf claim of a DPoP-bound access token (RFC 7800 §3.1,
// RFC 9449 §6.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

// Origins of a session (RefreshClaims.Origin).
const (
	// OriginFile is a session of a user of the credentials file.
	OriginFile = ""
	// OriginAuthenticator is a session whose user was checked by the user
	// authenticator (USER_AUTHENTICATOR_URL); it is not re-checked at
	// refresh, and its user claims travel in the refresh token.
	OriginAuthenticator = "authenticator"
)

// RefreshClaims are the claims of a refresh token.
type RefreshClaims struct {
	// ID is the jti; use NewID.
	ID string
	// SessionID is the "sid" claim: the id of the refresh-token family.
	SessionID string
	// Subject is the sub.
	Subject string
	// ClientID is the client the session is bound to, omitted when empty.
	ClientID string
	// Scope is the scope granted to the session, omitted when empty.
	Scope string
	// AuthTime is the "auth_time" claim: when the session's login happened.
	AuthTime time.Time
	// IssuedAt is the iat.
	IssuedAt time.Time
	// ExpiresAt is the exp; it must be after IssuedAt.
	ExpiresAt time.Time
	// Issuer is the iss, filled by VerifyRefresh; SignRefresh ignores it
	// and uses Config.Issuer.
	Issuer string
	// Audience is the aud (Config.Issuer: refresh tokens are for authsvc
	// alone), filled by VerifyRefresh; SignRefresh ignores it.
	Audience []string
	// Origin tells where the session's user was authenticated: OriginFile
	// or OriginAuthenticator (the "origin" claim, omitted for the file).
	Origin string
	// UserClaims are the custom claims of an authenticator's answer, kept
	// for the session's later access tokens (the "user_claims" claim,
	// omitted when empty). Users of the file get theirs from the file.
	UserClaims claims.Set
}

// audience is the aud claim: encoded as a string when it has one value and
// as an array otherwise; both forms are accepted when decoding.
type audience []string

// MarshalJSON implements json.Marshaler.
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		// The common form, one audience: decoded straight into a string,
		// not through an interface value as jwt.ClaimStrings does.
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*a = audience{one}
		return nil
	}
	var cs jwt.ClaimStrings
	if err := cs.UnmarshalJSON(b); err != nil {
		return err
	}
	*a = audience(cs)
	return nil
}

// numericDate converts a claim in seconds to the library's type; zero means
// absent.
func numericDate(sec int64) (*jwt.NumericDate, error) {
	if sec == 0 {
		return nil, nil
	}
	return &jwt.NumericDate{Time: time.Unix(sec, 0)}, nil
}

// unixTime converts seconds to a UTC time; zero gives the zero time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// accessJWT is the wire form of an access token's claims. The field order is
// the claim order in the token. Times are whole seconds (RFC 7519 NumericDate),
// which python-jose and others require to be integers.
type accessJWT struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	ID        string   `json:"jti"`
	Type      string   `json:"type"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	// Cnf binds the token to a DPoP key; nil for a bearer token.
	Cnf *confirmation `json:"cnf,omitempty"`
	// Extra are custom claims, written last by MarshalJSON.
	Extra claims.Set `json:"-"`
}

// UnmarshalJSON reads the claims authsvc sets and passes over custom
// claims: the parser's strict decoding refuses unknown members, and an
// access token may carry any custom claim name the issuer was given.
func (c *accessJWT) UnmarshalJSON(b []byte) error {
	type plain accessJWT // without methods
	return json.Unmarshal(b, (*plain)(c))
}

// GetExpirationTime implements jwt.Claims.
func (c *accessJWT) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.ExpiresAt) }

// GetIssuedAt implements jwt.Claims.
func (c *accessJWT) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt) }

// GetNotBefore implements jwt.Claims.
func (c *accessJWT) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.NotBefore) }

// GetIssuer implements jwt.Claims.
func (c *accessJWT) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessJWT) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessJWT) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings(c.Audience), nil }

// Validate implements jwt.ClaimsValidator: the checks the parser options do
// not cover. The parser runs it after its own checks of exp, nbf, iat, iss
// and aud.
func (c *accessJWT) Validate() error {
	switch {
	case c.Type != typeAccess:
		return fmt.Errorf("%w: type is not %q", errClaims, typeAccess)
	case c.IssuedAt == 0:
		return fmt.Errorf("%w: iat is missing", errClaims)
	case c.ID == "":
		return fmt.Errorf("%w: jti is missing", errClaims)
	case c.Subject == "":
		return fmt.Errorf("%w: sub is missing", errClaims)
	}
	return nil
}

// refreshJWT is the wire form of a refresh token's claims; see accessJWT.
type refreshJWT struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
	Type      string   `json:"type"`
	SessionID string   `json:"sid"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	AuthTime  int64    `json:"auth_time"`
	Origin    string   `json:"origin,omitempty"`
	// UserClaims is a JSON object (RefreshClaims.UserClaims), omitted when
	// empty.
	UserClaims json.RawMessage `json:"user_claims,omitempty"`
}

// GetExpirationTime implements jwt.Claims.
func (c *refreshJWT) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.ExpiresAt) }

// GetIssuedAt implements jwt.Claims.
func (c *refreshJWT) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt) }

// GetNotBefore implements jwt.Claims; refresh tokens carry no nbf.
func (c *refreshJWT) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *refreshJWT) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *refreshJWT) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *refreshJWT) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

// Validate implements jwt.ClaimsValidator; see accessJWT.Validate.
func (c *refreshJWT) Validate() error {
	switch {
	case c.Type != typeRefresh:
		return fmt.Errorf("%w: type is not %q", errClaims, typeRefresh)
	case c.IssuedAt == 0:
		return fmt.Errorf("%w: iat is missing", errClaims)
	case c.ID == "":
		return fmt.Errorf("%w: jti is missing", errClaims)
	case c.Subject == "":
		return fmt.Errorf("%w: sub is missing", errClaims)
	case c.SessionID == "":
		return fmt.Errorf("%w: sid is missing", errClaims)
	case c.AuthTime == 0:
		return fmt.Errorf("%w: auth_time is missing", errClaims)
	}
	return nil
}

// checkCommon checks what every token needs before it is signed.
func checkCommon(id, subject string, iat, exp time.Time) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: ID is empty", errSignClaims)
	case subject == "":
		return fmt.Errorf("%w: Subject is empty", errSignClaims)
	case iat.IsZero() || iat.Unix() == 0:
		return fmt.Errorf("%w: IssuedAt is not set", errSignClaims)
	case exp.Unix() <= iat.Unix():
		return fmt.Errorf("%w: ExpiresAt is not after IssuedAt", errSignClaims)
	}
	return nil
}

// SignAccess signs an access token with Config.Algorithm and the current
// access key. Issuer and Audience come from Config; c.Issuer and c.Audience
// are ignored. ID, Subject, IssuedAt and ExpiresAt are required.
func (i *Issuer) SignAccess(c AccessClaims) (string, error) {
	if err := checkCommon(c.ID, c.Subject, c.IssuedAt, c.ExpiresAt); err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	iat := c.IssuedAt.Unix()
	aud := i.audience
	if len(c.SignAudience) > 0 {
		aud = c.SignAudience
	}
	claims := &accessJWT{
		Issuer:    i.issuer,
		Subject:   c.Subject,
		Audience:  aud,
		ExpiresAt: c.ExpiresAt.Unix(),
		IssuedAt:  iat,
		NotBefore: iat,
		ID:        c.ID,
		Type:      typeAccess,
		Scope:     c.Scope,
		ClientID:  c.ClientID,
		SessionID: c.SessionID,
		Extra:     c.Claims,
	}
	if c.JKT != "" {
		claims.Cnf = &confirmation{JKT: c.JKT}
	}
	s, err := i.access.sign(claims)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// SignRefresh signs a refresh token with the refresh key (HS256). Its aud is
// Config.Issuer. ID, SessionID, Subject, AuthTime, IssuedAt and ExpiresAt are
// required. Signing is deterministic: equal claims give the same string.
func (i *Issuer) SignRefresh(c RefreshClaims) (string, error) {
	if err := checkCommon(c.ID, c.Subject, c.IssuedAt, c.ExpiresAt); err != nil {
		return "", fmt.Errorf("sign refresh token: %w", err)
	}
	switch {
	case c.SessionID == "":
		return "", fmt.Errorf("sign refresh token: %w: SessionID is empty", errSignClaims)
	case c.AuthTime.IsZero() || c.AuthTime.Unix() == 0:
		return "", fmt.Errorf("sign refresh token: %w: AuthTime is not set", errSignClaims)
	}
	claims := &refreshJWT{
		Issuer:    i.issuer,
		Subject:   c.Subject,
		Audience:  audience{i.issuer},
		ExpiresAt: c.ExpiresAt.Unix(),
		IssuedAt:  c.IssuedAt.Unix(),
		ID:        c.ID,
		Type:      typeRefresh,
		SessionID: c.SessionID,
		Scope:     c.Scope,
		ClientID:  c.ClientID,
		AuthTime:  c.AuthTime.Unix(),
		Origin:    c.Origin,
	}
	if c.UserClaims.Len() > 0 {
		claims.UserClaims = c.UserClaims.AppendObject(nil)
	}
	s, err := i.refresh.sign(claims)
	if err != nil {
		return "", fmt.Errorf("sign refresh token: %w", err)
	}
	return s, nil
}

// VerifyAccess verifies an access token on the strict path described in the
// package documentation and returns its claims. Every failure wraps
// ErrInvalidToken; an expired token also wraps ErrExpired. A refresh token
// is rejected.
func (i *Issuer) VerifyAccess(token string) (AccessClaims, error) {
	var c accessJWT
	if err := i.access.verify(token, &c); err != nil {
		return AccessClaims{}, err
	}
	var jkt string
	if c.Cnf != nil {
		jkt = c.Cnf.JKT
	}
	return AccessClaims{
		JKT:       jkt,
		ID:        c.ID,
		Subject:   c.Subject,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
		SessionID: c.SessionID,
		IssuedAt:  unixTime(c.IssuedAt),
		ExpiresAt: unixTime(c.ExpiresAt),
		Issuer:    c.Issuer,
		Audience:  []string(c.Audience),
	}, nil
}

// VerifyRefresh verifies a refresh token on the strict path described in the
// package documentation and returns its claims. Every failure wraps
// ErrInvalidToken; an expired token also wraps ErrExpired. An access token is
// rejected. Whether the token is still the current one of its session is for
// the caller to check against the store.
func (i *Issuer) VerifyRefresh(token string) (RefreshClaims, error) {
	var c refreshJWT
	if err := i.refresh.verify(token, &c); err != nil {
		return RefreshClaims{}, err
	}
	var userClaims claims.Set
	if len(c.UserClaims) > 0 {
		var err error
		if userClaims, err = claims.Decode(c.UserClaims); err != nil {
			return RefreshClaims{}, fmt.Errorf("verify refresh token: %w: user_claims: %w", ErrInvalidToken, err)
		}
	}
	return RefreshClaims{
		Origin:     c.Origin,
		UserClaims: userClaims,
		ID:         c.ID,
		SessionID:  c.SessionID,
		Subject:    c.Subject,
		ClientID:   c.ClientID,
		Scope:      c.Scope,
		AuthTime:   unixTime(c.AuthTime),
		IssuedAt:   unixTime(c.IssuedAt),
		ExpiresAt:  unixTime(c.ExpiresAt),
		Issuer:     c.Issuer,
		Audience:   []string(c.Audience),
	}, nil
}
