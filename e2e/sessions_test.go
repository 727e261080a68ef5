package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
)

// Secrets of the clients and users the session tests add.
const (
	adminSecret = "admin-Secret-Okapi-57"
	oddPassword = "odd-Pa55word-Tapir-77"
	oddSubject  = "o'hara/ops %2F ü+x@example.com"
	// reloadTimeout bounds the wait for a reload: a file change is in
	// force within 5 s.
	reloadTimeout = 5 * time.Second
)

// sessionCredentials is the test credentials file plus an admin client and a
// user whose name needs percent-encoding in a URL path. scopes overrides
// alice's scopes; dropBob leaves bob out.
func sessionCredentials(tb testing.TB, aliceScopes string, dropBob bool) string {
	tb.Helper()
	base, err := os.ReadFile(testCredentials(tb))
	if err != nil {
		tb.Fatal(err)
	}
	doc := string(base)
	if aliceScopes != "" {
		doc = strings.Replace(doc, "    scopes: [read, write]\n  - username: bob", "    scopes: ["+aliceScopes+"]\n  - username: bob", 1)
	}
	if dropBob {
		start := strings.Index(doc, "  - username: bob")
		end := strings.Index(doc, "clients:")
		doc = doc[:start] + doc[end:]
	}
	doc = strings.Replace(doc, "clients:\n", fmt.Sprintf("  - username: %q\n    password_hash: %q\n    scopes: [read]\nclients:\n", oddSubject, mustHash(tb, oddPassword)), 1)
	doc += fmt.Sprintf("  - client_id: ops\n    client_secret_hash: %q\n    grant_types: []\n    admin: true\n", mustHash(tb, adminSecret))
	path := filepath.Join(tb.TempDir(), "credentials.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// replaceFile writes content to a temporary file beside path and renames it
// over path, as editors and configuration tools do.
func replaceFile(tb testing.TB, path, content string) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// startWithAdmin starts authsvc on rds with the session credentials and an
// admin listener, and returns it with the admin API's base URL.
func startWithAdmin(tb testing.TB, rds *redistest.Server, env map[string]string) (*proc, string) {
	tb.Helper()
	e := baseEnv(tb, rds.URL())
	e["CREDENTIALS_FILE"] = sessionCredentials(tb, "", false)
	admin := freeAddr(tb)
	e["ADMIN_ADDR"] = admin
	for k, v := range env {
		e[k] = v
	}
	return startAuthsvc(tb, e), "http://" + admin
}

// loginAs runs a password grant, optionally with client authentication in
// the body, and requires 200.
func loginAs(tb testing.TB, base, user, password string, client ...string) *response {
	tb.Helper()
	kv := []string{"grant_type", "password", "username", user, "password", password}
	if len(client) == 2 {
		kv = append(kv, "client_id", client[0], "client_secret", client[1])
	}
	r := postForm(tb, base+"/token", kv...)
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	return r
}

// refresh presents rt (with client authentication when given).
func refresh(tb testing.TB, base, rt string, client ...string) *response {
	tb.Helper()
	kv := []string{"refresh_token", rt}
	if len(client) == 2 {
		kv = append(kv, "client_id", client[0], "client_secret", client[1])
	}
	return postForm(tb, base+"/refresh", kv...)
}

// adminCall sends one admin API request authenticated as id:secret (none
// when id is empty).
func adminCall(tb testing.TB, method, u, id, secret string) *response {
	tb.Helper()
	var hdr []string
	if id != "" {
		hdr = []string{"Authorization", basicAuth(id, secret)}
	}
	return call(tb, method, u, "", "", hdr...)
}

func TestE2E_LogoutAllEndsEverySessionOfTheSubject(t *testing.T) {
	rds := redistest.Start(t)
	svc, _ := startWithAdmin(t, rds, nil)

	// alice: sessions under two clients and one bound to none; bob: one.
	sessions := []*response{
		loginAs(t, svc.URL, "alice", alicePassword, "billing", billingSecret),
		loginAs(t, svc.URL, "alice", alicePassword, "other", otherSecret),
		loginAs(t, svc.URL, "alice", alicePassword),
	}
	// An access token from a refresh counts too.
	rotated := refresh(t, svc.URL, sessions[2].str("refresh_token"))
	if rotated.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", rotated.Status, rotated.Body)
	}
	bob := loginAs(t, svc.URL, "bob", bobPassword)
	accessTokens := []string{rotated.str("access_token")}
	for _, s := range sessions {
		accessTokens = append(accessTokens, s.str("access_token"))
	}
	for i, at := range accessTokens {
		_, c := unverifiedClaims(t, at)
		if sid, _ := c["sid"].(string); sid == "" {
			t.Fatalf("access token %d carries no sid: %v", i, c)
		}
		if introspect(t, svc.URL, at).JSON["active"] != true {
			t.Fatalf("access token %d inactive before logout-all", i)
		}
	}

	t.Run("bad tokens end nothing", func(t *testing.T) {
		wantError(t, postForm(t, svc.URL+"/logout-all", "refresh_token", "not-a-token"), http.StatusBadRequest, "invalid_grant")
		wantError(t, postForm(t, svc.URL+"/logout-all", "refresh_token", accessTokens[1]), http.StatusBadRequest, "invalid_grant")
		// A bound token needs its client's authentication.
		wantError(t, postForm(t, svc.URL+"/logout-all", "refresh_token", sessions[0].str("refresh_token")), http.StatusUnauthorized, "invalid_client")
		for i, at := range accessTokens {
			if introspect(t, svc.URL, at).JSON["active"] != true {
				t.Errorf("access token %d inactive after a refused logout-all", i)
			}
		}
	})

	r := postForm(t, svc.URL+"/logout-all", "refresh_token", sessions[0].str("refresh_token"),
		"client_id", "billing", "client_secret", billingSecret)
	if r.Status != http.StatusOK || r.JSON["revoked_sessions"] != float64(3) {
		t.Fatalf("logout-all: %d %s, want 200 with revoked_sessions 3", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("logout-all Cache-Control = %q", cc)
	}
	for i, at := range accessTokens {
		wantInactive(t, introspect(t, svc.URL, at), fmt.Sprintf("access token %d after logout-all", i))
	}
	// Every ended session is on the revocation feed.
	feed := adminCall(t, http.MethodGet, svc.URL+"/revocations", "intro", introSecret)
	if feed.Status != http.StatusOK {
		t.Fatalf("/revocations: %d %s", feed.Status, feed.Body)
	}
	for i, at := range accessTokens {
		_, c := unverifiedClaims(t, at)
		if !strings.Contains(string(feed.Body), fmt.Sprintf(`"sid":%q`, c["sid"])) {
			t.Errorf("session of access token %d is not on the revocation feed: %s", i, feed.Body)
		}
	}
	wantError(t, refresh(t, svc.URL, rotated.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
	wantError(t, refresh(t, svc.URL, sessions[1].str("refresh_token"), "other", otherSecret), http.StatusBadRequest, "invalid_grant")
	// Another subject is untouched.
	if introspect(t, svc.URL, bob.str("access_token")).JSON["active"] != true {
		t.Error("bob's access token inactive after alice's logout-all")
	}
	// A login afterwards is unaffected.
	after := loginAs(t, svc.URL, "alice", alicePassword)
	if introspect(t, svc.URL, after.str("access_token")).JSON["active"] != true {
		t.Error("a login after logout-all is inactive")
	}
	if r := refresh(t, svc.URL, after.str("refresh_token")); r.Status != http.StatusOK {
		t.Errorf("refresh of a login after logout-all: %d %s", r.Status, r.Body)
	}
	// The ended session's token again: gone, nothing more to end.
	wantError(t, postForm(t, svc.URL+"/logout-all", "refresh_token", sessions[0].str("refresh_token"),
		"client_id", "billing", "client_secret", billingSecret), http.StatusBadRequest, "invalid_grant")
}

func TestE2E_RevokeEndsEveryAccessTokenOfTheSession(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	first := login(t, svc.URL)
	other := login(t, svc.URL)
	ats := []string{first.str("access_token")}
	rt := first.str("refresh_token")
	for range 2 {
		r := refresh(t, svc.URL, rt)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		ats, rt = append(ats, r.str("access_token")), r.str("refresh_token")
	}
	for i, at := range ats {
		if introspect(t, svc.URL, at).JSON["active"] != true {
			t.Fatalf("access token %d inactive before /revoke", i)
		}
	}
	if r := postForm(t, svc.URL+"/revoke", "token", rt); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	for i, at := range ats {
		wantInactive(t, introspect(t, svc.URL, at), fmt.Sprintf("access token %d of the revoked session", i))
	}
	if introspect(t, svc.URL, other.str("access_token")).JSON["active"] != true {
		t.Error("another session's access token became inactive")
	}
}

func TestE2E_AdminAPI(t *testing.T) {
	rds := redistest.Start(t)
	svc, admin := startWithAdmin(t, rds, nil)
	alice := []*response{
		loginAs(t, svc.URL, "alice", alicePassword, "billing", billingSecret),
		loginAs(t, svc.URL, "alice", alicePassword),
	}
	odd := loginAs(t, svc.URL, oddSubject, oddPassword)
	aliceURL := admin + "/admin/subjects/alice/sessions"

	t.Run("authentication", func(t *testing.T) {
		for _, tt := range []struct{ name, id, secret string }{
			{"none", "", ""},
			{"wrong secret", "ops", "wrong"},
			{"client without admin", "billing", billingSecret},
			{"unknown client", "nobody", "x"},
		} {
			for _, u := range []string{aliceURL, admin + "/admin/reload", admin + "/no/such/route"} {
				r := adminCall(t, http.MethodGet, u, tt.id, tt.secret)
				wantError(t, r, http.StatusUnauthorized, "invalid_client")
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", tt.name, u)
				}
			}
		}
	})

	t.Run("list oldest first", func(t *testing.T) {
		r := adminCall(t, http.MethodGet, aliceURL, "ops", adminSecret)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		list, _ := r.JSON["sessions"].([]any)
		if len(list) != 2 {
			t.Fatalf("listed %d sessions, want 2: %s", len(list), r.Body)
		}
		for i, want := range []string{"billing", ""} {
			s := list[i].(map[string]any)
			_, c := unverifiedClaims(t, alice[i].str("access_token"))
			if s["session_id"] != c["sid"] || s["client_id"] != want || s["scope"] != "read write" {
				t.Errorf("session %d = %v, want sid %v, client %q", i, s, c["sid"], want)
			}
			for _, k := range []string{"auth_time", "expires_at", "max_expires_at"} {
				if v, _ := s[k].(float64); v < float64(time.Now().Add(-time.Hour).Unix()) {
					t.Errorf("session %d %s = %v", i, k, s[k])
				}
			}
			if s["refreshed_at"] != float64(0) {
				t.Errorf("session %d refreshed_at = %v before any refresh", i, s["refreshed_at"])
			}
		}
		none := adminCall(t, http.MethodGet, admin+"/admin/subjects/nobody/sessions", "ops", adminSecret)
		if none.Status != http.StatusOK || strings.TrimSpace(string(none.Body)) != `{"sessions":[]}` {
			t.Errorf("a subject without sessions: %d %s", none.Status, none.Body)
		}
	})

	t.Run("percent-encoded subject", func(t *testing.T) {
		u := admin + "/admin/subjects/" + url.PathEscape(oddSubject) + "/sessions"
		if !strings.Contains(u, "%2F") || !strings.Contains(u, "%25") {
			t.Fatalf("the fixture does not exercise encoding: %s", u)
		}
		r := adminCall(t, http.MethodGet, u, "ops", adminSecret)
		list, _ := r.JSON["sessions"].([]any)
		if r.Status != http.StatusOK || len(list) != 1 {
			t.Fatalf("list %q: %d %s", oddSubject, r.Status, r.Body)
		}
		r = adminCall(t, http.MethodDelete, u, "ops", adminSecret)
		if r.Status != http.StatusOK || r.JSON["revoked_sessions"] != float64(1) {
			t.Fatalf("end %q: %d %s", oddSubject, r.Status, r.Body)
		}
		wantInactive(t, introspect(t, svc.URL, odd.str("access_token")), "the odd subject's access token")
	})

	t.Run("end one, then 404", func(t *testing.T) {
		_, c := unverifiedClaims(t, alice[0].str("access_token"))
		u := admin + "/admin/sessions/" + url.PathEscape(c["sid"].(string))
		r := adminCall(t, http.MethodDelete, u, "ops", adminSecret)
		if r.Status != http.StatusOK || r.JSON["revoked_sessions"] != float64(1) {
			t.Fatalf("end session: %d %s", r.Status, r.Body)
		}
		wantInactive(t, introspect(t, svc.URL, alice[0].str("access_token")), "the ended session's access token")
		wantError(t, refresh(t, svc.URL, alice[0].str("refresh_token"), "billing", billingSecret), http.StatusBadRequest, "invalid_grant")
		wantError(t, adminCall(t, http.MethodDelete, u, "ops", adminSecret), http.StatusNotFound, "not_found")
		wantError(t, adminCall(t, http.MethodDelete, admin+"/admin/sessions/"+url.PathEscape("no such/session"), "ops", adminSecret), http.StatusNotFound, "not_found")
		wantError(t, adminCall(t, http.MethodGet, admin+"/admin/nothing", "ops", adminSecret), http.StatusNotFound, "not_found")
		// The other session lives on.
		if introspect(t, svc.URL, alice[1].str("access_token")).JSON["active"] != true {
			t.Error("alice's other session ended too")
		}
	})

	t.Run("authsvc admin", func(t *testing.T) {
		run := func(args ...string) (string, error) {
			cmd := exec.Command(binPath, append([]string{"admin"}, args...)...)
			cmd.Env = []string{"AUTHSVC_ADMIN_URL=" + admin, "AUTHSVC_ADMIN_CLIENT_ID=ops", "AUTHSVC_ADMIN_CLIENT_SECRET=" + adminSecret}
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := run("sessions", "alice")
		if err != nil || !strings.Contains(out, `"session_id"`) {
			t.Fatalf("authsvc admin sessions alice: %v\n%s", err, out)
		}
		out, err = run("end-session", "no such/session")
		if err == nil || !strings.Contains(out, "not_found") {
			t.Errorf("authsvc admin end-session of an unknown id: %v\n%s", err, out)
		}
		out, err = run("reload")
		if err != nil || !strings.Contains(out, `"users"`) {
			t.Errorf("authsvc admin reload: %v\n%s", err, out)
		}
		cmd := exec.Command(binPath, "admin", "sessions", "alice")
		cmd.Env = []string{"AUTHSVC_ADMIN_URL=" + admin, "AUTHSVC_ADMIN_CLIENT_ID=ops", "AUTHSVC_ADMIN_CLIENT_SECRET=wrong"}
		if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "invalid_client") || strings.Contains(string(b), "wrong") {
			t.Errorf("a wrong admin secret: %v\n%s", err, b)
		}
	})

	t.Run("end all", func(t *testing.T) {
		r := adminCall(t, http.MethodDelete, aliceURL, "ops", adminSecret)
		if r.Status != http.StatusOK || r.JSON["revoked_sessions"] != float64(1) {
			t.Fatalf("end all: %d %s", r.Status, r.Body)
		}
		wantInactive(t, introspect(t, svc.URL, alice[1].str("access_token")), "alice's last session")
		r = adminCall(t, http.MethodGet, aliceURL, "ops", adminSecret)
		if strings.TrimSpace(string(r.Body)) != `{"sessions":[]}` {
			t.Errorf("after end all: %s", r.Body)
		}
	})

	t.Run("nothing of it on HTTP_ADDR, nothing else on ADMIN_ADDR", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			r := adminCall(t, m, svc.URL+"/admin/subjects/alice/sessions", "ops", adminSecret)
			wantError(t, r, http.StatusNotFound, "not_found")
		}
		wantError(t, adminCall(t, http.MethodPost, svc.URL+"/admin/reload", "ops", adminSecret), http.StatusNotFound, "not_found")
		for _, p := range []string{"/token", "/metrics", "/healthz", "/.well-known/jwks.json"} {
			wantError(t, adminCall(t, http.MethodGet, admin+p, "ops", adminSecret), http.StatusNotFound, "not_found")
		}
	})

	t.Run("audit events and metrics", func(t *testing.T) {
		logs := svc.logs.String()
		for _, reason := range []string{"list_sessions", "end_session", "end_sessions"} {
			if !strings.Contains(logs, `"reason":"`+reason+`"`) {
				t.Errorf("no admin audit event %s in the log", reason)
			}
		}
		if !strings.Contains(logs, `"event":"admin"`) || !strings.Contains(logs, `"client_id":"ops"`) {
			t.Error("the admin audit events do not name the admin client")
		}
		m := call(t, http.MethodGet, svc.URL+"/metrics", "", "")
		if !strings.Contains(string(m.Body), `route="/admin/subjects/:sub/sessions"`) {
			t.Error("no request metrics for the admin routes")
		}
	})
}

func TestE2E_CredentialsReload(t *testing.T) {
	tests := []struct {
		name string
		// apply puts the file at path in force on svc (the file already
		// holds the new content), and returns what it answered, if anything.
		apply func(t *testing.T, svc *proc, admin, path string) *response
		// broken applies a broken file the same way and checks the refusal.
		broken func(t *testing.T, svc *proc, admin, path string)
	}{
		{
			name: "SIGHUP",
			apply: func(t *testing.T, svc *proc, _, _ string) *response {
				if err := svc.signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitLog(t, svc, `"msg":"configuration reloaded","reason":"SIGHUP"`)
				return nil
			},
			broken: func(t *testing.T, svc *proc, _, _ string) {
				if err := svc.signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitLog(t, svc, `configuration stays in force","reason":"SIGHUP"`)
			},
		},
		{
			name: "file change",
			apply: func(t *testing.T, svc *proc, _, _ string) *response {
				waitLog(t, svc, `"msg":"configuration reloaded","reason":"file change"`)
				return nil
			},
			broken: func(t *testing.T, svc *proc, _, _ string) {
				waitLog(t, svc, `configuration stays in force","reason":"file change"`)
			},
		},
		{
			name: "admin API",
			apply: func(t *testing.T, _ *proc, admin, _ string) *response {
				r := adminCall(t, http.MethodPost, admin+"/admin/reload", "ops", adminSecret)
				if r.Status != http.StatusOK {
					t.Fatalf("reload: %d %s", r.Status, r.Body)
				}
				return r
			},
			broken: func(t *testing.T, _ *proc, admin, _ string) {
				r := adminCall(t, http.MethodPost, admin+"/admin/reload", "ops", adminSecret)
				wantError(t, r, http.StatusBadRequest, "invalid_config")
				if p, _ := r.JSON["problems"].([]any); len(p) == 0 {
					t.Errorf("invalid_config without problems: %s", r.Body)
				}
				if strings.Contains(string(r.Body), "$2a$") {
					t.Errorf("the refusal quotes a hash: %s", r.Body)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rds := redistest.Start(t)
			path := sessionCredentials(t, "", false)
			svc, admin := startWithAdmin(t, rds, map[string]string{"CREDENTIALS_FILE": path})

			alice := loginAs(t, svc.URL, "alice", alicePassword)
			bob := loginAs(t, svc.URL, "bob", bobPassword)

			// Broken first: nothing changes.
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			replaceFile(t, path, strings.Replace(string(good), "scopes: [read]", "scopes: [read, \"bad scope\"]", 1))
			tt.broken(t, svc, admin, path)
			r := refresh(t, svc.URL, bob.str("refresh_token"))
			if r.Status != http.StatusOK {
				t.Fatalf("bob's refresh after a broken file: %d %s", r.Status, r.Body)
			}
			bob = r

			// Then a good file: bob removed, alice cut to read.
			newFile, err := os.ReadFile(sessionCredentials(t, "read", true))
			if err != nil {
				t.Fatal(err)
			}
			replaceFile(t, path, string(newFile))
			if got := tt.apply(t, svc, admin, path); got != nil {
				if got.JSON["users"] != float64(2) || got.JSON["clients"] != float64(4) || got.JSON["keys"] != float64(0) {
					t.Errorf("reload answered %s, want users 2, clients 4, keys 0", got.Body)
				}
			}
			wantError(t, refresh(t, svc.URL, bob.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
			wantInactive(t, introspect(t, svc.URL, bob.str("access_token")), "the removed user's access token")
			r = postForm(t, svc.URL+"/token", "grant_type", "password", "username", "bob", "password", bobPassword)
			wantError(t, r, http.StatusBadRequest, "invalid_grant")
			r = refresh(t, svc.URL, alice.str("refresh_token"))
			if r.Status != http.StatusOK || r.str("scope") != "read" {
				t.Fatalf("alice's refresh after her scopes were cut: %d %s, want scope read", r.Status, r.Body)
			}
			_, c := unverifiedClaims(t, r.str("access_token"))
			if c["scope"] != "read" {
				t.Errorf("access token scope = %v, want read", c["scope"])
			}
			m := call(t, http.MethodGet, svc.URL+"/metrics", "", "")
			for _, want := range []string{`authsvc_config_reloads_total{result="ok"}`, `authsvc_config_reloads_total{result="error"}`} {
				if !strings.Contains(string(m.Body), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			if strings.Contains(svc.logs.String(), "$2a$") {
				t.Error("a hash reached the log")
			}
		})
	}
}

// waitLog waits until the process log holds s.
func waitLog(t *testing.T, p *proc, s string) {
	t.Helper()
	deadline := time.Now().Add(reloadTimeout)
	for !strings.Contains(p.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v\n%s", s, reloadTimeout, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestE2E_MaxSessionsPerSubjectEndsTheOldest(t *testing.T) {
	rds := redistest.Start(t)
	svc, admin := startWithAdmin(t, rds, map[string]string{"MAX_SESSIONS_PER_SUBJECT": "2"})
	var logins []*response
	for range 3 {
		logins = append(logins, loginAs(t, svc.URL, "alice", alicePassword))
	}
	wantInactive(t, introspect(t, svc.URL, logins[0].str("access_token")), "the oldest session's access token")
	wantError(t, refresh(t, svc.URL, logins[0].str("refresh_token")), http.StatusBadRequest, "invalid_grant")
	for i, l := range logins[1:] {
		if introspect(t, svc.URL, l.str("access_token")).JSON["active"] != true {
			t.Errorf("session %d ended, want only the oldest ended", i+1)
		}
	}
	r := adminCall(t, http.MethodGet, admin+"/admin/subjects/alice/sessions", "ops", adminSecret)
	if list, _ := r.JSON["sessions"].([]any); len(list) != 2 {
		t.Errorf("alice has %d sessions listed, want 2: %s", len(list), r.Body)
	}
	_, c := unverifiedClaims(t, logins[0].str("access_token"))
	feed := adminCall(t, http.MethodGet, svc.URL+"/revocations", "intro", introSecret)
	if !strings.Contains(string(feed.Body), fmt.Sprintf(`"sid":%q`, c["sid"])) {
		t.Errorf("the ended session is not on the revocation feed: %s", feed.Body)
	}
}
