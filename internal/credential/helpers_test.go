package credential

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// mustBcrypt returns a bcrypt hash of password with the given cost.
func mustBcrypt(tb testing.TB, password string, cost int) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		tb.Fatalf("bcrypt: %v", err)
	}
	return string(h)
}

// mustArgon2id returns an argon2id PHC hash of password with the given
// settings, a 16-byte salt and a 32-byte key.
func mustArgon2id(tb testing.TB, password string, memory, time uint32, threads uint8) string {
	tb.Helper()
	h, err := newHash(hashParams{
		kind: kindArgon2id, memory: memory, time: time, threads: threads, saltLen: 16, keyLen: 32,
	}, []byte(password))
	if err != nil {
		tb.Fatalf("argon2id: %v", err)
	}
	return h
}

// mustSecret returns a new client secret and its hash.
func mustSecret(tb testing.TB) (secret, hash string) {
	tb.Helper()
	secret, hash, err := GenerateClientSecret()
	if err != nil {
		tb.Fatalf("GenerateClientSecret: %v", err)
	}
	return secret, hash
}

// mustParse parses a credentials file that must be valid.
func mustParse(tb testing.TB, data string) (*Set, []string) {
	tb.Helper()
	s, warnings, err := Parse([]byte(data))
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return s, warnings
}

// problems returns the individual problems of a Parse error.
func problems(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// assertNoHash fails when msg contains any part of a hash.
func assertNoHash(tb testing.TB, msg string, hashes ...string) {
	tb.Helper()
	for _, h := range hashes {
		if h == "" {
			continue
		}
		// The last segment is the digest; any 12 characters of it would do.
		parts := strings.Split(h, "$")
		tail := parts[len(parts)-1]
		if len(tail) > 12 {
			tail = tail[len(tail)-12:]
		}
		if strings.Contains(msg, h) || (tail != "" && strings.Contains(msg, tail)) {
			tb.Errorf("message reveals a hash: %s", msg)
		}
	}
}

// yamlQuote quotes s for a double-quoted YAML or JSON string.
func yamlQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// authUser is AuthenticateUser without a deadline, whose gate never gives
// up.
func authUser(s *Set, name string, pw []byte) (User, bool) {
	u, ok, err := s.AuthenticateUser(context.Background(), name, pw)
	if err != nil {
		panic(err)
	}
	return u, ok
}

// authClient is AuthenticateClient without a deadline.
func authClient(s *Set, id string, secret []byte) (Client, bool) {
	c, ok, err := s.AuthenticateClient(context.Background(), id, secret)
	if err != nil {
		panic(err)
	}
	return c, ok
}
