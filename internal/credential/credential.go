package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/authsvc/authsvc/internal/claims"
	"github.com/authsvc/authsvc/internal/oauth"
)

// User is a resource owner who logs in with the password grant.
type User struct {
	Username     string   `yaml:"username"`
	PasswordHash string   `yaml:"password_hash"`
	Scopes       []string `yaml:"scopes"`
	// Claims go into every access token issued to the user.
	Claims claims.Set `yaml:"-"`
}

// String describes the user without the password hash, so a stray %v
// cannot leak it.
func (u User) String() string {
	return fmt.Sprintf("{Username:%q Scopes:%q}", u.Username, u.Scopes)
}

// GoString is String, for %#v.
func (u User) GoString() string { return "credential.User" + u.String() }

// LogValue logs the user without the password hash.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", u.Username), slog.Any("scopes", u.Scopes))
}

// Client is an OAuth client (RFC 6749 §2) that authenticates with a client
// secret, or a public client that has none.
type Client struct {
	ClientID   string   `yaml:"client_id"`
	SecretHash string   `yaml:"client_secret_hash"`
	GrantTypes []string `yaml:"grant_types"` // password, client_credentials, refresh_token
	Scopes     []string `yaml:"scopes"`
	Introspect bool     `yaml:"introspect"`
	// Public marks a client without a secret (a mobile or single-page app,
	// RFC 6749 §2.1): it identifies itself by client_id alone.
	Public bool `yaml:"public"`
	// Audience, when set, replaces JWT_AUDIENCE in the client's access tokens.
	Audience []string `yaml:"audience"`
	// AccessTokenTTL and RefreshTokenTTL, when not zero, replace the global
	// lifetimes for the client's tokens.
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	// Claims go into every access token issued to the client; on a name
	// the user's claims also set, the client's value wins.
	Claims claims.Set `yaml:"-"`
	// Admin lets the client call the admin API (ADMIN_ADDR).
	Admin bool `yaml:"admin"`
	// DPoPBound requires a DPoP proof on every token request of the client
	// (RFC 9449 §5.2, dpop_bound_access_tokens).
	DPoPBound bool `yaml:"dpop_bound_access_tokens"`
}

// Allows reports whether the client may use grantType (one of oauth.GrantPassword,
// oauth.GrantClientCredentials, oauth.GrantRefreshToken).
func (c Client) Allows(grantType string) bool {
	return slices.Contains(c.GrantTypes, grantType)
}

// String describes the client without the secret hash, so a stray %v
// cannot leak it.
func (c Client) String() string {
	return fmt.Sprintf("{ClientID:%q GrantTypes:%q Scopes:%q Introspect:%t Admin:%t Public:%t DPoPBound:%t}",
		c.ClientID, c.GrantTypes, c.Scopes, c.Introspect, c.Admin, c.Public, c.DPoPBound)
}

// GoString is String, for %#v.
func (c Client) GoString() string { return "credential.Client" + c.String() }

// LogValue logs the client without the secret hash.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.Any("grant_types", c.GrantTypes),
		slog.Any("scopes", c.Scopes),
		slog.Bool("introspect", c.Introspect),
		slog.Bool("public", c.Public),
		slog.Bool("admin", c.Admin),
	)
}

func (u User) clone() User {
	u.Scopes = slices.Clone(u.Scopes)
	return u
}

func (c Client) clone() Client {
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	c.Audience = slices.Clone(c.Audience)
	return c
}

type userEntry struct {
	user User
	hash *parsedHash
}

type clientEntry struct {
	client Client
	hash   *parsedHash
}

