// Package authenticator is authsvc's client for a user authenticator
// (USER_AUTHENTICATOR_URL): an HTTP service of the operator's that checks a
// username and password against a user store authsvc does not hold.
//
// One call is one POST of {"username","password","client_id"} as JSON, with
// "Authorization: Bearer <token>" when a token is configured. The answer:
//
//   - 200 with {"sub":"…","scopes":[…],"claims":{…}} (sub a non-empty string,
//     scopes and claims optional): the user is authenticated;
//   - 401, 403 or 404: wrong username or password ([ErrRejected]);
//   - anything else, a body that is not such an object, claims over
//     claims.MaxBytes, or no answer within the timeout ([ErrUnavailable]).
//
// The client never retries a request whose bytes may have reached the
// authenticator (a password is checked at most once per call), never
// follows a redirect (that would send the password elsewhere), verifies TLS
// certificates, reuses connections, reads at most [MaxAnswerBytes] of an
// answer and closes every body. No error it returns contains the password.
package authenticator

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/authsvc/authsvc/internal/claims"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/jsonenc"
)

// MaxAnswerBytes bounds the body of an answer that is read; a longer 200
// answer is unusable (ErrUnavailable).
const MaxAnswerBytes = 16 << 10

// DefaultTimeout is USER_AUTHENTICATOR_TIMEOUT's default.
const DefaultTimeout = 2 * time.Second

// Errors of Authenticate; match them with errors.Is.
var (
	// ErrRejected means the authenticator answered 401, 403 or 404: the
	// username or password is wrong.
	ErrRejected = errors.New("authenticator: credentials rejected")
	// ErrUnavailable means no usable answer came: a transport error, a
	// timeout, another status, or a malformed body.
	ErrUnavailable = errors.New("authenticator: unavailable")
)

// Config configures a Client.
type Config struct {
	// URL is USER_AUTHENTICATOR_URL, an http or https URL.
	URL string
	// Token, when set, is sent as "Authorization: Bearer <Token>"
	// (USER_AUTHENTICATOR_TOKEN).
	Token string
	// Timeout bounds one call from start to the end of the answer
	// (USER_AUTHENTICATOR_TIMEOUT); zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient, when set, is used instead of the client New builds (tests
	// inject one with a test CA); its redirect policy is replaced so that
	// no redirect is ever followed.
	HTTPClient *http.Client
}

// String describes c without the token.
func (c Config) String() string {
	return fmt.Sprintf("authenticator.Config{URL: %q, Timeout: %s, Token: [REDACTED]}", c.URL, c.Timeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Request is one password check.
type Request struct {
	Username string
	Password string
	// ClientID is the client the grant came with; empty for none (then the
	// member is left out of the request body).
	ClientID string
}

// String describes r without the password, so a stray %v cannot leak it.
func (r Request) String() string {
	return fmt.Sprintf("authenticator.Request{Username: %q, ClientID: %q, Password: [REDACTED]}", r.Username, r.ClientID)
}

// GoString is String, for %#v.
func (r Request) GoString() string { return r.String() }

// User is an authenticated user as the authenticator described it.
type User struct {
	// Subject is the answer's sub: the token subject.
	Subject string
	// Scopes is what the user may have.
	Scopes []string
	// Claims are the answer's claims, reserved names dropped.
	Claims claims.Set
	// Dropped names the reserved claims the answer held and that were
	// dropped; the caller logs a warning.
	Dropped []string
}

// Client calls a user authenticator. It is safe for concurrent use.
type Client struct {
	url     string
	auth    string // "Bearer …" or ""
	timeout time.Duration
	http    *http.Client
}

// The problems of Config.URL that CheckURL reports; match them with
// errors.Is.
var (
	// ErrURLNotHTTP: not an http:// or https:// URL with a host.
	ErrURLNotHTTP = errors.New("URL must be an http:// or https:// URL")
	// ErrURLCredentials: the URL holds a user (and likely a password);
	// the token is the way to authenticate.
	ErrURLCredentials = errors.New("URL must not hold credentials; use the token")
)

// CheckURL checks Config.URL and returns it parsed: an http:// or https://
// URL with a host (else ErrURLNotHTTP), without credentials (else
// ErrURLCredentials). The errors never quote the URL, which may hold a
// password. New calls it; a caller can check a configuration with it
// before building a Client.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrURLNotHTTP
	}
	if u.User != nil {
		return nil, ErrURLCredentials
	}
	return u, nil
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := CheckURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("authenticator: %w", err)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("authenticator: timeout must not be negative")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(timeout)
	} else {
		copied := *hc
		hc = &copied
	}
	// A 307 or 308 would send the password again, to wherever it points.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{url: u.String(), timeout: timeout, http: hc}
	if cfg.Token != "" {
		c.auth = "Bearer " + cfg.Token
	}
	return c, nil
}

