package main

import "github.com/authsvc/authsvc/internal/issuer"

// shippedSecrets are the secret values that the project's own files (the
// Makefile, configs/, the README and docs/) show. They are public, so a key
// equal to one of them is no key at all. TestShippedSecrets_AreAllListed
// keeps the list in step with the files.
var shippedSecrets = []string{
	"compose-config-check-only-not-a-real-key-0000", // Makefile compose-config
}

// weakSecret says why v is plainly not a random key, or "" when nothing
// shows that: fewer than issuer.MinSecretLen bytes, one short pattern repeated
// ("changemechangeme…", "aaaa…", "0123456701234567…"), or a value the
// project ships. A random key can be rejected by none of these except by a
// chance far below 2⁻¹²⁸.
func weakSecret(v string) string {
	switch {
	case len(v) < issuer.MinSecretLen:
		return "is shorter than 32 bytes"
	case repeatsPattern(v):
		return "is one short pattern repeated, not a random key"
	}
	for _, s := range shippedSecrets {
		if v == s {
			return "is an example value shipped with authsvc, known to everyone"
		}
	}
	return ""
}

// repeatsPattern reports whether v is a shorter string repeated, at least
// twice (a partial repetition at the end counts): its period is at most
// half its length.
func repeatsPattern(v string) bool {
	for p := 1; p <= len(v)/2; p++ {
		periodic := true
		for i := p; i < len(v); i++ {
			if v[i] != v[i-p] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	return false
}
