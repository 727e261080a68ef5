package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// revokeHandler serves POST /revoke (RFC 7009): 200 with an empty body for
// every well-formed request, whether or not the token was known.
func revokeHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		tok, err := required(p, "token")
		if err != nil {
			return err
		}
		err = svc.Revoke(c.Request().Context(), auth.RevokeRequest{
			Token: tok, TokenTypeHint: p.get("token_type_hint"), Client: ca,
		}, meta(c))
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
}
