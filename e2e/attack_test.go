package e2e

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
)

// The attack suite plays an attacker against a real authsvc process and a
// real Redis. Every hostile token must end in its documented error (docs/api.md) (or, for
// /revoke, in a 200 that changes nothing), and nothing may be revoked,
// issued or leaked on its account.
//
// Whether /revoke accepted a token is seen in the audit log: an accepted
// access token produces a revoke event with token_type access_token, an
// accepted refresh token one with refresh_token. Each oracle is checked
// against a genuine token too, so a silent oracle cannot pass the suite.

var b64 = base64.RawURLEncoding

// jwtParts decodes the header and claims of a compact JWS.
func jwtParts(tb testing.TB, tok string) (header, claims map[string]any) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatal(err)
		}
	}
	return header, claims
}

// signer computes a JWS signature over the signing input.
type signer func(input []byte) []byte

func hs256(key []byte) signer {
	return func(in []byte) []byte { m := hmac.New(sha256.New, key); m.Write(in); return m.Sum(nil) }
}

func hs512(key []byte) signer {
	return func(in []byte) []byte { m := hmac.New(sha512.New, key); m.Write(in); return m.Sum(nil) }
}

func rs256(tb testing.TB, k *rsa.PrivateKey) signer {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	}
}

// forge builds a compact JWS from header and claims; a nil sign leaves the
// signature empty (alg none).
func forge(tb testing.TB, header, claims map[string]any, sign signer) string {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	if sign == nil {
		return input + "."
	}
	return input + "." + b64.EncodeToString(sign([]byte(input)))
}

