package handler

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// requestID gives every request an id, echoed in X-Request-ID. A
// well-formed id sent by a trusted proxy (trusted reports it; nil trusts
// none) is kept, so one id follows the request through the proxy's logs and
// ours; anyone else's is replaced, or a client could give its requests the
// ids of others in the log. The id is made from a per-process random prefix
// and a counter, which costs no syscall.
func requestID(trusted func(*http.Request) bool) echo.MiddlewareFunc {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var n atomic.Uint64
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := ""
			if trusted != nil && trusted(c.Request()) {
				id = c.Request().Header.Get(echo.HeaderXRequestID)
			}
			if !validRequestID(id) {
				id = prefix + strconv.FormatUint(n.Add(1), 10)
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			return next(c)
		}
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// accessLog writes one line per request. It logs the route pattern, never
// the raw URL (which could carry a token in a misused query string).
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if log.Enabled(c.Request().Context(), level) {
				log.LogAttrs(c.Request().Context(), level, "request",
					slog.String("method", c.Request().Method),
					slog.String("route", c.Path()),
					slog.Int("status", status),
					slog.Duration("duration", time.Since(start)),
					slog.String("addr", c.RealIP()),
					slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				)
			}
			return nil
		}
	}
}

// observe reports every request to fn once it is answered. It runs outside
// accessLog, which has turned any error into its response by then, so the
// status is the one sent.
func observe(fn func(method, route string, status int, d time.Duration)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			fn(c.Request().Method, c.Path(), c.Response().Status, time.Since(start))
			return err
		}
	}
}
