package main

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/authenticator"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/feed"
	"github.com/authsvc/authsvc/internal/handler"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/limiter"
	"github.com/authsvc/authsvc/internal/metrics"
	"github.com/authsvc/authsvc/internal/reload"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
	redisstore "github.com/authsvc/authsvc/internal/store/redis"
	"github.com/authsvc/authsvc/internal/tlscert"
	"github.com/authsvc/authsvc/internal/tracing"
)

// shutdownTimeout bounds the graceful shutdown; docs/operations.md promises an exit within 10 s of SIGTERM.
const shutdownTimeout = 8 * time.Second

// errConfig marks a start-up failure whose lines were already printed.
var errConfig = errors.New("invalid configuration")

// errRedisURL is a REDIS_URL go-redis cannot parse. It never quotes the URL,
// which may hold a password.
var errRedisURL = errors.New("REDIS_URL: cannot be parsed")

// run is the whole program: it dispatches the subcommands, or serves until
// ctx is cancelled (SIGINT/SIGTERM).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "hash-password":
			return hashPassword(stdin, stdout)
		case "gen-client-secret":
			return genClientSecret(stdout)
		case "check-config":
			return checkConfig(stdout, stderr)
		case "healthcheck":
			return healthcheck(ctx, os.Getenv)
		case "admin":
			return adminCommand(ctx, args[1:], os.Getenv, &http.Client{Timeout: 30 * time.Second}, stdout)
		case "gen-key":
			return genKey(args[1:], stdout, stderr)
		case "keys":
			return listKeys(stdout, stderr)
		case "version":
			_, err := fmt.Fprintln(stdout, version)
			return err
		case "-h", "--help", "help":
			fmt.Fprint(stdout, usage)
			return nil
		default:
			return fmt.Errorf("unknown command %q\n%s", args[0], usage)
		}
	}
	return serve(ctx, stderr)
}

const usage = `usage: authsvc [command]

With no command, authsvc serves (configured by environment variables; see docs/configuration.md).

Commands:
  hash-password      read a password on stdin, print its argon2id hash
  gen-client-secret  print a new random client secret and its hash
  check-config       validate the configuration as start-up does, without serving
  admin              call the admin API (authsvc admin help)
  healthcheck        exit 0 when the local service is ready
  gen-key -alg RS256|ES256|EdDSA [-bits N]
                     print a new PKCS#8 PEM private key (RSA: 3072 bits by default)
  keys               print the access-token keys: kid, alg, active_from, state
  version            print the version of this build
`

// serve runs the service until ctx is done, in four steps: read the
// configuration, open the log, build the parts, then listen and serve. A
// start-up problem is printed, one line each, and serve returns errConfig.
func serve(ctx context.Context, stderr io.Writer) error {
	cfg, err := loadValidConfig(stderr)
	if err != nil {
		return err
	}
	log, auditLog, stderr, closeLog := openLog(cfg, stderr)
	defer closeLog() // runs last: the final log lines are written out
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	p, problems := buildParts(ctx, cfg, log, auditLog)
	if len(problems) > 0 {
		return printProblems(stderr, problems...)
	}
	defer p.close()
	return listenAndServe(ctx, cfg, p, log, stderr)
}

// openLog builds the process logger and the audit logger. With
// LOG_FLUSH_INTERVAL the process log's lines are batched; the returned
// stderr then writes the batch out first, so lines printed straight to it
// keep their order. Audit events are written out at once, with the lines
// batched before them: each reaches the log before the response that
// reports it, so a SIGKILL or an OOM kill cannot lose it. close flushes and
// stops the batching.
func openLog(cfg *Config, stderr io.Writer) (log, auditLog *slog.Logger, out io.Writer, close func()) {
	d := cfg.LogFlushInterval.V
	if d <= 0 {
		l := newLogger(stderr, cfg)
		return l, l, stderr, func() {}
	}
	bw := newBatchWriter(stderr, d)
	return newLogger(bw, cfg), newLogger(immediate{bw}, cfg), flushFirst{bw, stderr}, func() { _ = bw.Close() }
}

// parts are what buildParts assembles: the handler's dependencies, shared
// by the public and management listeners, the admin listener's parts, the
// TLS certificate, the revocation feed, and what to stop when the service
// stops.
type parts struct {
	http  handler.Deps
	trace *handler.Tracing // public listener only
	admin adminParts       // the admin listener (ADMIN_ADDR)
	certs *tlscert.Reloader
	feed  *feed.Feed
	stops []func() // run in reverse order by close
}

