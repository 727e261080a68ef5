package handler_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/handler"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
	redisstore "github.com/authsvc/authsvc/internal/store/redis"
	"github.com/authsvc/authsvc/internal/tracing"
)

// These benchmarks drive the whole HTTP handler in-process (Echo, the
// middleware, parsing, the token rules, the issuer and a real store) with
// the production logger (JSON at info level, written to io.Discard), so
// their profile is the service's minus the network and net/http's
// connection handling.

// benchServer is one handler under benchmark and the client secret of its
// client "svc".
type benchServer struct {
	h      http.Handler
	secret string
}

// newBenchServer builds the handler on the named store ("memory", or
// "redis" on a private redis-server) with HS256 tokens.
func newBenchServer(b *testing.B, storeName string) *benchServer {
	b.Helper()
	return newTracedBenchServer(b, storeName, nil)
}

// newTracedBenchServer is newBenchServer with tracing on when tp is set:
// the server-span middleware, and a span per Redis command.
func newTracedBenchServer(b *testing.B, storeName string, tp *tracing.Provider) *benchServer {
	b.Helper()
	// A cheap password hash: logins only set up the sessions measured here.
	pwHash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	secret, secretHash, err := credential.GenerateClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	creds, _, err := credential.Parse(fmt.Appendf(nil, `users:
  - username: alice
    password_hash: %q
    scopes: [read, write]
clients:
  - client_id: svc
    client_secret_hash: %q
    grant_types: [client_credentials]
    scopes: [read, write]
`, pwHash, secretHash))
	if err != nil {
		b.Fatal(err)
	}
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte(strings.Repeat("k", 32)), RefreshSecret: []byte(strings.Repeat("r", 32)),
		Issuer: "https://auth.bench.test", Audience: []string{"api.bench.test"}, Leeway: 30 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	var st store.Store
	switch storeName {
	case "memory":
		st = memory.New(time.Now)
	case "redis":
		srv := redistest.Start(b)
		opt, err := goredis.ParseURL(srv.URL())
		if err != nil {
			b.Fatal(err)
		}
		client := goredis.NewClient(opt)
		if tp != nil {
			if err := redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(tp.TracerProvider()),
				redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false)); err != nil {
				b.Fatal(err)
			}
		}
		st = redisstore.New(client, "authsvc-bench:")
	}
	b.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := auth.New(auth.Config{
		AccessTTL: 15 * time.Minute, RefreshTTL: 168 * time.Hour, SessionMaxTTL: 720 * time.Hour,
		ClockSkew: 30 * time.Second, LoginFailuresMax: 10, LoginFailuresWindow: 15 * time.Minute,
	}, auth.Deps{Issuer: iss, Store: st, Credentials: creds, Log: log})
	d := handler.Deps{Auth: svc, JWKS: iss.JWKS(), Log: log, Ready: svc.Ready}
	if tp != nil {
		d.Tracing = &handler.Tracing{Provider: tp.TracerProvider(), Propagator: tp.Propagator()}
	}
	h := handler.New(d)
	return &benchServer{h: h, secret: secret}
}

// conn is one client of a benchServer: a request and response writer that
// are reused, so that the client's own allocations stay out of the figures.
type conn struct {
	h    http.Handler
	req  *http.Request
	body bodyReader
	w    responseSink
	buf  []byte
}

type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// responseSink is a minimal http.ResponseWriter that keeps the last body.
type responseSink struct {
	hdr  http.Header
	code int
	body bytes.Buffer
}

func (w *responseSink) Header() http.Header         { return w.hdr }
func (w *responseSink) WriteHeader(code int)        { w.code = code }
func (w *responseSink) Write(p []byte) (int, error) { return w.body.Write(p) }

