package issuer

import (
	"crypto/hmac"
	"fmt"
)

// MinSecretLen is the shortest HMAC key accepted, in bytes (RFC 7518 §3.2:
// at least the hash output size, 32 bytes for HS256).
const MinSecretLen = 32

// Rule is one of the rules of a Config's settings that Config.Problems
// checks.
type Rule int

// The rules of Config.Problems.
const (
	// RuleTooShort: an HMAC key (Secret, RefreshSecret when set, an entry
	// of PreviousSecrets or PreviousRefreshSecrets) of fewer than
	// MinSecretLen bytes. Problem.Got is its length; an absent Secret has
	// Got 0.
	RuleTooShort Rule = iota + 1
	// RuleReusesAccessKey: a refresh-token key (RefreshSecret or an entry
	// of PreviousRefreshSecrets) equal to Secret or to an entry of
	// PreviousSecrets, keys every resource server holds. Problem.Other
	// names the first key it equals.
	RuleReusesAccessKey
	// RuleRequired: Issuer or Audience is empty.
	RuleRequired
	// RuleEmptyEntry: an entry of Audience is empty.
	RuleEmptyEntry
	// RuleNegative: Leeway is negative.
	RuleNegative
	// RuleUnknownAlgorithm: Algorithm is none of HS256, RS256, ES256,
	// EdDSA (the names are case-sensitive).
	RuleUnknownAlgorithm
	// RuleNotForHS256: PrivateKey, PreviousPublicKeys or Keys is given with
	// HS256, whose keys are Secret and PreviousSecrets. For Keys the
	// problem wraps ErrKeySet.
	RuleNotForHS256
	// RuleBothKeySources: PrivateKey and Keys are both given (Problem.Env
	// is JWT_KEYS_FILE, Problem.Other JWT_PRIVATE_KEY_FILE). It wraps
	// ErrKeySet.
	RuleBothKeySources
	// RuleNoKeySource: neither PrivateKey nor Keys is given for RS256,
	// ES256 or EdDSA (Problem.Env is JWT_PRIVATE_KEY_FILE, Problem.Other
	// JWT_KEYS_FILE).
	RuleNoKeySource
)

// Problem is one broken rule of a Config: the facts, so that a caller can
// word it its own way, and, as its Error, the issuer's own sentence. It
// never holds key material: a key is described by its length only. Only
// Config.Problems makes one with its sentence; a Problem built elsewhere
// has an empty Error.
type Problem struct {
	Rule Rule
	// Field is the Config field at fault ("PreviousSecrets") and Env its
	// environment variable ("SECRET_KEY_PREVIOUS").
	Field, Env string
	// Entry is, for a list field, the index of the entry at fault in that
	// field; -1 otherwise.
	Entry int
	// Min and Got are, for RuleTooShort, MinSecretLen and the key's length.
	Min, Got int
	// Other is the other setting a rule between two is about: for
	// RuleReusesAccessKey the key equalled, as Field, Env and Entry.
	Other Setting
	// Algorithm is Config.Algorithm, for the rules about it.
	Algorithm string

	msg  string // the issuer's sentence
	wrap error  // ErrKeySet, or nil
}

// Setting names a setting of a Config: its field, its environment variable
// and, for a list field, the entry (-1 otherwise).
type Setting struct {
	Field, Env string
	Entry      int
}

// Error is the issuer's sentence for p: the field, its variable, the rule.
func (p Problem) Error() string { return p.msg }

// Unwrap returns ErrKeySet for the rules about a key set, nil otherwise.
func (p Problem) Unwrap() error { return p.wrap }

// KeySources says which access-token key sources a Config has, without the
// keys themselves: what Problems needs to know of PrivateKey,
// PreviousPublicKeys and Keys.
type KeySources struct {
	PrivateKey, PreviousPublicKeys, Keys bool
}

// Problems returns every problem of c's settings, in a fixed order: the
// HMAC keys, the claims and clock, the algorithm and which key sources it
// is given. New reports them, and then the problems of the asymmetric keys
// themselves (their types and sizes, the key set's schedule, AccessTTL with
// Keys), which only building the keys finds.
func (c Config) Problems() []Problem {
	return c.ProblemsBeforeKeys(KeySources{
		PrivateKey:         c.PrivateKey != nil,
		PreviousPublicKeys: len(c.PreviousPublicKeys) > 0,
		Keys:               len(c.Keys) > 0,
	})
}

