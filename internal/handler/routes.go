// Package handler is authsvc's HTTP surface (Echo v4): request parsing,
// client authentication extraction, and the one mapping of protocol errors to
// HTTP responses. The token rules themselves live in package auth.
package handler

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// Deps are the parts the HTTP handler is built from.
type Deps struct {
	// Auth applies the token rules.
	Auth *auth.Service
	// JWKS is the precomputed JSON Web Key Set document, served with
	// max-age=300 when PublishedJWKS is nil.
	JWKS []byte
	// PublishedJWKS, when set, gives the JSON Web Key Set document to serve
	// now and how long caches may keep it (the key set can change while
	// serving: scheduled keys and reloads).
	PublishedJWKS func() (doc []byte, maxAge time.Duration)
	// Log receives the request log and server errors; nil discards them.
	Log *slog.Logger
	// IPExtractor resolves the client address; nil means the peer address.
	IPExtractor echo.IPExtractor
	// TrustedPeer reports whether a request comes straight from a trusted
	// proxy (TRUSTED_PROXIES), whose X-Request-ID is kept; nil trusts
	// nobody, and every request gets an id of authsvc's own.
	TrustedPeer func(*http.Request) bool
	// Ready reports whether the store answers, for /readyz.
	Ready func(context.Context) error
	// Issuer is JWT_ISSUER, the service's public base URL; the metadata
	// document (RFC 8414) names it and builds its endpoint URLs from it.
	Issuer string
	// Scopes are published as scopes_supported; empty omits the field.
	Scopes []string
	// PublicClients tells whether a public client exists now (the
	// credentials in force, which a reload changes); the metadata then
	// lists the "none" authentication method. Nil means none.
	PublicClients func() bool
	// Metrics, when set, serves GET /metrics.
	Metrics http.Handler
	// Observe, when set, is told of every request once it is answered: its
	// method, route pattern ("" when no route matched; never the raw path),
	// status and duration.
	Observe func(method, route string, status int, d time.Duration)
	// RateLimit, when set, limits the POST endpoints per client address
	// (RATE_LIMIT_PER_ADDRESS).
	RateLimit RateLimit
	// HSTS adds Strict-Transport-Security to every response; set it when
	// authsvc itself serves HTTPS.
	HSTS bool
	// Tracing, when set, starts a server span per request (OpenTelemetry);
	// nil installs no tracing middleware at all.
	Tracing *Tracing
}

// New returns the HTTP handler with every public route; /metrics among
// them only when Deps.Metrics is set (not when a management listener
// serves it). docs/api.md describes them.
func New(d Deps) *echo.Echo {
	e := newEcho(d)
	routes(e, d)
	return e
}

// NewManagement returns the handler of the management listener
// (MANAGEMENT_ADDR): /metrics, /healthz and /readyz, with the same error
// table and middlewares as the public listener and no route of its own
// beyond those.
func NewManagement(d Deps) *echo.Echo {
	e := newEcho(d)
	operationRoutes(e, d)
	return e
}

// newEcho returns an Echo with what every listener shares: the settings,
// the error→HTTP table and the middlewares. Each listener adds its routes.
func newEcho(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Debug = false
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.IPExtractor = d.IPExtractor
	if e.IPExtractor == nil {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	if d.Tracing != nil {
		e.Use(traced(*d.Tracing))
	}
	if d.Observe != nil {
		e.Use(observe(d.Observe))
	}
	e.Use(requestID(d.TrustedPeer), accessLog(d.Log), securityHeaders(d.HSTS))
	return e
}

// routes adds the public routes.
func routes(e *echo.Echo, d Deps) {
	var post []echo.MiddlewareFunc
	if d.RateLimit != nil {
		post = append(post, rateLimited(d.RateLimit, d.Auth))
	}
	e.POST("/token", tokenHandler(d.Auth), post...)
	e.POST("/refresh", refreshHandler(d.Auth), post...)
	e.POST("/revoke", revokeHandler(d.Auth), post...)
	e.POST("/logout-all", logoutAllHandler(d.Auth), post...)
	e.POST("/introspect", introspectHandler(d.Auth), post...)
	e.GET("/revocations", revocationsHandler(d.Auth))
	e.GET("/.well-known/jwks.json", jwksHandler(d.JWKS, d.PublishedJWKS))
	var dpopAlgs []string
	if d.Auth != nil {
		dpopAlgs = d.Auth.DPoPAlgs()
	}
	// Both forms are built once per credentials set (a reload may change
	// scopes_supported); each request picks the one that matches the
	// credentials in force.
	docs := metadataDocuments(d, dpopAlgs)
	e.GET("/.well-known/oauth-authorization-server", metadataHandler(func() []byte {
		withNone, withoutNone := docs()
		if d.PublicClients != nil && d.PublicClients() {
			return withNone
		}
		return withoutNone
	}))
	operationRoutes(e, d)
}

// metadataDocuments returns the two forms of the RFC 8414 document (with
// and without the auth method "none") for the credentials in force: built
// again only when a reload swapped the credentials, so scopes_supported
// follows the file. Without Deps.Auth the scopes are Deps.Scopes.
func metadataDocuments(d Deps, dpopAlgs []string) func() (withNone, withoutNone []byte) {
	type built struct {
		set                   any // the credentials in force when built, compared by identity
		withNone, withoutNone []byte
	}
	var cache atomic.Pointer[built]
	return func() ([]byte, []byte) {
		var set any
		scopes := d.Scopes
		if d.Auth != nil {
			creds := d.Auth.Credentials()
			set, scopes = creds, creds.Scopes()
		}
		if b := cache.Load(); b != nil && b.set == set {
			return b.withNone, b.withoutNone
		}
		b := &built{set: set,
			withNone:    metadataDocument(d.Issuer, scopes, dpopAlgs, true),
			withoutNone: metadataDocument(d.Issuer, scopes, dpopAlgs, false)}
		cache.Store(b)
		return b.withNone, b.withoutNone
	}
}

// operationRoutes adds the routes for the platform, which both listeners
// serve: /healthz, /readyz and, when Deps.Metrics is set, /metrics.
func operationRoutes(e *echo.Echo, d Deps) {
	e.GET("/healthz", healthzHandler())
	e.GET("/readyz", readyzHandler(d.Ready))
	if d.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(d.Metrics))
	}
}

