package handler

import (
	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// headerDPoP is the request header that carries a DPoP proof (RFC 9449 §4.1).
const headerDPoP = "DPoP"

// tokenMeta is meta for the token endpoints: it adds the request's DPoP
// proofs, every DPoP header given, and the route path the proof's htu must
// name (the route, never the raw request path). When the service demands
// nonces, the answer, whatever it is, carries the current one (RFC 9449 §8).
func tokenMeta(c echo.Context, svc *auth.Service) auth.Meta {
	m := meta(c)
	m.DPoP = auth.DPoPInput{Proofs: c.Request().Header.Values(headerDPoP), Path: c.Path()}
	if n := svc.DPoPNonce(); n != "" {
		c.Response().Header().Set(headerDPoPNonce, n)
	}
	return m
}
