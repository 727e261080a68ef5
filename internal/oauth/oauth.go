// Package oauth holds the protocol vocabulary that every layer shares: the
// grant type and token type names of RFC 6749 and RFC 7009, the input
// limits on names and secrets, and what a client address counts as. It has
// no behaviour of its own and imports nothing of authsvc, so the handler,
// the domain (internal/auth), the credentials and the limiter can all agree
// on it without importing one another.
package oauth

import "net/netip"

// Grant types authsvc serves and a client may be allowed (RFC 6749 §4.3,
// §4.4, §6).
const (
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// Token types: the token_type_hint values of RFC 7009 §2.1 and the
// token_type of an introspection answer.
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
)

// Input limits. Longer values are refused before any work is done: the HTTP
// layer answers invalid_request, and authentication refuses them without
// hashing.
const (
	// MaxPasswordLen is the longest password or client secret, in bytes,
	// that authentication accepts and a hash is made of.
	MaxPasswordLen = 1024
	// MaxNameLen is the longest username or client id, in bytes.
	MaxNameLen = 256
)

// AddressKey is what a client address counts as for a limit: an IPv4
// address itself (also when IPv4-mapped), an IPv6 address its /64 (one host
// usually holds a whole /64, so counting per address would let it multiply
// its allowance at will), anything that does not parse as an address as it
// is.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
