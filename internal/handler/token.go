package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/jsonenc"
	"github.com/authsvc/authsvc/internal/oauth"
)

// appendTokenResponse appends the RFC 6749 §5.1 success body:
// access_token, token_type, expires_in, then refresh_token and
// refresh_expires_in when a refresh token was issued, and scope when one was
// granted. It is written without reflection: every /token and /refresh
// answer goes through here. TestAppendTokenResponse holds it to
// encoding/json's output.
func appendTokenResponse(b []byte, set *auth.TokenSet) []byte {
	b = append(b, '{')
	b = jsonenc.StringField(b, "access_token", set.AccessToken)
	tokenType := "Bearer"
	if set.DPoP {
		tokenType = "DPoP" // RFC 9449 §5
	}
	b = jsonenc.StringField(b, "token_type", tokenType)
	b = jsonenc.IntField(b, "expires_in", int64(set.ExpiresIn.Seconds()))
	if set.RefreshToken != "" {
		b = jsonenc.StringField(b, "refresh_token", set.RefreshToken)
		b = jsonenc.IntField(b, "refresh_expires_in", int64(set.RefreshExpiresIn.Seconds()))
	}
	if set.Scope != "" {
		b = jsonenc.StringField(b, "scope", set.Scope)
	}
	return append(b, '}', '\n')
}

// writeTokens sends a token response with the no-store headers of RFC 6749
// §5.1 (set for every POST by securityHeaders).
func writeTokens(c echo.Context, set *auth.TokenSet) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON,
		appendTokenResponse(make([]byte, 0, 128+len(set.AccessToken)+len(set.RefreshToken)), set))
}

// tokenHandler serves POST /token (RFC 6749 §4.3, §4.4, §6).
func tokenHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		ctx, m := c.Request().Context(), tokenMeta(c, svc)
		var (
			set *auth.TokenSet
			err error
		)
		switch gt := p.get("grant_type"); gt {
		case "":
			return auth.ErrorF(auth.InvalidRequest, "missing parameter grant_type")
		case oauth.GrantPassword:
			var username string
			if username, err = required(p, "username"); err != nil {
				return err
			}
			if !p.has("password") {
				return auth.ErrorF(auth.InvalidRequest, "missing parameter password")
			}
			set, err = svc.Password(ctx, auth.PasswordRequest{
				Username: username, Password: p.get("password"), Scope: p.get("scope"), Client: ca,
				Resource: p.get("resource"),
			}, m)
			if err != nil {
				return err
			}
		case oauth.GrantClientCredentials:
			if set, err = svc.ClientCredentialsFor(ctx, auth.ClientCredentialsRequest{
				Client: ca, Scope: p.get("scope"), Resource: p.get("resource"),
			}, m); err != nil {
				return err
			}
		case oauth.GrantRefreshToken:
			return refresh(c, svc, p, ca)
		default:
			return auth.ErrorF(auth.UnsupportedGrantType, "grant_type is not supported")
		}
		return writeTokens(c, set)
	})
}
