package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// post sends a JSON body and returns the status and the decoded answer.
func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestFloor_LoginRotateReplay checks that the floor does the work it stands
// for: a login, a rotation, and a replay of the rotated token refused.
func TestFloor_LoginRotateReplay(t *testing.T) {
	rds := redistest.Start(t)
	for _, alg := range []string{"HS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s, err := newServer(alg, rds.Addr(), 4)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.routes())
			defer srv.Close()
			if status, _ := post(t, srv.URL+"/token", `{"username":"alice","password":"wrong"}`); status != http.StatusBadRequest {
				t.Fatalf("wrong password: %d", status)
			}
			for _, path := range []string{"/token", "/token/bcrypt"} {
				status, m := post(t, srv.URL+path, `{"username":"alice","password":"correct horse battery staple"}`)
				if status != http.StatusOK || m["access_token"] == nil {
					t.Fatalf("%s: %d %v", path, status, m)
				}
				rt, _ := m["refresh_token"].(string)
				status, m = post(t, srv.URL+"/refresh", `{"refresh_token":"`+rt+`"}`)
				if status != http.StatusOK || m["refresh_token"] == nil {
					t.Fatalf("refresh: %d %v", status, m)
				}
				if status, _ = post(t, srv.URL+"/refresh", `{"refresh_token":"`+rt+`"}`); status != http.StatusBadRequest {
					t.Fatalf("replay: %d, want 400", status)
				}
			}
		})
	}
}
