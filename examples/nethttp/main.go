// Command nethttp is a small resource server in plain net/http that accepts
// authsvc's access tokens with package verifier and follows the revocation
// feed. Run authsvc with `make run`, then, in another terminal:
//
//	set -a; source configs/dev.env; set +a
//	go run ./examples/nethttp
//
// and call it with an access token from authsvc:
//
//	curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:9090/reports
//
// A DPoP-bound token (token_type DPoP) is accepted only as
// "Authorization: DPoP $ACCESS_TOKEN" with a DPoP header holding a proof
// for that request (docs/resource-servers.md).
//
// Settings (environment): AUTHSVC_ISSUER (default http://localhost:8080),
// AUTHSVC_AUDIENCE (demo-api), SECRET_KEY (HS256; leave it unset for RS256,
// ES256 and EdDSA, whose keys come from the JWKS), FEED_CLIENT_ID and
// FEED_CLIENT_SECRET (the demo client of configs/dev-credentials.yaml),
// FEED_URL (default: from the issuer's metadata), LISTEN (127.0.0.1:9090),
// PUBLIC_URL (the scheme://host[:port] clients use, for DPoP proofs;
// default: from each request).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authsvc/authsvc/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	cfg := verifier.Config{
		Issuer:    env("AUTHSVC_ISSUER", "http://localhost:8080"),
		Audience:  env("AUTHSVC_AUDIENCE", "demo-api"),
		PublicURL: os.Getenv("PUBLIC_URL"),
		Feed: &verifier.FeedConfig{
			URL:          os.Getenv("FEED_URL"),
			ClientID:     env("FEED_CLIENT_ID", "demo-app"),
			ClientSecret: env("FEED_CLIENT_SECRET", "demo-app-dev-secret-change-me"),
			MaxStale:     time.Minute,
		},
	}
	if s := os.Getenv("SECRET_KEY"); s != "" {
		cfg.HMACSecret = []byte(s)
	}
	v, err := verifier.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.FromContext(r.Context())
		reply(w, map[string]any{"hello": claims.Subject, "scope": claims.Scope})
	})
	mux.Handle("GET /reports", verifier.RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"reports": []string{"q1", "q2"}})
	})))
	mux.Handle("POST /reports", verifier.RequireScope("write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))

	srv := &http.Server{Addr: env("LISTEN", "127.0.0.1:9090"), Handler: v.Middleware(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("resource server on http://%s (issuer %s)", srv.Addr, cfg.Issuer)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
