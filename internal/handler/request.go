package handler

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/oauth"
)

// MaxBodyBytes is the largest request body accepted (docs/api.md); a larger
// one gets 413.
const MaxBodyBytes = 64 << 10

// maxValueBytes bounds every single parameter. No legitimate scope or token
// comes near it; a larger one is refused before any token is parsed.
const maxValueBytes = 8 << 10

// maxBytes are tighter bounds for the credential parameters, the ones the
// credentials file itself allows: a longer name or secret cannot match, and is
// refused here before any store lookup or hash check.
var maxBytes = map[string]int{
	"username":      oauth.MaxNameLen,
	"client_id":     oauth.MaxNameLen,
	"password":      oauth.MaxPasswordLen,
	"client_secret": oauth.MaxPasswordLen,
}

// limitOf returns the largest length in bytes the parameter name may have.
func limitOf(name string) int {
	if n, ok := maxBytes[name]; ok {
		return n
	}
	return maxValueBytes
}

// params are the parameters of a POST body, each given at most once.
type params map[string]string

func (p params) get(name string) string { return p[name] }

// has reports whether name was present, even with an empty value.
func (p params) has(name string) bool { _, ok := p[name]; return ok }

var (
	errBadContentType  = &auth.Error{Code: reasonUnsupportedMedia, Description: "content type must be application/x-www-form-urlencoded or application/json"}
	errQueryParameters = auth.ErrorF(auth.InvalidRequest, "parameters must be sent in the request body, not the URL")
)

// parseBody reads a POST body strictly (RFC 6749 §2.3.1 and §3.2, docs/api.md): no query
// parameters, a form or a JSON object of strings, every parameter at most
// once, UTF-8 only, within MaxBodyBytes. Echo's Bind is not used: it merges the
// query string and accepts XML.
func parseBody(c echo.Context) (params, error) {
	r := c.Request()
	if r.URL.RawQuery != "" {
		return nil, errQueryParameters
	}
	mediaType, err := mediaTypeOf(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, errBadContentType
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, auth.ErrorF(auth.InvalidRequest, "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	if !utf8.Valid(body) {
		return nil, auth.ErrorF(auth.InvalidRequest, "the request body is not valid UTF-8")
	}
	var p params
	switch mediaType {
	case echo.MIMEApplicationForm:
		p, err = parseForm(body)
	case echo.MIMEApplicationJSON:
		p, err = parseJSON(body)
	default:
		return nil, errBadContentType
	}
	if err != nil {
		return nil, err
	}
	for k, v := range p {
		if len(v) > limitOf(k) {
			return nil, auth.ErrorF(auth.InvalidRequest, "parameter "+safeName(k)+" is too long")
		}
	}
	return p, nil
}

// mediaTypeOf returns the media type of a Content-Type header, lower-cased.
// The two types clients send without parameters skip mime.ParseMediaType,
// which allocates a map for every request.
func mediaTypeOf(contentType string) (string, error) {
	switch contentType {
	case echo.MIMEApplicationForm, echo.MIMEApplicationJSON:
		return contentType, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return mt, err
}

func parseForm(body []byte) (params, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, auth.ErrorF(auth.InvalidRequest, "the form body is malformed")
	}
	p := make(params, len(values))
	for k, v := range values {
		if len(v) != 1 {
			return nil, repeated(k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v[0]) {
			return nil, auth.ErrorF(auth.InvalidRequest, "the form body is not valid UTF-8")
		}
		p[k] = v[0]
	}
	return p, nil
}

// parseJSON accepts one JSON object whose values are all strings, with no
// key given twice and nothing after the object.
func parseJSON(body []byte) (params, error) {
	bad := auth.ErrorF(auth.InvalidRequest, "the JSON body must be one object of string values")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	p := make(params, 4)
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		val, ok := vt.(string)
		if !ok {
			if key == "resource" && vt == json.Delim('[') {
				return nil, repeated(key) // a list of resources
			}
			return nil, auth.ErrorF(auth.InvalidRequest, "parameter "+safeName(key)+" must be a string")
		}
		if _, dup := p[key]; dup {
			return nil, repeated(key)
		}
		p[key] = val
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad
	}
	return p, nil
}

// repeated is the error for a parameter given more than once: invalid_request
// (RFC 6749 §3.2), except for resource, where more than one is
// invalid_target (RFC 8707 §2: authsvc issues a token for one resource).
func repeated(name string) error {
	if name == "resource" {
		return errOneResource
	}
	return auth.ErrorF(auth.InvalidRequest, "parameter "+safeName(name)+" is repeated")
}

var errOneResource = auth.ErrorF(auth.InvalidTarget, "at most one resource may be requested")

// knownParams are the parameter names that may be echoed in an error
// description; any other name is not repeated back to the client.
var knownParams = map[string]bool{
	"grant_type": true, "username": true, "password": true, "scope": true,
	"refresh_token": true, "client_id": true, "client_secret": true,
	"token": true, "token_type_hint": true, "resource": true,
}

func safeName(k string) string {
	if knownParams[k] {
		return k
	}
	return "(unknown)"
}

// clientAuth extracts client authentication (RFC 6749 §2.3.1): HTTP Basic
// with form-encoded id and secret, or client_id and client_secret in the
// body. Both at once is an error. It returns nil when neither was given.
func clientAuth(c echo.Context, p params) (*auth.ClientAuth, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	inBody := p.has("client_id") || p.has("client_secret")
	if h == "" {
		if !inBody {
			return nil, nil
		}
		return &auth.ClientAuth{ID: p.get("client_id"), Secret: p.get("client_secret")}, nil
	}
	if inBody {
		return nil, auth.ErrorF(auth.InvalidRequest, "client credentials must be sent either in the Authorization header or in the body, not both")
	}
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "unsupported authorization scheme"}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "malformed basic authorization"}
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "malformed basic authorization"}
	}
	if id, err = url.QueryUnescape(id); err != nil {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "malformed basic authorization"}
	}
	if secret, err = url.QueryUnescape(secret); err != nil {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "malformed basic authorization"}
	}
	if len(id) > limitOf("client_id") || len(secret) > limitOf("client_secret") || !utf8.ValidString(id) || !utf8.ValidString(secret) {
		return nil, &auth.Error{Code: auth.InvalidClient, Description: "malformed basic authorization"}
	}
	return &auth.ClientAuth{ID: id, Secret: secret}, nil
}

// postHandler is the shape of every POST endpoint: the body is parsed
// strictly and client authentication extracted, in one place, before serve
// sees the request.
func postHandler(serve func(c echo.Context, p params, ca *auth.ClientAuth) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := parseBody(c)
		if err != nil {
			return err
		}
		ca, err := clientAuth(c, p)
		if err != nil {
			return err
		}
		return serve(c, p, ca)
	}
}

// meta describes the request for limits and audit.
func meta(c echo.Context) auth.Meta {
	return auth.Meta{Addr: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// required returns the named parameter, or an invalid_request error when it is
// missing or empty.
func required(p params, name string) (string, error) {
	v := p.get(name)
	if v == "" {
		return "", auth.ErrorF(auth.InvalidRequest, "missing parameter "+name)
	}
	return v, nil
}
