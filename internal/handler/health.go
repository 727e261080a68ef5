package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthzHandler answers 200 while the process serves.
func healthzHandler() echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.String(http.StatusOK, "ok\n")
	}
}

// readyzHandler answers 200 when the store answers and 503 otherwise.
func readyzHandler(ready func(context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				c.Response().Header().Set(echo.HeaderRetryAfter, "1")
				return c.String(http.StatusServiceUnavailable, "store unavailable\n")
			}
		}
		return c.String(http.StatusOK, "ready\n")
	}
}