// NewHTTPClient returns the HTTP client New uses by default: a transport of
// its own with bounded dial, TLS handshake and header waits, kept-alive
// connections for reuse, certificate verification on (TLS 1.2 or later),
// no proxy from the environment (the password goes only where the URL
// says), and timeout as the bound of a whole call.
func NewHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       30 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}

// Close releases the idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Authenticate asks the authenticator whether req's password is right. It
// returns the user, or an error matching ErrRejected or ErrUnavailable (a
// cancelled ctx gives ErrUnavailable). The request is sent once: Go's
// transport resends a POST only when none of it was written.
func (c *Client) Authenticate(ctx context.Context, req Request) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body := requestBody(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return User{}, fmt.Errorf("%w: build request", ErrUnavailable)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if c.auth != "" {
		hr.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(hr)
	clear(body) // the password's bytes do not outlive the call
	if err != nil {
		return User{}, fmt.Errorf("%w: %s", ErrUnavailable, transportProblem(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return User{}, fmt.Errorf("%w: read answer (status %d): %s", ErrUnavailable, resp.StatusCode, transportProblem(ctx, err))
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return User{}, fmt.Errorf("%w (status %d)", ErrRejected, resp.StatusCode)
	default:
		return User{}, fmt.Errorf("%w: unexpected status %d", ErrUnavailable, resp.StatusCode)
	}
	if len(data) > MaxAnswerBytes {
		return User{}, fmt.Errorf("%w: answer longer than %d bytes", ErrUnavailable, MaxAnswerBytes)
	}
	return parseAnswer(data)
}

// requestBody writes {"username","password"[,"client_id"]} without
// reflection, into a buffer the caller clears after use.
func requestBody(req Request) []byte {
	b := make([]byte, 0, 64+len(req.Username)+2*len(req.Password)+len(req.ClientID))
	b = append(b, '{')
	b = jsonenc.StringField(b, "username", req.Username)
	b = jsonenc.StringField(b, "password", req.Password)
	if req.ClientID != "" {
		b = jsonenc.StringField(b, "client_id", req.ClientID)
	}
	return append(b, '}')
}

// transportProblem describes a transport error without the request: a
// *url.Error names the URL (which holds no secret) and the cause.
func transportProblem(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "no answer within the timeout or the request was cancelled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "no answer within the timeout"
		}
		return ue.Err.Error()
	}
	return err.Error()
}

// answer is the 200 body.
type answer struct {
	Sub    *string         `json:"sub"`
	Scopes []string        `json:"scopes"`
	Claims json.RawMessage `json:"claims"`
}

// parseAnswer checks a 200 body: a JSON object with a non-empty string sub,
// an optional list of scope tokens and an optional claims object. Other
// members are ignored, so an authenticator may say more.
func parseAnswer(data []byte) (User, error) {
	var a answer
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&a); err != nil {
		return User{}, fmt.Errorf("%w: the answer is not a JSON object of the expected form", ErrUnavailable)
	}
	if dec.More() {
		return User{}, fmt.Errorf("%w: data after the answer's object", ErrUnavailable)
	}
	if a.Sub == nil || *a.Sub == "" {
		return User{}, fmt.Errorf("%w: the answer has no sub", ErrUnavailable)
	}
	for _, sc := range a.Scopes {
		if !credential.ValidScope(sc) {
			return User{}, fmt.Errorf("%w: the answer's scopes hold an invalid scope token", ErrUnavailable)
		}
	}
	u := User{Subject: *a.Sub, Scopes: a.Scopes}
	if len(a.Claims) > 0 && string(a.Claims) != "null" {
		var err error
		if u.Claims, u.Dropped, err = claims.Lenient(a.Claims); err != nil {
			return User{}, fmt.Errorf("%w: the answer's claims: %w", ErrUnavailable, err)
		}
	}
	return u, nil
}
