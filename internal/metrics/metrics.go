// Package metrics is authsvc's Prometheus instrumentation: HTTP requests by
// route pattern and status, the domain's audit events (tokens issued,
// refreshes, reuse detections, revocations, login failures, rate-limit
// rejections) and the latency and errors of every store operation.
//
// Everything is registered in a registry of its own, never the global one,
// so two instances (two tests, two servers in one process) never collide.
// No label value ever comes from a request: user names, client ids, tokens,
// raw paths and unknown methods never become label values, so the number of
// series is fixed by the code, not by the traffic.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/oauth"
)

const namespace = "authsvc"

// Label values used when a request or event does not fit the known set.
const (
	routeUnmatched = "unmatched" // no route matched (404)
	other          = "other"
)

// Buckets, in seconds. Requests run from well under a millisecond (a
// refresh on a local Redis) to a few hundred (an argon2id check under
// load); store operations are usually sub-millisecond.
var (
	requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	storeBuckets   = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
)

// Metrics holds authsvc's collectors and their registry. Create it with
// New; it is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	tokensIssued    *prometheus.CounterVec
	refreshes       *prometheus.CounterVec
	reuseDetected   prometheus.Counter
	revocations     *prometheus.CounterVec
	loginFailures   *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	storeDuration   *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec
	configReloads   *prometheus.CounterVec
}

// New returns Metrics in a new private registry, which also holds the Go
// runtime and process collectors and authsvc_build_info{version}.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route pattern and status.",
			Buckets: requestBuckets,
		}, []string{"method", "route", "status"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_issued_total",
			Help: "Token responses with newly minted tokens, by grant type (a retry inside REFRESH_REUSE_GRACE is not counted: it hands out the same tokens again).",
		}, []string{"grant_type"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "refreshes_total",
			Help: "Successful refreshes, by result: rotated (a new refresh token) or retried (the previous token inside REFRESH_REUSE_GRACE got the same successor).",
		}, []string{"result"}),
		reuseDetected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "refresh_reuse_detected_total",
			Help: "Refresh tokens presented after they were rotated away; each revoked its whole session.",
		}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "revocations_total",
			Help: "Tokens revoked at /revoke, by token type (a refresh token ends its session, an access token is denylisted).",
		}, []string{"token_type"}),
		loginFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "login_failures_total",
			Help: "Failed authentications, by kind: user (wrong username or password) or client (wrong client credentials).",
		}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused with 429, by reason (login_failures: LOGIN_FAILURES_MAX reached).",
		}, []string{"reason"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "store_operation_duration_seconds",
			Help:    "Time of a store (Redis) operation, by operation, errors included.",
			Buckets: storeBuckets,
		}, []string{"operation"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_errors_total",
			Help: "Failed store operations, by operation and kind: unavailable (cannot read or write now: the request got 503) or other. Outcomes such as a session not found or a reuse are not errors.",
		}, []string{"operation", "kind"}),
		configReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "config_reloads_total",
			Help: "Reloads of CREDENTIALS_FILE (and the key set), by result: ok (the new files are in force) or error (refused; the previous configuration stays).",
		}, []string{"result"}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.requests, m.requestDuration, m.tokensIssued, m.refreshes, m.reuseDetected,
		m.revocations, m.loginFailures, m.rateLimited, m.storeDuration, m.storeErrors,
		m.configReloads,
	)
	// Every series the events can produce starts at zero, so a rate()
	// over it works from the first scrape and an absent series means a
	// broken scrape, not "nothing happened yet".
	for _, g := range grantTypes {
		m.tokensIssued.WithLabelValues(g)
	}
	for _, r := range []string{"rotated", "retried"} {
		m.refreshes.WithLabelValues(r)
	}
	for _, tt := range []string{oauth.TokenTypeRefresh, oauth.TokenTypeAccess} {
		m.revocations.WithLabelValues(tt)
	}
	for _, k := range []string{"user", "client"} {
		m.loginFailures.WithLabelValues(k)
	}
	m.rateLimited.WithLabelValues("login_failures")
	m.configReloads.WithLabelValues("ok")
	m.configReloads.WithLabelValues("error")
	return m
}

// ConfigReloaded counts one configuration reload, ok or refused; install it
// as the reload.Reloader's onResult.
func (m *Metrics) ConfigReloaded(ok bool) {
	result := "error"
	if ok {
		result = "ok"
	}
	m.configReloads.WithLabelValues(result).Inc()
}

// Registry returns the private registry, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format, for GET
// /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest counts one answered HTTP request and its duration. route
// is the route pattern ("" when none matched); an unknown method is
// counted as "other".
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if route == "" {
		route = routeUnmatched
	}
	if !knownMethods[method] {
		method = other
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.requestDuration.WithLabelValues(method, route, code).Observe(d.Seconds())
}

// knownMethods are the methods counted under their own name.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// grantTypes are the grant types counted under their own name.
var grantTypes = []string{oauth.GrantPassword, oauth.GrantClientCredentials, oauth.GrantRefreshToken}

// OnEvent counts an audit event of the token rules; install it as
// auth.Deps.OnEvent. Only the event's name, grant type, token type and
// reason are used, each from a fixed set; who and from where never become
// labels.
func (m *Metrics) OnEvent(e audit.Event) {
	switch e.Name {
	case audit.EventLogin:
		m.tokensIssued.WithLabelValues(oneOf(e.Grant, grantTypes...)).Inc()
	case audit.EventRefresh:
		m.tokensIssued.WithLabelValues(oauth.GrantRefreshToken).Inc()
		m.refreshes.WithLabelValues("rotated").Inc()
	case audit.EventRefreshRetry:
		m.refreshes.WithLabelValues("retried").Inc()
	case audit.EventReuseDetected:
		m.reuseDetected.Inc()
	case audit.EventRevoke:
		m.revocations.WithLabelValues(oneOf(e.TokenType, oauth.TokenTypeRefresh, oauth.TokenTypeAccess)).Inc()
	case audit.EventLoginFailed:
		m.loginFailures.WithLabelValues("user").Inc()
	case audit.EventClientAuthFailed:
		m.loginFailures.WithLabelValues("client").Inc()
	case audit.EventRateLimited:
		m.rateLimited.WithLabelValues(reasonLabel(e.Reason)).Inc()
	}
}

// oneOf returns v when it is one of known, and "other" otherwise.
func oneOf(v string, known ...string) string {
	for _, k := range known {
		if v == k {
			return v
		}
	}
	return other
}

// reasonLabel keeps a rate-limit reason as its label when it looks like
// one of the code's identifiers (lowercase letters and underscores, short),
// and "other" otherwise.
func reasonLabel(r string) string {
	if r == "" || len(r) > 32 {
		return other
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; (c < 'a' || c > 'z') && c != '_' {
			return other
		}
	}
	return r
}
