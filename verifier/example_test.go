package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/verifier"
)

// The examples use HS256 so that they run without a server; with RS256,
// ES256 or EdDSA leave HMACSecret out and New discovers and fetches the
// JWKS from the issuer.
var (
	exampleSecret = []byte("the-SECRET_KEY-of-authsvc-at-least-32-bytes")
	exampleIssuer = "https://auth.example.com"
)

// exampleToken mints what authsvc would issue to alice, for the examples.
func exampleToken(scope string) string {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": exampleIssuer, "sub": "alice", "aud": "reports-api", "exp": now.Add(15 * time.Minute).Unix(),
		"iat": now.Unix(), "nbf": now.Unix(), "jti": "Xq3lJ0sYw2b8Qm7fT1vK9A", "type": "access",
		"scope": scope, "client_id": "billing",
	})
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = verifier.HMACKeyID(exampleSecret)
	s, err := t.SignedString(exampleSecret)
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleNew() {
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer:     exampleIssuer, // JWT_ISSUER of authsvc
		Audience:   "reports-api", // one of its JWT_AUDIENCE
		HMACSecret: exampleSecret, // SECRET_KEY; omit it for RS256, ES256, EdDSA
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	claims, err := v.Verify(context.Background(), exampleToken("read"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.ClientID, claims.Scope)
	// Output: alice billing [read]
}

func ExampleVerifier_Verify_errors() {
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer: exampleIssuer, Audience: "reports-api", HMACSecret: exampleSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	_, err = v.Verify(context.Background(), exampleToken("read")+"tampered")
	switch {
	case errors.Is(err, verifier.ErrExpired):
		fmt.Println("expired: ask the client to refresh")
	case errors.Is(err, verifier.ErrInvalidToken):
		fmt.Println("invalid token")
	}
	// Output: invalid token
}

func ExampleVerifier_Middleware() {
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer: exampleIssuer, Audience: "reports-api", HMACSecret: exampleSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /reports", verifier.RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.FromContext(r.Context())
		fmt.Fprintf(w, "reports for %s", claims.Subject)
	})))
	handler := v.Middleware(mux) // every route needs a valid access token

	for _, auth := range []string{"", "Bearer " + exampleToken("read"), "Bearer " + exampleToken("write")} {
		r := httptest.NewRequest(http.MethodGet, "/reports", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 401 Bearer
	// 200
	// 403 Bearer error="insufficient_scope", scope="read"
}

func ExampleFeedConfig() {
	// Following the revocation feed: a revoked token or an ended session
	// is refused within a couple of seconds. The feed's URL comes from the
	// issuer's metadata; the client needs introspect: true in authsvc's
	// credentials file.
	cfg := verifier.Config{
		Issuer:   "https://auth.example.com",
		Audience: "reports-api",
		Feed: &verifier.FeedConfig{
			ClientID:     "reports-api",
			ClientSecret: "its-client-secret",
			MaxStale:     2 * time.Minute, // refuse every token after 2 minutes without news
		},
	}
	fmt.Println(cfg.Feed)
	// Output: verifier.FeedConfig{URL: "", ClientID: "reports-api", ClientSecret: [REDACTED], MaxStale: 2m0s}
}
