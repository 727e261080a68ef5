package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// largeTokenCredentials writes a credentials file whose user and client
// carry nearly the largest custom claims a source may have (2 KiB each) and
// a long scope list, so that their access token is over 8 KiB.
func largeTokenCredentials(tb testing.TB) string {
	tb.Helper()
	scopes := make([]string, 120)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("scope.resource.%03d.read-write", i)
	}
	claims := func(prefix string) string {
		kv := make([]string, 18)
		for i := range kv {
			kv[i] = fmt.Sprintf("%s%02d: %s", prefix, i, strings.Repeat("v", 90))
		}
		return "{" + strings.Join(kv, ", ") + "}"
	}
	list := "[" + strings.Join(scopes, ", ") + "]"
	yaml := fmt.Sprintf(`users:
  - username: alice
    password_hash: %q
    scopes: %s
    claims: %s
clients:
  - client_id: web
    client_secret_hash: %q
    grant_types: [password, refresh_token]
    scopes: %s
    claims: %s
  - client_id: intro
    client_secret_hash: %q
    grant_types: [client_credentials]
    introspect: true
`, mustHash(tb, alicePassword), list, claims("user"), mustHash(tb, webClientSecret), list, claims("client"), mustHash(tb, introSecret))
	path := filepath.Join(tb.TempDir(), "credentials.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestE2E_LargeTokens checks that tokens the service issued with large
// custom claims and scope lists (over 8 KiB) can be refreshed, introspected
// and revoked: no size bound below the 64 KiB body limit refuses them.
func TestE2E_LargeTokens(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["CREDENTIALS_FILE"] = largeTokenCredentials(t)
	svc := startAuthsvc(t, env)

	r := postFormAuth(t, svc.URL+"/token", basic("web", webClientSecret), "grant_type", "password", "username", "alice", "password", alicePassword)
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	if n := len(r.str("access_token")); n <= 8<<10 {
		t.Fatalf("access token is %d bytes; the case needs one over 8 KiB", n)
	}
	r2 := postFormAuth(t, svc.URL+"/refresh", basic("web", webClientSecret), "refresh_token", r.str("refresh_token"))
	if r2.Status != 200 {
		t.Fatalf("refresh: %d %s", r2.Status, r2.Body)
	}
	at := r2.str("access_token")
	in := postFormAuth(t, svc.URL+"/introspect", basic("intro", introSecret), "token", at)
	if in.Status != 200 || in.JSON["active"] != true {
		t.Fatalf("introspect of a %d-byte access token: %d %s", len(at), in.Status, in.Body)
	}
	rv := postFormAuth(t, svc.URL+"/revoke", basic("web", webClientSecret), "token", at)
	if rv.Status != 200 || len(rv.Body) != 0 {
		t.Fatalf("revoke: %d %s", rv.Status, rv.Body)
	}
	in = postFormAuth(t, svc.URL+"/introspect", basic("intro", introSecret), "token", at)
	if in.Status != 200 || in.JSON["active"] != false {
		t.Errorf("introspect after revoke: %d %s", in.Status, in.Body)
	}
}
