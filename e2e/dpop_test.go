package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	mobileSecret = "mobile-Secret-Okapi-57"
	webSecret    = "web-Secret-Tapir-64"
)

// dpopEnv is baseEnv with a credentials file holding alice, a client
// "mobile" that must use DPoP (dpop_bound_access_tokens), a client "web"
// that may, and "intro", which may introspect.
func dpopEnv(tb testing.TB, redisURL string) map[string]string {
	tb.Helper()
	yaml := fmt.Sprintf(`users:
  - username: alice
    password_hash: %q
    scopes: [read, write]
clients:
  - client_id: mobile
    client_secret_hash: %q
    grant_types: [password, refresh_token]
    scopes: [read]
    dpop_bound_access_tokens: true
  - client_id: web
    client_secret_hash: %q
    grant_types: [password, refresh_token]
    scopes: [read]
  - client_id: intro
    client_secret_hash: %q
    grant_types: [client_credentials]
    introspect: true
`, mustHash(tb, alicePassword), mustHash(tb, mobileSecret), mustHash(tb, webSecret), mustHash(tb, introSecret))
	path := filepath.Join(tb.TempDir(), "dpop-credentials.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	env := baseEnv(tb, redisURL)
	env["CREDENTIALS_FILE"] = path
	return env
}

var (
	aliceLogin = url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}}
)

// refreshForm is the body of POST /refresh.
func refreshForm(rt string) url.Values { return url.Values{"refresh_token": {rt}} }

// wantDPoPTokens checks a 200 token response bound to jkt and returns it.
func wantDPoPTokens(tb testing.TB, r *response, jkt string) *response {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("got %d %s, want 200", r.Status, r.Body)
	}
	if r.str("token_type") != "DPoP" {
		tb.Errorf("token_type = %q, want DPoP", r.str("token_type"))
	}
	_, claims := jwtParts(tb, r.str("access_token"))
	cnf, _ := claims["cnf"].(map[string]any)
	if cnf["jkt"] != jkt {
		tb.Errorf("access token cnf = %v, want {jkt: %s}", claims["cnf"], jkt)
	}
	return r
}

// introspectJKT returns the cnf.jkt /introspect reports for tok.
func introspectJKT(tb testing.TB, base, tok string) string {
	tb.Helper()
	r := call(tb, http.MethodPost, base+"/introspect", "application/x-www-form-urlencoded",
		url.Values{"token": {tok}}.Encode(), "Authorization", basicAuth("intro", introSecret))
	if r.Status != http.StatusOK || r.JSON["active"] != true {
		tb.Fatalf("introspect: %d %s, want active", r.Status, r.Body)
	}
	cnf, _ := r.JSON["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

// TestE2E_DPoP_SessionWithThirdPartyClient runs a whole session with
// proofs made by panva's dpop package: login, refreshes at /refresh and at
// /token, introspection, the refusals that leave the token usable, and
// /logout-all.
func TestE2E_DPoP_SessionWithThirdPartyClient(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, dpopEnv(t, rds.URL()))
	for _, alg := range []string{"ES256", "PS256"} {
		t.Run(alg, func(t *testing.T) {
			k := nodeKeygen(t, alg)
			r := wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin,
				nodeProof(t, k, "POST", testIssuer+"/token", "", "")), k.JKT)
			if got := introspectJKT(t, svc.URL, r.str("access_token")); got != k.JKT {
				t.Errorf("introspection cnf.jkt of the access token = %q, want %q", got, k.JKT)
			}
			if got := introspectJKT(t, svc.URL, r.str("refresh_token")); got != k.JKT {
				t.Errorf("introspection cnf.jkt of the refresh token = %q, want %q", got, k.JKT)
			}
			for range 2 {
				r = wantDPoPTokens(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(r.str("refresh_token")),
					nodeProof(t, k, "POST", testIssuer+"/refresh", "", "")), k.JKT)
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}
			r = wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, form,
				nodeProof(t, k, "POST", testIssuer+"/token", "", "")), k.JKT)

			// Without the key the session does not rotate, and the token
			// stays usable.
			rt := r.str("refresh_token")
			wantError(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(rt)), 400, "invalid_grant")
			other := nodeKeygen(t, "ES256")
			wantError(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(rt),
				nodeProof(t, other, "POST", testIssuer+"/refresh", "", "")), 400, "invalid_grant")
			r = wantDPoPTokens(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(rt),
				nodeProof(t, k, "POST", testIssuer+"/refresh", "", "")), k.JKT)

			// Logging out everywhere needs the key too.
			rt = r.str("refresh_token")
			wantError(t, dpopPost(t, svc.URL+"/logout-all", "mobile", mobileSecret, refreshForm(rt)), 400, "invalid_grant")
			out := dpopPost(t, svc.URL+"/logout-all", "mobile", mobileSecret, refreshForm(rt),
				nodeProof(t, k, "POST", testIssuer+"/logout-all", "", ""))
			if out.Status != http.StatusOK || out.JSON["revoked_sessions"] != 1.0 {
				t.Fatalf("logout-all with a proof: %d %s, want 200 and 1 session", out.Status, out.Body)
			}
		})
	}
}

