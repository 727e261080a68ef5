package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/authenticator"
	"github.com/authsvc/authsvc/internal/claims"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/oauth"
)

// UserAuthenticator checks the password of a user who is not in the
// credentials file (USER_AUTHENTICATOR_URL). Authenticate returns an error
// matching authenticator.ErrRejected for a wrong username or password and
// any other error when it could not decide; it must never put the password
// in an error. *authenticator.Client implements it.
type UserAuthenticator interface {
	Authenticate(ctx context.Context, req authenticator.Request) (authenticator.User, error)
}

// policy is what a client's configuration decides about its tokens: their
// lifetimes, the audiences the access token may carry and the client's
// claims. A grant without a client gets the global policy.
type policy struct {
	accessTTL, refreshTTL time.Duration
	audience              []string // nil: the issuer's JWT_AUDIENCE
	claims                claims.Set
}

// policyFor returns the policy of client c (nil for none).
func (s *Service) policyFor(c *credential.Client) policy {
	p := policy{accessTTL: s.cfg.AccessTTL, refreshTTL: s.cfg.RefreshTTL}
	if c == nil {
		return p
	}
	if c.AccessTokenTTL > 0 {
		p.accessTTL = c.AccessTokenTTL
	}
	if c.RefreshTokenTTL > 0 {
		p.refreshTTL = c.RefreshTokenTTL
	}
	if len(c.Audience) > 0 {
		p.audience = c.Audience
	}
	p.claims = c.Claims
	return p
}

// target applies a resource indicator (RFC 8707 §2): empty keeps the
// policy's audiences; one of them narrows the access token's aud to exactly
// that value; anything else is invalid_target.
func (s *Service) target(p policy, resource string) ([]string, error) {
	if resource == "" {
		return p.audience, nil
	}
	aud := p.audience
	if aud == nil {
		aud = s.iss.Audience()
	}
	if !slices.Contains(aud, resource) {
		return nil, newError(InvalidTarget, "the resource is not an audience this token can be issued for")
	}
	return []string{resource}, nil
}

// tokenExtras are the parts of minted tokens that do not live in the store:
// the access token's audience and custom claims, and the session origin and
// authenticator claims kept in the refresh token.
type tokenExtras struct {
	audience     []string
	accessClaims claims.Set // user claims merged with the client's
	origin       string
	userClaims   claims.Set // kept in the refresh token (authenticator only)
}

// checkUser authenticates a password grant's user: a user of the file by
// its hash, any other name by the user authenticator when one is
// configured. Both count a failure against the brute-force limit; an
// authenticator that gives no usable answer is temporarily_unavailable and
// counts nothing.
func (s *Service) checkUser(ctx context.Context, req PasswordRequest, client *credential.Client, m Meta) (authUser, bool, error) {
	if s.authn == nil || s.creds.Load().HasUser(req.Username) {
		var u credential.User
		ok, err := s.checked(ctx, kindUser, req.Username, true, m, func(ctx context.Context) (ok bool, err error) {
			u, ok, err = s.creds.Load().AuthenticateUser(ctx, req.Username, []byte(req.Password))
			return ok, err
		})
		return authUser{subject: u.Username, scopes: u.Scopes, claims: u.Claims}, ok, err
	}
	var au authenticator.User
	// The authenticator has its own timeout (USER_AUTHENTICATOR_TIMEOUT),
	// not the hash queue's: it gets the request's context.
	ok, err := s.checked(ctx, kindUser, req.Username, true, m, func(context.Context) (bool, error) {
		if req.Password == "" || len(req.Password) > oauth.MaxPasswordLen {
			return false, nil // refused without asking, like a file user
		}
		// Once sent, the check runs to its answer (bounded by
		// USER_AUTHENTICATOR_TIMEOUT) even if the client goes meanwhile,
		// so that a password checked is a password counted.
		var err error
		au, err = s.authn.Authenticate(context.WithoutCancel(ctx), authenticator.Request{
			Username: req.Username, Password: req.Password, ClientID: clientID(client),
		})
		switch {
		case errors.Is(err, authenticator.ErrRejected):
			return false, nil
		case err != nil:
			return false, authenticatorUnavailable(err)
		}
		return true, nil
	})
	if err != nil || !ok {
		return authUser{}, ok, err
	}
	if len(au.Dropped) > 0 {
		s.log.WarnContext(ctx, "user authenticator answer held reserved claim names; they were dropped",
			"claims", au.Dropped, "request_id", m.RequestID)
	}
	return authUser{subject: au.Subject, scopes: au.Scopes, claims: au.Claims, origin: issuer.OriginAuthenticator}, true, nil
}

// authUser is an authenticated user, from the file or the authenticator.
type authUser struct {
	subject string
	scopes  []string
	claims  claims.Set
	origin  string
}

// userClaims returns the claims of a session's user at a refresh: kept in
// the refresh token for an authenticator session, read from the current
// file for a file user.
func (s *Service) userClaims(rc issuer.RefreshClaims) claims.Set {
	if rc.Origin == issuer.OriginAuthenticator {
		return rc.UserClaims
	}
	if u, ok := s.creds.Load().User(rc.Subject); ok {
		return u.Claims
	}
	return claims.Set{}
}

// authenticateClientOrPublic is authenticateClient for the endpoints a
// public client may use (the password and refresh_token grants, /refresh,
// /revoke, /logout-all): a public client identifies itself by client_id
// alone; a secret sent for it is invalid_client.
func (s *Service) authenticateClientOrPublic(ctx context.Context, ca ClientAuth, grant bool, m Meta) (credential.Client, error) {
	if c, ok := s.creds.Load().Client(ca.ID); ok && c.Public {
		if ca.Secret != "" {
			s.emit(audit.Event{Name: audit.EventClientAuthFailed, Client: ca.ID, Addr: m.Addr, RequestID: m.RequestID})
			return credential.Client{}, newError(InvalidClient, "a public client sends its client_id alone, without a secret")
		}
		return c, nil
	}
	return s.authenticateClient(ctx, ca, grant, m)
}