// close stops everything buildParts started, last started first.
func (p *parts) close() {
	for i := len(p.stops) - 1; i >= 0; i-- {
		p.stops[i]()
	}
}

// buildParts builds every part of the service from cfg: keys, credentials
// and the slow-hash gate, tracing, the store and its metrics, the profiler,
// the revocation feed, the token rules, configuration reloading, the TLS
// certificate and the handler's dependencies. On problems (one line each)
// whatever it had started is stopped again.
func buildParts(ctx context.Context, cfg *Config, log, auditLog *slog.Logger) (_ *parts, problems []error) {
	p := &parts{}
	defer func() {
		if len(problems) > 0 {
			p.close()
		}
	}()
	fail := func(err error) (*parts, []error) { return nil, []error{err} }

	// The slow-hash gate: one per process, shared by every credentials
	// set (start-up and reloads); the token rules tell it of other work.
	gate := credential.NewGate(runtime.GOMAXPROCS(0), time.Now)
	iss, creds, errs := buildKeysAndCredentials(cfg, log, gate)
	if len(errs) > 0 {
		return nil, errs
	}

	tp, stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return fail(err)
	}
	p.stops = append(p.stops, stopTracing) // after the listeners stop: the last spans are exported
	p.trace = handlerTracing(tp)

	st, err := openStore(cfg, tp)
	if err != nil {
		return fail(err)
	}
	p.stops = append(p.stops, func() { _ = st.Close() })

	// One private registry per run: no global state, so tests can run
	// several servers in one process.
	m := metrics.New(version)
	st = m.Store(st)
	if u, err := url.Parse(cfg.JWTIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		log.Warn("JWT_ISSUER is not an http(s) URL: the endpoint URLs of /.well-known/oauth-authorization-server are built from it and will not work")
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return fail(fmt.Errorf("PPROF_ADDR: %w", err))
		}
		p.stops = append(p.stops, stopPprof)
	}

	dpopCfg, err := dpopConfig(cfg)
	if err != nil {
		return fail(err)
	}
	// The revocation feed's one reader per process; held /revocations
	// requests wait on it, not on the store.
	p.feed = feed.New(st, log, nil)
	feedCtx, stopFeed := context.WithCancel(context.Background())
	p.stops = append(p.stops, stopFeed)
	go p.feed.Run(feedCtx)
	authn, err := newAuthenticator(cfg)
	if err != nil {
		return fail(err)
	}
	var userAuth auth.UserAuthenticator
	if authn != nil {
		p.stops = append(p.stops, authn.Close)
		userAuth = authn
		if u, _ := url.Parse(cfg.UserAuthenticatorURL); u != nil && u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			log.Warn("USER_AUTHENTICATOR_URL is plain http to another host: passwords cross the network unencrypted; use https")
		}
	}

	svc := auth.New(auth.Config{
		AccessTTL:                  cfg.AccessTokenTTL.V,
		RefreshTTL:                 cfg.RefreshTokenTTL.V,
		SessionMaxTTL:              cfg.SessionMaxTTL.V,
		ReuseGrace:                 cfg.RefreshReuseGrace.V,
		ClockSkew:                  cfg.ClockSkew.V,
		LoginFailuresMax:           cfg.LoginFailuresMax.V,
		LoginFailuresWindow:        cfg.LoginFailuresWindow.V,
		LoginFailuresMaxPerAddress: cfg.LoginFailuresMaxPerAddr.V,
		HashQueueTimeout:           cfg.HashQueueTimeout.V,
		NameKey:                    nameKey(cfg.SecretKey),
		// Sessions (docs/api.md "Sessions").
		MaxSessionsPerSubject: cfg.MaxSessionsPerSubject.V,
	}, auth.Deps{Issuer: iss, Store: st, Credentials: creds, Authenticator: userAuth, Log: auditLog, OnEvent: m.OnEvent, DPoP: dpopCfg, Feed: p.feed,
		OnActivity: gate.NoteActivity})

	// CREDENTIALS_FILE (and every source added to reloader) is re-read on
	// SIGHUP, on POST /admin/reload and when a file changes.
	reloader := reload.New(log, m.ConfigReloaded, credentialsSource(cfg, svc, log, gate), keySetSource(cfg.JWTKeysFile, iss, log))
	p.stops = append(p.stops, watchConfig(ctx, reloader, log))

	if cfg.TLSCertFile != "" {
		if p.certs, err = tlscert.New(cfg.TLSCertFile, cfg.TLSKeyFile, log); err != nil {
			return fail(err)
		}
	}
	var rateLimit handler.RateLimit
	if cfg.RateLimitPerAddress.V > 0 {
		rateLimit = limiter.New(cfg.RateLimitPerAddress.V, 0, nil).Allow
	}
	p.http = handler.Deps{
		Auth:          svc,
		JWKS:          iss.JWKS(),
		PublishedJWKS: iss.PublishedJWKS,
		Log:           log,
		IPExtractor:   ipExtractor(cfg.trustedNets, cfg.ClientIPHeader, log),
		TrustedPeer:   trustedPeer(cfg.trustedNets),
		Ready:         svc.Ready,
		Issuer:        cfg.JWTIssuer,
		Scopes:        creds.Scopes(),
		PublicClients: func() bool { return svc.Credentials().HasPublicClients() },
		Metrics:       m.Handler(),
		Observe:       m.ObserveRequest,
		RateLimit:     rateLimit,
		HSTS:          p.certs != nil,
	}
	p.admin = adminParts{cfg: cfg, svc: svc, reloader: reloader, jwks: iss.JWKS, log: log, metrics: m, certs: p.certs}
	return p, nil
}

