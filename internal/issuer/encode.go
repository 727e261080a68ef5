package issuer

import "github.com/authsvc/authsvc/internal/jsonenc"

// The claims are encoded by hand, in their declared field order, because
// signing is on the hot path of every token response and encoding/json's
// reflection was a visible share of it. The output is byte-for-byte what
// encoding/json gives for the same struct (TestMarshalJSON_MatchesReflection
// holds it to that), so tokens and their determinism are unchanged.

// appendAudience appends aud as a string when it has one value, as an array
// otherwise (see audience.MarshalJSON).
func appendAudience(b []byte, aud audience) []byte {
	b = jsonenc.Field(b, "aud")
	if len(aud) == 1 {
		return jsonenc.String(b, aud[0])
	}
	if aud == nil {
		return append(b, "null"...)
	}
	return jsonenc.Strings(b, aud)
}

// appendOptional appends a string member unless it is empty (omitempty).
func appendOptional(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return jsonenc.StringField(b, name, value)
}

// openClaims starts a claims object with the members both kinds of token
// begin with: iss, sub, aud, exp, iat.
func openClaims(iss, sub string, aud audience, exp, iat int64) []byte {
	b := make([]byte, 0, 320)
	b = append(b, '{')
	b = jsonenc.StringField(b, "iss", iss)
	b = jsonenc.StringField(b, "sub", sub)
	b = appendAudience(b, aud)
	b = jsonenc.IntField(b, "exp", exp)
	return jsonenc.IntField(b, "iat", iat)
}

// MarshalJSON implements json.Marshaler.
func (c accessJWT) MarshalJSON() ([]byte, error) {
	b := openClaims(c.Issuer, c.Subject, c.Audience, c.ExpiresAt, c.IssuedAt)
	b = jsonenc.IntField(b, "nbf", c.NotBefore)
	b = jsonenc.StringField(b, "jti", c.ID)
	b = jsonenc.StringField(b, "type", c.Type)
	b = appendOptional(b, "scope", c.Scope)
	b = appendOptional(b, "client_id", c.ClientID)
	b = appendOptional(b, "sid", c.SessionID)
	if c.Cnf != nil {
		b = jsonenc.Field(b, "cnf")
		b = append(b, '{')
		b = jsonenc.StringField(b, "jkt", c.Cnf.JKT)
		b = append(b, '}')
	}
	b = c.Extra.AppendMembers(b)
	return append(b, '}'), nil
}

// MarshalJSON implements json.Marshaler.
func (c refreshJWT) MarshalJSON() ([]byte, error) {
	b := openClaims(c.Issuer, c.Subject, c.Audience, c.ExpiresAt, c.IssuedAt)
	b = jsonenc.StringField(b, "jti", c.ID)
	b = jsonenc.StringField(b, "type", c.Type)
	b = jsonenc.StringField(b, "sid", c.SessionID)
	b = appendOptional(b, "scope", c.Scope)
	b = appendOptional(b, "client_id", c.ClientID)
	b = jsonenc.IntField(b, "auth_time", c.AuthTime)
	b = appendOptional(b, "origin", c.Origin)
	if len(c.UserClaims) > 0 {
		b = append(jsonenc.Field(b, "user_claims"), c.UserClaims...)
	}
	return append(b, '}'), nil
}
