package verifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/dpop"
)

// Defaults of Config.
const (
	// DefaultLeeway is the clock skew allowed when Config.Leeway is zero.
	DefaultLeeway = 30 * time.Second
	// maxTokenSize is the length above which a token is refused unparsed:
	// authsvc's own request body limit, so that every token authsvc issues
	// (custom claims can take it past 8 KiB) is judged on its merits.
	maxTokenSize = 64 << 10
	// hmacKIDLabel and hmacKIDLen name an HMAC key as authsvc does.
	hmacKIDLabel = "authsvc kid v1"
	hmacKIDLen   = 16
)

// Config configures a Verifier. Issuer and Audience are required; so is
// either HMACSecret (HS256) or a way to find the JWKS (JWKSURL, or the
// issuer's metadata).
type Config struct {
	// Issuer is the iss to accept (authsvc's JWT_ISSUER), also the base for
	// discovery (RFC 8414).
	Issuer string
	// Audience is the aud this resource server accepts (one of authsvc's
	// JWT_AUDIENCE).
	Audience string
	// JWKSURL is where the public keys are; empty: the jwks_uri of the
	// issuer's RFC 8414 metadata. Ignored with HMACSecret.
	JWKSURL string
	// HMACSecret, for HS256 deployments, verifies with the shared secret
	// (authsvc's SECRET_KEY); no JWKS is fetched.
	HMACSecret []byte
	// HMACPreviousSecrets are older secrets still accepted (authsvc's
	// SECRET_KEY_PREVIOUS), during a rotation.
	HMACPreviousSecrets [][]byte
	// PublicURL is scheme://host[:port] as clients reach this server, for
	// checking the htu of DPoP proofs; empty: taken from the request. Set
	// it behind a proxy or load balancer, whose address the request has.
	PublicURL string
	// DPoPSigningAlgs are the algorithms accepted for DPoP proofs; nil
	// means ES256, EdDSA, RS256 and PS256 (authsvc's DPOP_SIGNING_ALGS).
	DPoPSigningAlgs []string
	// DPoPProofLifetime is how old a DPoP proof may be (plus Leeway); each
	// proof is accepted once within it. Zero means 60 seconds.
	DPoPProofLifetime time.Duration
	// Leeway is the clock skew allowed for exp, nbf and iat; zero means
	// DefaultLeeway.
	Leeway time.Duration
	// Feed, when set, makes the Verifier follow authsvc's revocation feed.
	Feed *FeedConfig
	// HTTPClient fetches the metadata, the JWKS and the feed; nil means a
	// client with timeouts. A long-polling feed request lasts up to 25
	// seconds: a client Timeout shorter than 30 s shortens the polls.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FeedConfig configures the revocation feed.
type FeedConfig struct {
	// URL is the feed's address; empty: revocation_feed_endpoint from the
	// issuer's metadata.
	URL string
	// ClientID and ClientSecret authenticate to the feed (HTTP Basic), as
	// a client with introspect: true.
	ClientID     string
	ClientSecret string
	// MaxStale, when positive, is how long the Verifier may go without
	// hearing from the feed before it refuses every token (ErrStale).
	// Zero keeps using the last known set however long the feed is
	// unreachable.
	MaxStale time.Duration
}

// String describes the FeedConfig without its secret.
func (f FeedConfig) String() string {
	return fmt.Sprintf("verifier.FeedConfig{URL: %q, ClientID: %q, ClientSecret: [REDACTED], MaxStale: %s}", f.URL, f.ClientID, f.MaxStale)
}

// GoString is like String, for %#v.
func (f FeedConfig) GoString() string { return f.String() }

// Claims are the claims of a verified access token.
type Claims struct {
	// Subject is sub: a username, or a client_id for a client's own token.
	// ClientID is client_id, empty when no client was involved. ID is jti.
	Subject, ClientID, ID string
	// SessionID is sid, the login session the token belongs to; empty for
	// a token of no session (client_credentials).
	SessionID string
	// Scope is the granted scope, split at spaces.
	Scope []string
	// Audience is aud.
	Audience []string
	// IssuedAt and ExpiresAt are iat and exp.
	IssuedAt, ExpiresAt time.Time
	// JKT is cnf.jkt of a DPoP-bound token (RFC 9449), else "".
	JKT string
	// Extra holds every claim that has no field here, as decoded from
	// JSON: the custom claims, nil when there are none. (iss, nbf and
	// type are fixed by verification and not repeated.)
	Extra map[string]any
}

// HasScope reports whether the token was granted scope.
func (c *Claims) HasScope(scope string) bool {
	return c != nil && slices.Contains(c.Scope, scope)
}

// key is one verification key with the algorithm it is pinned to.
type key struct {
	alg string
	key any
}

// keySet is an immutable set of keys by kid.
type keySet map[string]key

// Verifier verifies authsvc's access tokens. Create it with New; it is safe
// for concurrent use. Close it to stop its background work.
type Verifier struct {
	issuer, audience string
	publicURL        string
	client           *http.Client
	now              func() time.Time
	parser           *jwt.Parser
	keyfunc          jwt.Keyfunc
	keys             atomic.Pointer[keySet]
	jwks             *jwksSource // nil with HMAC
	feed             *feedFollower
	dpop             *dpop.Checker
	dpopAlgs         string // for WWW-Authenticate: DPoP algs="…"
	replay           *replayCache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New checks cfg, fetches what the Verifier needs (the issuer's metadata when
// a URL must be discovered, the JWKS, the complete revocation set) and
// starts keeping them fresh in the background. ctx bounds these first
// fetches only. It returns an error, and starts nothing, when any of them
// fails.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	var problems []error
	if cfg.Issuer == "" {
		problems = append(problems, errors.New("Issuer is required"))
	}
	if cfg.Audience == "" {
		problems = append(problems, errors.New("Audience is required"))
	}
	if cfg.Leeway < 0 {
		problems = append(problems, errors.New("Leeway must not be negative"))
	}
	if len(cfg.HMACSecret) == 0 && len(cfg.HMACPreviousSecrets) > 0 {
		problems = append(problems, errors.New("HMACPreviousSecrets needs HMACSecret"))
	}
	if f := cfg.Feed; f != nil {
		if f.ClientID == "" || f.ClientSecret == "" {
			problems = append(problems, errors.New("Feed needs ClientID and ClientSecret"))
		}
		if f.MaxStale < 0 {
			problems = append(problems, errors.New("Feed.MaxStale must not be negative"))
		}
	}
	if cfg.DPoPProofLifetime < 0 {
		problems = append(problems, errors.New("DPoPProofLifetime must not be negative"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("verifier: %w", errors.Join(problems...))
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultClient()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{
		issuer: cfg.Issuer, audience: cfg.Audience, publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		client: cfg.HTTPClient, now: cfg.Now,
	}
	algs := []string{"RS256", "ES256", "EdDSA"}
	if len(cfg.HMACSecret) > 0 {
		algs = []string{"HS256"}
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	v.keyfunc = v.keyFor
	checker, err := dpop.NewChecker(dpop.Options{
		Algs: cfg.DPoPSigningAlgs, Lifetime: cfg.DPoPProofLifetime, Leeway: cfg.Leeway, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("verifier: DPoPSigningAlgs: %w", err)
	}
	v.dpop, v.dpopAlgs, v.replay = checker, strings.Join(checker.Algs(), " "), newReplayCache(cfg.Now)

	// Discovery, when a URL is missing.
	needJWKS := len(cfg.HMACSecret) == 0
	jwksURL := cfg.JWKSURL
	var feedURL string
	if cfg.Feed != nil {
		feedURL = cfg.Feed.URL
	}
	if (needJWKS && jwksURL == "") || (cfg.Feed != nil && feedURL == "") {
		md, err := discover(ctx, v.client, cfg.Issuer)
		if err != nil {
			return nil, err
		}
		if jwksURL == "" {
			jwksURL = md.JWKSURI
		}
		if cfg.Feed != nil && feedURL == "" {
			if md.RevocationFeedEndpoint == "" {
				return nil, fmt.Errorf("verifier: the issuer's metadata names no revocation_feed_endpoint; set Feed.URL")
			}
			feedURL = md.RevocationFeedEndpoint
		}
	}

	if needJWKS {
		if jwksURL == "" {
			return nil, fmt.Errorf("verifier: the issuer's metadata names no jwks_uri; set JWKSURL")
		}
		v.jwks = &jwksSource{url: jwksURL, client: v.client, now: v.now, set: &v.keys}
		if err := v.jwks.fetch(ctx); err != nil {
			return nil, err
		}
	} else {
		ks := keySet{}
		for _, s := range append([][]byte{cfg.HMACSecret}, cfg.HMACPreviousSecrets...) {
			ks[hmacKID(s)] = key{alg: "HS256", key: slices.Clone(s)}
		}
		v.keys.Store(&ks)
	}

	if cfg.Feed != nil {
		v.feed = newFeedFollower(feedURL, *cfg.Feed, v.client, v.now)
		if err := v.feed.initial(ctx); err != nil {
			return nil, err
		}
	}

	v.ctx, v.cancel = context.WithCancel(context.Background())
	if v.jwks != nil {
		v.wg.Add(1)
		go func() { defer v.wg.Done(); v.jwks.run(v.ctx) }()
	}
	if v.feed != nil {
		v.wg.Add(1)
		go func() { defer v.wg.Done(); v.feed.run(v.ctx) }()
	}
	return v, nil
}

// HMACKeyID returns the kid authsvc writes into tokens signed with the HS256
// secret: base64url(HMAC-SHA256(secret, "authsvc kid v1"))[:16]. A keyed
// name, so it does not help anyone test guesses of the secret.
func HMACKeyID(secret []byte) string {
	return hmacKID(secret)
}

// hmacKID names an HMAC key the way authsvc does; see HMACKeyID.
func hmacKID(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(hmacKIDLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:hmacKIDLen]
}

// defaultClient is the HTTP client used when Config.HTTPClient is nil.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 40 * time.Second // above the longest poll
	t.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{Transport: t}
}

// Close stops the background refresh of keys and feed and waits for it. The
// Verifier must not be used afterwards.
func (v *Verifier) Close() error {
	if v.closed.Swap(true) {
		return nil
	}
	v.cancel()
	v.wg.Wait()
	return nil
}

// Verify verifies token (the compact JWS, without "Bearer ") and returns its
// claims. Every refusal wraps ErrInvalidToken (and ErrExpired, ErrRevoked,
// ErrUnknownKey or ErrDPoPBound when that is the reason), except ErrStale
// when the revocation feed has gone quiet for longer than MaxStale. A
// token bound to a DPoP key is refused here: use VerifyRequest, which checks
// the proof. Verifying a token whose key is known does no I/O.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if c.JKT != "" {
		return nil, fmt.Errorf("verify access token: %w", ErrDPoPBound)
	}
	return c, nil
}

// verify is the one verification path. It does not look at a DPoP binding;
// callers do.
func (v *Verifier) verify(ctx context.Context, token string) (*Claims, error) {
	if v.feed != nil {
		if err := v.feed.fresh(); err != nil {
			return nil, err
		}
	}
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("verify access token: %w: %w", ErrInvalidToken, errTooLarge)
	}
	var ac accessJWT
	t, err := v.parser.ParseWithClaims(token, &ac, v.keyfunc)
	if err != nil && errors.Is(err, ErrUnknownKey) && v.jwks != nil && t != nil {
		// A key published since the last fetch? Fetch once more, at
		// most once per 10 seconds for all requests together.
		if kid, _ := t.Header["kid"].(string); kid != "" && v.jwks.refetchFor(ctx, kid) {
			ac = accessJWT{}
			_, err = v.parser.ParseWithClaims(token, &ac, v.keyfunc)
		}
	}
	if err != nil {
		return nil, verifyError(err)
	}
	var extra map[string]any
	if _, payload, ok := strings.Cut(token, "."); ok {
		payload, _, _ = strings.Cut(payload, ".")
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err == nil {
			extra, err = extraClaims(raw)
		}
		if err != nil {
			return nil, fmt.Errorf("verify access token: %w: %w", ErrInvalidToken, err)
		}
	}
	c, err := ac.claims(extra)
	if err != nil {
		return nil, fmt.Errorf("verify access token: %w: %w", ErrInvalidToken, err)
	}
	if v.feed != nil && v.feed.revoked(c.ID, c.SessionID) {
		return nil, fmt.Errorf("verify access token: %w", ErrRevoked)
	}
	return c, nil
}

// verifyError maps a golang-jwt error to this package's errors.
func verifyError(err error) error {
	switch {
	case errors.Is(err, ErrInvalidToken):
		return fmt.Errorf("verify access token: %w", err)
	case expiredOnly(err):
		return fmt.Errorf("verify access token: %w: %w", ErrExpired, err)
	}
	return fmt.Errorf("verify access token: %w: %w", ErrInvalidToken, err)
}

// expiredOnly reports whether err says the token expired and nothing else.
// golang-jwt checks claims only after the signature, so such a token is
// genuine.
func expiredOnly(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, f := range []error{jwt.ErrTokenInvalidAudience, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing} {
		if errors.Is(err, f) {
			return false
		}
	}
	return true
}

// keyFor is the jwt.Keyfunc: golang-jwt has checked alg against the allowed
// methods when it runs. It refuses any header parameter other than alg, typ
// and kid (so jku, x5u, jwk, x5c and crit never take effect), requires typ
// at+jwt, and returns the key kid names if its pinned algorithm is the
// token's.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	// alg, typ and kid are required, so three entries mean nothing else.
	if len(t.Header) > 3 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errHeaderParam)
	}
	typ, _ := t.Header["typ"].(string)
	if !typMatches(typ) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errTyp)
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errNoKID)
	}
	k, ok := (*v.keys.Load())[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	if t.Method == nil || t.Method.Alg() != k.alg {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errAlg)
	}
	return k.key, nil
}

// typMatches reports whether typ is at+jwt, with or without the
// "application/" prefix, in any case (RFC 9068 §4, RFC 7515 §4.1.9).
func typMatches(typ string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, "at+jwt")
}
