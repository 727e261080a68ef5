// Command authenticator is an example user authenticator for authsvc
// (USER_AUTHENTICATOR_URL): a small HTTP service that checks a username and
// password against a user table of its own — here a JSON file of bcrypt
// hashes — and answers in the form authsvc expects:
//
//	POST /check {"username":"…","password":"…","client_id":"…"}
//	200 {"sub":"…","scopes":[…],"claims":{…}}   the password is right
//	401                                          wrong username or password
//
// Any other answer (or none within USER_AUTHENTICATOR_TIMEOUT) makes authsvc
// answer 503 and count nothing, so this service answers 500 only when its
// user table cannot be read. Replace loadUsers and the lookup in check with
// a query against your own user table; docs/api.md shows the SQL form.
//
// Run it beside authsvc:
//
//	AUTHENTICATOR_USERS=examples/authenticator/users.json \
//	AUTHENTICATOR_TOKEN=change-me-to-a-long-random-value \
//	go run ./examples/authenticator
//
//	USER_AUTHENTICATOR_URL=http://127.0.0.1:9090/check \
//	USER_AUTHENTICATOR_TOKEN=change-me-to-a-long-random-value make run
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// user is one row of the user table.
type user struct {
	// ID is the stable subject authsvc puts in sub; never the username,
	// which a user may change.
	ID           string         `json:"id"`
	Username     string         `json:"username"`
	PasswordHash string         `json:"password_hash"` // bcrypt
	Scopes       []string       `json:"scopes"`
	Claims       map[string]any `json:"claims,omitempty"`
	Disabled     bool           `json:"disabled,omitempty"`
}

// store looks users up by username.
type store interface {
	lookup(ctx context.Context, username string) (user, bool, error)
}

// fileStore is a user table read from a JSON file once at start-up.
type fileStore map[string]user

func (f fileStore) lookup(_ context.Context, username string) (user, bool, error) {
	u, ok := f[username]
	return u, ok, nil
}

func loadUsers(path string) (fileStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []user
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	users := fileStore{}
	for _, u := range list {
		users[u.Username] = u
	}
	return users, nil
}

// hashCost is the bcrypt cost of the table's hashes (users.json uses 12):
// the dummy hash checked for unknown usernames has the same cost, so that a
// miss takes as long as a wrong password and does not reveal who exists.
const hashCost = 12

// checkHandler answers authsvc's POST. token, when set, must be presented as
// "Authorization: Bearer <token>" (USER_AUTHENTICATOR_TOKEN). dummyHash is
// checked for unknown usernames.
func checkHandler(st store, token string, dummyHash []byte, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			// Not 401: authsvc would read that as a wrong password.
			http.Error(w, "bad caller token", http.StatusBadRequest)
			return
		}
		var req struct {
			Username string `json:"username"`
			Password string `json:"password"`
			ClientID string `json:"client_id"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		u, found, err := st.lookup(r.Context(), req.Username)
		if err != nil {
			log.Error("user lookup failed", "error", err) // never the password
			http.Error(w, "user table unavailable", http.StatusInternalServerError)
			return
		}
		hash := dummyHash
		if found {
			hash = []byte(u.PasswordHash)
		}
		match := bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) == nil
		if !found || !match || u.Disabled {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sub": u.ID, "scopes": u.Scopes, "claims": u.Claims})
	})
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("authenticator", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	path := os.Getenv("AUTHENTICATOR_USERS")
	if path == "" {
		return errors.New("AUTHENTICATOR_USERS (a JSON file of users) is required")
	}
	users, err := loadUsers(path)
	if err != nil {
		return err
	}
	addr := os.Getenv("AUTHENTICATOR_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9090"
	}
	mux := http.NewServeMux()
	dummy, err := bcrypt.GenerateFromPassword([]byte("dummy password for unknown users"), hashCost)
	if err != nil {
		return err
	}
	mux.Handle("/check", checkHandler(users, os.Getenv("AUTHENTICATOR_TOKEN"), dummy, log))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("authenticator listening", "addr", ln.Addr().String(), "users", len(users))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