// AdminDeps are the parts the admin API is built from.
type AdminDeps struct {
	// Auth applies the token rules and authenticates admin clients.
	Auth *auth.Service
	// Reload re-reads the configuration files (CREDENTIALS_FILE and the
	// key set) all or nothing; problems is empty when the new files are in
	// force, else nothing changed.
	Reload func() (summary ReloadSummary, problems []string)
	// Log, IPExtractor, Observe and HSTS are as in Deps.
	Log         *slog.Logger
	IPExtractor echo.IPExtractor
	Observe     func(method, route string, status int, d time.Duration)
	HSTS        bool
}

// ReloadSummary is what a successful reload put in force.
type ReloadSummary struct {
	Users   int `json:"users"`
	Clients int `json:"clients"`
	// Keys is the number of keys the JWKS publishes now (0 with HS256).
	Keys int `json:"keys"`
}

// NewAdmin returns the admin API's handler, for its own listener
// (ADMIN_ADDR): a second Echo with the same error table and middlewares as
// New's and none of its routes.
func NewAdmin(d AdminDeps) *echo.Echo {
	e := newEcho(Deps{Log: d.Log, IPExtractor: d.IPExtractor, Observe: d.Observe, HSTS: d.HSTS})
	adminRoutes(e, d)
	return e
}

// adminRoutes installs every route of the admin API. Every request, an
// unknown path or method included, first needs admin client
// authentication: a caller without it learns nothing, not even which
// routes exist.
func adminRoutes(e *echo.Echo, d AdminDeps) {
	e.Use(adminAuth(d.Auth))
	e.GET("/admin/subjects/:sub/sessions", adminListHandler(d.Auth))
	e.DELETE("/admin/subjects/:sub/sessions", adminEndAllHandler(d.Auth))
	e.DELETE("/admin/sessions/:sid", adminEndOneHandler(d.Auth))
	e.POST("/admin/reload", adminReloadHandler(d.Auth, d.Reload))
}

// hstsValue is the Strict-Transport-Security header sent when authsvc
// serves HTTPS itself: one year, subdomains included (RFC 6797).
const hstsValue = "max-age=31536000; includeSubDomains"

// Header values shared by every response. They are assigned to the header
// map directly (the keys are in canonical form), which saves an allocation
// per header and request; nothing appends to or edits them in place.
var (
	valNosniff = []string{"nosniff"}
	valDeny    = []string{"DENY"}
	valNoRef   = []string{"no-referrer"}
	valHSTS    = []string{hstsValue}
	valNoStore = []string{"no-store"}
	valNoCache = []string{"no-cache"}
)

// securityHeaders sets the headers every response carries. Neither Echo nor
// net/http sends a Server header, so there is no banner to remove.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h["X-Content-Type-Options"] = valNosniff
			h["X-Frame-Options"] = valDeny
			h["Referrer-Policy"] = valNoRef
			if hsts {
				h["Strict-Transport-Security"] = valHSTS
			}
			if c.Request().Method == http.MethodPost {
				h["Cache-Control"] = valNoStore
				h["Pragma"] = valNoCache
			}
			return next(c)
		}
	}
}
