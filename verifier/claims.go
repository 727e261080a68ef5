package verifier

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// accessJWT is the wire form of an access token's claims. Decoding into a
// struct of plain fields is faster than into a map (and than golang-jwt's
// own claim types, which decode each value a second time); a map is decoded
// as well only when the token carries claims this struct does not name (for
// Extra, see extraClaims).
type accessJWT struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ExpiresAt *float64 `json:"exp"`
	NotBefore *float64 `json:"nbf"`
	IssuedAt  *float64 `json:"iat"`
	ID        string   `json:"jti"`
	Type      string   `json:"type"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	SessionID string   `json:"sid"`
	Cnf       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// audience is the aud claim: a string or an array of strings (RFC 7519
// §4.1.3).
type audience []string

// UnmarshalJSON implements json.Unmarshaler without decoding twice.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// knownClaim reports whether name has a field in accessJWT.
func knownClaim(name string) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "scope", "client_id", "sid", "cnf":
		return true
	}
	return false
}

// extraClaims decodes the claims of payload (the token's JSON claims set)
// that accessJWT does not name, or returns nil when there are none, which a
// quick scan tells without decoding.
func extraClaims(payload []byte) (map[string]any, error) {
	if !otherKeys(payload) {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, err
	}
	for k := range m {
		if knownClaim(k) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// otherKeys reports whether the JSON object b has a top-level key that
// knownClaim does not know. It errs towards true: a key with an escape, or
// anything it cannot follow, counts as unknown (the map decode then decides).
func otherKeys(b []byte) bool {
	depth, wantKey := 0, false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			depth++
			wantKey = depth == 1
		case '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			wantKey = depth == 1
		case '"':
			j, escaped := i+1, false
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					escaped = true
					j++
				}
			}
			if j >= len(b) {
				return true
			}
			if depth == 1 && wantKey {
				if escaped || !knownClaim(string(b[i+1:j])) {
					return true
				}
				wantKey = false
			}
			i = j
		}
	}
	return false
}

// numericDate converts seconds (nil: absent) to golang-jwt's type.
func numericDate(sec *float64) *jwt.NumericDate {
	if sec == nil {
		return nil
	}
	return &jwt.NumericDate{Time: unixTime(*sec)}
}

// unixTime converts RFC 7519 NumericDate seconds to a UTC time.
func unixTime(sec float64) time.Time {
	whole := math.Floor(sec)
	return time.Unix(int64(whole), int64((sec-whole)*1e9)).UTC()
}

// GetExpirationTime implements jwt.Claims.
func (c *accessJWT) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.ExpiresAt), nil
}

// GetNotBefore implements jwt.Claims.
func (c *accessJWT) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.NotBefore), nil }

// GetIssuedAt implements jwt.Claims.
func (c *accessJWT) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt), nil }

// GetIssuer implements jwt.Claims.
func (c *accessJWT) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessJWT) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessJWT) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings(c.Audience), nil }

// claims checks what golang-jwt does not (type, the presence of iat, jti
// and sub, a well-formed cnf) and builds Claims with extra as Extra.
func (c *accessJWT) claims(extra map[string]any) (*Claims, error) {
	switch {
	case c.Type != "access":
		return nil, errType
	case c.Subject == "" || c.ID == "" || c.IssuedAt == nil:
		return nil, errMissing
	case c.Cnf != nil && c.Cnf.JKT == "":
		return nil, errors.New("cnf without jkt")
	}
	out := &Claims{
		Subject: c.Subject, ClientID: c.ClientID, ID: c.ID, SessionID: c.SessionID,
		Audience: []string(c.Audience),
		IssuedAt: unixTime(*c.IssuedAt), ExpiresAt: unixTime(*c.ExpiresAt),
		Extra: extra,
	}
	if c.Scope != "" {
		out.Scope = strings.Fields(c.Scope)
	}
	if c.Cnf != nil {
		out.JKT = c.Cnf.JKT
	}
	return out, nil
}
