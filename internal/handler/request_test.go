package handler

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/oauth"
)

func newContext(method, target, ctype, body string, hdr ...string) echo.Context {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set(echo.HeaderContentType, ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// codeOf names how err is answered: "415", the status text of a 413, or
// the error code.
func codeOf(err error) string {
	status, body, _ := describe(err)
	switch status {
	case http.StatusUnsupportedMediaType:
		return "415"
	case http.StatusRequestEntityTooLarge:
		return http.StatusText(status)
	}
	return string(body.Error)
}

func TestParseBody(t *testing.T) {
	form, js := echo.MIMEApplicationForm, echo.MIMEApplicationJSON
	cases := []struct {
		name, target, ctype, body string
		want                      map[string]string
		wantErr                   string
	}{
		{"form", "/token", form, "a=1&b=two+words", map[string]string{"a": "1", "b": "two words"}, ""},
		{"form with charset", "/token", form + "; charset=UTF-8", "a=1", map[string]string{"a": "1"}, ""},
		{"json", "/token", js, `{"a":"1","b":"x"}`, map[string]string{"a": "1", "b": "x"}, ""},
		{"empty json object", "/token", js, `{}`, map[string]string{}, ""},
		{"form repeated", "/token", form, "a=1&a=2", nil, "invalid_request"},
		{"form malformed escape", "/token", form, "a=%zz", nil, "invalid_request"},
		{"json repeated", "/token", js, `{"a":"1","a":"1"}`, nil, "invalid_request"},
		{"json number", "/token", js, `{"a":1}`, nil, "invalid_request"},
		{"json null", "/token", js, `{"a":null}`, nil, "invalid_request"},
		{"json nested", "/token", js, `{"a":{"b":"c"}}`, nil, "invalid_request"},
		{"json array", "/token", js, `["a"]`, nil, "invalid_request"},
		{"json trailing", "/token", js, `{"a":"1"}x`, nil, "invalid_request"},
		{"json truncated", "/token", js, `{"a":"1"`, nil, "invalid_request"},
		{"query string", "/token?a=1", form, "b=2", nil, "invalid_request"},
		{"xml", "/token", "application/xml", "<a/>", nil, "415"},
		{"no content type", "/token", "", "a=1", nil, "415"},
		{"garbage content type", "/token", ";;;", "a=1", nil, "415"},
		{"too large", "/token", form, "a=" + strings.Repeat("x", MaxBodyBytes), nil, http.StatusText(http.StatusRequestEntityTooLarge)},
		{"value too long", "/token", form, "a=" + strings.Repeat("x", maxValueBytes+1), nil, "invalid_request"},
		{"token at the limit", "/token", form, "refresh_token=" + strings.Repeat("x", maxValueBytes), map[string]string{"refresh_token": strings.Repeat("x", maxValueBytes)}, ""},
		{"10 KB username", "/token", form, "username=" + strings.Repeat("u", 10<<10), nil, "invalid_request"},
		{"username over MaxNameLen", "/token", js, `{"username":"` + strings.Repeat("u", oauth.MaxNameLen+1) + `"}`, nil, "invalid_request"},
		{"username at MaxNameLen", "/token", form, "username=" + strings.Repeat("u", oauth.MaxNameLen), map[string]string{"username": strings.Repeat("u", oauth.MaxNameLen)}, ""},
		{"client_id over MaxNameLen", "/token", form, "client_id=" + strings.Repeat("c", oauth.MaxNameLen+1), nil, "invalid_request"},
		{"password over MaxPasswordLen", "/token", form, "password=" + strings.Repeat("p", oauth.MaxPasswordLen+1), nil, "invalid_request"},
		{"client_secret over MaxPasswordLen", "/token", js, `{"client_secret":"` + strings.Repeat("s", oauth.MaxPasswordLen+1) + `"}`, nil, "invalid_request"},
		{"invalid UTF-8 raw", "/token", js, "{\"a\":\"\xff\"}", nil, "invalid_request"},
		{"invalid UTF-8 escaped", "/token", form, "a=%ff", nil, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseBody(newContext(http.MethodPost, tc.target, tc.ctype, tc.body))
			if tc.wantErr != "" {
				if err == nil || codeOf(err) != tc.wantErr {
					t.Fatalf("err = %v (%s), want %s", err, codeOf(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != len(tc.want) {
				t.Fatalf("got %v, want %v", p, tc.want)
			}
			for k, v := range tc.want {
				if p[k] != v {
					t.Fatalf("got %v, want %v", p, tc.want)
				}
			}
		})
	}
}

func TestClientAuth(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name     string
		header   string
		body     params
		wantNil  bool
		wantID   string
		wantSec  string
		wantCode string
	}{
		{"none", "", params{}, true, "", "", ""},
		{"basic", basic("billing:s3cret"), params{}, false, "billing", "s3cret", ""},
		{"basic lowercase scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), params{}, false, "a", "b", ""},
		{"basic form-encoded", basic("my%20app:p%3Ass"), params{}, false, "my app", "p:ss", ""},
		{"secret with colon", basic("a:b:c"), params{}, false, "a", "b:c", ""},
		{"body", "", params{"client_id": "a", "client_secret": "b"}, false, "a", "b", ""},
		{"body id only", "", params{"client_id": "a"}, false, "a", "", ""},
		{"both", basic("a:b"), params{"client_id": "a"}, false, "", "", "invalid_request"},
		{"bearer scheme", "Bearer xyz", params{}, false, "", "", "invalid_client"},
		{"bad base64", "Basic !!!", params{}, false, "", "", "invalid_client"},
		{"no colon", basic("abc"), params{}, false, "", "", "invalid_client"},
		{"bad escape", basic("a%zz:b"), params{}, false, "", "", "invalid_client"},
		{"short header", "Bas", params{}, false, "", "", "invalid_client"},
		{"long basic id", basic(strings.Repeat("c", oauth.MaxNameLen+1) + ":b"), params{}, false, "", "", "invalid_client"},
		{"long basic secret", basic("a:" + strings.Repeat("s", oauth.MaxPasswordLen+1)), params{}, false, "", "", "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{echo.HeaderAuthorization, tc.header}
			}
			ca, err := clientAuth(newContext(http.MethodPost, "/token", "", "", hdr...), tc.body)
			if tc.wantCode != "" {
				if codeOf(err) != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil {
				if ca != nil {
					t.Fatalf("got %+v, want nil", ca)
				}
				return
			}
			if ca == nil || ca.ID != tc.wantID || ca.Secret != tc.wantSec {
				t.Fatalf("got %+v", ca)
			}
		})
	}
}

func TestDescribe_MapsEveryCode(t *testing.T) {
	for code, row := range errorTable {
		got, body, _ := describe(&auth.Error{Code: code, Description: "d"})
		if got != row.status || body.Error != row.code {
			t.Errorf("%s: got %d %s", code, got, body.Error)
		}
	}
	for _, code := range []auth.Code{auth.InvalidDPoPProof, auth.UseDPoPNonce} {
		if got, body, _ := describe(&auth.Error{Code: code}); got != http.StatusBadRequest || body.Error != code {
			t.Errorf("%s: got %d %s, want 400 (RFC 9449 §5, §8)", code, got, body.Error)
		}
	}
	if s, b, _ := describe(errors.New("boom: secret detail")); s != 500 || b.Description != "internal error" {
		t.Errorf("unknown error: %d %+v", s, b)
	}
	if _, _, retry := describe(&auth.Error{Code: auth.TooManyRequests, RetryAfter: 1500e6}); retry != 2 {
		t.Errorf("Retry-After rounds up: got %d", retry)
	}
}

// TestReadyz_AnswersFromTheErrorTable checks that /readyz's 503 is written
// by the one error table like every other error: JSON, Retry-After,
// no-store.
func TestReadyz_AnswersFromTheErrorTable(t *testing.T) {
	e := New(Deps{Ready: func(context.Context) error { return errors.New("dial tcp: refused") }})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get(echo.HeaderRetryAfter) != "1" ||
		rec.Header().Get(echo.HeaderCacheControl) != "no-store" ||
		!strings.Contains(rec.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Fatalf("/readyz: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("/readyz leaks the store error: %s", rec.Body)
	}
}
