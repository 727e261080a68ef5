package verifier_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/verifier"
)

func TestMiddleware_RFC6750Answers(t *testing.T) {
	f := newFake(t, "HS256")
	v := mustVerifier(t, f.config())
	good := f.token(t, "j1", "read")
	hdr, claims := splitJWT(t, good)
	claims["cnf"] = map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
	bound := signHS(t, hdr, claims, f.cfg.Secret)

	var seen *verifier.Claims
	h := v.Middleware(verifier.RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = verifier.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})))
	write := v.Middleware(verifier.RequireScope("read", "write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	tests := []struct {
		name      string
		handler   http.Handler
		auth      []string
		status    int
		challenge string
		errCode   string
	}{
		{"valid token", h, []string{"Bearer " + good}, http.StatusNoContent, "", ""},
		{"scheme in lower case", h, []string{"bearer " + good}, http.StatusNoContent, "", ""},
		{"no token", h, nil, http.StatusUnauthorized, "Bearer", "unauthorized"},
		{"another scheme", h, []string{"Basic YTpi"}, http.StatusUnauthorized, "Bearer", "unauthorized"},
		{"empty bearer", h, []string{"Bearer "}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"two tokens", h, []string{"Bearer a b"}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"two headers", h, []string{"Bearer " + good, "Bearer " + good}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"forged", h, []string{"Bearer " + good + "x"}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"bound token as bearer", h, []string{"Bearer " + bound}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"DPoP scheme without a proof", h, []string{"DPoP " + bound}, http.StatusUnauthorized, `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256 PS256"`, "invalid_dpop_proof"},
		{"missing scope", write, []string{"Bearer " + good}, http.StatusForbidden, `Bearer error="insufficient_scope", scope="read write"`, "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			tt.handler.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.errCode == "" {
				return
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body %q is not JSON (%v)", w.Body, err)
			}
			if body["error"] != tt.errCode {
				t.Errorf("body error = %q, want %q", body["error"], tt.errCode)
			}
			if strings.Contains(w.Body.String(), good) {
				t.Errorf("the answer echoes the token")
			}
		})
	}
	// The claims reached the handler.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+good)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen == nil || seen.Subject != "alice" || seen.ID != "j1" {
		t.Errorf("FromContext in the handler = %+v", seen)
	}
	// RequireScope without Middleware has no claims: 401.
	w := httptest.NewRecorder()
	verifier.RequireScope("read")(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("RequireScope without claims: %d, want 401", w.Code)
	}
}
