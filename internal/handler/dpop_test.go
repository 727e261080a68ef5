package handler

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store/memory"
)

// newDPoPServer is the HTTP stack with DPoP nonces required, a user alice
// and a client "mobile" that must use DPoP.
func newDPoPServer(t *testing.T) (http.Handler, *dpop.Signer) {
	t.Helper()
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("handler-test-secret-key-0123456789abcdef"),
		Issuer: "https://auth.test", Audience: []string{"api.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	sec, _ := bcrypt.GenerateFromPassword([]byte(testSecret), bcrypt.MinCost)
	creds, _, err := credential.Parse(fmt.Appendf(nil, `users:
  - {username: alice, password_hash: %q, scopes: [read]}
clients:
  - {client_id: mobile, client_secret_hash: %q, grant_types: [password, refresh_token], scopes: [read], dpop_bound_access_tokens: true, introspect: true}
`, pw, sec))
	if err != nil {
		t.Fatal(err)
	}
	nonces, err := dpop.NewNonces([]byte("handler-test-nonce-key-0123456789abcdef"), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := dpop.NewChecker(dpop.Options{Algs: []string{"ES256", "EdDSA"}, Leeway: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.New(auth.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, SessionMaxTTL: 2 * time.Hour},
		auth.Deps{Issuer: iss, Store: memory.New(time.Now), Credentials: creds,
			DPoP: auth.DPoPConfig{Checker: checker, BaseURL: "https://auth.test", Nonces: nonces}})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dpop.NewSigner(key, "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(Deps{Auth: svc, Issuer: "https://auth.test"}), signer
}

// post sends form to path with client mobile's Basic authentication and
// the given DPoP headers.
func post(h http.Handler, path string, form url.Values, proofs ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.SetBasicAuth("mobile", testSecret)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestDPoP_HTTP(t *testing.T) {
	h, key := newDPoPServer(t)
	proof := func(path, nonce string) string {
		p, err := key.Proof("POST", "https://auth.test"+path, dpop.ProofOptions{Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	login := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {testPassword}}
	wantError := func(rec *httptest.ResponseRecorder, code string) {
		t.Helper()
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error":"`+code+`"`) {
			t.Fatalf("got %d %s, want 400 %s", rec.Code, rec.Body, code)
		}
		if rec.Header().Get("DPoP-Nonce") == "" {
			t.Errorf("%s answer without DPoP-Nonce", code)
		}
	}

	// No proof: the client must send one. Two: refused.
	wantError(post(h, "/token", login), "invalid_dpop_proof")
	wantError(post(h, "/token", login, proof("/token", ""), proof("/token", "")), "invalid_dpop_proof")
	// No nonce: use_dpop_nonce, with the nonce to use.
	rec := post(h, "/token", login, proof("/token", ""))
	wantError(rec, "use_dpop_nonce")
	nonce := rec.Header().Get("DPoP-Nonce")

	rec = post(h, "/token", login, proof("/token", nonce))
	if rec.Code != http.StatusOK || rec.Header().Get("DPoP-Nonce") == "" {
		t.Fatalf("login: %d %s, DPoP-Nonce %q", rec.Code, rec.Body, rec.Header().Get("DPoP-Nonce"))
	}
	var set struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || set.TokenType != "DPoP" {
		t.Fatalf("token response %s: token_type %q, want DPoP", rec.Body, set.TokenType)
	}

	// The refresh_token grant at /token takes a proof for /token; /refresh
	// one for /refresh.
	wantError(post(h, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {set.RefreshToken}}, proof("/refresh", nonce)), "invalid_dpop_proof")
	rec = post(h, "/refresh", url.Values{"refresh_token": {set.RefreshToken}}, proof("/refresh", nonce))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"token_type":"DPoP"`) {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}

	rec = post(h, "/introspect", url.Values{"token": {set.AccessToken}})
	var intro struct {
		Active bool `json:"active"`
		Cnf    struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &intro); err != nil || !intro.Active || intro.Cnf.JKT != key.JKT() {
		t.Errorf("introspection %s: want active with cnf.jkt %s", rec.Body, key.JKT())
	}

	req := httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	meta := httptest.NewRecorder()
	h.ServeHTTP(meta, req)
	var doc struct {
		Algs []string `json:"dpop_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(meta.Body.Bytes(), &doc); err != nil || !slices.Equal(doc.Algs, []string{"ES256", "EdDSA"}) {
		t.Errorf("metadata dpop_signing_alg_values_supported = %v, want [ES256 EdDSA]", doc.Algs)
	}
}
