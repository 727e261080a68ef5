// Command floor is the benchmark's yardstick: a token server that does the
// least real work a token service must do, so that authsvc can be measured
// as a ratio to it, side by side in one run on one machine
// (docs/performance.md). It is not a design to copy: it skips everything a
// real service must do (strict parsing, client authentication, scopes,
// limits, lockout, logs, metrics).
//
//   - POST /token: JSON {"username","password"}, a constant-time compare,
//     an access and a refresh JWT signed, one Redis SET (the session's
//     current refresh-token id).
//   - POST /token/bcrypt: the same plus a bcrypt compare (-bcrypt-cost).
//   - POST /refresh: JSON {"refresh_token"}, the JWT verified, one EVALSHA
//     (compare-and-swap of the session's current id; a replay deletes the
//     session), two JWTs signed.
//   - GET /healthz: 200.
//
// Usage: floor -addr 127.0.0.1:9090 -redis 127.0.0.1:6380 -alg HS256
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// The one user, as the benchmark tool logs in.
const (
	user     = "alice"
	password = "correct horse battery staple"
)

const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 7 * 24 * time.Hour
	maxBody    = 64 << 10
)

// rotate swaps the session's current refresh-token id when the presented
// one is current; otherwise (a replay) it deletes the session. It returns 1
// for a rotation, 0 for a refusal.
var rotate = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
`)

// claims is the floor's token body: the registered claims plus a session id.
type claims struct {
	jwt.RegisteredClaims
	Type string `json:"type"`
	SID  string `json:"sid,omitempty"`
}

type server struct {
	method     jwt.SigningMethod
	signKey    any
	refreshKey []byte
	rdb        *goredis.Client
	hash       []byte // bcrypt hash of password
	parser     *jwt.Parser
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis host:port")
	alg := flag.String("alg", "HS256", "access-token algorithm: HS256, ES256, RS256 or EdDSA")
	cost := flag.Int("bcrypt-cost", 10, "bcrypt cost of /token/bcrypt")
	flag.Parse()
	s, err := newServer(*alg, *redisAddr, *cost)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func newServer(alg, redisAddr string, cost int) (*server, error) {
	s := &server{refreshKey: randomBytes(32), rdb: goredis.NewClient(&goredis.Options{Addr: redisAddr})}
	var err error
	switch alg {
	case "HS256":
		s.method, s.signKey = jwt.SigningMethodHS256, randomBytes(32)
	case "ES256":
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		s.method, s.signKey = jwt.SigningMethodES256, k
	case "RS256":
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, 2048)
		s.method, s.signKey = jwt.SigningMethodRS256, k
	case "EdDSA":
		var k ed25519.PrivateKey
		_, k, err = ed25519.GenerateKey(rand.Reader)
		s.method, s.signKey = jwt.SigningMethodEdDSA, k
	default:
		return nil, fmt.Errorf("-alg: unknown algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	if s.hash, err = bcrypt.GenerateFromPassword([]byte(password), cost); err != nil {
		return nil, err
	}
	s.parser = jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	return s, nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) { s.token(w, r, false) })
	mux.HandleFunc("POST /token/bcrypt", func(w http.ResponseWriter, r *http.Request) { s.token(w, r, true) })
	mux.HandleFunc("POST /refresh", s.refresh)
	return mux
}

func (s *server) token(w http.ResponseWriter, r *http.Request, slow bool) {
	var in struct{ Username, Password string }
	if !readJSON(w, r, &in) {
		return
	}
	ok := subtle.ConstantTimeCompare([]byte(in.Username), []byte(user)) == 1
	if slow {
		ok = bcrypt.CompareHashAndPassword(s.hash, []byte(in.Password)) == nil && ok
	} else {
		ok = subtle.ConstantTimeCompare([]byte(in.Password), []byte(password)) == 1 && ok
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	sid, jti := randomID(), randomID()
	if err := s.rdb.Set(r.Context(), "floor:sess:"+sid, jti, refreshTTL).Err(); err != nil {
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable")
		return
	}
	s.writeTokens(w, user, sid, jti)
}

func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	var c claims
	_, err := s.parser.ParseWithClaims(in.RefreshToken, &c, func(*jwt.Token) (any, error) { return s.refreshKey, nil })
	if err != nil || c.Type != "refresh" || c.SID == "" {
		writeError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	next := randomID()
	n, err := rotate.Run(r.Context(), s.rdb, []string{"floor:sess:" + c.SID}, c.ID, next, refreshTTL.Milliseconds()).Int()
	switch {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable")
	case n != 1:
		writeError(w, http.StatusBadRequest, "invalid_grant")
	default:
		s.writeTokens(w, c.Subject, c.SID, next)
	}
}

// writeTokens signs an access token and a refresh token whose id is jti and
// writes the token response.
func (s *server) writeTokens(w http.ResponseWriter, sub, sid, jti string) {
	now := time.Now()
	access := claims{Type: "access", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "https://floor.bench.test", Subject: sub, Audience: jwt.ClaimStrings{"api.bench.test"},
		ExpiresAt: jwt.NewNumericDate(now.Add(accessTTL)), IssuedAt: jwt.NewNumericDate(now), ID: randomID(),
	}}
	refresh := claims{Type: "refresh", SID: sid, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, ExpiresAt: jwt.NewNumericDate(now.Add(refreshTTL)), IssuedAt: jwt.NewNumericDate(now), ID: jti,
	}}
	at, err1 := jwt.NewWithClaims(s.method, access).SignedString(s.signKey)
	rt, err2 := jwt.NewWithClaims(jwt.SigningMethodHS256, refresh).SignedString(s.refreshKey)
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(accessTTL.Seconds()),
		"refresh_token": rt, "refresh_expires_in": int(refreshTTL.Seconds()),
	})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request")
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// randomID returns 128 random bits, base64url.
func randomID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(16)) }
