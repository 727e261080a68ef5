// Package testkit holds the test fixtures that several packages share: a
// manual clock, cheap password hashes and signing keys. It is imported only
// by _test.go files, the store conformance suite and the end-to-end tests;
// never by the service.
package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// T0 is the usual start of a test clock: a whole second, far from the epoch.
var T0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a manual clock safe for concurrent use; tests move it, nothing
// sleeps. Pass its Now method wherever a package takes an injected clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backwards for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// MustHash returns a bcrypt hash of password at the cheapest cost: the
// credentials file accepts any valid hash, and tests should not spend
// seconds hashing.
func MustHash(tb testing.TB, password string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

// MustRandom returns n random bytes, for secrets.
func MustRandom(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// RSA keys are slow to generate, so every test in a binary shares these.
var (
	rsaA    = sync.OnceValue(func() *rsa.PrivateKey { return genRSA(2048) })
	rsaB    = sync.OnceValue(func() *rsa.PrivateKey { return genRSA(2048) })
	rsa1024 = sync.OnceValue(func() *rsa.PrivateKey { return genRSA(1024) })
)

func genRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// RSAKey returns a 2048-bit RSA key shared by the whole test binary.
func RSAKey() *rsa.PrivateKey { return rsaA() }

// OtherRSAKey returns a second shared 2048-bit RSA key, different from RSAKey.
func OtherRSAKey() *rsa.PrivateKey { return rsaB() }

// WeakRSAKey returns a shared 1024-bit RSA key, too short for the service.
func WeakRSAKey() *rsa.PrivateKey { return rsa1024() }

// MustECDSA returns a fresh ECDSA key on curve c.
func MustECDSA(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustEd25519 returns a fresh Ed25519 key.
func MustEd25519(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustSigner returns a signing key for a JWT algorithm: the shared RSA key
// for RS256, a fresh P-256 key for ES256, a fresh Ed25519 key for EdDSA and
// nil for HS256.
func MustSigner(tb testing.TB, alg string) crypto.Signer {
	tb.Helper()
	switch alg {
	case "HS256":
		return nil
	case "RS256":
		return RSAKey()
	case "ES256":
		return MustECDSA(tb, elliptic.P256())
	case "EdDSA":
		return MustEd25519(tb)
	}
	tb.Fatalf("testkit: unknown algorithm %q", alg)
	return nil
}

// WritePrivateKey writes key as a PKCS#8 PEM file named name in dir and
// returns its path.
func WritePrivateKey(tb testing.TB, dir, name string, key crypto.Signer) string {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return writePEM(tb, filepath.Join(dir, name), "PRIVATE KEY", der)
}

// WritePublicKey writes pub as a PKIX PEM file named name in dir and returns
// its path.
func WritePublicKey(tb testing.TB, dir, name string, pub crypto.PublicKey) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return writePEM(tb, filepath.Join(dir, name), "PUBLIC KEY", der)
}

func writePEM(tb testing.TB, path, typ string, der []byte) string {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
