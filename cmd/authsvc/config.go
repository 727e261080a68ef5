package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/authsvc/authsvc/internal/authenticator"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/tracing"

	"github.com/authsvc/authsvc/dpop"
)

// Secret is a configuration value that must never be printed: its String,
// GoString and LogValue are redactions, so a stray %v or slog call cannot
// leak it.
type Secret string

// String returns a redaction.
func (s Secret) String() string { return redact(s) }

// GoString returns a redaction.
func (s Secret) GoString() string { return redact(s) }

// LogValue returns a redaction, so a slog attribute cannot leak it.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redact(s)) }

// MarshalText returns a redaction, so JSON encoders cannot leak it either.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redact(s)), nil }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func redact(s Secret) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// SecretList is a comma-separated list of secrets.
type SecretList []Secret

// Decode implements envconfig.Decoder.
func (l *SecretList) Decode(v string) error {
	*l = nil
	for _, s := range splitList(v) {
		*l = append(*l, Secret(s))
	}
	return nil
}

// List is a comma-separated list; blanks around items are trimmed and empty
// items dropped.
type List []string

// Decode implements envconfig.Decoder.
func (l *List) Decode(v string) error { *l = splitList(v); return nil }

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Parsed is a value parsed from the environment. It never fails while
// envconfig runs: the error is kept, so Validate can report every problem at
// once instead of only the first.
type Parsed[T any] struct {
	V   T
	Err error
}

// Duration is a Go duration from the environment.
type Duration struct{ Parsed[time.Duration] }

// Decode implements envconfig.Decoder.
func (d *Duration) Decode(v string) error {
	d.V, d.Err = time.ParseDuration(strings.TrimSpace(v))
	if d.Err != nil {
		d.Err = errors.New("is not a Go duration such as 15m or 168h")
	}
	return nil
}

// Int is an integer from the environment.
type Int struct{ Parsed[int] }

// Decode implements envconfig.Decoder.
func (n *Int) Decode(v string) error {
	n.V, n.Err = strconv.Atoi(strings.TrimSpace(v))
	if n.Err != nil {
		n.Err = errors.New("is not a whole number")
	}
	return nil
}

// Float is a number from the environment.
type Float struct{ Parsed[float64] }

// Decode implements envconfig.Decoder.
func (f *Float) Decode(v string) error {
	f.V, f.Err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	if f.Err != nil {
		f.Err = errors.New("is not a number")
	}
	return nil
}

// Bool is a boolean from the environment.
type Bool struct{ Parsed[bool] }

// Decode implements envconfig.Decoder.
func (b *Bool) Decode(v string) error {
	b.V, b.Err = strconv.ParseBool(strings.TrimSpace(v))
	if b.Err != nil {
		b.Err = errors.New("is not true or false")
	}
	return nil
}