// ownSigner returns a DPoP key of the project's own code.
func ownSigner(tb testing.TB, alg string) *dpop.Signer {
	tb.Helper()
	s, err := dpop.NewSigner(testkit.MustSigner(tb, alg), alg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// ownProof is a proof by s for POST to the issuer's path.
func ownProof(tb testing.TB, s *dpop.Signer, path string) string {
	tb.Helper()
	p, err := s.Proof("POST", testIssuer+path, dpop.ProofOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestE2E_DPoP_Rejections sends every kind of bad proof the service must
// refuse, at /token and at /refresh of a bound session, and checks that none
// of them used the refresh token up.
func TestE2E_DPoP_Rejections(t *testing.T) {
	rds := redistest.Start(t)
	env := dpopEnv(t, rds.URL())
	env["DPOP_SIGNING_ALGS"] = "ES256,PS256"
	svc := startAuthsvc(t, env)

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := testkit.PublicJWK(t, ecKey.Public())
	forge := func(path string, editHeader func(map[string]any), editClaims func(jwt.MapClaims)) string {
		h := map[string]any{"typ": "dpop+jwt", "jwk": jwk}
		c := jwt.MapClaims{"jti": rand.Text(), "htm": "POST", "htu": testIssuer + path, "iat": time.Now().Unix()}
		if editHeader != nil {
			editHeader(h)
		}
		if editClaims != nil {
			editClaims(c)
		}
		return testkit.ForgeDPoPProof(t, jwt.SigningMethodES256, ecKey, h, c)
	}
	own := ownSigner(t, "ES256")
	k := nodeKeygen(t, "ES256")
	replayed := nodeProof(t, k, "POST", testIssuer+"/token", "", "")
	wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin, replayed), k.JKT)
	session := wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin,
		nodeProof(t, k, "POST", testIssuer+"/token", "", "")), k.JKT)
	rt := session.str("refresh_token")

	type proofs func(path string) []string
	one := func(f func(path string) string) proofs { return func(p string) []string { return []string{f(p)} } }
	tests := []struct {
		name   string
		proofs proofs
		// want is the error at /token (login) and at /refresh of the bound
		// session.
		wantToken, wantRefresh string
	}{
		{name: "typ JWT", proofs: one(func(p string) string {
			return forge(p, func(h map[string]any) { h["typ"] = "JWT" }, nil)
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "alg HS256", proofs: one(func(p string) string {
			return testkit.ForgeDPoPProof(t, jwt.SigningMethodHS256, []byte(testSecret),
				map[string]any{"typ": "dpop+jwt", "jwk": jwk}, jwt.MapClaims{"jti": rand.Text(), "htm": "POST", "htu": testIssuer + p, "iat": time.Now().Unix()})
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "alg EdDSA, not in DPOP_SIGNING_ALGS", proofs: one(func(p string) string {
			return ownProof(t, ownSigner(t, "EdDSA"), p)
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "jwk with the private key", proofs: one(func(p string) string {
			return forge(p, func(h map[string]any) { h["jwk"] = testkit.PrivateJWK(t, ecKey) }, nil)
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "signed by another key than its jwk", proofs: one(func(p string) string {
			return forge(p, func(h map[string]any) {
				h["jwk"] = testkit.PublicJWK(t, testkit.MustECDSA(t, elliptic.P256()).Public())
			}, nil)
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "htm GET", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) { c["htm"] = "GET" })
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "htu of another endpoint", proofs: one(func(p string) string {
			return forge("/introspect", nil, nil)
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "htu of the request's host, not JWT_ISSUER", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) { c["htu"] = svc.URL + p })
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "iat too old", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) {
				c["iat"] = time.Now().Add(-60*time.Second - 30*time.Second - 5*time.Second).Unix()
			})
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "iat in the future", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(30*time.Second + 5*time.Second).Unix() })
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "jti of 129 bytes", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) { c["jti"] = strings.Repeat("j", 129) })
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "no jti", proofs: one(func(p string) string {
			return forge(p, nil, func(c jwt.MapClaims) { delete(c, "jti") })
		}), wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "two DPoP headers", proofs: func(p string) []string {
			return []string{nodeProof(t, k, "POST", testIssuer+p, "", ""), nodeProof(t, k, "POST", testIssuer+p, "", "")}
		}, wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "replayed proof", proofs: func(p string) []string {
			if p == "/token" {
				return []string{replayed}
			}
			proof := nodeProof(t, k, "POST", testIssuer+p, "", "")
			// Used once on a session of its own, then replayed on ours.
			other := wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin,
				nodeProof(t, k, "POST", testIssuer+"/token", "", "")), k.JKT)
			wantDPoPTokens(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(other.str("refresh_token")), proof), k.JKT)
			return []string{proof}
		}, wantToken: "invalid_dpop_proof", wantRefresh: "invalid_dpop_proof"},
		{name: "no proof", proofs: func(string) []string { return nil },
			wantToken: "invalid_dpop_proof", wantRefresh: "invalid_grant"},
		{name: "a valid proof by another key", proofs: one(func(p string) string {
			return ownProof(t, own, p)
		}), wantToken: "", wantRefresh: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin, tt.proofs("/token")...)
			if tt.wantToken == "" {
				if r.Status != http.StatusOK {
					t.Errorf("/token: %d %s, want 200", r.Status, r.Body)
				}
			} else {
				wantError(t, r, 400, tt.wantToken)
			}
			wantError(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(rt), tt.proofs("/refresh")...), 400, tt.wantRefresh)
		})
	}
	// None of them used the refresh token up.
	wantDPoPTokens(t, dpopPost(t, svc.URL+"/refresh", "mobile", mobileSecret, refreshForm(rt),
		nodeProof(t, k, "POST", testIssuer+"/refresh", "", "")), k.JKT)
}

