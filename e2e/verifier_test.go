package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/verifier"
)

// feedES256Env returns feedClientEnv signing access tokens with a fresh ES256
// key, so that verifiers fetch the JWKS; and the feed client's secret.
func feedES256Env(t *testing.T, redisURL string) (map[string]string, string, string) {
	t.Helper()
	env, _ := feedClientEnv(t, redisURL)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	env["JWT_ALGORITHM"] = "ES256"
	env["JWT_PRIVATE_KEY_FILE"] = testkit.WritePrivateKey(t, t.TempDir(), "es256.pem", key)
	return env, "rs", env[feedSecretKey]
}

// feedSecretKey is where feedClientEnv leaves the rs client's secret in env
// (read by the tests, ignored by authsvc).
const feedSecretKey = "E2E_FEED_CLIENT_SECRET"

// followingVerifier returns a Verifier of replica svc's tokens that follows
// its feed, closed at the end of the test.
func followingVerifier(t *testing.T, svc *proc, secret string, maxStale time.Duration) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer: testIssuer, Audience: testAudience,
		JWKSURL: svc.URL + "/.well-known/jwks.json",
		Feed:    &verifier.FeedConfig{URL: svc.URL + "/revocations", ClientID: "rs", ClientSecret: secret, MaxStale: maxStale},
	})
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// untilRefused polls v until it refuses tok with an error matching want,
// and returns how long that took from since; it fails the test after limit.
func untilRefused(t *testing.T, v *verifier.Verifier, tok string, want error, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		_, err := v.Verify(context.Background(), tok)
		if errors.Is(err, want) {
			return time.Since(since)
		}
		if err != nil && !errors.Is(err, want) {
			t.Fatalf("Verify: %v, want %v", err, want)
		}
		if time.Since(since) > limit {
			t.Fatalf("token still accepted %v after the revocation", time.Since(since))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVerifier_RevocationReachesVerifiersOfBothReplicas runs two replicas
// of authsvc on one Redis, and a verifier following each one's feed. An
// access token revoked through /revoke on one replica is refused by both
// verifiers within 2 seconds; the latencies are printed.
func TestVerifier_RevocationReachesVerifiersOfBothReplicas(t *testing.T) {
	rds := redistest.Start(t)
	env, _, secret := feedES256Env(t, rds.URL())
	a, b := startAuthsvc(t, env), startAuthsvc(t, env)
	va, vb := followingVerifier(t, a, secret, 0), followingVerifier(t, b, secret, 0)

	tok := login(t, a.URL).str("access_token")
	for name, v := range map[string]*verifier.Verifier{"A": va, "B": vb} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("verifier of replica %s refused a fresh token: %v", name, err)
		}
	}
	// Let both verifiers settle into their long polls.
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	if r := postForm(t, a.URL+"/revoke", "token", tok); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	answered := time.Since(sent)
	type result struct {
		name string
		took time.Duration
	}
	results := make(chan result, 2)
	for name, v := range map[string]*verifier.Verifier{"A": va, "B": vb} {
		go func() { results <- result{name, untilRefused(t, v, tok, verifier.ErrRevoked, sent, 2*time.Second)} }()
	}
	for range 2 {
		r := <-results
		t.Logf("access token revoked through /revoke on replica A (answered in %v): refused by the verifier of replica %s %v after the request was sent", answered, r.name, r.took)
	}
}

// TestVerifier_FeedDownKeepsLastSetThenStale stops the only replica a
// verifier follows: the verifier keeps refusing what the feed had listed and
// accepting the rest, until MaxStale passes without news; then it refuses
// every token with ErrStale.
func TestVerifier_FeedDownKeepsLastSetThenStale(t *testing.T) {
	rds := redistest.Start(t)
	env, _, secret := feedES256Env(t, rds.URL())
	svc := startAuthsvc(t, env)
	const maxStale = 3 * time.Second
	v := followingVerifier(t, svc, secret, maxStale)

	good, revoked := login(t, svc.URL).str("access_token"), login(t, svc.URL).str("access_token")
	sent := time.Now()
	if r := postForm(t, svc.URL+"/revoke", "token", revoked); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	t.Logf("revoked token refused after %v", untilRefused(t, v, revoked, verifier.ErrRevoked, sent, 2*time.Second))

	// The feed answers its held poll at shutdown, so the verifier last
	// heard from it about when the stop began.
	down := time.Now()
	svc.stop(t)
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatalf("feed down, within MaxStale: a good token refused: %v", err)
	}
	if _, err := v.Verify(context.Background(), revoked); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("feed down, within MaxStale: the revoked token: %v, want ErrRevoked", err)
	}
	took := untilRefused(t, v, good, verifier.ErrStale, down, maxStale+3*time.Second)
	t.Logf("feed down: last known set used, every token refused (ErrStale) %v after the feed stopped (MaxStale %v)", took, maxStale)
	if took < maxStale-500*time.Millisecond {
		t.Errorf("stale after %v, before MaxStale %v", took, maxStale)
	}
}
