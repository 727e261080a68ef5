package credential

import (
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/authsvc/authsvc/internal/oauth"
)

// User is a resource owner who logs in with the password grant.
type User struct {
	Username     string   `yaml:"username"`
	PasswordHash string   `yaml:"password_hash"`
	Scopes       []string `yaml:"scopes"`
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
// secret.
type Client struct {
	ClientID   string   `yaml:"client_id"`
	SecretHash string   `yaml:"client_secret_hash"`
	GrantTypes []string `yaml:"grant_types"` // password, client_credentials, refresh_token
	Scopes     []string `yaml:"scopes"`
	Introspect bool     `yaml:"introspect"`
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
	return fmt.Sprintf("{ClientID:%q GrantTypes:%q Scopes:%q Introspect:%t Admin:%t DPoPBound:%t}",
		c.ClientID, c.GrantTypes, c.Scopes, c.Introspect, c.Admin, c.DPoPBound)
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
func (s *Set) AuthenticateUser(username string, password []byte) (User, bool) {
	if s == nil || s.userDummy == nil || len(username) > oauth.MaxNameLen ||
		len(password) == 0 || len(password) > oauth.MaxPasswordLen {
		return User{}, false
	}
	e, found := s.users[username]
	h := s.userDummy
	if found {
		h = e.hash
	}
	match := s.verify(h, password)
	if !found || !match {
		return User{}, false
	}
	return e.user.clone(), true
}

// AuthenticateClient returns the client clientID when secret matches its
// secret hash, taking the same care as AuthenticateUser: an unknown client
// id is verified against a dummy hash with the settings most clients have.
// An empty secret, a secret over oauth.MaxPasswordLen bytes or a client id over
// oauth.MaxNameLen bytes is refused at once.
func (s *Set) AuthenticateClient(clientID string, secret []byte) (Client, bool) {
	if s == nil || s.clientDummy == nil || len(clientID) > oauth.MaxNameLen ||
		len(secret) == 0 || len(secret) > oauth.MaxPasswordLen {
		return Client{}, false
	}
	e, found := s.clients[clientID]
	h := s.clientDummy
	if found {
		h = e.hash
	}
	match := s.verify(h, secret)
	if !found || !match {
		return Client{}, false
	}
	return e.client.clone(), true
}

func (s *Set) verify(h *parsedHash, password []byte) bool {
	if s.onVerify != nil {
		s.onVerify(h)
	}
	ok, err := h.verify(password, s.gate)
	return err == nil && ok
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

// User returns the user username without authenticating it, for example to
// check at a refresh that the user of a session still exists and what it
// may have now.
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

// Len returns the number of users and clients in the set.
func (s *Set) Len() (users, clients int) {
	if s == nil {
		return 0, 0
	}
	return len(s.users), len(s.clients)
}
