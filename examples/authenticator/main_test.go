package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/authenticator"
)

// TestExample_AnswersAsAuthsvcExpects drives the example through authsvc's
// own authenticator client: the shipped users.json, a right and a wrong
// password, an unknown and a disabled user, and a caller without the token.
func TestExample_AnswersAsAuthsvcExpects(t *testing.T) {
	// The shipped table loads and its hashes are bcrypt; the checks below
	// use the same users with the cheapest cost, so the test stays fast
	// under the race detector.
	shipped, err := loadUsers("users.json")
	if err != nil {
		t.Fatal(err)
	}
	users := fileStore{}
	for name, u := range shipped {
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h, err := bcrypt.GenerateFromPassword([]byte("carol-example-password"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		u.PasswordHash = string(h)
		users[name] = u
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("dummy"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(checkHandler(users, "example-token", dummy, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	c, err := authenticator.New(authenticator.Config{URL: srv.URL, Token: "example-token", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := c.Authenticate(ctx, authenticator.Request{Username: "carol", Password: "carol-example-password"})
	if err != nil {
		t.Fatalf("carol: %v", err)
	}
	if u.Subject != "u-1001" || strings.Join(u.Scopes, " ") != "read write" ||
		string(u.Claims.AppendObject(nil)) != `{"roles":["editor"],"tenant":"acme"}` {
		t.Errorf("carol = %+v %s", u, u.Claims.AppendObject(nil))
	}
	for _, req := range []authenticator.Request{
		{Username: "carol", Password: "wrong"},
		{Username: "nobody", Password: "carol-example-password"},
		{Username: "dave", Password: "carol-example-password"}, // disabled
	} {
		if _, err := c.Authenticate(ctx, req); !errors.Is(err, authenticator.ErrRejected) {
			t.Errorf("%s: err = %v, want ErrRejected", req.Username, err)
		}
	}
	// A caller without the token is not told anything about passwords.
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"username":"carol","password":"carol-example-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("without the token: %d, want 400", resp.StatusCode)
	}
}
