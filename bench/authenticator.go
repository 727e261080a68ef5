package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The user the bench's authenticator knows. Password grants for this name
// are not in the credentials file, so authsvc asks the authenticator.
const (
	extUser     = "ext-alice"
	extSubject  = "ext|1"
	extPassword = benchPassword
)

// authenticator is a user authenticator (USER_AUTHENTICATOR_URL) the bench
// runs in its own process: a one-row user table answered at once, without
// a password hash, so that the password-authenticator case measures what
// authsvc adds to a grant checked elsewhere — the HTTP round trip — and
// nothing of the authenticator's own hash. It counts its calls: one per
// grant is the promise.
type authenticator struct {
	srv   *http.Server
	url   string
	calls atomic.Int64
}

func startAuthenticator() (*authenticator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &authenticator{url: "http://" + ln.Addr().String() + "/check"}
	answer := []byte(`{"sub":"` + extSubject + `","scopes":["read","write"],"claims":{"tenant":"bench"}}`)
	a.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		var req struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if req.Username != extUser || subtle.ConstantTimeCompare([]byte(req.Password), []byte(extPassword)) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("bench authenticator: %v", err)
		}
	}()
	return a, nil
}

func (a *authenticator) stop() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}