// Config is every setting (docs/configuration.md), read from the environment.
type Config struct {
	SecretKey                 Secret     `envconfig:"SECRET_KEY"`
	SecretKeyPrevious         SecretList `envconfig:"SECRET_KEY_PREVIOUS"`
	RefreshSecretKey          Secret     `envconfig:"REFRESH_SECRET_KEY"`
	RefreshSecretKeyPrevious  SecretList `envconfig:"REFRESH_SECRET_KEY_PREVIOUS"`
	JWTKeysFile               string     `envconfig:"JWT_KEYS_FILE"`
	JWTAlgorithm              string     `envconfig:"JWT_ALGORITHM" default:"HS256"`
	JWTPrivateKeyFile         string     `envconfig:"JWT_PRIVATE_KEY_FILE"`
	JWTPreviousPublicKeyFiles List       `envconfig:"JWT_PREVIOUS_PUBLIC_KEY_FILES"`
	JWTIssuer                 string     `envconfig:"JWT_ISSUER"`
	JWTAudience               List       `envconfig:"JWT_AUDIENCE"`
	AccessTokenTTL            Duration   `envconfig:"ACCESS_TOKEN_TTL" default:"15m"`
	RefreshTokenTTL           Duration   `envconfig:"REFRESH_TOKEN_TTL" default:"168h"`
	SessionMaxTTL             Duration   `envconfig:"SESSION_MAX_TTL" default:"720h"`
	RefreshReuseGrace         Duration   `envconfig:"REFRESH_REUSE_GRACE" default:"0s"`
	ClockSkew                 Duration   `envconfig:"CLOCK_SKEW" default:"30s"`
	LoginFailuresMax          Int        `envconfig:"LOGIN_FAILURES_MAX" default:"10"`
	LoginFailuresWindow       Duration   `envconfig:"LOGIN_FAILURES_WINDOW" default:"15m"`
	LoginFailuresMaxPerAddr   Int        `envconfig:"LOGIN_FAILURES_MAX_PER_ADDRESS" default:"100"`
	HashQueueTimeout          Duration   `envconfig:"HASH_QUEUE_TIMEOUT" default:"2s"`
	ClientIPHeader            string     `envconfig:"CLIENT_IP_HEADER" default:"X-Forwarded-For"`
	RateLimitPerAddress       Float      `envconfig:"RATE_LIMIT_PER_ADDRESS" default:"0"`
	TrustedProxies            List       `envconfig:"TRUSTED_PROXIES"`
	CredentialsFile           string     `envconfig:"CREDENTIALS_FILE"`
	Store                     string     `envconfig:"STORE" default:"redis"`
	RedisURL                  Secret     `envconfig:"REDIS_URL" default:"redis://127.0.0.1:6379/0"`
	RedisClusterAddrs         List       `envconfig:"REDIS_CLUSTER_ADDRS"`
	RedisSentinelAddrs        List       `envconfig:"REDIS_SENTINEL_ADDRS"`
	RedisSentinelMaster       string     `envconfig:"REDIS_SENTINEL_MASTER"`
	RedisUsername             string     `envconfig:"REDIS_USERNAME"`
	RedisPassword             Secret     `envconfig:"REDIS_PASSWORD"`
	RedisTLS                  Bool       `envconfig:"REDIS_TLS" default:"false"`
	RedisKeyPrefix            string     `envconfig:"REDIS_KEY_PREFIX" default:"authsvc:"`
	HTTPAddr                  string     `envconfig:"HTTP_ADDR" default:":8080"`
	TLSCertFile               string     `envconfig:"TLS_CERT_FILE"`
	TLSKeyFile                string     `envconfig:"TLS_KEY_FILE"`
	LogLevel                  string     `envconfig:"LOG_LEVEL" default:"info"`
	LogFormat                 string     `envconfig:"LOG_FORMAT" default:"json"`
	LogFlushInterval          Duration   `envconfig:"LOG_FLUSH_INTERVAL" default:"100ms"`
	PprofAddr                 string     `envconfig:"PPROF_ADDR"`
	ManagementAddr            string     `envconfig:"MANAGEMENT_ADDR"`
	DPoPSigningAlgs           List       `envconfig:"DPOP_SIGNING_ALGS" default:"ES256,EdDSA,RS256,PS256"`
	DPoPProofLifetime         Duration   `envconfig:"DPOP_PROOF_LIFETIME" default:"60s"`
	DPoPNonceRequired         Bool       `envconfig:"DPOP_NONCE_REQUIRED" default:"false"`
	MaxSessionsPerSubject     Int        `envconfig:"MAX_SESSIONS_PER_SUBJECT" default:"0"`
	AdminAddr                 string     `envconfig:"ADMIN_ADDR"`
	UserAuthenticatorURL      string     `envconfig:"USER_AUTHENTICATOR_URL"`
	UserAuthenticatorToken    Secret     `envconfig:"USER_AUTHENTICATOR_TOKEN"`
	UserAuthenticatorTimeout  Duration   `envconfig:"USER_AUTHENTICATOR_TIMEOUT" default:"2s"`

	// trustedNets is TrustedProxies parsed by Validate.
	trustedNets []*net.IPNet
	// fileErrs are the problems of the NAME_FILE variables, reported by
	// Validate; fileFailed names the variables whose file could not be read.
	fileErrs   []error
	fileFailed []string
}

// derivedRefreshKey is the word that, in REFRESH_SECRET_KEY_PREVIOUS, stands
// for the refresh-token key derived from SECRET_KEY.
const derivedRefreshKey = "derived"

// maxReuseGrace is the upper bound of REFRESH_REUSE_GRACE (docs/configuration.md).
const maxReuseGrace = 60 * time.Second

// maxDPoPProofLifetime bounds DPOP_PROOF_LIFETIME: a proof is meant to be
// made for one request, and each jti is kept in the store that long.
const maxDPoPProofLifetime = 10 * time.Minute

