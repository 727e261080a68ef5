package echoverifier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/verifier"
	"github.com/authsvc/authsvc/verifier/echoverifier"
)

var secret = []byte("echoverifier-test-secret-0123456789-abcdef")

const issuerURL = "https://auth.example.test"

// mint signs an access token the way authsvc does.
func mint(t *testing.T, scope string) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"iss": issuerURL, "sub": "alice", "aud": "api", "exp": now.Add(time.Minute).Unix(),
		"iat": now.Unix(), "nbf": now.Unix(), "jti": "j1", "type": "access", "scope": scope}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = verifier.HMACKeyID(secret)
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEcho(t *testing.T) {
	v, err := verifier.New(context.Background(), verifier.Config{Issuer: issuerURL, Audience: "api", HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e := echo.New()
	api := e.Group("/api", echoverifier.Middleware(v))
	api.GET("/read", func(c echo.Context) error {
		claims, ok := echoverifier.Claims(c)
		if !ok {
			return c.NoContent(http.StatusInternalServerError)
		}
		return c.String(http.StatusOK, claims.Subject)
	}, echoverifier.RequireScope("read"))
	api.GET("/write", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, echoverifier.RequireScope("write"))

	tok := mint(t, "read")
	tests := []struct {
		path, auth, challenge string
		status                int
	}{
		{"/api/read", "Bearer " + tok, "", http.StatusOK},
		{"/api/read", "", "Bearer", http.StatusUnauthorized},
		{"/api/read", "Bearer nope", `Bearer error="invalid_token"`, http.StatusUnauthorized},
		{"/api/write", "Bearer " + tok, `Bearer error="insufficient_scope", scope="write"`, http.StatusForbidden},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != tt.status || w.Header().Get("WWW-Authenticate") != tt.challenge {
			t.Errorf("%s %q: %d %q, want %d %q", tt.path, tt.auth, w.Code, w.Header().Get("WWW-Authenticate"), tt.status, tt.challenge)
		}
		if tt.status == http.StatusOK && w.Body.String() != "alice" {
			t.Errorf("handler saw subject %q", w.Body)
		}
	}
}
