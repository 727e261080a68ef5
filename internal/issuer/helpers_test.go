package issuer_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	testIssuer = "https://auth.example.test"
	testAud    = "api.example.test"
)

// t0 is the start of every test clock: a whole second, far from the epoch.
var t0 = testkit.T0

// The shared keys and key makers of internal/testkit, under the names the
// tests use.
var (
	rsaKeyA        = testkit.RSAKey
	rsaKeyB        = testkit.OtherRSAKey
	rsa1024        = testkit.WeakRSAKey
	mustSecret     = testkit.MustRandom
	mustECDSA      = testkit.MustECDSA
	mustEd25519    = testkit.MustEd25519
	mustPrivateKey = testkit.MustSigner
)

// clock is an injectable clock that tests move by hand.
type clock = testkit.Clock

func newClock() *clock { return testkit.NewClock(t0) }

// fixture is an Issuer with everything a test needs to forge tokens for it.
type fixture struct {
	iss   *issuer.Issuer
	cfg   issuer.Config
	clock *clock
	// accessKID and refreshKID are the kids the issuer writes.
	accessKID, refreshKID string
}

// newFixture builds an Issuer for alg with an explicit refresh secret (so
// tests can forge refresh tokens) and 30s leeway; mod may change the config.
func newFixture(tb testing.TB, alg string, mod ...func(*issuer.Config)) *fixture {
	tb.Helper()
	clk := newClock()
	cfg := issuer.Config{
		Algorithm:     alg,
		Secret:        mustSecret(tb, 32),
		RefreshSecret: mustSecret(tb, 32),
		PrivateKey:    mustPrivateKey(tb, alg),
		Issuer:        testIssuer,
		Audience:      []string{testAud},
		Leeway:        30 * time.Second,
		Now:           clk.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	iss, err := issuer.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	f := &fixture{iss: iss, cfg: cfg, clock: clk}
	f.accessKID, _ = tokenHeader(tb, f.signAccess(tb, f.accessClaims()))["kid"].(string)
	f.refreshKID, _ = tokenHeader(tb, f.signRefresh(tb, f.refreshClaims()))["kid"].(string)
	return f
}

// accessClaims returns valid access claims issued now.
func (f *fixture) accessClaims() issuer.AccessClaims {
	now := f.clock.Now()
	return issuer.AccessClaims{
		ID:        "jti-access-1",
		Subject:   "alice",
		ClientID:  "billing",
		Scope:     "read write",
		IssuedAt:  now,
		ExpiresAt: now.Add(15 * time.Minute),
	}
}

// refreshClaims returns valid refresh claims issued now.
func (f *fixture) refreshClaims() issuer.RefreshClaims {
	now := f.clock.Now()
	return issuer.RefreshClaims{
		ID:        "jti-refresh-1",
		SessionID: "sid-1",
		Subject:   "alice",
		ClientID:  "billing",
		Scope:     "read",
		AuthTime:  now.Add(-time.Hour),
		IssuedAt:  now,
		ExpiresAt: now.Add(168 * time.Hour),
	}
}

func (f *fixture) signAccess(tb testing.TB, c issuer.AccessClaims) string {
	tb.Helper()
	s, err := f.iss.SignAccess(c)
	if err != nil {
		tb.Fatalf("SignAccess: %v", err)
	}
	return s
}

func (f *fixture) signRefresh(tb testing.TB, c issuer.RefreshClaims) string {
	tb.Helper()
	s, err := f.iss.SignRefresh(c)
	if err != nil {
		tb.Fatalf("SignRefresh: %v", err)
	}
	return s
}

// accessKey is the key that signs access tokens, as golang-jwt takes it.
func (f *fixture) accessKey() any {
	if f.cfg.Algorithm == "HS256" {
		return f.cfg.Secret
	}
	return f.cfg.PrivateKey
}

// forgedAccess returns the header and claims of a valid access token as maps,
// for tests to change before signing them with forge.
func (f *fixture) forgedAccess() (map[string]any, jwt.MapClaims) {
	now := f.clock.Now().Unix()
	return map[string]any{"alg": f.cfg.Algorithm, "typ": "at+jwt", "kid": f.accessKID},
		jwt.MapClaims{
			"iss": testIssuer, "sub": "alice", "aud": testAud,
			"exp": now + 900, "iat": now, "nbf": now,
			"jti": "jti-forged", "type": "access", "scope": "read",
		}
}

// forgedRefresh is like forgedAccess for refresh tokens.
func (f *fixture) forgedRefresh() (map[string]any, jwt.MapClaims) {
	now := f.clock.Now().Unix()
	return map[string]any{"alg": "HS256", "typ": "rt+jwt", "kid": f.refreshKID},
		jwt.MapClaims{
			"iss": testIssuer, "sub": "alice", "aud": []string{testIssuer},
			"exp": now + 3600, "iat": now, "jti": "jti-forged", "type": "refresh",
			"sid": "sid-forged", "auth_time": now - 60,
		}
}

// forge signs claims under header (used as is) with golang-jwt, the way an
// attacker with the given key would.
func forge(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, claims)
	t.Header = header
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("forge: %v", err)
	}
	return s
}

// segment decodes part n (0 header, 1 claims) of a compact JWS as a map.
func segment(tb testing.TB, token string, n int) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[n])
	if err != nil {
		tb.Fatalf("decode segment %d: %v", n, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("unmarshal segment %d: %v", n, err)
	}
	return m
}

func tokenHeader(tb testing.TB, token string) map[string]any {
	tb.Helper()
	return segment(tb, token, 0)
}

func tokenClaims(tb testing.TB, token string) map[string]any {
	tb.Helper()
	return segment(tb, token, 1)
}

// rawSegment returns the JSON text of part n of a token.
func rawSegment(tb testing.TB, token string, n int) string {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[n])
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
