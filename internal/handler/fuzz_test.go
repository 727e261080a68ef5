package handler

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
)

// The seed corpora of these targets are checked in under testdata/fuzz;
// `make fuzz` explores further.

// FuzzParseBody_Form feeds arbitrary bytes to the form parser.
func FuzzParseBody_Form(f *testing.F) {
	f.Add([]byte("grant_type=password&username=alice&password=pw"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParse(t, echo.MIMEApplicationForm, body, func(p params) {
			// What was accepted survives a round trip through the encoder.
			v := url.Values{}
			for k, val := range p {
				v.Set(k, val)
			}
			assertSameParams(t, p, echo.MIMEApplicationForm, []byte(v.Encode()))
		})
	})
}

// FuzzParseBody_JSON feeds arbitrary bytes to the JSON parser.
func FuzzParseBody_JSON(f *testing.F) {
	f.Add([]byte(`{"grant_type":"password","username":"alice","password":"pw"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParse(t, echo.MIMEApplicationJSON, body, func(p params) {
			b, err := json.Marshal(map[string]string(p))
			if err != nil {
				t.Fatalf("accepted parameters do not marshal: %v", err)
			}
			assertSameParams(t, p, echo.MIMEApplicationJSON, b)
		})
	})
}

// FuzzClientAuth feeds arbitrary Authorization headers to the client
// authentication extractor.
func FuzzClientAuth(f *testing.F) {
	f.Add("Basic YmlsbGluZzpzM2NyZXQ=")
	f.Fuzz(func(t *testing.T, h string) {
		c := newContext(http.MethodPost, "/token", "", "", echo.HeaderAuthorization, h)
		ca, err := clientAuth(c, params{})
		if err != nil {
			if code := auth.CodeOf(err); code != auth.InvalidClient && code != auth.InvalidRequest {
				t.Fatalf("unexpected error code %s: %v", code, err)
			}
			return
		}
		if ca == nil {
			if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
				t.Fatal("a present Authorization header yielded no client and no error")
			}
			return
		}
		if len(ca.ID) > limitOf("client_id") || len(ca.Secret) > limitOf("client_secret") ||
			!utf8.ValidString(ca.ID) || !utf8.ValidString(ca.Secret) {
			t.Fatalf("accepted an oversized or non-UTF-8 credential (%d, %d bytes)", len(ca.ID), len(ca.Secret))
		}
	})
}

// checkParse runs parseBody and checks its invariants: it never panics,
// every refusal is a documented protocol error (RFC 6749 §5.2, docs/api.md), and what it accepts is
// valid UTF-8 within the per-parameter limits. ok runs on accepted input.
func checkParse(t *testing.T, ctype string, body []byte, ok func(params)) {
	t.Helper()
	p, err := parseBody(newContext(http.MethodPost, "/token", ctype, string(body)))
	if err != nil {
		if _, body, _ := describe(err); body.Error != auth.InvalidRequest {
			t.Fatalf("unexpected error %v", err)
		}
		if p != nil {
			t.Fatal("parameters returned with an error")
		}
		return
	}
	if len(body) > MaxBodyBytes {
		t.Fatalf("accepted a %d-byte body", len(body))
	}
	for k, v := range p {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			t.Fatalf("accepted a non-UTF-8 parameter %q", k)
		}
		if len(v) > limitOf(k) {
			t.Fatalf("accepted %d bytes for %q", len(v), k)
		}
	}
	ok(p)
}

// assertSameParams parses body and requires exactly want.
func assertSameParams(t *testing.T, want params, ctype string, body []byte) {
	t.Helper()
	got, err := parseBody(newContext(http.MethodPost, "/token", ctype, string(body)))
	if err != nil {
		if status, _, _ := describe(err); status == http.StatusRequestEntityTooLarge {
			return // the re-encoding grew past the body limit
		}
		t.Fatalf("re-encoded parameters refused: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("round trip: got %d parameters, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("round trip changed %q", k)
		}
	}
}
