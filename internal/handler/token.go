package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

// writeTokens sends a token response with the no-store headers of RFC 6749 §5.1.
func writeTokens(c echo.Context, set *auth.TokenSet) error {
	body := tokenResponse{
		AccessToken:  set.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    int64(set.ExpiresIn.Seconds()),
		RefreshToken: set.RefreshToken,
		Scope:        set.Scope,
	}
	if set.RefreshToken != "" {
		body.RefreshExpiresIn = int64(set.RefreshExpiresIn.Seconds())
	}
	return c.JSON(http.StatusOK, body)
}

// tokenHandler serves POST /token (RFC 6749 §4.3, §4.4, §6).
func tokenHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		ctx, m := c.Request().Context(), meta(c)
		var (
			set *auth.TokenSet
			err error
		)
		switch gt := p.get("grant_type"); gt {
		case "":
			return auth.ErrorF(auth.InvalidRequest, "missing parameter grant_type")
		case auth.GrantPassword:
			var username string
			if username, err = required(p, "username"); err != nil {
				return err
			}
			if !p.has("password") {
				return auth.ErrorF(auth.InvalidRequest, "missing parameter password")
			}
			set, err = svc.Password(ctx, auth.PasswordRequest{
				Username: username, Password: p.get("password"), Scope: p.get("scope"), Client: ca,
			}, m)
			if err != nil {
				return err
			}
		case auth.GrantClientCredentials:
			if set, err = svc.ClientCredentials(ctx, ca, p.get("scope"), m); err != nil {
				return err
			}
		case auth.GrantRefreshToken:
			return refresh(c, svc, p, ca)
		default:
			return auth.ErrorF(auth.UnsupportedGrantType, "grant_type is not supported")
		}
		return writeTokens(c, set)
	})
}
