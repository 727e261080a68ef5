// Package auth holds authsvc's token rules: who may log in, what scope they
// get, how a refresh token rotates, how reuse is detected and answered, and
// what revocation does. It knows nothing of HTTP; the handler package turns
// its results and errors into responses.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/audit"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/oauth"
	"github.com/authsvc/authsvc/internal/store"
)

// Config holds the token lifetimes and limits.
type Config struct {
	AccessTTL     time.Duration // ACCESS_TOKEN_TTL
	RefreshTTL    time.Duration // REFRESH_TOKEN_TTL
	SessionMaxTTL time.Duration // SESSION_MAX_TTL, counted from the login
	ReuseGrace    time.Duration // REFRESH_REUSE_GRACE, 0 = off
	// ClockSkew is the verification leeway (CLOCK_SKEW): a revoked access
	// token stays denylisted that long past its exp, since verifiers still
	// accept it until then.
	ClockSkew time.Duration
	// LoginFailuresMax failed attempts per (name, address) within
	// LoginFailuresWindow lock that pair out; 0 disables the limit.
	LoginFailuresMax    int
	LoginFailuresWindow time.Duration
	// LoginFailuresMaxPerAddress failed checks from one address within
	// LoginFailuresWindow, over every name, lock that address out of the
	// password and client_credentials grants; 0 disables this limit (the
	// MaxNamesPerAddress bound stays).
	LoginFailuresMaxPerAddress int
	// HashQueueTimeout bounds the wait for a slow-hash slot
	// (HASH_QUEUE_TIMEOUT); 0 waits as long as the client does.
	HashQueueTimeout time.Duration
	// NameKey keys the hashes that failure counters and audit events keep
	// instead of unknown names; every replica must use the same. Empty
	// means a random key for this process.
	NameKey []byte
	// MaxSessionsPerSubject caps a subject's live sessions: a login beyond
	// it ends the oldest (MAX_SESSIONS_PER_SUBJECT); 0 = no cap.
	MaxSessionsPerSubject int
}

// Service applies the token rules. It is safe for concurrent use.
type Service struct {
	cfg   Config
	iss   *issuer.Issuer
	store store.Store
	// creds is the credentials in force; a reload swaps it (SetCredentials).
	creds  atomic.Pointer[credential.Set]
	authn  UserAuthenticator // nil: only the credentials file
	now    func() time.Time
	log    *slog.Logger
	events func(audit.Event)
	// activity tells the slow-hash gate of work other than a password check.
	activity func()
	// attempts bounds the concurrent password checks per failure key.
	attempts attempts
	// nameKey is cfg.NameKey, or a random key.
	nameKey []byte
	// feed answers reads of the revocation feed; nil: the store directly.
	feed FeedReader
	// dpop checks DPoP proofs (RFC 9449); its Checker is always set.
	dpop DPoPConfig
}

// Deps are the parts a Service is built from.
type Deps struct {
	Issuer      *issuer.Issuer
	Store       store.Store
	Credentials *credential.Set
	// Authenticator, when set, checks the password grants of usernames
	// that are not in Credentials (USER_AUTHENTICATOR_URL).
	Authenticator UserAuthenticator
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives audit events; nil discards them.
	Log *slog.Logger
	// OnEvent, when set, is called with every audit event (metrics count them).
	OnEvent func(audit.Event)
	// Feed, when set, answers reads of the revocation feed and lets them
	// wait for news; nil reads the store and never waits.
	Feed FeedReader
	// DPoP configures DPoP proofs at the token endpoints.
	DPoP DPoPConfig
	// OnActivity, when set, is called at the start of every refresh,
	// revocation and introspection: work other than a password check. The
	// service wires it to the slow-hash gate (credential.Gate.NoteActivity),
	// which then keeps half the CPUs free of password hashing.
	OnActivity func()
}

