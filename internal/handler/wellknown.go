package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// jwksHandler serves the public keys that verify access tokens. Resource
// servers cache it; keys change only on a restart with new configuration.
func jwksHandler(doc []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	}
}
