package handler

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// RateLimit decides whether a request from a client address may proceed;
// when not, it returns how long until one would.
type RateLimit func(addr string) (ok bool, retryAfter time.Duration)

// rateLimited refuses requests beyond the per-address limit with 429
// too_many_requests and Retry-After, before the body is read, and records
// each refusal as a rate_limited audit event.
func rateLimited(allow RateLimit, svc *auth.Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			m := meta(c)
			ok, retry := allow(m.Addr)
			if ok {
				return next(c)
			}
			svc.RateLimited(m)
			return &auth.Error{Code: auth.TooManyRequests, Description: "too many requests; slow down", RetryAfter: max(retry, time.Second)}
		}
	}
}