// Set is the users and clients of one credentials file. It is built by
// Parse or Load, never changes afterwards and is safe for concurrent use.
// The zero Set holds nobody and authenticates nobody.
type Set struct {
	users   map[string]userEntry
	clients map[string]clientEntry
	scopes  []string
	// audiences is the sorted union of the clients' audiences; public
	// tells whether any client is public.
	audiences []string
	public    bool

	// Dummy hashes verified for unknown names, with their encoded forms.
	userDummy, clientDummy               *parsedHash
	userDummyEncoded, clientDummyEncoded string

	// gate admits the slow hash verifications; nil admits them at once.
	gate *Gate

	// onVerify, when set (by tests only, before any concurrent use), is
	// called with every hash an authentication verifies.
	onVerify func(*parsedHash)
}

// Option configures Parse, Load and Verify.
type Option func(*options)

type options struct {
	gate *Gate
}

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithGate makes bcrypt and argon2id verifications wait for g (the service
// passes the one gate it builds at start-up). Without it they are not gated.
func WithGate(g *Gate) Option {
	return func(o *options) { o.gate = g }
}

// Load reads and parses the credentials file at path; see Parse. Its errors
// name the path, never the file's contents.
func Load(path string, opts ...Option) (*Set, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read credentials file: %w", err)
	}
	s, warnings, err := Parse(data, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return s, warnings, nil
}

// AuthenticateUser returns the user named username when password matches
// the user's hash. Whether the name exists or not, it verifies one real
// hash, so the time taken does not reveal existence: an unknown name is
// verified against a dummy hash with the settings most users have. An empty
// password, a password over oauth.MaxPasswordLen bytes or a username over
// oauth.MaxNameLen bytes is refused at once without hashing (the HTTP layer
// refuses such values earlier).
//
// A slow hash waits for a slot of the slow-hash gate while ctx allows. The
// error is not nil only when nothing was verified: ErrQueueTimeout when
// ctx's deadline passed first, ctx's error when it was cancelled.
func (s *Set) AuthenticateUser(ctx context.Context, username string, password []byte) (User, bool, error) {
	if s == nil || s.userDummy == nil || len(username) > oauth.MaxNameLen ||
		len(password) == 0 || len(password) > oauth.MaxPasswordLen {
		return User{}, false, nil
	}
	e, found := s.users[username]
	h := s.userDummy
	if found {
		h = e.hash
	}
	match, err := s.verify(ctx, h, password)
	if err != nil || !found || !match {
		return User{}, false, err
	}
	return e.user.clone(), true, nil
}

// AuthenticateClient returns the client clientID when secret matches its
// secret hash, taking the same care as AuthenticateUser: an unknown client
// id is verified against a dummy hash with the settings most clients have.
// An empty secret, a secret over oauth.MaxPasswordLen bytes or a client id over
// oauth.MaxNameLen bytes is refused at once. The error is as for
// AuthenticateUser.
func (s *Set) AuthenticateClient(ctx context.Context, clientID string, secret []byte) (Client, bool, error) {
	if s == nil || s.clientDummy == nil || len(clientID) > oauth.MaxNameLen ||
		len(secret) == 0 || len(secret) > oauth.MaxPasswordLen {
		return Client{}, false, nil
	}
	e, found := s.clients[clientID]
	if found && e.client.Public {
		// A public client has no secret to check; one sent for it is
		// refused (the caller decides what a public client may do).
		return Client{}, false, nil
	}
	h := s.clientDummy
	if found {
		h = e.hash
	}
	match, err := s.verify(ctx, h, secret)
	if err != nil || !found || !match {
		return Client{}, false, err
	}
	return e.client.clone(), true, nil
}

// GeneratedSecret reports whether clientID is a confidential client whose
// secret hash is the fast form `authsvc gen-client-secret` writes for a
// 256-bit random secret. Guessing such a secret is hopeless, so the
// brute-force limits need not guard a right one (a wrong one is still
// counted by the caller).
func (s *Set) GeneratedSecret(clientID string) bool {
	if s == nil {
		return false
	}
	e, ok := s.clients[clientID]
	return ok && !e.client.Public && e.hash != nil && e.hash.kind == kindSHA256
}

// verify checks password against h. A hash that cannot be verified is a
// mismatch; only the gate's errors (nothing verified) are returned.
func (s *Set) verify(ctx context.Context, h *parsedHash, password []byte) (bool, error) {
	if s.onVerify != nil {
		s.onVerify(h)
	}
	ok, err := h.verify(ctx, password, s.gate)
	if err != nil && !errors.Is(err, ErrInvalidHash) {
		return false, err
	}
	return err == nil && ok, nil
}

// Client returns the client clientID without authenticating it, for
// example to check what a token's client may do.
func (s *Set) Client(clientID string) (Client, bool) {
	if s == nil {
		return Client{}, false
	}
	e, ok := s.clients[clientID]
	if !ok {
		return Client{}, false
	}
	return e.client.clone(), true
}

// Scopes returns the sorted union of the scopes of all users and clients,
// for the scopes_supported discovery metadata (RFC 8414). The caller may
// modify the returned slice.
func (s *Set) Scopes() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.scopes)
}

