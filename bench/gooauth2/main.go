// Command gooauth2 is the go-oauth2 reference server of the comparison
// benchmark: go-oauth2 v4 with its Redis token store, refresh-token rotation
// on and HS256 JWT access tokens, configured as a careful user of that
// library would configure it. It serves POST /token (password,
// client_credentials and refresh_token grants) with HTTP Basic client
// authentication, as authsvc's /token does.
package main

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/generates"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	oredis "github.com/go-oauth2/redis/v4"
	"github.com/go-redis/redis/v8"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9091", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address (host:port)")
	secret := flag.String("secret", "", "HS256 key of the access tokens (at least 32 bytes)")
	clientID := flag.String("client-id", "bench", "the one client")
	clientSecret := flag.String("client-secret", "", "its secret")
	user := flag.String("user", "alice", "the one user")
	passwordHash := flag.String("password-hash", "", "the user's password hash: bcrypt or argon2id in PHC form")
	flag.Parse()
	if len(*secret) < 32 || *clientSecret == "" || *passwordHash == "" {
		fmt.Fprintln(os.Stderr, "gooauth2: -secret (32 bytes or more), -client-secret and -password-hash are required")
		os.Exit(2)
	}
	check, err := passwordChecker(*passwordHash)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gooauth2:", err)
		os.Exit(2)
	}

	m := manage.NewDefaultManager()
	m.SetPasswordTokenCfg(&manage.Config{AccessTokenExp: 15 * time.Minute, RefreshTokenExp: 168 * time.Hour, IsGenerateRefresh: true})
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: 15 * time.Minute})
	// Rotation: every refresh issues a new refresh token and removes the old
	// one and its access token.
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: 15 * time.Minute, RefreshTokenExp: 168 * time.Hour,
		IsGenerateRefresh: true, IsRemoveAccess: true, IsRemoveRefreshing: true})
	m.MapTokenStorage(oredis.NewRedisStore(&redis.Options{Addr: *redisAddr, PoolSize: 64}, "gooauth2:"))
	m.MapAccessGenerate(generates.NewJWTAccessGenerate("", []byte(*secret), jwt.SigningMethodHS256))
	clients := store.NewClientStore()
	if err := clients.Set(*clientID, &models.Client{ID: *clientID, Secret: *clientSecret}); err != nil {
		log.Fatal(err)
	}
	m.MapClientStorage(clients)

	srv := server.NewServer(&server.Config{
		TokenType:         "Bearer",
		AllowedGrantTypes: []oauth2.GrantType{oauth2.PasswordCredentials, oauth2.ClientCredentials, oauth2.Refreshing},
	}, m)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	srv.SetPasswordAuthorizationHandler(func(_ context.Context, _, username, password string) (string, error) {
		if subtle.ConstantTimeCompare([]byte(username), []byte(*user)) == 1 && check(password) {
			return username, nil
		}
		return "", oerrors.ErrInvalidGrant
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleTokenRequest(w, r); err != nil {
			http.Error(w, "server_error", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(hs.ListenAndServe())
}

// passwordChecker returns a check of a password against one bcrypt or
// argon2id (PHC string) hash, the two forms authsvc's credentials file takes.
func passwordChecker(hash string) (func(string) bool, error) {
	if strings.HasPrefix(hash, "$2") {
		h := []byte(hash)
		if _, err := bcrypt.Cost(h); err != nil {
			return nil, fmt.Errorf("bcrypt hash: %w", err)
		}
		return func(p string) bool { return bcrypt.CompareHashAndPassword(h, []byte(p)) == nil }, nil
	}
	// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return nil, errors.New("password hash: neither bcrypt nor argon2id v=19 in PHC form")
	}
	var mem, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil {
		return nil, fmt.Errorf("argon2id parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return nil, fmt.Errorf("argon2id salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return nil, fmt.Errorf("argon2id key: %w", err)
	}
	return func(p string) bool {
		got := argon2.IDKey([]byte(p), salt, passes, mem, threads, uint32(len(key)))
		return subtle.ConstantTimeCompare(got, key) == 1
	}, nil
}
