package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/authsvc/authsvc/dpop"
)

// Case kinds. Each runs against authsvc; those with a floor counterpart
// (floorOf) run against the floor program too, side by side.
const (
	kindPassword = "password" // POST /token password grant, the configured user hash
	// POST /token password grant of a user checked by the user
	// authenticator (USER_AUTHENTICATOR_URL) instead of the file.
	kindPasswordAuthn = "password-authenticator"
	kindClientCreds   = "client_credentials" // POST /token client_credentials, fast client-secret hash
	kindRefresh       = "refresh"            // POST /refresh, each worker chaining its own tokens
	kindRefreshDPoP   = "refresh-dpop"       // the same with a DPoP proof (ES256) on each request, a session bound to the key
	kindRevoke        = "revoke"             // POST /revoke of distinct access tokens
	kindMixed         = "mixed"              // 90 % refresh, 9 % login, 1 % revoke (logout)
	kindFloodSolo     = "refresh-solo"       // /refresh alone, before…
	kindFlood         = "refresh-under-login-flood"
	kindMemory        = "memory"
)

// floorOf names the floor endpoint that does the least work of each kind.
var floorOf = map[string]string{
	kindPassword:    "/token/bcrypt",
	kindClientCreds: "/token",
	kindRefresh:     "/refresh",
}

// gooauth2Kinds are the case kinds also measured against the go-oauth2
// reference server (bench/gooauth2), with HS256 only: the comparison a user
// choosing between the two makes first.
var gooauth2Kinds = map[string]bool{kindPassword: true, kindClientCreds: true, kindRefresh: true}

// The bench user. The floor program's user and password are fixed to these.
const (
	benchUser     = "alice"
	benchPassword = "correct horse battery staple"
	benchClient   = "bench"
)

// api is how the benchmark speaks to one server.
type api struct {
	// login starts a session and leaves its refresh token in the body.
	login func(c *client) (int, error)
	// password is the login of the password case: the hash under test.
	password func(c *client) (int, error)
	// passwordAuthn is the login of a user checked by the user
	// authenticator; nil where there is none.
	passwordAuthn func(c *client) (int, error)
	// issue is the cheapest token issue: client_credentials for authsvc,
	// /token (no password hash) for the floor.
	issue   func(c *client) (int, error)
	refresh func(c *client, rt string) (int, error)
	// revokeAccess and revokeRefresh are nil for the floor.
	revokeAccess  func(c *client, at string) (int, error)
	revokeRefresh func(c *client, rt string) (int, error)
	// dpopLogin and dpopRefresh send a DPoP proof (RFC 9449) along; nil
	// for the floor and go-oauth2.
	dpopLogin   func(c *client, proof string) (int, error)
	dpopRefresh func(c *client, rt, proof string) (int, error)
}

// benchIssuer is JWT_ISSUER of the authsvc under test: every DPoP proof's
// htu starts with it.
const benchIssuer = "https://auth.bench.test"

// dpopHeader is the DPoP request header carrying proof.
func dpopHeader(proof string) string { return "DPoP: " + proof + "\r\n" }

// authsvcAPI speaks form bodies, as OAuth 2.0 clients do (RFC 6749 §4.3).
func authsvcAPI(clientSecret string) *api {
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(benchClient+":"+clientSecret)) + "\r\n"
	loginBody := []byte("grant_type=password&username=" + benchUser + "&password=correct+horse+battery+staple")
	ccBody := []byte("grant_type=client_credentials")
	extBody := []byte("grant_type=password&username=" + extUser + "&password=correct+horse+battery+staple")
	login := func(c *client) (int, error) { return c.post("/token", formType, "", loginBody) }
	return &api{
		login:         login,
		password:      login,
		passwordAuthn: func(c *client) (int, error) { return c.post("/token", formType, "", extBody) },
		issue:         func(c *client) (int, error) { return c.post("/token", formType, basic, ccBody) },
		refresh: func(c *client, rt string) (int, error) {
			c.scratch = append(append(c.scratch[:0], "refresh_token="...), rt...)
			return c.post("/refresh", formType, "", c.scratch)
		},
		revokeAccess: func(c *client, at string) (int, error) {
			c.scratch = append(append(append(c.scratch[:0], "token="...), at...), "&token_type_hint=access_token"...)
			return c.post("/revoke", formType, basic, c.scratch)
		},
		revokeRefresh: func(c *client, rt string) (int, error) {
			c.scratch = append(append(append(c.scratch[:0], "token="...), rt...), "&token_type_hint=refresh_token"...)
			return c.post("/revoke", formType, "", c.scratch)
		},
		dpopLogin: func(c *client, proof string) (int, error) {
			return c.post("/token", formType, dpopHeader(proof), loginBody)
		},
		dpopRefresh: func(c *client, rt, proof string) (int, error) {
			c.scratch = append(append(c.scratch[:0], "refresh_token="...), rt...)
			return c.post("/refresh", formType, dpopHeader(proof), c.scratch)
		},
	}
}