// HasUser reports whether username is a user of the file. A password grant
// for any other name goes to the user authenticator when one is configured.
func (s *Set) HasUser(username string) bool {
	if s == nil {
		return false
	}
	_, ok := s.users[username]
	return ok
}

// User returns the user username without authenticating it, for example to
// check at a refresh that the user of a session still exists, what it may
// have now and its current claims.
func (s *Set) User(username string) (User, bool) {
	if s == nil {
		return User{}, false
	}
	e, ok := s.users[username]
	if !ok {
		return User{}, false
	}
	return e.user.clone(), true
}

// HasPublicClients reports whether any client is public, so that the
// discovery metadata lists the "none" authentication method.
func (s *Set) HasPublicClients() bool { return s != nil && s.public }

// Audiences returns the sorted union of the clients' audience lists: the
// values access tokens may carry besides JWT_AUDIENCE. The caller may modify
// the returned slice.
func (s *Set) Audiences() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.audiences)
}

// Limits are the global lifetimes a client's own lifetimes are checked
// against (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, SESSION_MAX_TTL).
type Limits struct {
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxTTL time.Duration
}

// CheckLimits checks the clients' lifetimes against the global ones: an
// access_token_ttl above AccessTTL (the revocation feed and previous keys
// are kept only that long), a refresh_token_ttl above SessionMaxTTL, or an
// access lifetime not below the refresh lifetime the client ends up with
// is an error. It reports every problem at once, naming the client.
func (s *Set) CheckLimits(l Limits) error {
	if s == nil {
		return nil
	}
	ids := make([]string, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		c := s.clients[id].client
		access, refresh := l.AccessTTL, l.RefreshTTL
		if c.AccessTokenTTL > 0 {
			access = c.AccessTokenTTL
			if c.AccessTokenTTL > l.AccessTTL {
				errs = append(errs, fmt.Errorf("clients %q: access_token_ttl %s is above ACCESS_TOKEN_TTL (%s)", id, c.AccessTokenTTL, l.AccessTTL))
			}
		}
		if c.RefreshTokenTTL > 0 {
			refresh = c.RefreshTokenTTL
			if c.RefreshTokenTTL > l.SessionMaxTTL {
				errs = append(errs, fmt.Errorf("clients %q: refresh_token_ttl %s is above SESSION_MAX_TTL (%s)", id, c.RefreshTokenTTL, l.SessionMaxTTL))
			}
		}
		if (c.AccessTokenTTL > 0 || c.RefreshTokenTTL > 0) && access >= refresh {
			errs = append(errs, fmt.Errorf("clients %q: the access token lifetime (%s) must be below the refresh token lifetime (%s)", id, access, refresh))
		}
	}
	return errors.Join(errs...)
}

// Len returns the number of users and clients in the set.
func (s *Set) Len() (users, clients int) {
	if s == nil {
		return 0, 0
	}
	return len(s.users), len(s.clients)
}
