package handler

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
)

// TestAppendTokenResponse holds the hand-written token response to what
// encoding/json makes of the RFC 6749 §5.1 body.
func TestAppendTokenResponse(t *testing.T) {
	type body struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		ExpiresIn        int64  `json:"expires_in"`
		RefreshToken     string `json:"refresh_token,omitempty"`
		RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
		Scope            string `json:"scope,omitempty"`
	}
	cases := []auth.TokenSet{
		{AccessToken: "a.b.c", ExpiresIn: 900 * time.Second, RefreshToken: "r.s.t", RefreshExpiresIn: 604800 * time.Second, Scope: "read write"},
		{AccessToken: "a.b.c", ExpiresIn: 900 * time.Second},
		{AccessToken: "a.b.c", ExpiresIn: 899 * time.Second, Scope: "x<y&z"},
		{AccessToken: "a.b.c", ExpiresIn: 0, RefreshToken: "r", RefreshExpiresIn: 0},
		{AccessToken: "a.b.c", ExpiresIn: 900 * time.Second, RefreshToken: "r.s.t", RefreshExpiresIn: 60 * time.Second, DPoP: true},
	}
	for _, set := range cases {
		tokenType := "Bearer"
		if set.DPoP {
			tokenType = "DPoP"
		}
		b := body{AccessToken: set.AccessToken, TokenType: tokenType, ExpiresIn: int64(set.ExpiresIn.Seconds()),
			RefreshToken: set.RefreshToken, Scope: set.Scope}
		if set.RefreshToken != "" {
			b.RefreshExpiresIn = int64(set.RefreshExpiresIn.Seconds())
		}
		want, _ := json.Marshal(b)
		got := appendTokenResponse(nil, &set)
		// refresh_expires_in is written even when zero, next to its token.
		if set.RefreshToken != "" && b.RefreshExpiresIn == 0 {
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil || m["refresh_expires_in"] != 0.0 {
				t.Errorf("zero refresh lifetime: %s", got)
			}
			continue
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("got %s want %s", got, want)
		}
	}
}