// ProblemsBeforeKeys is Problems for a Config whose asymmetric keys are
// not read yet: given says which sources will be set, and c's PrivateKey,
// PreviousPublicKeys and Keys are not looked at. A caller that reads the
// keys from files checks the rest of the configuration first with it.
func (c Config) ProblemsBeforeKeys(given KeySources) []Problem {
	var ps []Problem
	add := func(p Problem, format string, args ...any) {
		p.msg = fmt.Sprintf(format, args...)
		if p.wrap != nil {
			p.msg += ": " + p.wrap.Error()
		}
		ps = append(ps, p)
	}
	setting := func(field, env string, entry int) Setting { return Setting{Field: field, Env: env, Entry: entry} }
	label := func(s Setting) string {
		if s.Entry >= 0 {
			return fmt.Sprintf("%s[%d] (%s)", s.Field, s.Entry, s.Env)
		}
		return fmt.Sprintf("%s (%s)", s.Field, s.Env)
	}
	at := func(s Setting, r Rule) Problem { return Problem{Rule: r, Field: s.Field, Env: s.Env, Entry: s.Entry} }
	tooShort := func(s Setting, key []byte) {
		if len(key) < MinSecretLen {
			p := at(s, RuleTooShort)
			p.Min, p.Got = MinSecretLen, len(key)
			add(p, "%s must be at least %d bytes", label(s), MinSecretLen)
		}
	}

	// HMAC keys. The access keys, Secret and PreviousSecrets, are held by
	// every resource server under HS256; no refresh-token key may be one.
	access := []Setting{setting("Secret", "SECRET_KEY", -1)}
	tooShort(access[0], c.Secret)
	for n, s := range c.PreviousSecrets {
		access = append(access, setting("PreviousSecrets", "SECRET_KEY_PREVIOUS", n))
		tooShort(access[n+1], s)
	}
	accessKeys := append([][]byte{c.Secret}, c.PreviousSecrets...)
	if len(c.RefreshSecret) > 0 {
		refresh := setting("RefreshSecret", "REFRESH_SECRET_KEY", -1)
		tooShort(refresh, c.RefreshSecret)
		for n, a := range accessKeys {
			if hmac.Equal(c.RefreshSecret, a) {
				p := at(refresh, RuleReusesAccessKey)
				p.Other = access[n]
				add(p, "%s must differ from %s", label(refresh), label(access[n]))
			}
		}
	}
	for n, r := range c.PreviousRefreshSecrets {
		s := setting("PreviousRefreshSecrets", "REFRESH_SECRET_KEY_PREVIOUS", n)
		tooShort(s, r)
		for m, a := range accessKeys {
			if hmac.Equal(r, a) {
				p := at(s, RuleReusesAccessKey)
				p.Other = access[m]
				add(p, "%s must differ from SECRET_KEY and SECRET_KEY_PREVIOUS: resource servers hold those", label(s))
				break // one line per entry
			}
		}
	}

	// Claims and clock.
	if c.Issuer == "" {
		s := setting("Issuer", "JWT_ISSUER", -1)
		add(at(s, RuleRequired), "%s is required", label(s))
	}
	if len(c.Audience) == 0 {
		s := setting("Audience", "JWT_AUDIENCE", -1)
		add(at(s, RuleRequired), "%s is required", label(s))
	}
	for n, a := range c.Audience {
		if a == "" {
			s := setting("Audience", "JWT_AUDIENCE", n)
			add(at(s, RuleEmptyEntry), "%s is empty", label(s))
		}
	}
	if c.Leeway < 0 {
		s := setting("Leeway", "CLOCK_SKEW", -1)
		add(at(s, RuleNegative), "%s must not be negative", label(s))
	}

	// The algorithm and its key sources.
	privateKey := setting("PrivateKey", "JWT_PRIVATE_KEY_FILE", -1)
	keys := setting("Keys", "JWT_KEYS_FILE", -1)
	switch c.Algorithm {
	case algHS256:
		notForHS256 := func(s Setting, wrap error) {
			p := at(s, RuleNotForHS256)
			p.Algorithm, p.wrap = c.Algorithm, wrap
			add(p, "%s must not be set for HS256", label(s))
		}
		if given.PrivateKey {
			notForHS256(privateKey, nil)
		}
		if given.PreviousPublicKeys {
			notForHS256(setting("PreviousPublicKeys", "JWT_PREVIOUS_PUBLIC_KEY_FILES", -1), nil)
		}
		if given.Keys {
			notForHS256(keys, ErrKeySet)
		}
	case algRS256, algES256, algEdDSA:
		switch {
		case given.PrivateKey && given.Keys:
			p := at(keys, RuleBothKeySources)
			p.Other, p.Algorithm, p.wrap = privateKey, c.Algorithm, ErrKeySet
			add(p, "%s and %s cannot both be set", label(privateKey), label(keys))
		case !given.PrivateKey && !given.Keys:
			p := at(privateKey, RuleNoKeySource)
			p.Other, p.Algorithm = keys, c.Algorithm
			add(p, "%s or %s is required for %s", label(privateKey), label(keys), c.Algorithm)
		}
	default:
		s := setting("Algorithm", "JWT_ALGORITHM", -1)
		p := at(s, RuleUnknownAlgorithm)
		p.Algorithm = c.Algorithm
		add(p, "%s must be one of HS256, RS256, ES256, EdDSA", label(s))
	}
	return ps
}