// New returns a Service.
func New(cfg Config, d Deps) *Service {
	s := &Service{cfg: cfg, iss: d.Issuer, store: d.Store,
		authn: d.Authenticator, now: d.Now, log: d.Log, events: d.OnEvent, feed: d.Feed, activity: d.OnActivity}
	s.SetCredentials(d.Credentials)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.nameKey = cfg.NameKey
	if len(s.nameKey) == 0 {
		s.nameKey = make([]byte, 32)
		_, _ = rand.Read(s.nameKey) // crypto/rand.Read never fails
	}
	if s.activity == nil {
		s.activity = func() {}
	}
	s.dpop = d.DPoP
	if s.dpop.Checker == nil {
		c, err := dpop.NewChecker(dpop.Options{Leeway: cfg.ClockSkew, Now: s.now})
		if err != nil {
			panic("auth: default DPoP checker: " + err.Error()) // the defaults are valid
		}
		s.dpop.Checker = c
	}
	return s
}

// SetCredentials puts set in force for every request that starts after the
// call (a reload of CREDENTIALS_FILE). Requests already running finish with
// the set they began with where they read it once. The issuer is told the
// clients' audiences first, so a token issued for a new audience verifies.
func (s *Service) SetCredentials(set *credential.Set) {
	if s.iss != nil {
		s.iss.AcceptAudiences(set.Audiences())
	}
	s.creds.Store(set)
}

// Credentials returns the credentials in force.
func (s *Service) Credentials() *credential.Set { return s.creds.Load() }

// ClientAuth is the client authentication a request presented (RFC 6749
// §2.3.1), by HTTP Basic or in the body. An empty Secret means the client_id
// was sent alone, which only a public client may do.
type ClientAuth struct {
	ID     string
	Secret string
}

// Meta describes where a request came from, for limits and audit.
type Meta struct {
	// Addr is the client address (after trusted-proxy resolution).
	Addr string
	// RequestID correlates audit events with the request log line.
	RequestID string
	// DPoP is the request's DPoP input, for the token endpoints.
	DPoP DPoPInput
}

// TokenSet is what a successful grant returns (RFC 6749 §5.1).
type TokenSet struct {
	AccessToken      string
	ExpiresIn        time.Duration
	RefreshToken     string // empty for client_credentials
	RefreshExpiresIn time.Duration
	Scope            string
	// DPoP is true when the access token is bound to a DPoP key
	// (token_type DPoP, RFC 9449 §5).
	DPoP bool
}

// PasswordRequest is a resource owner password credentials grant (RFC 6749 §4.3).
type PasswordRequest struct {
	Username string
	Password string
	Scope    string
	Client   *ClientAuth // optional
	// Resource is the RFC 8707 resource indicator, empty for none.
	Resource string
}

// Password authenticates a user and starts a new session. A username that
// is not in the credentials file is checked by the user authenticator when
// one is configured.
func (s *Service) Password(ctx context.Context, req PasswordRequest, m Meta) (*TokenSet, error) {
	jkt, err := s.checkProof(ctx, m.DPoP)
	if err != nil {
		return nil, err
	}
	var client *credential.Client
	if req.Client != nil {
		c, err := s.authenticateClientOrPublic(ctx, *req.Client, true, m)
		if err != nil {
			return nil, err
		}
		if !c.Allows(oauth.GrantPassword) {
			return nil, newError(UnauthorizedClient, "the client may not use the password grant")
		}
		if err := requireProof(c.DPoPBound, jkt); err != nil {
			return nil, err
		}
		client = &c
	}
	pol := s.policyFor(client)
	aud, err := s.target(pol, req.Resource)
	if err != nil {
		return nil, err
	}
	user, ok, err := s.checkUser(ctx, req, client, m)
	if err != nil {
		return nil, err
	}
	if !ok {
		e := audit.Event{Name: audit.EventLoginFailed, Client: clientID(client), Addr: m.Addr, RequestID: m.RequestID}
		s.setName(&e, kindUser, req.Username)
		s.emit(e)
		return nil, newError(InvalidGrant, errBadCredentials)
	}
	allowed := user.scopes
	if client != nil {
		allowed = intersect(user.scopes, client.Scopes)
	}
	scope, err := grantScope(req.Scope, allowed)
	if err != nil {
		return nil, err
	}

	now := s.now()
	sess := store.Session{
		Subject:      user.subject,
		ClientID:     clientID(client),
		Scope:        scope,
		AuthTime:     now,
		MaxExpiresAt: now.Add(s.cfg.SessionMaxTTL),
		JKT:          jkt,
		Origin:       user.origin,
	}
	if sess.ID, err = s.newSessionID(sess.Subject); err != nil {
		return nil, err
	}
	first, err := s.nextToken(sess, scope, jkt, now, pol)
	if err != nil {
		return nil, err
	}
	x := tokenExtras{audience: aud, accessClaims: user.claims.Merge(pol.claims), origin: user.origin}
	if user.origin == issuer.OriginAuthenticator {
		x.userClaims = user.claims
	}
	set, err := s.mint(sess, first, now, x)
	if err != nil {
		return nil, err
	}
	// The tokens are handed out only once their record is stored.
	if err := s.createSession(ctx, sess, first, now, m); err != nil {
		return nil, err
	}
	s.emit(audit.Event{Name: audit.EventLogin, Grant: oauth.GrantPassword, Subject: sess.Subject, Client: sess.ClientID, Addr: m.Addr, RequestID: m.RequestID})
	return set, nil
}