// gooauth2API speaks go-oauth2's token endpoint: form bodies on POST
// /token with HTTP Basic client authentication on every grant, which is how
// go-oauth2 reads the client (its ClientBasicHandler). The refresh grant
// rotates: go-oauth2 removes the old refresh token and its access token.
func gooauth2API(clientSecret string) *api {
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(benchClient+":"+clientSecret)) + "\r\n"
	loginBody := []byte("grant_type=password&username=" + benchUser + "&password=correct+horse+battery+staple")
	ccBody := []byte("grant_type=client_credentials")
	login := func(c *client) (int, error) { return c.post("/token", formType, basic, loginBody) }
	return &api{
		login:    login,
		password: login,
		issue:    func(c *client) (int, error) { return c.post("/token", formType, basic, ccBody) },
		refresh: func(c *client, rt string) (int, error) {
			c.scratch = append(append(c.scratch[:0], "grant_type=refresh_token&refresh_token="...), rt...)
			return c.post("/token", formType, basic, c.scratch)
		},
	}
}

// floorAPI speaks the floor program's JSON bodies.
func floorAPI() *api {
	loginBody := []byte(`{"username":"` + benchUser + `","password":"` + benchPassword + `"}`)
	login := func(c *client) (int, error) { return c.post("/token", jsonType, "", loginBody) }
	return &api{
		login:    login,
		password: func(c *client) (int, error) { return c.post("/token/bcrypt", jsonType, "", loginBody) },
		issue:    login,
		refresh: func(c *client, rt string) (int, error) {
			c.scratch = append(append(append(c.scratch[:0], `{"refresh_token":"`...), rt...), `"}`...)
			return c.post("/refresh", jsonType, "", c.scratch)
		},
	}
}

// startSession logs a worker in (untimed) and keeps the refresh token.
func startSession(a *api) func(w *worker) error {
	return func(w *worker) error {
		status, err := a.login(w.c)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("%w: login answered %d: %.200s", errSetup, status, w.c.body.Bytes())
		}
		if w.refresh = w.c.field("refresh_token"); w.refresh == "" {
			return fmt.Errorf("%w: login response has no refresh_token", errSetup)
		}
		return nil
	}
}

// startDPoPSession logs a worker in (untimed) with a DPoP proof by the
// worker's own ES256 key, made on first use, so that the session is bound.
func startDPoPSession(a *api) func(w *worker) error {
	return func(w *worker) error {
		if w.dpop == nil {
			key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
			if err != nil {
				return err
			}
			if w.dpop, err = dpop.NewSigner(key, "ES256", nil); err != nil {
				return err
			}
		}
		proof, err := w.dpop.Proof(http.MethodPost, benchIssuer+"/token", dpop.ProofOptions{})
		if err != nil {
			return err
		}
		status, err := a.dpopLogin(w.c, proof)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("%w: DPoP login answered %d: %.200s", errSetup, status, w.c.body.Bytes())
		}
		if w.refresh = w.c.field("refresh_token"); w.refresh == "" {
			return fmt.Errorf("%w: login response has no refresh_token", errSetup)
		}
		return nil
	}
}