// with returns a copy of m with the given pairs set (a nil value deletes).
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// logged waits until the request line of r is in svc's log. The process
// writes its log before it answers, but the test reads the log pipe on its
// own time; once a request's line is in, so is everything logged before it.
func logged(tb testing.TB, svc *proc, r *response) *response {
	tb.Helper()
	id := r.Header.Get("X-Request-ID")
	if id == "" {
		tb.Fatal("response without X-Request-ID")
	}
	want := `"msg":"request",`
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(svc.logs.String(), "\n") {
			if strings.Contains(line, want) && strings.Contains(line, `"request_id":"`+id+`"`) {
				return r
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("request %s never reached the log", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// revokes counts the revoke audit events for tokens of the given type.
func revokes(p *proc, tokenType string) int {
	n := 0
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, `"event":"revoke"`) && strings.Contains(line, `"token_type":"`+tokenType+`"`) {
			n++
		}
	}
	return n
}

// hostile is one forged or mangled token and what the service must answer.
type hostile struct {
	name  string
	token string
	// status of /revoke: 200 for any well-formed request (RFC 7009 §2.2),
	// 413 invalid_request for a body over the 64 KiB limit.
	revokeStatus int
}

// wantRevokeChangesNothing presents tok to /revoke (with hint) and requires
// the status and no revocation of either kind.
func wantRevokeChangesNothing(t *testing.T, svc *proc, h hostile, hint string) {
	t.Helper()
	at, rt := revokes(svc, "access_token"), revokes(svc, "refresh_token")
	r := logged(t, svc, postForm(t, svc.URL+"/revoke", "token", h.token, "token_type_hint", hint))
	want := h.revokeStatus
	if want == 0 {
		want = 200
	}
	if r.Status != want {
		t.Fatalf("/revoke: %d %s, want %d", r.Status, r.Body, want)
	}
	if revokes(svc, "access_token") != at || revokes(svc, "refresh_token") != rt {
		t.Fatalf("/revoke accepted the hostile token")
	}
}

// mangled returns the truncations and size attacks of a genuine token.
func mangled(tok string) []hostile {
	parts := strings.Split(tok, ".")
	return []hostile{
		{name: "truncated by one", token: tok[:len(tok)-1]},
		{name: "truncated in half", token: tok[:len(tok)/2]},
		{name: "signature dropped", token: parts[0] + "." + parts[1] + "."},
		{name: "two parts", token: parts[0] + "." + parts[1]},
		{name: "header only", token: parts[0]},
		{name: "extra part", token: tok + ".x"},
		{name: "7 KB of garbage", token: strings.Repeat("A", 7<<10)},
		{name: "payload padded to 7 KB", token: parts[0] + "." + parts[1] + strings.Repeat("A", 7<<10) + "." + parts[2]},
		{name: "9 KiB of garbage", token: strings.Repeat("A", 9<<10)},
		{name: "over the 64 KiB body limit", token: strings.Repeat("A", 65<<10), revokeStatus: 413},
	}
}

// TestAttack_ForgedAccessTokens presents forged and mangled access tokens
// to an HS256 authsvc: /revoke must accept none of them and /refresh must
// treat each as an invalid grant.
func TestAttack_ForgedAccessTokens(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	genuine := login(t, svc.URL).str("access_token")
	header, claims := jwtParts(t, genuine)
	now := time.Now().Unix()
	key, attacker := []byte(testSecret), []byte("attacker-chosen-key-0123456789-abcdef")

	cases := []hostile{
		{name: "alg none", token: forge(t, with(header, "alg", "none"), claims, nil)},
		{name: "alg None", token: forge(t, with(header, "alg", "None"), claims, nil)},
		{name: "alg none with a signature", token: forge(t, with(header, "alg", "none"), claims, hs256(key))},
		{name: "alg HS512 with the right key", token: forge(t, with(header, "alg", "HS512"), claims, hs512(key))},
		{name: "forged signature, right claims", token: forge(t, header, claims, hs256(attacker))},
		{name: "signature of another token", token: forge(t, header, with(claims, "sub", "mallory"), nil) + strings.Split(genuine, ".")[2]},
		{name: "claims changed, signature kept", token: func() string {
			p := strings.Split(genuine, ".")
			c, _ := json.Marshal(with(claims, "scope", "read write admin"))
			return p[0] + "." + b64.EncodeToString(c) + "." + p[2]
		}()},
		{name: "kid path traversal, empty key", token: forge(t, with(header, "kid", "../../../../../../dev/null"), claims, hs256(nil))},
		{name: "kid path traversal, right key", token: forge(t, with(header, "kid", "../../../../../../dev/null"), claims, hs256(key))},
		{name: "kid SQL injection", token: forge(t, with(header, "kid", "x' UNION SELECT 'attacker-chosen-key' --"), claims, hs256([]byte("attacker-chosen-key")))},
		{name: "unknown kid, right key", token: forge(t, with(header, "kid", "no-such-key"), claims, hs256(key))},
		{name: "no kid, right key", token: forge(t, with(header, "kid", nil), claims, hs256(key))},
		{name: "kid not a string", token: forge(t, with(header, "kid", 7), claims, hs256(key))},
		{name: "jku, attacker key", token: forge(t, with(header, "jku", "https://attacker.test/jwks.json"), claims, hs256(attacker))},
		{name: "jku, right key", token: forge(t, with(header, "jku", "https://attacker.test/jwks.json"), claims, hs256(key))},
		{name: "x5u, right key", token: forge(t, with(header, "x5u", "https://attacker.test/cert.pem"), claims, hs256(key))},
		{name: "embedded jwk, attacker key", token: forge(t, with(header, "jwk", map[string]any{"kty": "oct", "k": b64.EncodeToString(attacker)}), claims, hs256(attacker))},
		{name: "embedded jwk, right key", token: forge(t, with(header, "jwk", map[string]any{"kty": "oct", "k": b64.EncodeToString(attacker)}), claims, hs256(key))},
		{name: "crit header", token: forge(t, with(header, "crit", []string{"exp"}), claims, hs256(key))},
		{name: "typ of a refresh token", token: forge(t, with(header, "typ", "JWT"), claims, hs256(key))},
		{name: "expired", token: forge(t, header, with(claims, "exp", now-3600, "iat", now-7200, "nbf", now-7200), hs256(key))},
		{name: "no exp", token: forge(t, header, with(claims, "exp", nil), hs256(key))},
		{name: "not yet valid", token: forge(t, header, with(claims, "nbf", now+3600, "iat", now), hs256(key))},
		{name: "issued in the future", token: forge(t, header, with(claims, "iat", now+3600, "nbf", now), hs256(key))},
		{name: "wrong iss", token: forge(t, header, with(claims, "iss", "https://attacker.test"), hs256(key))},
		{name: "wrong aud", token: forge(t, header, with(claims, "aud", "another-api"), hs256(key))},
		{name: "type refresh", token: forge(t, header, with(claims, "type", "refresh"), hs256(key))},
		{name: "signed with the refresh key", token: forge(t, header, claims, hs256([]byte(testRefreshSecret)))},
	}
	cases = append(cases, mangled(genuine)...)
	for _, h := range cases {
		t.Run(h.name, func(t *testing.T) {
			wantRevokeChangesNothing(t, svc, h, "access_token")
			r := postForm(t, svc.URL+"/refresh", "refresh_token", h.token)
			if h.revokeStatus != 0 {
				wantError(t, r, h.revokeStatus, "invalid_request")
			} else {
				wantError(t, r, 400, "invalid_grant")
			}
		})
	}
	t.Run("the oracle sees a genuine access token", func(t *testing.T) {
		before := revokes(svc, "access_token")
		if r := logged(t, svc, postForm(t, svc.URL+"/revoke", "token", genuine, "token_type_hint", "access_token")); r.Status != 200 || revokes(svc, "access_token") != before+1 {
			t.Fatalf("genuine access token not revoked: %d", r.Status)
		}
	})
}

// TestAttack_ForgedRefreshTokens presents forged, mangled, replayed and
// misdirected refresh tokens.
func TestAttack_ForgedRefreshTokens(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := login(t, svc.URL)
	genuine, access := r.str("refresh_token"), r.str("access_token")
	header, claims := jwtParts(t, genuine)
	now := time.Now().Unix()
	key := []byte(testRefreshSecret)

	cases := []hostile{
		{name: "alg none", token: forge(t, with(header, "alg", "none"), claims, nil)},
		{name: "forged signature, right claims", token: forge(t, header, claims, hs256([]byte("attacker-chosen-key-0123456789-abcdef")))},
		{name: "signed with the access key", token: forge(t, header, claims, hs256([]byte(testSecret)))},
		{name: "typ of an access token", token: forge(t, with(header, "typ", "at+jwt"), claims, hs256(key))},
		{name: "kid path traversal", token: forge(t, with(header, "kid", "../../../../dev/null"), claims, hs256(nil))},
		{name: "unknown kid, right key", token: forge(t, with(header, "kid", "no-such-key"), claims, hs256(key))},
		{name: "jku, right key", token: forge(t, with(header, "jku", "https://attacker.test/jwks.json"), claims, hs256(key))},
		{name: "embedded jwk", token: forge(t, with(header, "jwk", map[string]any{"kty": "oct", "k": "AAAA"}), claims, hs256(key))},
		{name: "expired", token: forge(t, header, with(claims, "exp", now-3600, "iat", now-7200), hs256(key))},
		{name: "wrong iss", token: forge(t, header, with(claims, "iss", "https://attacker.test"), hs256(key))},
		{name: "type access", token: forge(t, header, with(claims, "type", "access"), hs256(key))},
		{name: "an access token", token: access},
	}
	cases = append(cases, mangled(genuine)...)
	for _, h := range cases {
		t.Run(h.name, func(t *testing.T) {
			r := postForm(t, svc.URL+"/refresh", "refresh_token", h.token)
			if h.revokeStatus != 0 {
				wantError(t, r, h.revokeStatus, "invalid_request")
			} else {
				wantError(t, r, 400, "invalid_grant")
			}
			if h.name != "an access token" {
				wantRevokeChangesNothing(t, svc, h, "refresh_token")
			}
		})
	}
	// None of that touched the session.
	rotated := postForm(t, svc.URL+"/refresh", "refresh_token", genuine)
	if rotated.Status != 200 {
		t.Fatalf("the genuine session was harmed: %d %s", rotated.Status, rotated.Body)
	}

	t.Run("replay of a used refresh token revokes the family", func(t *testing.T) {
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", genuine), 400, "invalid_grant")
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rotated.str("refresh_token")), 400, "invalid_grant")
	})
	t.Run("a refresh token where an access token is expected", func(t *testing.T) {
		rt := login(t, svc.URL).str("refresh_token")
		if _, err := parseAccess(rt); err == nil {
			t.Fatal("a resource server accepted a refresh token")
		}
		before := revokes(svc, "access_token")
		if r := logged(t, svc, postForm(t, svc.URL+"/revoke", "token", rt, "token_type_hint", "access_token")); r.Status != 200 {
			t.Fatalf("/revoke: %d", r.Status)
		}
		if revokes(svc, "access_token") != before {
			t.Fatal("a refresh token was revoked as an access token")
		}
	})
	t.Run("a refresh token of one client used by another", func(t *testing.T) {
		rt := login(t, svc.URL, "client_id", "billing", "client_secret", billingSecret).str("refresh_token")
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "other", "client_secret", otherSecret), 400, "invalid_grant")
		wantError(t, postForm(t, svc.URL+"/refresh", "refresh_token", rt), 401, "invalid_client")
		wantError(t, postForm(t, svc.URL+"/revoke", "token", rt, "client_id", "other", "client_secret", otherSecret), 401, "invalid_client")
		if r := postForm(t, svc.URL+"/refresh", "refresh_token", rt, "client_id", "billing", "client_secret", billingSecret); r.Status != 200 {
			t.Fatalf("the owning client's refresh failed after the attempts: %d %s", r.Status, r.Body)
		}
	})
}