func (s *benchServer) conn(b *testing.B, path string, hdr ...string) *conn {
	c := &conn{h: s.h, w: responseSink{hdr: http.Header{}}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://auth.bench.test"+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "192.0.2.1:4711"
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.Body = &c.body
	c.req = req
	return c
}

// post sends body and returns the response status; the body is in c.w.body.
func (c *conn) post(body []byte) int {
	c.body.Reset(body)
	c.req.ContentLength = int64(len(body))
	clear(c.w.hdr)
	c.w.code = http.StatusOK
	c.w.body.Reset()
	c.h.ServeHTTP(&c.w, c.req)
	return c.w.code
}

// refreshBody sets c.buf to the form body refreshing the refresh token in
// the last response, which must be a 200.
func (c *conn) refreshBody(b *testing.B, status int) []byte {
	const field = `"refresh_token":"`
	resp := c.w.body.Bytes()
	i := bytes.Index(resp, []byte(field))
	if status != http.StatusOK || i < 0 {
		b.Fatalf("status %d, body %s", status, resp)
	}
	tok := resp[i+len(field):]
	tok = tok[:bytes.IndexByte(tok, '"')]
	c.buf = append(append(c.buf[:0], "refresh_token="...), tok...)
	return c.buf
}

// login logs alice in and returns the form body that refreshes the new
// session's refresh token.
func (s *benchServer) login(b *testing.B) []byte {
	c := s.conn(b, "/token")
	return c.refreshBody(b, c.post([]byte("grant_type=password&username=alice&password=correct+horse+battery+staple")))
}

// refreshChain refreshes while loop says so, starting with body and then
// each time with the refresh token the previous call returned.
func (s *benchServer) refreshChain(b *testing.B, body []byte, loop func() bool) {
	c := s.conn(b, "/refresh")
	for loop() {
		body = c.refreshBody(b, c.post(body))
	}
}

// BenchmarkRefresh is one POST /refresh through the whole handler, from
// one goroutine.
func BenchmarkRefresh(b *testing.B) {
	for _, st := range []string{"memory", "redis"} {
		b.Run(st, func(b *testing.B) {
			s := newBenchServer(b, st)
			body := s.login(b)
			b.ReportAllocs()
			s.refreshChain(b, body, b.Loop)
		})
	}
}

// BenchmarkRefreshParallel is POST /refresh from 16 goroutines per CPU,
// each rotating its own session, about the load benchmark's 32 clients.
func BenchmarkRefreshParallel(b *testing.B) {
	for _, st := range []string{"memory", "redis"} {
		b.Run(st, func(b *testing.B) {
			s := newBenchServer(b, st)
			const parallelism = 16
			sessions := make(chan []byte, parallelism*runtime.GOMAXPROCS(0))
			for range cap(sessions) {
				sessions <- s.login(b)
			}
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) { s.refreshChain(b, <-sessions, pb.Next) })
		})
	}
}

// BenchmarkClientCredentials is one POST /token client_credentials grant
// with HTTP Basic client authentication (fast sha256 secret hash).
func BenchmarkClientCredentials(b *testing.B) {
	for _, st := range []string{"memory", "redis"} {
		b.Run(st, func(b *testing.B) {
			s := newBenchServer(b, st)
			c := s.conn(b, "/token", echo.HeaderAuthorization, "Basic "+basic("svc", s.secret))
			body := []byte("grant_type=client_credentials&scope=read")
			b.ReportAllocs()
			for b.Loop() {
				if status := c.post(body); status != http.StatusOK {
					b.Fatalf("status %d, body %s", status, c.w.body.Bytes())
				}
			}
		})
	}
}

func basic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
}

// discardExporter receives the batched spans and drops them: the cost
// measured is authsvc's (starting, recording and batching spans), not an
// exporter's network round trips, which run off the request path.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkRefreshTracing is BenchmarkRefresh with tracing off (no
// middleware, no Redis hook: the production default) and on (a server span
// per request and, on Redis, a client span per Redis command, every span
// sampled and batched as the OTLP exporter's pipeline does). On the memory
// store the difference is the server span's CPU cost alone; on Redis the
// round trip dominates both.
func BenchmarkRefreshTracing(b *testing.B) {
	for _, st := range []string{"memory", "redis"} {
		for _, on := range []bool{false, true} {
			name := st + "/off"
			var tp *tracing.Provider
			if on {
				name = st + "/on"
				tp = tracing.New(sdktrace.WithBatcher(discardExporter{}))
			}
			b.Run(name, func(b *testing.B) {
				if tp != nil {
					b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				}
				s := newTracedBenchServer(b, st, tp)
				body := s.login(b)
				b.ReportAllocs()
				s.refreshChain(b, body, b.Loop)
			})
		}
	}
}