// TestE2E_DPoP_Nonces: with DPOP_NONCE_REQUIRED, a proof without the
// server's nonce gets use_dpop_nonce and the nonce to use; a proof with a
// nonce and another fault gets invalid_dpop_proof; every token response
// carries a fresh nonce; and a nonce of one replica is good at another.
func TestE2E_DPoP_Nonces(t *testing.T) {
	rds := redistest.Start(t)
	env := dpopEnv(t, rds.URL())
	env["DPOP_NONCE_REQUIRED"] = "true"
	a, b := startAuthsvc(t, env), startAuthsvc(t, env)
	k := nodeKeygen(t, "ES256")

	r := dpopPost(t, a.URL+"/token", "mobile", mobileSecret, aliceLogin, nodeProof(t, k, "POST", testIssuer+"/token", "", ""))
	wantError(t, r, 400, "use_dpop_nonce")
	nonce := r.Header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	wantError(t, dpopPost(t, a.URL+"/token", "mobile", mobileSecret, aliceLogin,
		nodeProof(t, k, "POST", testIssuer+"/token", "not-our-nonce", "")), 400, "use_dpop_nonce")
	wantError(t, dpopPost(t, a.URL+"/token", "mobile", mobileSecret, aliceLogin,
		nodeProof(t, k, "GET", testIssuer+"/token", nonce, "")), 400, "invalid_dpop_proof")

	// Replica a's nonce at replica b, and b's at a.
	r = wantDPoPTokens(t, dpopPost(t, b.URL+"/token", "mobile", mobileSecret, aliceLogin,
		nodeProof(t, k, "POST", testIssuer+"/token", nonce, "")), k.JKT)
	next := r.Header.Get("DPoP-Nonce")
	if next == "" {
		t.Fatal("a token response without DPoP-Nonce")
	}
	wantDPoPTokens(t, dpopPost(t, a.URL+"/refresh", "mobile", mobileSecret, refreshForm(r.str("refresh_token")),
		nodeProof(t, k, "POST", testIssuer+"/refresh", next, "")), k.JKT)
}

// TestE2E_DPoP_ProofReplayAcrossReplicas: a proof accepted by one replica
// is refused by another; the jti is kept in the shared store.
func TestE2E_DPoP_ProofReplayAcrossReplicas(t *testing.T) {
	rds := redistest.Start(t)
	env := dpopEnv(t, rds.URL())
	a, b := startAuthsvc(t, env), startAuthsvc(t, env)
	k := nodeKeygen(t, "ES256")
	proof := nodeProof(t, k, "POST", testIssuer+"/token", "", "")
	wantDPoPTokens(t, dpopPost(t, a.URL+"/token", "web", webSecret, aliceLogin, proof), k.JKT)
	r := dpopPost(t, b.URL+"/token", "web", webSecret, aliceLogin, proof)
	wantError(t, r, 400, "invalid_dpop_proof")
	if !strings.Contains(r.str("error_description"), "already used") {
		t.Errorf("replay refused for another reason: %s", r.Body)
	}
}

// TestE2E_DPoP_ClientRule: a client with dpop_bound_access_tokens gets no
// token without a proof; another client may go without, and a proof on the
// refresh of its unbound session binds the access token only.
func TestE2E_DPoP_ClientRule(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, dpopEnv(t, rds.URL()))
	wantError(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin), 400, "invalid_dpop_proof")

	r := dpopPost(t, svc.URL+"/token", "web", webSecret, aliceLogin)
	if r.Status != http.StatusOK || r.str("token_type") != "Bearer" {
		t.Fatalf("bearer login: %d %s", r.Status, r.Body)
	}
	k := nodeKeygen(t, "ES256")
	r = wantDPoPTokens(t, dpopPost(t, svc.URL+"/refresh", "web", webSecret, refreshForm(r.str("refresh_token")),
		nodeProof(t, k, "POST", testIssuer+"/refresh", "", "")), k.JKT)
	r = dpopPost(t, svc.URL+"/refresh", "web", webSecret, refreshForm(r.str("refresh_token")))
	if r.Status != http.StatusOK || r.str("token_type") != "Bearer" {
		t.Fatalf("the session was bound by a proof at /refresh: %d %s", r.Status, r.Body)
	}
}
