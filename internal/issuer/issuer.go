package issuer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms accepted in Config.Algorithm.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
	algEdDSA = "EdDSA"
)

const (
	// minRSABits is the smallest RSA modulus accepted (docs/configuration.md).
	minRSABits = 2048
	// idLen is the number of random bytes in a token id (128 bits).
	idLen = 16
)

// Config is everything an Issuer needs. Files and environment variables are
// read elsewhere; keys arrive parsed. The environment variable each field
// comes from is named in its comment (docs/configuration.md).
type Config struct {
	// Algorithm signs access tokens: "HS256", "RS256", "ES256" or "EdDSA"
	// (JWT_ALGORITHM).
	Algorithm string
	// Secret is the HMAC key of HS256 access tokens and the source the
	// refresh key is derived from when RefreshSecret is empty. Always
	// required, at least 32 bytes (SECRET_KEY).
	Secret []byte
	// PreviousSecrets are older values of Secret, accepted for verification
	// only, each at least 32 bytes (SECRET_KEY_PREVIOUS).
	PreviousSecrets [][]byte
	// RefreshSecret is the HMAC key of refresh tokens, at least 32 bytes and
	// different from Secret and PreviousSecrets (REFRESH_SECRET_KEY). Empty
	// means HKDF-SHA256(Secret, info "authsvc refresh-token key v1"), 32 bytes.
	RefreshSecret []byte
	// PreviousRefreshSecrets are older refresh-token keys, accepted for
	// verification only, each at least 32 bytes and different from Secret
	// and PreviousSecrets (REFRESH_SECRET_KEY_PREVIOUS). A refresh token
	// signed with one of them rotates onto RefreshSecret.
	PreviousRefreshSecrets [][]byte
	// PreviousRefreshDerived accepts refresh tokens signed with the key
	// derived from Secret (the word "derived" in
	// REFRESH_SECRET_KEY_PREVIOUS), so that moving from the derived key to
	// a RefreshSecret logs nobody out.
	PreviousRefreshDerived bool
	// PrivateKey signs access tokens for RS256 (*rsa.PrivateKey, at least
	// 2048 bits), ES256 (*ecdsa.PrivateKey on P-256) and EdDSA
	// (ed25519.PrivateKey). It must be nil for HS256 (JWT_PRIVATE_KEY_FILE).
	PrivateKey crypto.Signer
	// PreviousPublicKeys are older public keys of the same type as
	// PrivateKey (RSA of at least 2048 bits, ECDSA on P-256, Ed25519),
	// published in the JWKS and accepted for verification
	// (JWT_PREVIOUS_PUBLIC_KEY_FILES). They must be empty for HS256. A key
	// equal to the current one is published once.
	PreviousPublicKeys []crypto.PublicKey
	// Keys is a key set with activation times (JWT_KEYS_FILE), for RS256,
	// ES256 and EdDSA instead of PrivateKey: the key that signs at a moment
	// is the one with the latest ActiveFrom not after it. One of them must
	// be active at New. PreviousPublicKeys may be given with it.
	Keys []ScheduledKey
	// AccessTTL is the longest lifetime of an access token
	// (ACCESS_TOKEN_TTL). With Keys, a key stays published and accepted
	// for AccessTTL + Leeway after it stopped signing; it must then be
	// positive.
	AccessTTL time.Duration
	// Issuer is the iss of every token (JWT_ISSUER).
	Issuer string
	// Audience is the aud of access tokens; it must not be empty
	// (JWT_AUDIENCE).
	Audience []string
	// Leeway is the clock skew allowed when checking exp, nbf and iat
	// (CLOCK_SKEW). It must not be negative.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of token ids; nil means crypto/rand.Reader. It must
	// be safe for concurrent use.
	Rand io.Reader
}

// String returns a description of c without any key material, so that a
// stray %v cannot leak secrets.
func (c Config) String() string {
	return fmt.Sprintf("issuer.Config{Algorithm: %q, Issuer: %q, Audience: %q, Leeway: %s, secrets: [REDACTED]}",
		c.Algorithm, c.Issuer, c.Audience, c.Leeway)
}

// GoString is like String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without any key material.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("algorithm", c.Algorithm),
		slog.String("issuer", c.Issuer),
		slog.Any("audience", c.Audience),
		slog.Duration("leeway", c.Leeway),
	)
}