// TestAttack_AlgorithmConfusion runs an RS256 authsvc and presents access
// tokens signed HS256 with its public key (the classic confusion), and
// RS256 tokens that bring their own key.
func TestAttack_AlgorithmConfusion(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "rs256.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["JWT_ALGORITHM"], env["JWT_PRIVATE_KEY_FILE"] = "RS256", keyFile
	svc := startAuthsvc(t, env)
	genuine := login(t, svc.URL).str("access_token")
	header, claims := jwtParts(t, genuine)

	// What an attacker can fetch: the JWKS entry, and the key rebuilt as PEM.
	var jwks struct{ Keys []map[string]any }
	if err := json.Unmarshal(call(t, "GET", svc.URL+"/.well-known/jwks.json", "", "").Body, &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v %v", err, jwks)
	}
	n, _ := b64.DecodeString(jwks.Keys[0]["n"].(string))
	e, _ := b64.DecodeString(jwks.Keys[0]["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	jwkJSON, _ := json.Marshal(jwks.Keys[0])
	attackerRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK := map[string]any{"kty": "RSA", "n": b64.EncodeToString(attackerRSA.N.Bytes()), "e": "AQAB"}

	hsHeader := with(header, "alg", "HS256")
	cases := []hostile{
		{name: "HS256 keyed with the PEM public key", token: forge(t, hsHeader, claims, hs256(pubPEM))},
		{name: "HS256 keyed with the PKCS#1 PEM", token: forge(t, hsHeader, claims, hs256(pkcs1PEM))},
		{name: "HS256 keyed with the DER public key", token: forge(t, hsHeader, claims, hs256(pubDER))},
		{name: "HS256 keyed with the JWK", token: forge(t, hsHeader, claims, hs256(jwkJSON))},
		{name: "HS256 keyed with SECRET_KEY", token: forge(t, hsHeader, claims, hs256([]byte(testSecret)))},
		{name: "alg none", token: forge(t, with(header, "alg", "none"), claims, nil)},
		{name: "RS256 by another key", token: forge(t, header, claims, rs256(t, attackerRSA))},
		{name: "RS256 with embedded jwk", token: forge(t, with(header, "jwk", attackerJWK), claims, rs256(t, attackerRSA))},
		{name: "RS256 with jku", token: forge(t, with(header, "jku", "https://attacker.test/jwks.json"), claims, rs256(t, attackerRSA))},
		{name: "RS256 with x5u", token: forge(t, with(header, "x5u", "https://attacker.test/cert.pem"), claims, rs256(t, attackerRSA))},
		{name: "RS256 with kid of the attacker's key", token: forge(t, with(header, "kid", "attacker"), claims, rs256(t, attackerRSA))},
		{name: "PS256 by another key", token: forge(t, with(header, "alg", "PS256"), claims, rs256(t, attackerRSA))},
	}
	cases = append(cases, mangled(genuine)...)
	for _, h := range cases {
		t.Run(h.name, func(t *testing.T) {
			wantRevokeChangesNothing(t, svc, h, "access_token")
		})
	}
	t.Run("the oracle sees a genuine RS256 token", func(t *testing.T) {
		before := revokes(svc, "access_token")
		logged(t, svc, postForm(t, svc.URL+"/revoke", "token", genuine, "token_type_hint", "access_token"))
		if revokes(svc, "access_token") != before+1 {
			t.Fatal("genuine token not revoked")
		}
	})
}

// TestAttack_LoginStorm sends 500 wrong passwords for alice from one
// address (X-Forwarded-For through a trusted proxy) in parallel, while bob
// logs in from another address: at most LOGIN_FAILURES_MAX passwords are
// checked, the rest get 429 with Retry-After, bob is served, and the
// process's memory does not balloon.
func TestAttack_LoginStorm(t *testing.T) {
	const storm, workers, maxFailures = 500, 16, 10
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["TRUSTED_PROXIES"] = "127.0.0.1/32"
	env["LOGIN_FAILURES_MAX"] = strconv.Itoa(maxFailures)
	env["LOG_LEVEL"] = "info"
	svc := startAuthsvc(t, env)
	rssBefore := vmRSS(t, svc)

	const attacker, user = "203.0.113.66", "198.51.100.23"
	var invalidGrant, limited atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
					"grant_type=password&username=alice&password=guess-"+strconv.Itoa(i), "X-Forwarded-For", attacker)
				switch {
				case r.Status == 400 && r.str("error") == "invalid_grant":
					invalidGrant.Add(1)
				case r.Status == 429 && r.str("error") == "too_many_requests":
					if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
						t.Errorf("429 with Retry-After %q", r.Header.Get("Retry-After"))
					}
					limited.Add(1)
				default:
					t.Errorf("storm request: %d %s", r.Status, r.Body)
				}
			}
		})
	}
	// Bob logs in from elsewhere while the storm runs.
	bobDone := make(chan error, 1)
	go func() {
		var err error
		for range 5 {
			r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
				"grant_type=password&username=bob&password="+bobPassword, "X-Forwarded-For", user)
			if r.Status != 200 {
				err = fmt.Errorf("bob: %d %s", r.Status, r.Body)
			}
		}
		bobDone <- err
	}()
	for i := range storm {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := <-bobDone; err != nil {
		t.Fatal(err)
	}

	// Locked: even the right password from the attacker's address.
	r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
		"grant_type=password&username=alice&password="+alicePassword, "X-Forwarded-For", attacker)
	wantError(t, logged(t, svc, r), 429, "too_many_requests") // sent after every storm answer: its log line comes last
	checks := strings.Count(svc.logs.String(), `"event":"login_failed"`)
	t.Logf("%d password checks, %d invalid_grant, %d too_many_requests", checks, invalidGrant.Load(), limited.Load())
	if checks > maxFailures || int64(checks) != invalidGrant.Load() {
		t.Fatalf("%d password checks (%d invalid_grant), want at most %d", checks, invalidGrant.Load(), maxFailures)
	}
	if invalidGrant.Load()+limited.Load() != storm {
		t.Fatalf("answers: %d + %d of %d", invalidGrant.Load(), limited.Load(), storm)
	}
	// alice herself, from her own address, is not locked out.
	if r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
		"grant_type=password&username=alice&password="+alicePassword, "X-Forwarded-For", user); r.Status != 200 {
		t.Fatalf("alice from another address: %d %s", r.Status, r.Body)
	}
	if rssAfter := vmRSS(t, svc); rssAfter > rssBefore+128<<20 {
		t.Fatalf("RSS grew from %d to %d KiB over the storm", rssBefore>>10, rssAfter>>10)
	} else {
		t.Logf("RSS %d → %d KiB", rssBefore>>10, rssAfter>>10)
	}
}

