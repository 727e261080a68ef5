package handler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/store/memory"
)

// TestMetadata_ScopesFollowAReload checks that scopes_supported follows the
// credentials in force, not the ones at start-up.
func TestMetadata_ScopesFollowAReload(t *testing.T) {
	iss, err := issuer.New(issuer.Config{
		Algorithm: "HS256", Secret: []byte("handler-test-secret-key-0123456789abcdef"),
		Issuer: "https://auth.test", Audience: []string{"api.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	set := func(scopes string) *credential.Set {
		s, _, err := credential.Parse(fmt.Appendf(nil, "users:\n  - {username: alice, password_hash: %q, scopes: [%s]}\n", hash, scopes))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	svc := auth.New(auth.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, SessionMaxTTL: 2 * time.Hour},
		auth.Deps{Issuer: iss, Store: memory.New(time.Now), Credentials: set("read")})
	h := New(Deps{Auth: svc, JWKS: iss.JWKS(), Issuer: "https://auth.test"})
	scopes := func() []string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil))
		var doc struct {
			Scopes []string `json:"scopes_supported"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("metadata: %v: %s", err, rec.Body)
		}
		return doc.Scopes
	}
	if got := scopes(); !slices.Equal(got, []string{"read"}) {
		t.Fatalf("scopes_supported = %q, want [read]", got)
	}
	svc.SetCredentials(set("read, write"))
	if got := scopes(); !slices.Equal(got, []string{"read", "write"}) {
		t.Errorf("after a reload, scopes_supported = %q, want [read write]", got)
	}
}
