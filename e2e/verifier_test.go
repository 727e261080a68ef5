package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/credential"
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

// withAdmin adds an admin client "ops" (generated secret) to env's
// credentials file and returns its Basic header; each replica then needs its
// own ADMIN_ADDR.
func withAdmin(t *testing.T, env map[string]string) string {
	t.Helper()
	secret, hash, err := credential.GenerateClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := os.ReadFile(env["CREDENTIALS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	creds = append(creds, fmt.Sprintf("  - client_id: ops\n    client_secret_hash: %q\n    admin: true\n", hash)...)
	if err := os.WriteFile(env["CREDENTIALS_FILE"], creds, 0o600); err != nil {
		t.Fatal(err)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+secret))
}

// TestVerifier_EndedSessionsReachVerifiersOfBothReplicas ends sessions in
// every way authsvc offers (revoking the refresh token, a detected reuse,
// /logout-all, the admin API) on one replica or the other: the session's
// access token, which carries its sid, is refused by the verifiers of both
// replicas within 2 seconds. The latencies are printed.
func TestVerifier_EndedSessionsReachVerifiersOfBothReplicas(t *testing.T) {
	rds := redistest.Start(t)
	env, _, secret := feedES256Env(t, rds.URL())
	opsAuth := withAdmin(t, env)
	envA, envB := maps.Clone(env), maps.Clone(env)
	adminA, adminB := freeAddr(t), freeAddr(t)
	envA["ADMIN_ADDR"], envB["ADMIN_ADDR"] = adminA, adminB
	a, b := startAuthsvc(t, envA), startAuthsvc(t, envB)
	va, vb := followingVerifier(t, a, secret, 0), followingVerifier(t, b, secret, 0)

	// session logs alice in on replica a and returns her tokens and sid.
	session := func(t *testing.T) (access, refresh, sid string) {
		t.Helper()
		r := login(t, a.URL)
		access, refresh = r.str("access_token"), r.str("refresh_token")
		sid, _ = jwtClaim(t, access, "sid").(string)
		if sid == "" {
			t.Fatalf("the access token of a session carries no sid")
		}
		return access, refresh, sid
	}
	admin := func(t *testing.T, addr, path string) {
		t.Helper()
		r := call(t, http.MethodDelete, "http://"+addr+path, "", "", "Authorization", opsAuth)
		if r.Status != http.StatusOK {
			t.Fatalf("DELETE %s: %d %s", path, r.Status, r.Body)
		}
	}
	tests := []struct {
		name string
		// end ends the session of the tokens given and returns the access
		// token the verifiers must now refuse.
		end func(t *testing.T, access, refresh, sid string) string
	}{
		{"/revoke of the refresh token on A", func(t *testing.T, access, refresh, _ string) string {
			if r := postForm(t, a.URL+"/revoke", "token", refresh); r.Status != http.StatusOK {
				t.Fatalf("revoke: %d", r.Status)
			}
			return access
		}},
		{"reuse detected on B", func(t *testing.T, _, refresh, _ string) string {
			r := postForm(t, a.URL+"/refresh", "refresh_token", refresh)
			if r.Status != http.StatusOK {
				t.Fatalf("refresh: %d %s", r.Status, r.Body)
			}
			newer := r.str("access_token")
			if _, err := vb.Verify(context.Background(), newer); err != nil {
				t.Fatalf("the rotated access token: %v", err)
			}
			wantError(t, postForm(t, b.URL+"/refresh", "refresh_token", refresh), http.StatusBadRequest, "invalid_grant")
			return newer
		}},
		{"/logout-all on B", func(t *testing.T, access, refresh, _ string) string {
			if r := postForm(t, b.URL+"/logout-all", "refresh_token", refresh); r.Status != http.StatusOK {
				t.Fatalf("logout-all: %d %s", r.Status, r.Body)
			}
			return access
		}},
		{"admin API: DELETE /admin/sessions/{id} on A", func(t *testing.T, access, _, sid string) string {
			admin(t, adminA, "/admin/sessions/"+url.PathEscape(sid))
			return access
		}},
		{"admin API: DELETE /admin/subjects/{sub}/sessions on B", func(t *testing.T, access, _, _ string) string {
			admin(t, adminB, "/admin/subjects/alice/sessions")
			return access
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			access, refresh, sid := session(t)
			for _, v := range []*verifier.Verifier{va, vb} {
				if _, err := v.Verify(context.Background(), access); err != nil {
					t.Fatalf("a fresh token refused: %v", err)
				}
			}
			sent := time.Now()
			refused := tt.end(t, access, refresh, sid)
			for name, v := range map[string]*verifier.Verifier{"A": va, "B": vb} {
				took := untilRefused(t, v, refused, verifier.ErrRevoked, sent, 2*time.Second)
				t.Logf("%s: refused by the verifier of replica %s %v after the request was sent", tt.name, name, took)
			}
		})
	}
}
