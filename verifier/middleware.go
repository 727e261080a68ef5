package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// contextKey is the type of the request-context key of the claims.
type contextKey struct{}

// FromContext returns the claims Middleware put in ctx.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*Claims)
	return c, ok && c != nil
}

// NewContext returns a copy of ctx carrying c, as Middleware does; for
// adapters to other routers and for tests.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// VerifyRequest verifies the access token of r: "Authorization: Bearer
// <token>" (RFC 6750 §2.1), or "Authorization: DPoP <token>" with a DPoP
// proof (RFC 9449 §7). A request without either gives ErrNoToken. A token
// bound to a DPoP key (cnf.jkt) is refused as a Bearer token.
func (v *Verifier) VerifyRequest(r *http.Request) (*Claims, error) {
	scheme, token, err := credentials(r)
	if err != nil {
		return nil, err
	}
	switch scheme {
	case schemeDPoP:
		return v.verifyDPoP(r, token)
	default:
		return v.Verify(r.Context(), token)
	}
}

// Authorization schemes.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// credentials extracts the scheme and token of r's Authorization header. A
// request with none, or with another scheme, has no token; a Bearer or DPoP
// header without exactly one well-formed token is an invalid token.
func credentials(r *http.Request) (scheme, token string, err error) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", "", ErrNoToken
	}
	if len(hs) > 1 {
		return "", "", fmt.Errorf("%w: more than one Authorization header", ErrInvalidToken)
	}
	name, rest, _ := strings.Cut(hs[0], " ")
	switch {
	case strings.EqualFold(name, schemeBearer):
		scheme = schemeBearer
	case strings.EqualFold(name, schemeDPoP):
		scheme = schemeDPoP
	default:
		return "", "", ErrNoToken
	}
	token = strings.TrimSpace(rest)
	if token == "" || strings.ContainsAny(token, " \t") {
		return scheme, "", fmt.Errorf("%w: malformed Authorization header", ErrInvalidToken)
	}
	return scheme, token, nil
}

// errorBody is the JSON body of an error answer.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// writeError writes an RFC 6750 §3 answer.
func writeError(w http.ResponseWriter, status int, challenge string, body errorBody) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(body)
	_, _ = w.Write(b)
}

// Middleware verifies every request's access token before next sees it,
// and puts the claims in the request context (FromContext). It answers per
// RFC 6750 §3: no token, 401 with "WWW-Authenticate: Bearer" and no error
// code; a malformed, invalid, expired or revoked token, 401 with
// `Bearer error="invalid_token"` (`DPoP error="invalid_token"` for the DPoP
// scheme); a stale revocation feed, 503 with Retry-After. Each answer has a
// JSON body; none says more than the code does.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.VerifyRequest(r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
	})
}

// WriteError writes the answer Middleware gives for err, an error of
// VerifyRequest; for adapters to other routers.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	scheme := schemeBearer
	if s, _, _ := credentials(r); s == schemeDPoP {
		scheme = schemeDPoP
	}
	switch {
	case errors.Is(err, ErrStale):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", errorBody{
			Error: "temporarily_unavailable", Description: "token revocations cannot be checked right now",
		})
	case errors.Is(err, ErrNoToken):
		writeError(w, http.StatusUnauthorized, scheme, errorBody{
			Error: "unauthorized", Description: "an access token is required",
		})
	case errors.As(err, new(*dpopError)):
		// RFC 9449 §7.1: the DPoP challenge names the accepted algorithms.
		var de *dpopError
		errors.As(err, &de)
		code := "invalid_token"
		if errors.Is(err, ErrInvalidDPoPProof) {
			code = "invalid_dpop_proof"
		}
		writeError(w, http.StatusUnauthorized, fmt.Sprintf(`DPoP error="%s", algs="%s"`, code, de.algs), errorBody{
			Error: code, Description: describe(err),
		})
	default:
		writeError(w, http.StatusUnauthorized, scheme+` error="invalid_token"`, errorBody{
			Error: "invalid_token", Description: describe(err),
		})
	}
}

// describe returns a public description of a verification error: the kind
// of fault, never a detail from the token.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "the access token has expired"
	case errors.Is(err, ErrRevoked):
		return "the access token has been revoked"
	case errors.Is(err, ErrDPoPBound):
		return "the access token is bound to a DPoP key: send it with a DPoP proof"
	case errors.Is(err, ErrInvalidDPoPProof):
		return "the DPoP proof is missing, invalid, already used or not made for this request and token"
	}
	return "the access token is invalid"
}

// RequireScope returns middleware that lets a request through only when the
// claims Middleware verified grant every one of scopes. Otherwise it answers
// 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
// scope="..."` naming the scopes needed (RFC 6750 §3.1); without verified
// claims in the context it answers 401 as for a missing token. Use it
// inside Middleware.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	need := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := FromContext(r.Context())
			if !ok {
				WriteError(w, r, ErrNoToken)
				return
			}
			if missing := MissingScope(c, scopes...); missing != "" {
				WriteInsufficientScope(w, r, need)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MissingScope returns the first of scopes that c lacks, or "" when it has
// them all.
func MissingScope(c *Claims, scopes ...string) string {
	for _, s := range scopes {
		if !c.HasScope(s) {
			return s
		}
	}
	return ""
}

// WriteInsufficientScope writes the 403 answer of RequireScope for the
// space-separated scopes needed; for adapters to other routers.
func WriteInsufficientScope(w http.ResponseWriter, r *http.Request, need string) {
	scheme := schemeBearer
	if s, _, _ := credentials(r); s == schemeDPoP {
		scheme = schemeDPoP
	}
	writeError(w, http.StatusForbidden, fmt.Sprintf(`%s error="insufficient_scope", scope="%s"`, scheme, need), errorBody{
		Error: "insufficient_scope", Description: "the access token lacks a required scope", Scope: need,
	})
}

// limitBody returns resp's body limited to maxDocument bytes.
func limitBody(resp *http.Response) io.Reader {
	return io.LimitReader(resp.Body, maxDocument)
}