// TestAttack_ClientAddress checks where the client address comes from:
// X-Forwarded-For / X-Real-IP count only from a trusted proxy, so an
// attacker connecting directly cannot spread a brute force over invented
// addresses.
func TestAttack_ClientAddress(t *testing.T) {
	rds := redistest.Start(t)
	wrong := func(svc *proc, hdr ...string) *response {
		return call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
			"grant_type=password&username=alice&password=nope", hdr...)
	}
	t.Run("untrusted peer: headers ignored", func(t *testing.T) {
		env := baseEnv(t, rds.URL())
		env["LOGIN_FAILURES_MAX"], env["TRUSTED_PROXIES"] = "3", "10.0.0.0/8"
		svc := startAuthsvc(t, env)
		for i := range 3 {
			wantError(t, wrong(svc, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i), "X-Real-IP", fmt.Sprintf("192.0.2.%d", i)), 400, "invalid_grant")
		}
		wantError(t, logged(t, svc, wrong(svc, "X-Forwarded-For", "192.0.2.99")), 429, "too_many_requests")
		if strings.Contains(svc.logs.String(), `"addr":"192.0.2.`) {
			t.Fatal("a spoofed address reached the log")
		}
	})
	t.Run("trusted proxy: CLIENT_IP_HEADER believed", func(t *testing.T) {
		env := baseEnv(t, rds.URL())
		env["LOGIN_FAILURES_MAX"], env["TRUSTED_PROXIES"] = "2", "127.0.0.1/32"
		svc := startAuthsvc(t, env)
		for range 2 {
			wantError(t, wrong(svc, "X-Forwarded-For", "192.0.2.1"), 400, "invalid_grant")
		}
		wantError(t, wrong(svc, "X-Forwarded-For", "192.0.2.1"), 429, "too_many_requests")
		// Another client behind the proxy is unaffected.
		wantError(t, wrong(svc, "X-Forwarded-For", "192.0.2.2"), 400, "invalid_grant")
		// X-Real-IP is believed when CLIENT_IP_HEADER names it.
		env["CLIENT_IP_HEADER"] = "X-Real-IP"
		realIP := startAuthsvc(t, env)
		wantError(t, logged(t, realIP, wrong(realIP, "X-Real-IP", "192.0.2.3")), 400, "invalid_grant")
		if !strings.Contains(realIP.logs.String(), `"addr":"192.0.2.3"`) {
			t.Fatal("X-Real-IP from a trusted proxy was not used")
		}
	})
}