// ClientCredentials issues an access token to an authenticated client (RFC
// 6749 §4.4). No refresh token is issued.
func (s *Service) ClientCredentials(ctx context.Context, ca *ClientAuth, scopeParam string, m Meta) (*TokenSet, error) {
	return s.ClientCredentialsFor(ctx, ClientCredentialsRequest{Client: ca, Scope: scopeParam}, m)
}

// ClientCredentialsRequest is a client credentials grant (RFC 6749 §4.4).
type ClientCredentialsRequest struct {
	Client *ClientAuth // required; a public client is refused
	Scope  string
	// Resource is the RFC 8707 resource indicator, empty for none.
	Resource string
}

// ClientCredentialsFor is ClientCredentials with every parameter of the
// request, the resource indicator included.
func (s *Service) ClientCredentialsFor(ctx context.Context, req ClientCredentialsRequest, m Meta) (*TokenSet, error) {
	ca, scopeParam := req.Client, req.Scope
	if ca == nil {
		return nil, newError(InvalidClient, "client authentication is required")
	}
	jkt, err := s.checkProof(ctx, m.DPoP)
	if err != nil {
		return nil, err
	}
	c, err := s.authenticateClient(ctx, *ca, true, m)
	if err != nil {
		return nil, err
	}
	if !c.Allows(oauth.GrantClientCredentials) {
		return nil, newError(UnauthorizedClient, "the client may not use the client_credentials grant")
	}
	if err := requireProof(c.DPoPBound, jkt); err != nil {
		return nil, err
	}
	pol := s.policyFor(&c)
	aud, err := s.target(pol, req.Resource)
	if err != nil {
		return nil, err
	}
	scope, err := grantScope(scopeParam, c.Scopes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	jti, err := s.iss.NewID()
	if err != nil {
		return nil, internal(err)
	}
	at, err := s.iss.SignAccess(issuer.AccessClaims{
		ID: jti, Subject: c.ClientID, ClientID: c.ClientID, Scope: scope,
		IssuedAt: now, ExpiresAt: now.Add(pol.accessTTL), JKT: jkt,
		SignAudience: aud, Claims: pol.claims,
	})
	if err != nil {
		return nil, internal(err)
	}
	s.emit(audit.Event{Name: audit.EventLogin, Grant: oauth.GrantClientCredentials, Subject: c.ClientID, Client: c.ClientID, Addr: m.Addr, RequestID: m.RequestID})
	return &TokenSet{AccessToken: at, ExpiresIn: pol.accessTTL, Scope: scope, DPoP: jkt != ""}, nil
}

// RefreshRequest is a refresh token grant (RFC 6749 §6).
type RefreshRequest struct {
	RefreshToken string
	Scope        string
	Client       *ClientAuth // required when the token is bound to a client
	// Resource is the RFC 8707 resource indicator, empty for none.
	Resource string
}

// Refresh rotates a refresh token (RFC 9700 §4.14.2): the presented token is
// used up, a successor in the same session is returned. Presenting a token
// that was already rotated away revokes the whole session, except the
// immediately previous token inside the ReuseGrace window, which gets the
// very same successor again.
func (s *Service) Refresh(ctx context.Context, req RefreshRequest, m Meta) (*TokenSet, error) {
	s.activity()
	jkt, err := s.checkProof(ctx, m.DPoP)
	if err != nil {
		return nil, err
	}
	var client *credential.Client
	if req.Client != nil {
		c, err := s.authenticateClientOrPublic(ctx, *req.Client, false, m)
		if err != nil {
			// A bound client that is gone from the credentials ends the
			// session (re-check); any other failure leaves it untouched.
			return nil, s.recheckClientGone(ctx, req.RefreshToken, err, m)
		}
		if !c.Allows(oauth.GrantRefreshToken) {
			err := newError(UnauthorizedClient, "the client may not use the refresh_token grant")
			return nil, s.recheckGrantLost(ctx, req.RefreshToken, c.ClientID, err, m)
		}
		client = &c
	}
	rc, err := s.iss.VerifyRefresh(req.RefreshToken)
	if err != nil {
		return nil, &Error{Code: InvalidGrant, Description: errBadRefresh, Err: err}
	}
	if rc.ClientID != "" && client == nil {
		return nil, s.recheckClientGone(ctx, req.RefreshToken,
			newError(InvalidClient, "this refresh token requires client authentication"), m)
	}
	if rc.ClientID != clientID(client) {
		return nil, newError(InvalidGrant, "refresh token was issued to another client")
	}
	// The session's scope as the credentials in force now allow it.
	sessionScope, err := s.recheck(ctx, rc, client, m)
	if err != nil {
		return nil, err
	}
	accessScope := sessionScope
	if req.Scope != "" {
		if accessScope, err = grantScope(req.Scope, strings.Fields(sessionScope)); err != nil {
			return nil, err
		}
	}
	// The bound client's policy as configured now; checked before the
	// rotation, so an invalid_target leaves the presented token unused.
	pol := s.policyFor(client)
	aud, err := s.target(pol, req.Resource)
	if err != nil {
		return nil, err
	}
	x := tokenExtras{audience: aud, origin: rc.Origin}
	x.accessClaims = s.userClaims(rc).Merge(pol.claims)
	if rc.Origin == issuer.OriginAuthenticator {
		x.userClaims = rc.UserClaims
	}

	now := s.now()
	sess := store.Session{
		ID: rc.SessionID, Subject: rc.Subject, ClientID: rc.ClientID, Scope: sessionScope,
		AuthTime: rc.AuthTime, MaxExpiresAt: rc.AuthTime.Add(s.cfg.SessionMaxTTL), Origin: rc.Origin,
	}
	if !now.Before(sess.MaxExpiresAt) {
		return nil, newError(InvalidGrant, "the session has reached its maximum lifetime")
	}
	next, err := s.nextToken(sess, accessScope, jkt, now, pol)
	if err != nil {
		return nil, err
	}
	res, err := s.store.Rotate(ctx, store.RotateRequest{
		SessionID: rc.SessionID, Presented: rc.ID, Next: next, Now: now, Grace: s.cfg.ReuseGrace,
		JKT: jkt, ProofRequired: client != nil && client.DPoPBound,
	})
	switch {
	case errors.Is(err, store.ErrReused):
		s.emit(audit.Event{Name: audit.EventReuseDetected, Subject: rc.Subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID, Session: rc.SessionID})
		if ferr := s.RecordRevocation(ctx, SessionEnded(rc.SessionID, now)); ferr != nil {
			// The family is gone; the feed could not be told. Say so
			// (503), so the failure is seen; a retry finds the family
			// gone.
			return nil, ferr
		}
		return nil, &Error{Code: InvalidGrant, Description: "refresh token was already used; the session is revoked", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return nil, &Error{Code: InvalidGrant, Description: errBadRefresh, Err: err}
	case errors.Is(err, store.ErrKeyMismatch):
		return nil, &Error{Code: InvalidGrant, Description: errDPoPWrongKey, Err: err}
	case errors.Is(err, store.ErrProofRequired):
		return nil, &Error{Code: InvalidDPoPProof, Description: errDPoPRequired, Err: err}
	case err != nil:
		return nil, storeError(err)
	}
	// On a retry inside the grace window res.Current is the successor of the
	// earlier rotation: minting it again yields the identical refresh token
	// (HS256 is deterministic) and an access token with the same claims.
	set, err := s.mint(sess, res.Current, now, x)
	if err != nil {
		return nil, err
	}
	name := audit.EventRefresh
	if res.Retried {
		name = audit.EventRefreshRetry
	}
	s.emit(audit.Event{Name: name, Grant: oauth.GrantRefreshToken, Subject: rc.Subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID, Session: rc.SessionID})
	return set, nil
}

// RevokeRequest is a token revocation request (RFC 7009).
type RevokeRequest struct {
	Token         string
	TokenTypeHint string
	Client        *ClientAuth // optional; required for tokens bound to a client
}

// Revoke ends the session of a refresh token, or denylists an access token
// until it expires. A token that does not verify is ignored (RFC 7009 §2.2):
// the call succeeds and changes nothing.
func (s *Service) Revoke(ctx context.Context, req RevokeRequest, m Meta) error {
	s.activity()
	var client *credential.Client
	if req.Client != nil {
		c, err := s.authenticateClientOrPublic(ctx, *req.Client, false, m)
		if err != nil {
			return err
		}
		client = &c
	}
	tryRefresh := func() (bool, error) {
		rc, err := s.iss.VerifyRefresh(req.Token)
		if err != nil {
			return false, nil
		}
		if err := checkBinding(rc.ClientID, client); err != nil {
			return true, err
		}
		if err := s.store.RevokeSession(ctx, rc.SessionID); err != nil {
			return true, storeError(err)
		}
		if err := s.RecordRevocation(ctx, SessionEnded(rc.SessionID, s.now())); err != nil {
			return true, err
		}
		s.emit(audit.Event{Name: audit.EventRevoke, Subject: rc.Subject, Client: rc.ClientID, Addr: m.Addr, RequestID: m.RequestID, Session: rc.SessionID, TokenType: "refresh_token"})
		return true, nil
	}
	tryAccess := func() (bool, error) {
		ac, err := s.iss.VerifyAccess(req.Token)
		if err != nil {
			return false, nil
		}
		if err := checkBinding(ac.ClientID, client); err != nil {
			return true, err
		}
		if err := s.store.DenyAccessToken(ctx, ac.ID, ac.ExpiresAt.Add(s.cfg.ClockSkew)); err != nil {
			return true, storeError(err)
		}
		if err := s.RecordRevocation(ctx, AccessTokenRevoked(ac.ID, ac.ExpiresAt)); err != nil {
			return true, err
		}
		s.emit(audit.Event{Name: audit.EventRevoke, Subject: ac.Subject, Client: ac.ClientID, Addr: m.Addr, RequestID: m.RequestID, TokenType: "access_token"})
		return true, nil
	}
	order := []func() (bool, error){tryRefresh, tryAccess}
	if req.TokenTypeHint == "access_token" {
		order[0], order[1] = order[1], order[0]
	}
	for _, try := range order {
		if done, err := try(); done {
			return err
		}
	}
	return nil
}

// checkBinding enforces that a token issued to a client is only acted on
// with that client's authentication.
func checkBinding(tokenClient string, client *credential.Client) error {
	if tokenClient != "" && tokenClient != clientID(client) {
		return newError(InvalidClient, "the token was issued to another client")
	}
	return nil
}

// AuthenticateClient checks a client's credentials, counting failures
// against the brute-force limit. A public client is refused (it has no
// secret to prove who it is): this is the check for client_credentials,
// introspection and every endpoint a public client may not use.
func (s *Service) AuthenticateClient(ctx context.Context, ca ClientAuth, m Meta) (credential.Client, error) {
	return s.authenticateClient(ctx, ca, false, m)
}

// AuthenticateClientOrPublic is AuthenticateClient for the endpoints a
// public client may also use: a public client's client_id sent alone
// identifies it; a secret sent for it is invalid_client.
func (s *Service) AuthenticateClientOrPublic(ctx context.Context, ca ClientAuth, m Meta) (credential.Client, error) {
	return s.authenticateClientOrPublic(ctx, ca, false, m)
}

// authenticateClient checks a client's credentials under the brute-force
// limits; grant is true for the password and client_credentials grants.
func (s *Service) authenticateClient(ctx context.Context, ca ClientAuth, grant bool, m Meta) (credential.Client, error) {
	if c, ok := s.creds.Load().Client(ca.ID); ok && c.Public {
		s.emit(audit.Event{Name: audit.EventClientAuthFailed, Client: ca.ID, Addr: m.Addr, RequestID: m.RequestID})
		return credential.Client{}, newError(InvalidClient, "a public client may not use this endpoint or grant")
	}
	var (
		c   credential.Client
		ok  bool
		err error
	)
	if set := s.creds.Load(); set.GeneratedSecret(ca.ID) {
		// A generated 256-bit secret cannot be guessed, so a right one
		// skips the brute-force limits and their store round trip; a
		// wrong one is counted like any other failure.
		ok, err = s.generatedSecret(ctx, set, &c, ca, m)
	} else {
		ok, err = s.checked(ctx, kindClient, ca.ID, grant, m, func(ctx context.Context) (ok bool, err error) {
			c, ok, err = set.AuthenticateClient(ctx, ca.ID, []byte(ca.Secret))
			return ok, err
		})
	}
	if err != nil {
		return credential.Client{}, err
	}
	if !ok {
		e := audit.Event{Name: audit.EventClientAuthFailed, Addr: m.Addr, RequestID: m.RequestID}
		s.setName(&e, kindClient, ca.ID)
		s.emit(e)
		return credential.Client{}, newError(InvalidClient, errBadClient)
	}
	return c, nil
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// nextToken prepares the claims of a new refresh token and its access token.
// The refresh token lives REFRESH_TOKEN_TTL (or the client's
// refresh_token_ttl), but never past the session's absolute limit.
func (s *Service) nextToken(sess store.Session, accessScope, accessJKT string, now time.Time, pol policy) (store.Token, error) {
	rid, err := s.iss.NewID()
	if err != nil {
		return store.Token{}, internal(err)
	}
	aid, err := s.iss.NewID()
	if err != nil {
		return store.Token{}, internal(err)
	}
	exp := now.Add(pol.refreshTTL)
	if exp.After(sess.MaxExpiresAt) {
		exp = sess.MaxExpiresAt
	}
	// JWT times have one-second resolution; the stored claims must mint the
	// same token again, so they are truncated the same way.
	now = now.Truncate(time.Second)
	return store.Token{
		ID: rid, IssuedAt: now, ExpiresAt: exp.Truncate(time.Second),
		AccessID: aid, AccessIssuedAt: now, AccessExpiresAt: now.Add(pol.accessTTL), AccessScope: accessScope,
		AccessJKT: accessJKT,
	}, nil
}

// mint signs the access and refresh tokens described by t. The lifetimes
// it reports count from now in whole seconds, like the tokens' own times.
func (s *Service) mint(sess store.Session, t store.Token, now time.Time, x tokenExtras) (*TokenSet, error) {
	now = now.Truncate(time.Second)
	at, err := s.iss.SignAccess(issuer.AccessClaims{
		ID: t.AccessID, Subject: sess.Subject, ClientID: sess.ClientID, Scope: t.AccessScope,
		SessionID: sess.ID, IssuedAt: t.AccessIssuedAt, ExpiresAt: t.AccessExpiresAt, JKT: t.AccessJKT,
		SignAudience: x.audience, Claims: x.accessClaims,
	})
	if err != nil {
		return nil, internal(err)
	}
	rt, err := s.iss.SignRefresh(issuer.RefreshClaims{
		ID: t.ID, SessionID: sess.ID, Subject: sess.Subject, ClientID: sess.ClientID, Scope: sess.Scope,
		AuthTime: sess.AuthTime, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
		Origin: x.origin, UserClaims: x.userClaims,
	})
	if err != nil {
		return nil, internal(err)
	}
	return &TokenSet{
		AccessToken:      at,
		ExpiresIn:        positive(t.AccessExpiresAt.Sub(now)),
		RefreshToken:     rt,
		RefreshExpiresIn: positive(t.ExpiresAt.Sub(now)),
		Scope:            t.AccessScope,
		DPoP:             t.AccessJKT != "",
	}, nil
}

func positive(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

// storeError maps a store error: unavailable (and a request whose client
// went away meanwhile, which nobody will read) is 503, anything else 500.
func storeError(err error) error {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return unavailable(err)
	case errors.Is(err, context.Canceled):
		return gone(err)
	}
	return internal(err)
}

func clientID(c *credential.Client) string {
	if c == nil {
		return ""
	}
	return c.ClientID
}