// listenAndServe opens the public listener (and the management listener
// when MANAGEMENT_ADDR is set), serves until ctx is done or the server
// fails, then shuts down within shutdownTimeout. It listens synchronously,
// so that "address in use" is a start-up problem, printed to stderr.
func listenAndServe(ctx context.Context, cfg *Config, p *parts, log *slog.Logger, stderr io.Writer) error {
	public := p.http
	public.Tracing = p.trace // the management listener is not traced
	if cfg.ManagementAddr != "" {
		public.Metrics = nil // served on the management listener only
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		return printProblems(stderr, fmt.Errorf("HTTP_ADDR: %w", err))
	}
	srv := newHTTPServer(handler.New(public), log)
	if cfg.ManagementAddr != "" {
		stopManagement, err := serveManagement(cfg.ManagementAddr, handler.NewManagement(p.http), log)
		if err != nil {
			_ = ln.Close()
			return printProblems(stderr, fmt.Errorf("MANAGEMENT_ADDR: %w", err))
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			stopManagement(sctx)
		}()
	}
	scheme := "http"
	if p.certs != nil {
		scheme = "https"
		srv.TLSConfig = tlscert.ServerConfig(p.certs.GetCertificate)
		defer reloadCertificates(ctx, p.certs, log)()
	} else {
		log.Warn("serving plain HTTP: terminate HTTPS in front of authsvc (or set TLS_CERT_FILE and TLS_KEY_FILE)")
	}
	_, stopAdmin, err := serveAdmin(p.admin)
	if err != nil {
		_ = ln.Close()
		return printProblems(stderr, err)
	}
	log.Info("authsvc listening", "version", version, "addr", ln.Addr().String(), "scheme", scheme,
		"alg", cfg.JWTAlgorithm, "store", storeName(cfg))

	serveErr := make(chan error, 1)
	go func() {
		if p.certs != nil {
			serveErr <- srv.ServeTLS(ln, "", "") // the certificate comes from certs
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	select {
	case err := <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	// Held /revocations requests are answered at once with what is known,
	// so they do not hold up the shutdown.
	_ = p.feed.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	adminDone := make(chan error, 1)
	go func() { adminDone <- stopAdmin(sctx) }()
	// Both listeners drain within the same deadline.
	defer func() {
		if err := <-adminDone; err != nil {
			log.Warn("admin listener shutdown", "error", err.Error())
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// certPollInterval is how often the TLS files are checked for a change.
const certPollInterval = 5 * time.Second

// reloadCertificates reloads the TLS certificate on SIGHUP and when its files
// change, until ctx is done or the returned stop is called.
func reloadCertificates(ctx context.Context, certs *tlscert.Reloader, log *slog.Logger) (stop func()) {
	return onChange(ctx, func(ctx context.Context) { certs.Watch(ctx, certPollInterval) }, func() {
		log.Info("SIGHUP: reloading the TLS certificate")
		_ = certs.Reload() // a failure is logged and keeps the old one
	})
}

// flushFirst writes out a batchWriter's buffered lines before each write to
// w, so that lines written directly keep their place after the log's.
type flushFirst struct {
	b *batchWriter
	w io.Writer
}

func (f flushFirst) Write(p []byte) (int, error) {
	f.b.Flush()
	return f.w.Write(p)
}

// newLogger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// loadValidConfig reads and validates the environment. On a problem it
// prints one line per problem to stderr and returns errConfig.
func loadValidConfig(stderr io.Writer) (*Config, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, printProblems(stderr, err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, printProblems(stderr, errs...)
	}
	return cfg, nil
}

// printProblems prints one line per problem and returns errConfig.
func printProblems(stderr io.Writer, errs ...error) error {
	for _, e := range errs {
		fmt.Fprintln(stderr, "authsvc:", e)
	}
	return errConfig
}

// buildKeysAndCredentials parses the keys and the credentials file once, at
// start-up, returning one error per problem. The credentials' slow hashes
// wait for gate (nil: ungated, for check-config).
func buildKeysAndCredentials(cfg *Config, log *slog.Logger, gate *credential.Gate) (*issuer.Issuer, *credential.Set, []error) {
	iss, errs := buildIssuer(cfg, log)
	creds, warnings, err := credential.Load(cfg.CredentialsFile, credential.WithGate(gate))
	if err != nil {
		errs = append(errs, fmt.Errorf("CREDENTIALS_FILE: %w", err))
	} else {
		for _, check := range credentialChecks {
			for _, p := range check(cfg, creds) {
				errs = append(errs, fmt.Errorf("CREDENTIALS_FILE: %s", p))
			}
		}
	}
	for _, w := range warnings {
		log.Warn("weak credential hash", "detail", w)
	}
	return iss, creds, errs
}

// checkClientLifetimes is a credentialChecks entry: the clients' own
// lifetimes against ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL and SESSION_MAX_TTL.
func checkClientLifetimes(cfg *Config, set *credential.Set) []string {
	err := set.CheckLimits(credential.Limits{
		AccessTTL: cfg.AccessTokenTTL.V, RefreshTTL: cfg.RefreshTokenTTL.V, SessionMaxTTL: cfg.SessionMaxTTL.V,
	})
	if err == nil {
		return nil
	}
	return problemLines(err)
}

// newAuthenticator builds the user authenticator client, or nil when
// USER_AUTHENTICATOR_URL is not set.
func newAuthenticator(cfg *Config) (*authenticator.Client, error) {
	if cfg.UserAuthenticatorURL == "" {
		return nil, nil
	}
	c, err := authenticator.New(authenticator.Config{
		URL:     cfg.UserAuthenticatorURL,
		Token:   cfg.UserAuthenticatorToken.Reveal(),
		Timeout: cfg.UserAuthenticatorTimeout.V,
	})
	if err != nil {
		return nil, fmt.Errorf("USER_AUTHENTICATOR_URL: %w", err)
	}
	return c, nil
}

// buildIssuer reads the key files (JWT_PRIVATE_KEY_FILE and
// JWT_PREVIOUS_PUBLIC_KEY_FILES, or JWT_KEYS_FILE) and builds the issuer,
// returning one error per problem. It logs the warnings about the keys.
func buildIssuer(cfg *Config, log *slog.Logger) (*issuer.Issuer, []error) {
	var errs []error
	icfg := cfg.issuerConfig()
	if cfg.JWTAlgorithm != "HS256" {
		if cfg.JWTKeysFile != "" {
			keys, kerrs := readKeysFile(cfg.JWTKeysFile)
			errs = append(errs, prefixErrs("JWT_KEYS_FILE", kerrs)...)
			icfg.Keys = keys
		} else if k, err := readPrivateKey(cfg.JWTPrivateKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("JWT_PRIVATE_KEY_FILE: %w", err))
		} else {
			icfg.PrivateKey = k
		}
		for _, f := range cfg.JWTPreviousPublicKeyFiles {
			if k, err := readPublicKey(f); err != nil {
				errs = append(errs, fmt.Errorf("JWT_PREVIOUS_PUBLIC_KEY_FILES: %w", err))
			} else {
				icfg.PreviousPublicKeys = append(icfg.PreviousPublicKeys, k)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	iss, err := issuer.New(icfg)
	if err != nil {
		return nil, prefixErrs("keys", splitJoined(err))
	}
	if cfg.JWTAlgorithm == "HS256" && cfg.RefreshSecretKey == "" {
		log.Warn("JWT_ALGORITHM is HS256 and REFRESH_SECRET_KEY is unset: refresh tokens are signed with a key derived from SECRET_KEY, " +
			"which every resource server holds, so any of them could forge refresh tokens; set REFRESH_SECRET_KEY " +
			"(with REFRESH_SECRET_KEY_PREVIOUS=derived, nobody is logged out)")
	}
	if cfg.JWTKeysFile != "" {
		warnShortLeads(log, iss.KeySet(), time.Now())
	}
	return iss, nil
}

func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	k, err := issuer.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	k, err := issuer.ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// openStore builds the configured store. A Redis that cannot be reached is
// not an error here: the client connects lazily, authsvc serves, and /readyz
// and the token endpoints answer 503 until Redis answers.
func openStore(cfg *Config, tp *tracing.Provider) (store.Store, error) {
	if cfg.Store == "memory" {
		return memory.New(time.Now), nil
	}
	client, err := redisClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := traceRedis(client, tp); err != nil {
		return nil, err
	}
	return redisstore.New(client, cfg.RedisKeyPrefix), nil
}

// redisClient builds the Redis client of the configured topology; the
// client's settings belong to internal/store/redis.
func redisClient(cfg *Config) (goredis.UniversalClient, error) {
	client, err := redisstore.NewClient(redisstore.Connection{
		URL:          cfg.RedisURL.Reveal(),
		ClusterAddrs: cfg.RedisClusterAddrs, SentinelAddrs: cfg.RedisSentinelAddrs, SentinelMaster: cfg.RedisSentinelMaster,
		Username: cfg.RedisUsername, Password: cfg.RedisPassword.Reveal(), TLS: cfg.RedisTLS.V,
	})
	if err != nil {
		return nil, errRedisURL
	}
	return client, nil
}

func storeName(cfg *Config) string {
	switch {
	case cfg.Store == "memory":
		return "memory"
	case len(cfg.RedisClusterAddrs) > 0:
		return "redis-cluster"
	case len(cfg.RedisSentinelAddrs) > 0:
		return "redis-sentinel"
	}
	return "redis"
}

// ipExtractor believes the CLIENT_IP_HEADER (X-Forwarded-For or
// X-Real-IP) only from the trusted proxies, and never the other header, so
// behind a proxy that sets one, clients cannot choose their address by
// sending the other. With no trusted proxy the client address is the peer
// address; the first request that carries a forwarding header then logs a
// warning, as every client behind that proxy shares one address for the
// limits.
func ipExtractor(trusted []*net.IPNet, header string, log *slog.Logger) echo.IPExtractor {
	if len(trusted) == 0 {
		var warned atomic.Bool
		return func(r *http.Request) string {
			if !warned.Load() && (r.Header.Get(echo.HeaderXForwardedFor) != "" || r.Header.Get(echo.HeaderXRealIP) != "") &&
				warned.CompareAndSwap(false, true) {
				log.Warn("requests arrive with X-Forwarded-For or X-Real-IP but TRUSTED_PROXIES is empty: " +
					"the client address is the proxy's, so every client behind it shares the login and rate limits; " +
					"set TRUSTED_PROXIES to the proxy's addresses (and CLIENT_IP_HEADER to the header it sets)")
			}
			return echo.ExtractIPDirect()(r)
		}
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	if http.CanonicalHeaderKey(header) == http.CanonicalHeaderKey(echo.HeaderXRealIP) {
		return echo.ExtractIPFromRealIPHeader(opts...)
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// trustedPeer reports whether a request comes straight from one of the
// trusted proxies, whose X-Request-ID is then kept.
func trustedPeer(trusted []*net.IPNet) func(*http.Request) bool {
	return func(r *http.Request) bool {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		for _, n := range trusted {
			if ip != nil && n.Contains(ip) {
				return true
			}
		}
		return false
	}
}

// nameKey derives the key of the hashes that failure counters and audit
// events keep instead of names: HKDF-SHA256 of SECRET_KEY with its own
// label, so every replica computes the same and nothing else uses it.
func nameKey(secret Secret) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret.Reveal()), nil, "authsvc login-failure names v1", 32)
	if err != nil {
		panic(err) // only for an output length HKDF cannot give
	}
	return k
}

// hostPort turns a listen address into one a local client can dial.
func hostPort(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strings.TrimSpace(port))
}

// loopbackHost reports whether host (no port) is this machine.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