// TestAttack_RateLimitPerAddress floods the POST endpoints from one
// address with RATE_LIMIT_PER_ADDRESS set.
func TestAttack_RateLimitPerAddress(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["RATE_LIMIT_PER_ADDRESS"], env["TRUSTED_PROXIES"] = "2", "127.0.0.1/32"
	svc := startAuthsvc(t, env)
	limited := 0
	for range 20 {
		r := call(t, "POST", svc.URL+"/revoke", "application/x-www-form-urlencoded", "token=x", "X-Forwarded-For", "203.0.113.9")
		if r.Status == 429 {
			wantError(t, r, 429, "too_many_requests")
			if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
			limited++
		}
	}
	// Burst 4 at 2/s: twenty back-to-back requests cannot all pass.
	if limited == 0 {
		t.Fatal("no request was rate limited")
	}
	r := call(t, "POST", svc.URL+"/token", "application/x-www-form-urlencoded",
		"grant_type=password&username=bob&password="+bobPassword, "X-Forwarded-For", "198.51.100.4")
	if logged(t, svc, r).Status != 200 {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
	if n := strings.Count(svc.logs.String(), `"event":"rate_limited"`); n != limited {
		t.Fatalf("%d rate_limited events for %d refusals", n, limited)
	}
}

// vmRSS reads the resident set size of the authsvc process in bytes.
func vmRSS(tb testing.TB, p *proc) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc status")
	return 0
}