// loadConfig reads the environment. It fails only when envconfig itself
// cannot run; value problems are reported by Validate.
func loadConfig() (*Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		// envconfig's own messages can quote the value; name the
		// variable only.
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: invalid value", pe.KeyName)
		}
		return nil, errors.New("reading the environment failed")
	}
	c.fileErrs = loadSecretFiles(&c, os.LookupEnv)
	return &c, nil
}

// Validate checks every setting and returns one error per problem, each
// naming its variable and never quoting a secret. Key files are checked
// when the key set is built.
func (c *Config) Validate() []error {
	errs := append([]error(nil), c.fileErrs...)
	bad := func(name, format string, args ...any) {
		if slices.Contains(c.fileFailed, name) {
			return // its NAME_FILE problem is reported already
		}
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}

	// The issuer's own settings — key lengths, refresh keys apart from
	// the access keys, JWT_ISSUER, JWT_AUDIENCE, CLOCK_SKEW not negative,
	// the algorithm and which key files it takes — are the issuer's rules
	// (issuer.Config.Problems), checked here before any key file is read
	// and worded as start-up words its lines.
	tooShort := map[string]bool{}
	for _, p := range c.issuerConfig().ProblemsBeforeKeys(c.issuerKeySources()) {
		if p.Rule == issuer.RuleTooShort {
			tooShort[p.Env] = true
		}
		bad(p.Env, "%s", c.problemText(p))
	}
	// What only start-up knows of a key long enough: it is plainly not
	// random, or shipped with authsvc.
	if why := weakSecret(c.SecretKey.Reveal()); why != "" && !tooShort["SECRET_KEY"] {
		bad("SECRET_KEY", "%s; generate one with: head -c 48 /dev/urandom | base64", why)
	}
	if why := weakSecret(c.RefreshSecretKey.Reveal()); c.RefreshSecretKey != "" && why != "" && !tooShort["REFRESH_SECRET_KEY"] {
		bad("REFRESH_SECRET_KEY", "%s; generate one with: head -c 48 /dev/urandom | base64", why)
	}

	// Each duration is checked on its own; a relation between two is
	// checked only when both parsed, so one typo hides no other problem.
	for _, d := range []struct {
		name     string
		d        Duration
		min, max time.Duration // max 0: unbounded; min math.MinInt64: checked elsewhere
	}{
		{"ACCESS_TOKEN_TTL", c.AccessTokenTTL, 1, 0},
		{"REFRESH_TOKEN_TTL", c.RefreshTokenTTL, 1, 0},
		{"SESSION_MAX_TTL", c.SessionMaxTTL, 1, 0},
		{"REFRESH_REUSE_GRACE", c.RefreshReuseGrace, 0, maxReuseGrace},
		// Not negative: an issuer rule, checked above.
		{"CLOCK_SKEW", c.ClockSkew, math.MinInt64, 5 * time.Minute},
		{"LOGIN_FAILURES_WINDOW", c.LoginFailuresWindow, 1, 0},
		{"LOG_FLUSH_INTERVAL", c.LogFlushInterval, 0, 10 * time.Second},
		{"DPOP_PROOF_LIFETIME", c.DPoPProofLifetime, 1, maxDPoPProofLifetime},
		{"USER_AUTHENTICATOR_TIMEOUT", c.UserAuthenticatorTimeout, 1, time.Minute},
	} {
		switch {
		case d.d.Err != nil:
			bad(d.name, "%v", d.d.Err)
		case d.min > 0 && d.d.V < d.min:
			bad(d.name, "must be positive")
		case d.d.V < d.min:
			bad(d.name, "must not be negative")
		case d.max > 0 && d.d.V > d.max:
			bad(d.name, "must be at most %s", d.max)
		}
	}
	if c.AccessTokenTTL.Err == nil && c.RefreshTokenTTL.Err == nil && c.AccessTokenTTL.V >= c.RefreshTokenTTL.V {
		bad("ACCESS_TOKEN_TTL", "must be shorter than REFRESH_TOKEN_TTL")
	}
	if c.RefreshTokenTTL.Err == nil && c.SessionMaxTTL.Err == nil && c.RefreshTokenTTL.V > c.SessionMaxTTL.V {
		bad("REFRESH_TOKEN_TTL", "must not exceed SESSION_MAX_TTL")
	}
	if c.LoginFailuresMax.Err != nil {
		bad("LOGIN_FAILURES_MAX", "%v", c.LoginFailuresMax.Err)
	} else if c.LoginFailuresMax.V < 0 {
		bad("LOGIN_FAILURES_MAX", "must not be negative (0 disables the limit)")
	}
	if c.LoginFailuresMaxPerAddr.Err != nil {
		bad("LOGIN_FAILURES_MAX_PER_ADDRESS", "%v", c.LoginFailuresMaxPerAddr.Err)
	} else if c.LoginFailuresMaxPerAddr.V < 0 {
		bad("LOGIN_FAILURES_MAX_PER_ADDRESS", "must not be negative (0 disables the limit)")
	}
	switch {
	case c.HashQueueTimeout.Err != nil:
		bad("HASH_QUEUE_TIMEOUT", "%v", c.HashQueueTimeout.Err)
	case c.HashQueueTimeout.V <= 0:
		bad("HASH_QUEUE_TIMEOUT", "must be positive")
	case c.HashQueueTimeout.V > time.Minute:
		bad("HASH_QUEUE_TIMEOUT", "must be at most 1m")
	}
	switch http.CanonicalHeaderKey(c.ClientIPHeader) {
	case "X-Forwarded-For", "X-Real-Ip":
	default:
		bad("CLIENT_IP_HEADER", "must be X-Forwarded-For or X-Real-IP")
	}
	if c.RateLimitPerAddress.Err != nil {
		bad("RATE_LIMIT_PER_ADDRESS", "%v", c.RateLimitPerAddress.Err)
	} else if c.RateLimitPerAddress.V < 0 {
		bad("RATE_LIMIT_PER_ADDRESS", "must not be negative (0 disables the limit)")
	}
	c.trustedNets = nil
	for _, p := range c.TrustedProxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			if ip := net.ParseIP(p); ip != nil {
				bits := 8 * len(ip.To4())
				if bits == 0 {
					bits = 128
				}
				n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
			} else {
				bad("TRUSTED_PROXIES", "%q is not a CIDR", p)
				continue
			}
		}
		c.trustedNets = append(c.trustedNets, n)
	}
	if c.CredentialsFile == "" {
		bad("CREDENTIALS_FILE", "is required")
	}

	switch c.Store {
	case "memory":
	case "redis":
		errs = append(errs, c.validateRedis()...)
	default:
		bad("STORE", "must be redis or memory")
	}
	if c.RedisTLS.Err != nil {
		bad("REDIS_TLS", "%v", c.RedisTLS.Err)
	}
	if c.HTTPAddr == "" {
		bad("HTTP_ADDR", "is required")
	} else if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", "must be host:port or :port")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLS_CERT_FILE", "and TLS_KEY_FILE must be set together")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		bad("LOG_FORMAT", "must be json or text")
	}
	if c.ManagementAddr != "" {
		if _, _, err := net.SplitHostPort(c.ManagementAddr); err != nil {
			bad("MANAGEMENT_ADDR", "must be host:port or :port")
		} else if c.ManagementAddr == c.HTTPAddr {
			bad("MANAGEMENT_ADDR", "must differ from HTTP_ADDR")
		} else if c.ManagementAddr == c.AdminAddr {
			bad("MANAGEMENT_ADDR", "must differ from ADMIN_ADDR")
		}
	}
	errs = append(errs, c.validateDPoP()...)
	errs = append(errs, c.validateSessions()...)
	// The standard OTEL_* variables are read by the OpenTelemetry SDK
	// itself; only the choice of exporter is checked here.
	errs = append(errs, tracing.Check(os.Getenv)...)
	if c.UserAuthenticatorURL != "" {
		// The authenticator's rule (authenticator.CheckURL), in start-up's
		// words; never quote the URL: it may hold a password.
		switch _, err := authenticator.CheckURL(c.UserAuthenticatorURL); {
		case errors.Is(err, authenticator.ErrURLCredentials):
			bad("USER_AUTHENTICATOR_URL", "must not hold credentials; use USER_AUTHENTICATOR_TOKEN")
		case err != nil:
			bad("USER_AUTHENTICATOR_URL", "must be an http:// or https:// URL")
		}
	} else if c.UserAuthenticatorToken != "" {
		bad("USER_AUTHENTICATOR_TOKEN", "is set without USER_AUTHENTICATOR_URL")
	}
	if c.PprofAddr != "" && !loopbackAddr(c.PprofAddr) {
		bad("PPROF_ADDR", "must be a loopback host:port such as 127.0.0.1:6060")
	}
	return errs
}

