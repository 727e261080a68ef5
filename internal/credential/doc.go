// Package credential holds the users and OAuth clients authsvc knows, reads
// them from the credentials file, and checks passwords and client secrets
// against their stored hashes.
//
// # The credentials file
//
// The file is YAML (JSON, being valid YAML, works too):
//
//	users:
//	  - username: alice
//	    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$…$…"
//	    scopes: [read, write]
//	clients:
//	  - client_id: billing
//	    client_secret_hash: "$sha256$…$…"
//	    grant_types: [client_credentials, password, refresh_token]
//	    scopes: [read]
//	    introspect: false
//
// [Parse] is strict and reports every problem at once, each naming the entry
// (list index, name and line) and never printing a hash: unknown or repeated
// fields, values of the wrong type, YAML aliases, empty or over-long names,
// duplicate usernames or client ids, hashes it cannot parse or whose cost is
// beyond the safety limits, unknown grant types and invalid scope tokens
// (RFC 6749 §3.3).
//
// # Hash formats
//
//   - bcrypt: "$2a$", "$2b$" or "$2y$", cost 4 to 16. bcrypt reads only the
//     first 72 bytes of a password; a longer password never matches a bcrypt
//     hash (it is rejected, not silently truncated).
//   - argon2id in PHC form: "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>"
//     with unpadded standard base64. [Hash] writes m=19456,t=2,p=1 (OWASP),
//     a 16-byte salt and a 32-byte key. Any parameters are accepted up to
//     m = 1 GiB, t = 10, p = 16, an 8..64-byte salt and a 16..128-byte key,
//     so a hostile file cannot make every login allocate gigabytes or run
//     for minutes.
//   - "$sha256$<salt>$<mac>": HMAC-SHA256 keyed by a 16..64-byte salt, for
//     client secrets made by [GenerateClientSecret] only. Those secrets carry
//     256 random bits, so nobody can guess them however fast the hash is and a
//     slow hash would only cost CPU on every client authentication. A user's
//     password is chosen by a person and can be guessed, so a user entry with
//     this hash is a Parse error, and a secret shorter than 32 bytes never
//     matches it.
//
// # Warnings
//
// Parse returns warnings (not errors) for entries whose hash is weaker than
// recommended:
//
//   - bcrypt with a cost below 12;
//   - argon2id whose memory and passes do not both reach those of at least
//     one row of the OWASP Password Storage Cheat Sheet table
//     (m=47104 KiB t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5);
//     lanes (p) are not considered;
//   - argon2id with a salt shorter than 16 bytes.
//
// It also warns when users' hashes use different algorithms or settings
// (unknown usernames are then verified against only one of them, see below)
// and when a client can use no grant type and may not introspect.
//
// # Timing
//
// A failed login must not reveal whether the username exists (RFC 6749
// §5.2 gives both the same invalid_grant; docs/security.md). [Set.AuthenticateUser] therefore verifies every attempt against a real
// hash: the user's own, or, for an unknown username, a dummy hash computed at
// Parse time from a random password with the algorithm and settings most
// users have (ties go to the setting met first in the file). Clients are
// handled the same way. Over-long or empty inputs are refused at once without
// hashing; their length, not the name, decides that, and the HTTP layer
// refuses over-long values earlier with 400.
//
// bcrypt and argon2id verifications pass a [Gate] that the service builds
// once and hands to Parse or Load ([WithGate]): half the CPUs are always
// open to them, all of them while nothing else is being served
// ([Gate.NoteActivity] says when it is), so a flood of logins queues
// instead of starving refreshes; the fast sha256 path does not take it.
//
// A [Set] is immutable once built and safe for concurrent use.
package credential