// Issuer signs and verifies authsvc's access and refresh tokens and publishes
// the JWKS. Create it with New; it is safe for concurrent use.
type Issuer struct {
	alg      string
	issuer   string
	audience audience
	now      func() time.Time
	rand     io.Reader
	access   *kind
	refresh  *kind
	// retention is how long a scheduled key stays published after it
	// stopped signing: ACCESS_TOKEN_TTL + CLOCK_SKEW.
	retention time.Duration
	// accessParser builds the access-token parser that accepts aud.
	accessParser func(aud []string) *jwt.Parser
}

// String describes i without any key material.
func (i *Issuer) String() string {
	return fmt.Sprintf("issuer.Issuer{Algorithm: %q, Issuer: %q, keys: [REDACTED]}", i.alg, i.issuer)
}

// GoString is like String, for %#v.
func (i *Issuer) GoString() string { return i.String() }

// LogValue implements slog.LogValuer without any key material.
func (i *Issuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("algorithm", i.alg), slog.String("issuer", i.issuer))
}

// New checks cfg and builds an Issuer. It reports every problem it finds at
// once (joined with errors.Join): those of Config.Problems, each a Problem,
// then those of the asymmetric keys; each names the field and its
// environment variable, and none contains key material.
func New(cfg Config) (*Issuer, error) {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}

	// The settings (Config.Problems), then the asymmetric keys themselves.
	for _, p := range cfg.Problems() {
		problems = append(problems, p)
	}
	var (
		method     jwt.SigningMethod
		accessKeys *KeySet
	)
	switch cfg.Algorithm {
	case algHS256:
		// Built below, once the secrets are known to be valid.
		method = jwt.SigningMethodHS256
	case algRS256, algES256, algEdDSA:
		method = jwt.GetSigningMethod(cfg.Algorithm)
		var previous []keyEntry
		for n, p := range cfg.PreviousPublicKeys {
			e, err := verifyOnlyEntry(cfg.Algorithm, p)
			if err != nil {
				bad("PreviousPublicKeys[%d] (JWT_PREVIOUS_PUBLIC_KEY_FILES): %w", n, err)
				continue
			}
			previous = append(previous, e)
		}
		switch {
		case (cfg.PrivateKey != nil) == (len(cfg.Keys) > 0):
			// Both or neither: a problem of Config.Problems.
		case len(cfg.Keys) > 0:
			if cfg.AccessTTL <= 0 {
				bad("AccessTTL (ACCESS_TOKEN_TTL) must be positive with Keys (JWT_KEYS_FILE)")
				break
			}
			ks, err := newScheduledSet(cfg.Algorithm, cfg.Keys, previous, cfg.AccessTTL+max(cfg.Leeway, 0), nowOf(cfg)())
			if err != nil {
				for _, p := range unjoin(err) {
					bad("Keys (JWT_KEYS_FILE): %w", p)
				}
				break
			}
			accessKeys = ks
		default:
			e, err := newAsymmetricEntry(cfg.Algorithm, cfg.PrivateKey, typAccess)
			if err != nil {
				bad("PrivateKey (JWT_PRIVATE_KEY_FILE): %w", err)
				break
			}
			ks, err := newStaticSet(cfg.Algorithm, e, previous)
			if err != nil {
				bad("PrivateKey (JWT_PRIVATE_KEY_FILE): %w", err)
				break
			}
			accessKeys = ks
		}
	}

	if len(problems) > 0 {
		return nil, fmt.Errorf("issuer: invalid configuration: %w", errors.Join(problems...))
	}

	// Everything is valid from here on; build the Issuer.
	now := nowOf(cfg)
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	i := &Issuer{
		alg:       cfg.Algorithm,
		issuer:    cfg.Issuer,
		audience:  audience(slices.Clone(cfg.Audience)),
		now:       now,
		rand:      rnd,
		retention: cfg.AccessTTL + cfg.Leeway,
	}

	// Access tokens.
	if cfg.Algorithm == algHS256 {
		cur, prev := hmacEntries(cfg.Secret, cfg.PreviousSecrets, typAccess)
		var err error
		if accessKeys, err = newStaticSet(algHS256, cur, prev); err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
	}
	i.accessParser = func(aud []string) *jwt.Parser {
		return jwt.NewParser(
			jwt.WithValidMethods([]string{method.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(aud...),
			jwt.WithExpirationRequired(),
			jwt.WithNotBeforeRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		)
	}
	i.access = newKind(kindConfig{
		name:   "access",
		typ:    typAccess,
		method: method,
		keys:   accessKeys,
		now:    now,
		parser: i.accessParser(i.audience),
	})

	// Refresh tokens.
	refreshKeys, err := refreshKeySet(cfg)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	i.refresh = newKind(kindConfig{
		name:   "refresh",
		typ:    typRefresh,
		method: jwt.SigningMethodHS256,
		keys:   refreshKeys,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	})

	return i, nil
}

// unjoin returns the errors joined in err by errors.Join, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// nowOf returns the clock of cfg.
func nowOf(cfg Config) func() time.Time {
	if cfg.Now != nil {
		return cfg.Now
	}
	return time.Now
}

// refreshKeySet builds the refresh-token keys: RefreshSecret (or the key
// derived from Secret) signs; PreviousRefreshSecrets and, with
// PreviousRefreshDerived, the derived key verify. Without RefreshSecret, the
// keys derived from PreviousSecrets verify too.
func refreshKeySet(cfg Config) (*KeySet, error) {
	derive := deriveRefreshKey
	var current []byte
	var previous [][]byte
	if len(cfg.RefreshSecret) > 0 {
		current = cfg.RefreshSecret
		if cfg.PreviousRefreshDerived {
			k, err := derive(cfg.Secret)
			if err != nil {
				return nil, err
			}
			previous = append(previous, k)
		}
	} else {
		// Derived mode: the refresh keys derived from the previous access
		// secrets stay valid with them.
		k, err := derive(cfg.Secret)
		if err != nil {
			return nil, err
		}
		current = k
		for _, s := range cfg.PreviousSecrets {
			if k, err = derive(s); err != nil {
				return nil, err
			}
			previous = append(previous, k)
		}
	}
	previous = append(previous, cfg.PreviousRefreshSecrets...)
	cur, prev := hmacEntries(current, previous, typRefresh)
	return newStaticSet(algHS256, cur, prev)
}

// signingKey checks that priv suits alg and returns it in the form
// golang-jwt's signing method expects, with its public key.
func signingKey(alg string, priv crypto.Signer) (key any, pub crypto.PublicKey, err error) {
	switch alg {
	case algRS256:
		k, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("RS256 needs an RSA private key, got %s", keyTypeName(priv))
		}
		if k.N == nil || k.N.BitLen() < minRSABits {
			return nil, nil, fmt.Errorf("RSA key must be at least %d bits", minRSABits)
		}
		if err := k.Validate(); err != nil {
			return nil, nil, errors.New("RSA private key is inconsistent")
		}
		return k, &k.PublicKey, nil
	case algES256:
		k, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("ES256 needs an ECDSA P-256 private key, got %s", keyTypeName(priv))
		}
		if k.Curve != elliptic.P256() {
			return nil, nil, errors.New("ES256 needs an ECDSA key on curve P-256")
		}
		return k, &k.PublicKey, nil
	case algEdDSA:
		var k ed25519.PrivateKey
		switch v := priv.(type) {
		case ed25519.PrivateKey:
			k = v
		case *ed25519.PrivateKey:
			if v != nil {
				k = *v
			}
		default:
			return nil, nil, fmt.Errorf("EdDSA needs an Ed25519 private key, got %s", keyTypeName(priv))
		}
		if len(k) != ed25519.PrivateKeySize {
			return nil, nil, errors.New("Ed25519 private key has the wrong size")
		}
		k = slices.Clone(k)
		return k, k.Public(), nil
	}
	return nil, nil, errors.New("unsupported algorithm")
}

