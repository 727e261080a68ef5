// Command echo is a small resource server in Echo that accepts authsvc's
// access tokens with package verifier/echoverifier and follows the
// revocation feed. Run authsvc with `make run`, then, in another terminal:
//
//	set -a; source configs/dev.env; set +a
//	go run ./examples/echo
//
// and call it with an access token from authsvc:
//
//	curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:9091/api/reports
//
// Settings as for examples/nethttp; LISTEN defaults to 127.0.0.1:9091.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/verifier"
	"github.com/authsvc/authsvc/verifier/echoverifier"
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
		Issuer:   env("AUTHSVC_ISSUER", "http://localhost:8080"),
		Audience: env("AUTHSVC_AUDIENCE", "demo-api"),
		Feed: &verifier.FeedConfig{
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

	e := echo.New()
	e.HideBanner = true
	api := e.Group("/api", echoverifier.Middleware(v))
	api.GET("/hello", func(c echo.Context) error {
		claims, _ := echoverifier.Claims(c)
		return c.JSON(http.StatusOK, map[string]any{"hello": claims.Subject, "scope": claims.Scope})
	})
	api.GET("/reports", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"reports": []string{"q1", "q2"}})
	}, echoverifier.RequireScope("read"))
	api.POST("/reports", func(c echo.Context) error {
		return c.NoContent(http.StatusCreated)
	}, echoverifier.RequireScope("write"))

	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Shutdown(sctx)
	}()
	addr := env("LISTEN", "127.0.0.1:9091")
	log.Printf("resource server on http://%s (issuer %s)", addr, cfg.Issuer)
	if err := e.Start(addr); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