// Warnings returns the settings that start-up accepts but should not go
// unnoticed, one line each, never quoting a secret.
func (c *Config) Warnings() []string {
	var w []string
	for i, s := range c.SecretKeyPrevious {
		if len(s) >= issuer.MinSecretLen {
			if why := weakSecret(s.Reveal()); why != "" {
				w = append(w, fmt.Sprintf("SECRET_KEY_PREVIOUS: entry %d %s: tokens it signed are still accepted; remove it once they have expired", i+1, why))
			}
		}
	}
	if c.Store == "memory" {
		w = append(w, "STORE=memory: sessions, revocations and failure counters live in this process only; a restart logs everyone out and forgets every revocation, and replicas share nothing. Use it for development only")
	}
	return w
}

// issuerConfig is the issuer's configuration from c, without the
// asymmetric keys, which buildIssuer reads from their files. The word
// derived in REFRESH_SECRET_KEY_PREVIOUS becomes PreviousRefreshDerived.
func (c *Config) issuerConfig() issuer.Config {
	icfg := issuer.Config{
		Algorithm:     c.JWTAlgorithm,
		Secret:        []byte(c.SecretKey.Reveal()),
		RefreshSecret: []byte(c.RefreshSecretKey.Reveal()),
		Issuer:        c.JWTIssuer,
		Audience:      c.JWTAudience,
		Leeway:        c.ClockSkew.V,
		AccessTTL:     c.AccessTokenTTL.V,
	}
	for _, s := range c.SecretKeyPrevious {
		icfg.PreviousSecrets = append(icfg.PreviousSecrets, []byte(s.Reveal()))
	}
	for _, s := range c.RefreshSecretKeyPrevious {
		if s.Reveal() == derivedRefreshKey {
			icfg.PreviousRefreshDerived = true
			continue
		}
		icfg.PreviousRefreshSecrets = append(icfg.PreviousRefreshSecrets, []byte(s.Reveal()))
	}
	return icfg
}

