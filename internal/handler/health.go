package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// healthzHandler answers 200 while the process serves.
func healthzHandler() echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.String(http.StatusOK, "ok\n")
	}
}

// errNotReady is /readyz's answer while the store does not answer: 503
// temporarily_unavailable with Retry-After, from the one error table.
var errNotReady = &auth.Error{Code: auth.TemporarilyUnavailable, Description: "the store is unavailable", RetryAfter: time.Second}

// readyzHandler answers 200 when the store answers and 503 otherwise.
func readyzHandler(ready func(context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				return errNotReady
			}
		}
		return c.String(http.StatusOK, "ready\n")
	}
}
