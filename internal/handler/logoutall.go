package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// logoutAllResponse is the answer of POST /logout-all.
type logoutAllResponse struct {
	RevokedSessions int `json:"revoked_sessions"`
}

// logoutAllHandler serves POST /logout-all: "log out of all my devices".
// Every session of the refresh token's subject ends, under every client.
func logoutAllHandler(svc *auth.Service) echo.HandlerFunc {
	return postHandler(func(c echo.Context, p params, ca *auth.ClientAuth) error {
		rt, err := required(p, "refresh_token")
		if err != nil {
			return err
		}
		n, err := svc.LogoutAll(c.Request().Context(), auth.LogoutAllRequest{RefreshToken: rt, Client: ca}, tokenMeta(c, svc))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, logoutAllResponse{RevokedSessions: n})
	})
}
