package handler

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// reusableBody is a request body that can be refilled without allocating.
type reusableBody struct{ strings.Reader }

func (*reusableBody) Close() error { return nil }

// benchContext returns one echo.Context for POST /token whose body refill
// sets again before each parse.
func benchContext(ctype string, hdr ...string) (c echo.Context, refill func(string)) {
	c = newContext(http.MethodPost, "/token", ctype, "", hdr...)
	body := &reusableBody{}
	req := c.Request()
	req.Body = body
	return c, func(s string) {
		body.Reset(s)
		req.ContentLength = int64(len(s))
	}
}

// refreshToken is shaped like a refresh JWT, of about the real length.
var refreshToken = strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 14) + "." + strings.Repeat("x", 43)

func BenchmarkParseBody(b *testing.B) {
	cases := []struct{ name, ctype, body string }{
		{"form/refresh", echo.MIMEApplicationForm, "refresh_token=" + refreshToken},
		{"json/refresh", echo.MIMEApplicationJSON, `{"refresh_token":"` + refreshToken + `"}`},
		{"form/password", echo.MIMEApplicationForm, "grant_type=password&username=alice&password=correct+horse+battery+staple&scope=read+write"},
		{"json/password", echo.MIMEApplicationJSON, `{"grant_type":"password","username":"alice","password":"correct horse battery staple","scope":"read write"}`},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c, refill := benchContext(tc.ctype)
			b.ReportAllocs()
			for b.Loop() {
				refill(tc.body)
				if _, err := parseBody(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkClientAuth(b *testing.B) {
	secret := "kJ3vU9wq3pZ1x0bQm5yRr8tLh2nC7dE4fG6aS1iO0uY"
	cases := []struct {
		name string
		hdr  []string
		p    params
	}{
		{"basic", []string{echo.HeaderAuthorization, "Basic " + base64.StdEncoding.EncodeToString([]byte("billing:"+secret))}, params{"grant_type": "client_credentials"}},
		{"body", nil, params{"grant_type": "client_credentials", "client_id": "billing", "client_secret": secret}},
		{"none", nil, params{"refresh_token": refreshToken}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c, _ := benchContext(echo.MIMEApplicationForm, tc.hdr...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := clientAuth(c, tc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
