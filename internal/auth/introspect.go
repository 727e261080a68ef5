package auth

import (
	"context"
	"errors"
	"time"

	"github.com/authsvc/authsvc/internal/oauth"
	"github.com/authsvc/authsvc/internal/store"
)

// IntrospectRequest is a token introspection request (RFC 7662 §2.1).
type IntrospectRequest struct {
	Token string
	// TokenTypeHint is access_token or refresh_token; it only says which
	// kind to try first, and any other value is ignored.
	TokenTypeHint string
	// Client is required, and must be a client allowed to introspect.
	Client *ClientAuth
}

// Introspection is the state of a token (RFC 7662 §2.2). When Active is
// false every other field is empty: nothing is said about an invalid,
// expired, revoked or denylisted token.
type Introspection struct {
	Active    bool
	TokenType string // oauth.TokenTypeAccess or oauth.TokenTypeRefresh
	Subject   string
	Scope     string
	ClientID  string // the client the token was issued to, empty for none
	ExpiresAt time.Time
	IssuedAt  time.Time
	Issuer    string
	Audience  []string
	ID        string // jti
	// JKT is the thumbprint of the DPoP key the token is bound to (cnf.jkt,
	// RFC 9449 §6.2), empty for a bearer token.
	JKT string
}

// Introspect reports whether a token is active (RFC 7662). The caller must
// authenticate as a client whose configuration allows introspection;
// otherwise the answer is InvalidClient. An access token is active while it
// verifies, has not expired and is not denylisted; a refresh token while it
// verifies, has not expired, its session is live and it is the session's
// current token. Expiry is judged by the service's own clock, without the
// verification leeway: authsvc is the issuer, its clock is the reference.
// A store that cannot be read gives TemporarilyUnavailable, never an answer
// the store did not back.
func (s *Service) Introspect(ctx context.Context, req IntrospectRequest, m Meta) (Introspection, error) {
	s.activity()
	if req.Client == nil {
		return Introspection{}, newError(InvalidClient, "client authentication is required")
	}
	c, err := s.authenticateClient(ctx, *req.Client, false, m)
	if err != nil {
		return Introspection{}, err
	}
	if !c.Introspect {
		return Introspection{}, newError(InvalidClient, "the client may not introspect tokens")
	}
	order := []func(context.Context, string) (Introspection, bool, error){s.introspectAccess, s.introspectRefresh}
	if req.TokenTypeHint == oauth.TokenTypeRefresh {
		order[0], order[1] = order[1], order[0]
	}
	for _, try := range order {
		if in, ok, err := try(ctx, req.Token); ok || err != nil {
			return in, err
		}
	}
	return Introspection{}, nil
}

// introspectAccess answers for an access token; ok is false when tok is not
// a valid access token at all.
func (s *Service) introspectAccess(ctx context.Context, tok string) (Introspection, bool, error) {
	ac, err := s.iss.VerifyAccess(tok)
	if err != nil {
		return Introspection{}, false, nil
	}
	if !s.now().Before(ac.ExpiresAt) {
		return Introspection{}, true, nil
	}
	denied, err := s.store.AccessTokenDenied(ctx, ac.ID)
	if err != nil {
		return Introspection{}, true, storeError(err)
	}
	if denied {
		return Introspection{}, true, nil
	}
	if ac.SessionID != "" {
		// A session-bound token lives only as long as its session, however
		// that ends (revocation, logout everywhere, the admin API, the
		// session limit, a failed re-check, SESSION_MAX_TTL).
		sess, _, err := s.store.Session(ctx, ac.SessionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return Introspection{}, true, nil
		case err != nil:
			return Introspection{}, true, storeError(err)
		case sess.Subject != ac.Subject || !s.now().Before(sess.MaxExpiresAt):
			return Introspection{}, true, nil
		}
	}
	return Introspection{
		Active: true, TokenType: oauth.TokenTypeAccess, Subject: ac.Subject, Scope: ac.Scope, ClientID: ac.ClientID,
		ExpiresAt: ac.ExpiresAt, IssuedAt: ac.IssuedAt, Issuer: ac.Issuer, Audience: ac.Audience, ID: ac.ID,
		JKT: ac.JKT,
	}, true, nil
}

// introspectRefresh answers for a refresh token; ok is false when tok is not
// a valid refresh token at all.
func (s *Service) introspectRefresh(ctx context.Context, tok string) (Introspection, bool, error) {
	rc, err := s.iss.VerifyRefresh(tok)
	if err != nil {
		return Introspection{}, false, nil
	}
	if !s.now().Before(rc.ExpiresAt) {
		return Introspection{}, true, nil
	}
	sess, cur, err := s.store.Session(ctx, rc.SessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Introspection{}, true, nil // revoked, expired, or ended by a reuse
	case err != nil:
		return Introspection{}, true, storeError(err)
	case cur.ID != rc.ID:
		return Introspection{}, true, nil // rotated away: used up
	}
	return Introspection{
		Active: true, TokenType: oauth.TokenTypeRefresh, Subject: rc.Subject, Scope: rc.Scope, ClientID: rc.ClientID,
		ExpiresAt: rc.ExpiresAt, IssuedAt: rc.IssuedAt, Issuer: rc.Issuer, Audience: rc.Audience, ID: rc.ID,
		JKT: sess.JKT,
	}, true, nil
}