// issuerKeySources says which key files buildIssuer gives the issuer:
// JWT_KEYS_FILE when set (the issuer refuses it with HS256), and under
// RS256, ES256 and EdDSA JWT_PRIVATE_KEY_FILE and
// JWT_PREVIOUS_PUBLIC_KEY_FILES. HS256 ignores those two.
func (c *Config) issuerKeySources() issuer.KeySources {
	asymmetric := c.JWTAlgorithm != "HS256"
	return issuer.KeySources{
		Keys:               c.JWTKeysFile != "",
		PrivateKey:         asymmetric && c.JWTPrivateKeyFile != "",
		PreviousPublicKeys: asymmetric && len(c.JWTPreviousPublicKeyFiles) > 0,
	}
}

// problemText words an issuer problem as start-up's line after "NAME: ":
// entries counted from 1 as the variable lists them, lengths but never
// values. A rule start-up has no words of its own for keeps the issuer's.
func (c *Config) problemText(p issuer.Problem) string {
	entry := p.Entry + 1
	if p.Env == "REFRESH_SECRET_KEY_PREVIOUS" {
		entry = c.refreshPreviousEntry(p.Entry)
	}
	switch p.Rule {
	case issuer.RuleTooShort:
		switch {
		case p.Entry >= 0 && p.Env == "REFRESH_SECRET_KEY_PREVIOUS":
			return fmt.Sprintf("entry %d must be at least %d bytes (or the word %s)", entry, p.Min, derivedRefreshKey)
		case p.Entry >= 0:
			return fmt.Sprintf("entry %d must be at least %d bytes", entry, p.Min)
		case p.Got == 0:
			return fmt.Sprintf("is required (at least %d bytes)", p.Min)
		}
		return fmt.Sprintf("must be at least %d bytes, got %d", p.Min, p.Got)
	case issuer.RuleReusesAccessKey:
		if p.Entry < 0 && p.Other.Entry < 0 {
			return "must differ from " + p.Other.Env
		}
		if p.Entry < 0 {
			return fmt.Sprintf("must differ from %s entry %d", p.Other.Env, p.Other.Entry+1)
		}
	case issuer.RuleRequired:
		return "is required"
	case issuer.RuleEmptyEntry:
		return fmt.Sprintf("entry %d is empty", entry)
	case issuer.RuleNegative:
		return "must not be negative"
	case issuer.RuleUnknownAlgorithm:
		return "must be HS256, RS256, ES256 or EdDSA"
	case issuer.RuleNotForHS256:
		if p.Env == "JWT_KEYS_FILE" {
			return "cannot be used with JWT_ALGORITHM=HS256: HS256 keys are SECRET_KEY and SECRET_KEY_PREVIOUS"
		}
	case issuer.RuleBothKeySources:
		return "and " + p.Other.Env + " cannot both be set: list the key in " + p.Env
	case issuer.RuleNoKeySource:
		return "or " + p.Other.Env + " is required with JWT_ALGORITHM=" + p.Algorithm
	}
	return p.Error()
}