// refreshDPoPStep rotates the worker's bound refresh token with a fresh
// proof. Making the proof (one ES256 signature) is part of the timed step,
// as it is part of every real client's request.
func refreshDPoPStep(a *api) func(w *worker) (int, int, error) {
	return func(w *worker) (int, int, error) {
		proof, err := w.dpop.Proof(http.MethodPost, benchIssuer+"/refresh", dpop.ProofOptions{})
		if err != nil {
			return 0, 0, err
		}
		status, err := a.dpopRefresh(w.c, w.refresh, proof)
		if status == http.StatusOK {
			w.refresh = w.c.field("refresh_token")
		}
		if status != http.StatusOK || w.refresh == "" {
			w.needSetup = true
		}
		return 0, status, err
	}
}

func noSetup(*worker) error { return nil }

// refreshStep rotates the worker's refresh token; a failure breaks the
// chain, and the worker logs in again (untimed) before its next step.
func refreshStep(a *api, op int) func(w *worker) (int, int, error) {
	return func(w *worker) (int, int, error) {
		status, err := a.refresh(w.c, w.refresh)
		if status == http.StatusOK {
			w.refresh = w.c.field("refresh_token")
		}
		if status != http.StatusOK || w.refresh == "" {
			w.needSetup = true
		}
		return op, status, err
	}
}

// simpleStep sends one stateless request.
func simpleStep(do func(c *client) (int, error)) func(w *worker) (int, int, error) {
	return func(w *worker) (int, int, error) {
		status, err := do(w.c)
		return 0, status, err
	}
}

// revokePoolSize is how many access tokens each revoke worker has. Revoking
// one again later in the run does the same work (verify, then a denylist
// SET), so the pool is cycled rather than sized to the run.
const revokePoolSize = 100

// fillRevokePool issues the worker's access tokens by client_credentials.
func fillRevokePool(a *api) func(w *worker) error {
	return func(w *worker) error {
		w.pool = w.pool[:0]
		for range revokePoolSize {
			status, err := a.issue(w.c)
			if err != nil {
				return err
			}
			at := w.c.field("access_token")
			if status != http.StatusOK || at == "" {
				return fmt.Errorf("%w: client_credentials answered %d", errSetup, status)
			}
			w.pool = append(w.pool, at)
		}
		return nil
	}
}

func revokeStep(a *api) func(w *worker) (int, int, error) {
	return func(w *worker) (int, int, error) {
		at := w.pool[w.next%len(w.pool)]
		w.next++
		status, err := a.revokeAccess(w.c, at)
		return 0, status, err
	}
}

// Operations of the mixed case.
const (
	mixRefresh = iota
	mixLogin
	mixRevoke
)

var mixOps = []string{"refresh", "login", "revoke"}

// The mixed workload's shares of all requests: 90 % refresh, 9 % login,
// 1 % revoke. A revoke is a logout: it ends the worker's session, and its
// next request is a login. So, of the requests made while a session is
// held, a share p of revokes adds p logins: those requests choose revoke with
// probability 1/99 and refresh with 0.90 × 100/99, the rest log in afresh.
const (
	mixShareRevoke  = 1.0 / 99
	mixShareRefresh = 0.90 * 100 / 99
)

// mixedStep is one request of the mixed workload.
func mixedStep(a *api) func(w *worker) (int, int, error) {
	login := func(w *worker) (int, int, error) {
		status, err := a.password(w.c)
		if status == http.StatusOK {
			w.refresh = w.c.field("refresh_token")
		}
		return mixLogin, status, err
	}
	refresh := refreshStep(a, mixRefresh)
	return func(w *worker) (int, int, error) {
		if w.refresh == "" {
			return login(w)
		}
		switch r := w.rng.Float64(); {
		case r < mixShareRefresh:
			op, status, err := refresh(w)
			if w.needSetup { // a broken chain is mended by the next step's login
				w.needSetup, w.refresh = false, ""
			}
			return op, status, err
		case r < 1-mixShareRevoke:
			return login(w)
		default:
			status, err := a.revokeRefresh(w.c, w.refresh)
			w.refresh = ""
			return mixRevoke, status, err
		}
	}
}
