package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// scrapeMetrics reads /metrics into a map from series ("name{labels}", as
// printed) to value.
func scrapeMetrics(tb testing.TB, base string) map[string]float64 {
	tb.Helper()
	r := call(tb, http.MethodGet, base+"/metrics", "", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		tb.Fatalf("/metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// auditLine is one JSON log line of the process.
type auditLine map[string]any

func (l auditLine) str(k string) string { s, _ := l[k].(string); return s }

// logLines parses the process's JSON log.
func logLines(tb testing.TB, p *proc) []auditLine {
	tb.Helper()
	var out []auditLine
	for _, line := range strings.Split(strings.TrimSpace(p.logs.String()), "\n") {
		var l auditLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			tb.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, l)
	}
	return out
}

// TestE2E_ObservabilityOfAStory plays a login/refresh/reuse story with
// failures, a lockout and revocations against the real binary, then checks
// that /metrics counted each step, that the audit log holds each event with
// its subject, client and address, and that no token, password or secret
// reached the log.
func TestE2E_ObservabilityOfAStory(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["LOGIN_FAILURES_MAX"] = "2"
	svc := startAuthsvc(t, env)

	before := scrapeMetrics(t, svc.URL)
	for _, s := range []string{
		`authsvc_tokens_issued_total{grant_type="password"}`,
		`authsvc_refresh_reuse_detected_total`,
		`authsvc_login_failures_total{kind="user"}`,
		`authsvc_rate_limited_total{reason="login_failures"}`,
	} {
		if v, ok := before[s]; !ok || v != 0 {
			t.Errorf("before the story %s = %v (present %v), want 0", s, v, ok)
		}
	}

	// The story. Every response is kept: their tokens must not be logged,
	// their request ids must be.
	var responses []*response
	keep := func(r *response, status int) *response {
		t.Helper()
		if r.Status != status {
			t.Fatalf("got %d %s, want %d", r.Status, r.Body, status)
		}
		responses = append(responses, r)
		return r
	}
	form := func(path string, kv ...string) *response { return postForm(t, svc.URL+path, kv...) }

	loginR := keep(form("/token", "grant_type", "password", "username", "alice", "password", alicePassword,
		"client_id", "billing", "client_secret", billingSecret), 200)
	client := []string{"client_id", "billing", "client_secret", billingSecret}
	rt1 := loginR.str("refresh_token")
	refreshR := keep(form("/refresh", append([]string{"refresh_token", rt1}, client...)...), 200)
	reuseR := keep(form("/refresh", append([]string{"refresh_token", rt1}, client...)...), 400)
	keep(form("/refresh", append([]string{"refresh_token", refreshR.str("refresh_token")}, client...)...), 400)
	keep(form("/token", "grant_type", "password", "username", "bob", "password", "wrong-1"), 400)
	keep(form("/token", "grant_type", "password", "username", "bob", "password", "wrong-2"), 400)
	lockedR := keep(form("/token", "grant_type", "password", "username", "bob", "password", bobPassword), 429)
	keep(form("/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", "not-the-secret"), 401)
	ccR := keep(form("/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", billingSecret), 200)
	second := keep(form("/token", "grant_type", "password", "username", "alice", "password", alicePassword), 200)
	revokeRT := keep(form("/revoke", "token", second.str("refresh_token")), 200)
	keep(form("/revoke", "token", second.str("access_token"), "token_type_hint", "access_token"), 200)
	keep(call(t, http.MethodPost, svc.URL+"/introspect", "application/x-www-form-urlencoded", "token="+ccR.str("access_token"),
		"Authorization", basicAuth("intro", introSecret)), 200)

	t.Run("metrics moved", func(t *testing.T) {
		after := scrapeMetrics(t, svc.URL)
		for series, delta := range map[string]float64{
			`authsvc_tokens_issued_total{grant_type="password"}`:                                      2,
			`authsvc_tokens_issued_total{grant_type="client_credentials"}`:                            1,
			`authsvc_tokens_issued_total{grant_type="refresh_token"}`:                                 1,
			`authsvc_refreshes_total{result="rotated"}`:                                               1,
			`authsvc_refresh_reuse_detected_total`:                                                    1,
			`authsvc_revocations_total{token_type="refresh_token"}`:                                   1,
			`authsvc_revocations_total{token_type="access_token"}`:                                    1,
			`authsvc_login_failures_total{kind="user"}`:                                               2,
			`authsvc_login_failures_total{kind="client"}`:                                             1,
			`authsvc_rate_limited_total{reason="login_failures"}`:                                     1,
			`authsvc_http_requests_total{method="POST",route="/refresh",status="200"}`:                1,
			`authsvc_http_requests_total{method="POST",route="/refresh",status="400"}`:                2,
			`authsvc_http_requests_total{method="POST",route="/token",status="429"}`:                  1,
			`authsvc_http_requests_total{method="POST",route="/token",status="401"}`:                  1,
			`authsvc_http_requests_total{method="POST",route="/introspect",status="200"}`:             1,
			`authsvc_http_request_duration_seconds_count{method="POST",route="/revoke",status="200"}`: 2,
			`authsvc_store_operation_duration_seconds_count{operation="rotate"}`:                      3, // refresh, reuse, the revoked family
			`authsvc_store_operation_duration_seconds_count{operation="create_session"}`:              2,
			`authsvc_store_operation_duration_seconds_count{operation="revoke_session"}`:              1,
			`authsvc_store_operation_duration_seconds_count{operation="deny_access_token"}`:           1,
			`authsvc_store_operation_duration_seconds_count{operation="access_token_denied"}`:         1,
		} {
			if got := after[series] - before[series]; got != delta {
				t.Errorf("%s moved by %v, want %v", series, got, delta)
			}
		}
		if after[`authsvc_http_requests_total{method="GET",route="/metrics",status="200"}`] < 1 {
			t.Errorf("the first scrape was not counted")
		}
		for series := range after {
			if strings.Contains(series, "_store_errors_total") {
				t.Errorf("a store error was counted: %s", series)
			}
			for _, who := range []string{"alice", "bob", "billing", "127.0.0.1"} {
				if strings.Contains(series, who) {
					t.Errorf("series %s carries %q as a label value", series, who)
				}
			}
		}
	})

	lines := logLines(t, svc)
	t.Run("audit events", func(t *testing.T) {
		find := func(event string, match func(auditLine) bool) auditLine {
			t.Helper()
			for _, l := range lines {
				if l.str("msg") == "audit" && l.str("event") == event && match(l) {
					if l.str("addr") != "127.0.0.1" || l.str("request_id") == "" {
						t.Errorf("%s event without address or request id: %v", event, l)
					}
					return l
				}
			}
			t.Errorf("no %s audit event like that in the log:\n%s", event, svc.logs.String())
			return auditLine{}
		}
		is := func(kv ...string) func(auditLine) bool {
			return func(l auditLine) bool {
				for i := 0; i+1 < len(kv); i += 2 {
					if l.str(kv[i]) != kv[i+1] {
						return false
					}
				}
				return true
			}
		}
		rid := func(r *response) string { return r.Header.Get("X-Request-ID") }

		find("login", is("sub", "alice", "client_id", "billing", "grant_type", "password", "request_id", rid(loginR)))
		find("refresh", is("sub", "alice", "client_id", "billing", "request_id", rid(refreshR)))
		reuse := find("reuse_detected", is("sub", "alice", "client_id", "billing", "request_id", rid(reuseR)))
		if reuse["family_revoked"] != true || reuse.str("level") != "WARN" || reuse.str("session") == "" {
			t.Errorf("reuse event must be a WARN naming the revoked family: %v", reuse)
		}
		find("login_failed", is("sub", "bob"))
		find("rate_limited", is("sub", "bob", "reason", "login_failures", "request_id", rid(lockedR)))
		find("client_auth_failed", is("client_id", "billing"))
		find("login", is("sub", "billing", "client_id", "billing", "grant_type", "client_credentials", "request_id", rid(ccR)))
		find("revoke", is("sub", "alice", "token_type", "refresh_token", "request_id", rid(revokeRT)))
		find("revoke", is("sub", "alice", "token_type", "access_token"))
	})

	t.Run("one access line per request", func(t *testing.T) {
		for _, r := range responses {
			id := r.Header.Get("X-Request-ID")
			n := 0
			for _, l := range lines {
				if l.str("msg") == "request" && l.str("request_id") == id {
					n++
					if l.str("route") == "" || l["status"] != float64(r.Status) {
						t.Errorf("access line %v for a %d answer", l, r.Status)
					}
				}
			}
			if id == "" || n != 1 {
				t.Errorf("request id %q: %d access lines, want 1", id, n)
			}
		}
	})

	t.Run("no token or secret in the log", func(t *testing.T) {
		logs := svc.logs.String()
		secrets := []string{alicePassword, bobPassword, billingSecret, introSecret, testSecret, testRefreshSecret, "wrong-1", "not-the-secret"}
		for _, r := range responses {
			for _, k := range []string{"access_token", "refresh_token"} {
				if tok := r.str(k); tok != "" {
					secrets = append(secrets, tok, strings.Split(tok, ".")[2])
				}
			}
		}
		for _, s := range secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains a token or secret (%.12s…)", s)
			}
		}
	})

	t.Run("version at start-up", func(t *testing.T) {
		for _, l := range lines {
			if l.str("msg") == "authsvc listening" && l.str("version") != "" {
				return
			}
		}
		t.Errorf("no start-up line with the version")
	})
}
