package auth

import (
	"slices"
	"strings"
)

// Bounds on a requested scope. No real scope comes near them; without them
// an 8 KiB scope of distinct tokens cost milliseconds of comparisons, before
// the refresh token's rotation, on every request.
const (
	// MaxScopeTokens is the most scope tokens a request may name, repeats
	// included.
	MaxScopeTokens = 64
	// MaxScopeTokenLen is the longest scope token, in bytes.
	MaxScopeTokenLen = 128
)

// parseScope splits a space-separated scope parameter (RFC 6749 §3.3) into
// its tokens, dropping repeats and keeping the first-seen order. ok is false
// when a token holds a character RFC 6749 does not allow, is longer than
// MaxScopeTokenLen, or when there are more than MaxScopeTokens tokens.
func parseScope(s string) (tokens []string, ok bool) {
	n := 0
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue
		}
		if n++; n > MaxScopeTokens || len(tok) > MaxScopeTokenLen {
			return nil, false
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
			if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
				return nil, false
			}
		}
		if !slices.Contains(tokens, tok) {
			tokens = append(tokens, tok)
		}
	}
	return tokens, true
}

// grantScope applies the scope rule of docs/api.md: granted = requested ∩ allowed;
// anything requested but not allowed is an invalid_scope error; nothing
// requested grants everything allowed.
func grantScope(requested string, allowed []string) (string, error) {
	req, ok := parseScope(requested)
	if !ok {
		return "", newError(InvalidScope, "scope is malformed or too large")
	}
	if len(req) == 0 {
		return strings.Join(allowed, " "), nil
	}
	for _, s := range req {
		if !slices.Contains(allowed, s) {
			return "", newError(InvalidScope, "requested scope is not allowed")
		}
	}
	return strings.Join(req, " "), nil
}

// intersect returns the members of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	out := make([]string, 0, len(a))
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
