package e2e

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// TestNeverLeak_FullSessionAtDebugLevel runs a whole session against an
// authsvc logging at debug level, including failures and misuse, and then
// searches everything the process wrote for the passwords, secrets, keys
// and tokens involved: none may appear, not even in part (a token's
// signature).
func TestNeverLeak_FullSessionAtDebugLevel(t *testing.T) {
	const (
		wrongPassword = "wrong-Pa55word-Distinct-Okapi-8"
		wrongSecret   = "wrong-Secret-Distinct-Tapir-5"
	)
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["LOG_LEVEL"] = "debug"
	env["LOGIN_FAILURES_MAX"] = "3"
	svc := startAuthsvc(t, env)
	form := "application/x-www-form-urlencoded"
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	var tokens []string
	keep := func(r *response) *response {
		for _, k := range []string{"access_token", "refresh_token"} {
			if v := r.str(k); v != "" {
				tokens = append(tokens, v)
			}
		}
		return r
	}

	// Logins, by form and JSON, with and without a client.
	r1 := keep(login(t, svc.URL))
	keep(postJSON(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", alicePassword))
	r3 := keep(login(t, svc.URL, "client_id", "billing", "client_secret", billingSecret))
	// Client credentials, by Basic and in the body.
	keep(call(t, "POST", svc.URL+"/token", form, "grant_type=client_credentials", "Authorization", basic("billing", billingSecret)))
	keep(postForm(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", billingSecret))
	// Refresh, retry of a used token (reuse → family revoked), client-bound refresh.
	r4 := keep(postForm(t, svc.URL+"/refresh", "refresh_token", r1.str("refresh_token")))
	postForm(t, svc.URL+"/refresh", "refresh_token", r1.str("refresh_token"))
	postForm(t, svc.URL+"/refresh", "refresh_token", r4.str("refresh_token"))
	keep(postForm(t, svc.URL+"/token", "grant_type", "refresh_token", "refresh_token", r3.str("refresh_token"), "client_id", "billing", "client_secret", billingSecret))
	// Revocations.
	postForm(t, svc.URL+"/revoke", "token", r3.str("access_token"), "token_type_hint", "access_token", "client_id", "billing", "client_secret", billingSecret)
	r5 := keep(login(t, svc.URL))
	postForm(t, svc.URL+"/revoke", "token", r5.str("refresh_token"))
	// Failures: wrong password, unknown user, wrong secrets, a lockout.
	for range 4 {
		postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", wrongPassword)
	}
	postForm(t, svc.URL+"/token", "grant_type", "password", "username", "nobody", "password", wrongPassword)
	call(t, "POST", svc.URL+"/token", form, "grant_type=client_credentials", "Authorization", basic("billing", wrongSecret))
	postForm(t, svc.URL+"/token", "grant_type", "client_credentials", "client_id", "billing", "client_secret", wrongSecret)
	// Misuse: credentials in the URL, a malformed body around a password, both client auths.
	call(t, "POST", svc.URL+"/token?password="+url.QueryEscape(alicePassword)+"&refresh_token="+r5.str("refresh_token"), form, "grant_type=password")
	call(t, "POST", svc.URL+"/token", "application/json", `{"grant_type":"password","username":"alice","password":"`+alicePassword+`",}`)
	call(t, "POST", svc.URL+"/token", "application/json", `{"password":"`+alicePassword+`","password":"`+alicePassword+`"}`)
	call(t, "POST", svc.URL+"/token", form, "grant_type=client_credentials&client_secret="+billingSecret, "Authorization", basic("billing", billingSecret))
	call(t, "POST", svc.URL+"/token", "text/plain", "password="+alicePassword)
	last := postForm(t, svc.URL+"/refresh", "refresh_token", r5.str("access_token"))
	logged(t, svc, last)
	svc.stop(t)

	logs := svc.logs.String()
	for _, want := range []string{`"event":"reuse_detected"`, `"event":"login_failed"`, `"event":"client_auth_failed"`, `"event":"rate_limited"`, `"event":"revoke"`, `"msg":"request"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the session did not log %s:\n%s", want, logs)
		}
	}
	if len(tokens) < 8 {
		t.Fatalf("only %d tokens collected", len(tokens))
	}
	secrets := map[string]string{
		"alice's password": alicePassword, "a wrong password": wrongPassword,
		"billing's secret": billingSecret, "a wrong secret": wrongSecret,
		"SECRET_KEY": testSecret, "REFRESH_SECRET_KEY": testRefreshSecret,
		"Basic credentials": strings.TrimPrefix(basic("billing", billingSecret), "Basic "),
	}
	for i, tok := range tokens {
		secrets["token "+string(rune('A'+i))] = tok
		secrets["signature of token "+string(rune('A'+i))] = tok[strings.LastIndexByte(tok, '.')+1:]
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains %s", what)
		}
	}
}
