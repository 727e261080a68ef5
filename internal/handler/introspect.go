package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// introspectionResponse is the RFC 7662 §2.2 body. An inactive token is
// exactly {"active":false}: every other field is omitted.
type introspectionResponse struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	ExpiresAt int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	// Audience is a string when it has one value and an array otherwise,
	// as in the token itself (RFC 7519 §4.1.3).
	Audience any    `json:"aud,omitempty"`
	ID       string `json:"jti,omitempty"`
	// Cnf is the DPoP binding of a bound token (RFC 9449 §6.2).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// confirmation is the cnf member of a DPoP-bound token's introspection.
type confirmation struct {
	JKT string `json:"jkt"`
}

// introspectHandler serves POST /introspect (RFC 7662). The caller must
// authenticate as a client allowed to introspect; the token rules decide
// the rest.
func introspectHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		tok, err := required(p, "token")
		if err != nil {
			return err
		}
		in, err := svc.Introspect(c.Request().Context(), auth.IntrospectRequest{
			Token: tok, TokenTypeHint: p.get("token_type_hint"), Client: ca,
		}, meta(c))
		if err != nil {
			return err
		}
		if !in.Active {
			return c.JSON(http.StatusOK, introspectionResponse{})
		}
		body := introspectionResponse{
			Active: true, TokenType: in.TokenType, Subject: in.Subject, Scope: in.Scope, ClientID: in.ClientID,
			ExpiresAt: in.ExpiresAt.Unix(), IssuedAt: in.IssuedAt.Unix(), Issuer: in.Issuer, ID: in.ID,
		}
		if in.JKT != "" {
			body.Cnf = &confirmation{JKT: in.JKT}
		}
		switch len(in.Audience) {
		case 0:
		case 1:
			body.Audience = in.Audience[0]
		default:
			body.Audience = in.Audience
		}
		return c.JSON(http.StatusOK, body)
	})
}