// verificationKey checks that pub suits alg and returns it in the form
// golang-jwt's verification expects.
func verificationKey(alg string, pub crypto.PublicKey) (crypto.PublicKey, error) {
	switch alg {
	case algRS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil {
			return nil, fmt.Errorf("RS256 needs an RSA public key, got %s", keyTypeName(pub))
		}
		if k.N == nil || k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key must be at least %d bits", minRSABits)
		}
		return k, nil
	case algES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil {
			return nil, fmt.Errorf("ES256 needs an ECDSA P-256 public key, got %s", keyTypeName(pub))
		}
		if k.Curve != elliptic.P256() {
			return nil, errors.New("ES256 needs an ECDSA key on curve P-256")
		}
		return k, nil
	case algEdDSA:
		var k ed25519.PublicKey
		switch v := pub.(type) {
		case ed25519.PublicKey:
			k = v
		case *ed25519.PublicKey:
			if v != nil {
				k = *v
			}
		default:
			return nil, fmt.Errorf("EdDSA needs an Ed25519 public key, got %s", keyTypeName(pub))
		}
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("Ed25519 public key has the wrong size")
		}
		return slices.Clone(k), nil
	}
	return nil, errors.New("unsupported algorithm")
}

// keyTypeName names the type of a key for error messages (never its value).
func keyTypeName(k any) string {
	switch v := k.(type) {
	case nil:
		return "no key"
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PrivateKey:
		if v.Curve != nil {
			return "an ECDSA " + v.Curve.Params().Name + " key"
		}
	case *ecdsa.PublicKey:
		if v.Curve != nil {
			return "an ECDSA " + v.Curve.Params().Name + " key"
		}
	case ed25519.PrivateKey, ed25519.PublicKey, *ed25519.PrivateKey, *ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T", k)
}

// Algorithm returns the algorithm that signs access tokens (Config.Algorithm).
func (i *Issuer) Algorithm() string { return i.alg }

// JWKS returns the JSON Web Key Set {"keys":[…]} of the public keys that
// verify access tokens now; see PublishedJWKS.
func (i *Issuer) JWKS() []byte {
	doc, _ := i.PublishedJWKS()
	return doc
}

// PublishedJWKS returns the JSON Web Key Set {"keys":[…]} of the public keys
// that verify access tokens now — the signing key first, then the next keys, then
// the previous ones (Config.PreviousPublicKeys, and scheduled keys that
// stopped signing less than AccessTTL + Leeway ago) — and how long a cache
// may keep it: until the set or the signing key next changes, at most
// JWKSMaxAge, at least one second. Each key has kty, kid, use "sig", alg and
// its public parameters. For HS256 the set is {"keys":[]}. The documents are
// computed when the keys are loaded; each call returns a fresh copy the
// caller may keep or modify.
func (i *Issuer) PublishedJWKS() ([]byte, time.Duration) {
	doc, maxAge := i.access.keys.Load().jwks(i.now())
	return bytes.Clone(doc), maxAge
}

// Keys describes every access-token key now, without key material: for
// JWT_KEYS_FILE the scheduled keys in the order they sign, then the
// previous public keys; otherwise the signing key, then the previous keys.
func (i *Issuer) Keys() []KeyInfo { return i.access.keys.Load().Keys(i.now()) }

// KeySet returns the access-token key set in force now.
func (i *Issuer) KeySet() *KeySet { return i.access.keys.Load() }

// NewKeySet checks a new key set (a reloaded JWT_KEYS_FILE) against the
// issuer's algorithm, Config.AccessTTL, Config.Leeway and clock, and returns
// it for SetKeySet; it changes nothing. Every problem is reported at once;
// each wraps ErrNoActiveKey, ErrKeyMismatch or ErrKeySet. The previous
// public keys of the running configuration stay.
func (i *Issuer) NewKeySet(keys []ScheduledKey) (*KeySet, error) {
	if i.retention <= 0 && i.alg != algHS256 {
		return nil, fmt.Errorf("issuer: %w: the issuer was built without AccessTTL", ErrKeySet)
	}
	var previous []keyEntry
	for _, e := range i.access.keys.Load().entries {
		if e.verifyOnly {
			previous = append(previous, e)
		}
	}
	ks, err := newScheduledSet(i.alg, keys, previous, i.retention, i.now())
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	return ks, nil
}

// SetKeySet installs ks, built by NewKeySet of the same Issuer, as the
// access-token keys: the next signature, verification and JWKS use it;
// work in progress finishes with the keys it started with.
func (i *Issuer) SetKeySet(ks *KeySet) {
	if ks == nil || ks.alg != i.alg {
		panic("issuer: SetKeySet with a key set not built by this issuer's NewKeySet")
	}
	i.access.keys.Store(ks)
}

// NewID returns a new token id: 128 bits from Config.Rand, base64url without
// padding (22 characters). It fails only when the random source fails.
func (i *Issuer) NewID() (string, error) {
	var b [idLen]byte
	if _, err := io.ReadFull(i.rand, b[:]); err != nil {
		return "", fmt.Errorf("issuer: new token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// AcceptAudiences sets the audiences access tokens may carry besides
// Config.Audience: the clients' own audiences, which replace Config.Audience
// in the tokens issued to them. VerifyAccess then accepts a token whose aud
// holds any of Config.Audience and extra. Call it at start-up and whenever
// the clients change; it is safe to call while tokens are verified.
func (i *Issuer) AcceptAudiences(extra []string) {
	aud := slices.Clone([]string(i.audience))
	for _, a := range extra {
		if a != "" && !slices.Contains(aud, a) {
			aud = append(aud, a)
		}
	}
	i.access.parser.Store(i.accessParser(aud))
}

// Audience returns Config.Audience (JWT_AUDIENCE): the aud of access tokens
// whose AccessClaims name no audience of their own.
func (i *Issuer) Audience() []string { return slices.Clone([]string(i.audience)) }
