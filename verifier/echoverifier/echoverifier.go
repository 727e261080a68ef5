// Package echoverifier adapts package verifier to Echo v4: Middleware
// verifies the access token of every request and RequireScope checks
// scopes, with the same RFC 6750 answers as the net/http middleware.
//
//	e := echo.New()
//	api := e.Group("/api", echoverifier.Middleware(v))
//	api.GET("/reports", reports, echoverifier.RequireScope("read"))
//
// The claims are in the request context, so verifier.FromContext works in
// handlers, and Claims(c) reads them from an echo.Context.
package echoverifier

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/verifier"
)

// Middleware returns Echo middleware that verifies the request's access
// token with v (verifier.Verifier.VerifyRequest). A request it refuses is
// answered as verifier.Verifier.Middleware answers it and goes no further;
// otherwise the claims are put in the request context.
func Middleware(v *verifier.Verifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			claims, err := v.VerifyRequest(r)
			if err != nil {
				verifier.WriteError(c.Response(), r, err)
				return nil
			}
			c.SetRequest(r.WithContext(verifier.NewContext(r.Context(), claims)))
			return next(c)
		}
	}
}

// RequireScope returns Echo middleware that lets a request through only
// when its verified claims grant every one of scopes, answering 403
// insufficient_scope otherwise (and 401 when Middleware did not run).
func RequireScope(scopes ...string) echo.MiddlewareFunc {
	need := strings.Join(scopes, " ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			claims, ok := verifier.FromContext(r.Context())
			if !ok {
				verifier.WriteError(c.Response(), r, verifier.ErrNoToken)
				return nil
			}
			if verifier.MissingScope(claims, scopes...) != "" {
				verifier.WriteInsufficientScope(c.Response(), r, need)
				return nil
			}
			return next(c)
		}
	}
}

// Claims returns the claims Middleware verified for the request of c.
func Claims(c echo.Context) (*verifier.Claims, bool) {
	return verifier.FromContext(c.Request().Context())
}