// refreshPreviousEntry turns the index of an entry of the issuer's
// PreviousRefreshSecrets into its number in REFRESH_SECRET_KEY_PREVIOUS,
// counted from 1, where the word derived is an entry too.
func (c *Config) refreshPreviousEntry(n int) int {
	for i, s := range c.RefreshSecretKeyPrevious {
		if s.Reveal() == derivedRefreshKey {
			continue
		}
		if n == 0 {
			return i + 1
		}
		n--
	}
	return n + 1 // not reached: the issuer's list is built from this one
}

// validateDPoP checks the DPoP settings (RFC 9449) that the duration table
// does not: the proof algorithms and DPOP_NONCE_REQUIRED.
func (c *Config) validateDPoP() []error {
	var errs []error
	if len(c.DPoPSigningAlgs) == 0 {
		errs = append(errs, fmt.Errorf("DPOP_SIGNING_ALGS: must name at least one of %s", strings.Join(dpop.SupportedAlgs, ",")))
	}
	for _, a := range c.DPoPSigningAlgs {
		if !slices.Contains(dpop.SupportedAlgs, a) {
			errs = append(errs, fmt.Errorf("DPOP_SIGNING_ALGS: %q is not one of %s", a, strings.Join(dpop.SupportedAlgs, ",")))
		}
	}
	if c.DPoPNonceRequired.Err != nil {
		errs = append(errs, fmt.Errorf("DPOP_NONCE_REQUIRED: %w", c.DPoPNonceRequired.Err))
	}
	return errs
}

// validateRedis checks the store topology settings.
func (c *Config) validateRedis() []error {
	var errs []error
	bad := func(name, msg string) { errs = append(errs, fmt.Errorf("%s: %s", name, msg)) }
	cluster, sentinel := len(c.RedisClusterAddrs) > 0, len(c.RedisSentinelAddrs) > 0
	if cluster && sentinel {
		bad("REDIS_CLUSTER_ADDRS", "and REDIS_SENTINEL_ADDRS cannot both be set: choose Cluster or Sentinel")
	}
	if sentinel && c.RedisSentinelMaster == "" {
		bad("REDIS_SENTINEL_MASTER", "is required with REDIS_SENTINEL_ADDRS")
	}
	if !sentinel && c.RedisSentinelMaster != "" {
		bad("REDIS_SENTINEL_ADDRS", "is required with REDIS_SENTINEL_MASTER")
	}
	for _, list := range []struct {
		name  string
		addrs []string
	}{{"REDIS_CLUSTER_ADDRS", c.RedisClusterAddrs}, {"REDIS_SENTINEL_ADDRS", c.RedisSentinelAddrs}} {
		for _, a := range list.addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				bad(list.name, "entries must be host:port")
				break
			}
		}
	}
	if !cluster && !sentinel {
		u, err := url.Parse(c.RedisURL.Reveal())
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			// The URL may hold a password: never quote it.
			bad("REDIS_URL", "must be a redis:// or rediss:// URL")
		}
	}
	if c.RedisKeyPrefix == "" {
		bad("REDIS_KEY_PREFIX", "must not be empty")
	}
	return errs
}

// validateSessions checks MAX_SESSIONS_PER_SUBJECT and ADMIN_ADDR.
func (c *Config) validateSessions() []error {
	var errs []error
	if c.MaxSessionsPerSubject.Err != nil {
		errs = append(errs, fmt.Errorf("MAX_SESSIONS_PER_SUBJECT: %w", c.MaxSessionsPerSubject.Err))
	} else if c.MaxSessionsPerSubject.V < 0 {
		errs = append(errs, errors.New("MAX_SESSIONS_PER_SUBJECT: must not be negative (0 disables the limit)"))
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			errs = append(errs, errors.New("ADMIN_ADDR: must be host:port or :port"))
		} else if c.AdminAddr == c.HTTPAddr {
			errs = append(errs, errors.New("ADMIN_ADDR: must differ from HTTP_ADDR (the admin API has a listener of its own)"))
		}
	}
	return errs
}
