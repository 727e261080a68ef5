package handler

import (
	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// refreshHandler serves POST /refresh, which behaves exactly like the
// refresh_token grant of POST /token.
func refreshHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		return refresh(c, svc, p, ca)
	})
}

func refresh(c echo.Context, svc *auth.Service, p params, ca *auth.ClientAuth) error {
	rt, err := required(p, "refresh_token")
	if err != nil {
		return err
	}
	set, err := svc.Refresh(c.Request().Context(), auth.RefreshRequest{
		RefreshToken: rt, Scope: p.get("scope"), Client: ca, Resource: p.get("resource"),
	}, tokenMeta(c, svc))
	if err != nil {
		return err
	}
	return writeTokens(c, set)
}
