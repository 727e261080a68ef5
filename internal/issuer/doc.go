// Package issuer holds authsvc's signing keys and is the one place that signs
// and verifies tokens (RFC 9068, RFC 8725; docs/api.md).
//
// An [Issuer] is built once at start-up by [New] from an already parsed
// [Config]: keys are checked and converted, key ids (kid) and the JWKS document
// are computed, and the two JWT parsers are built. After that an Issuer is
// read-only and safe for concurrent use by any number of goroutines.
//
// # Tokens
//
// Access tokens (RFC 9068) are signed with Config.Algorithm (HS256 with
// Config.Secret, or RS256, ES256, EdDSA with Config.PrivateKey). The header is
// {"alg":…,"kid":…,"typ":"at+jwt"}; the claims are, in this order, iss, sub,
// aud, exp, iat, nbf, jti, type ("access"), scope and client_id (the last two
// omitted when empty). aud is a JSON string when exactly one audience is
// configured and an array otherwise (RFC 7519 §4.1.3 allows both).
//
// Refresh tokens are always HS256 with the refresh key, never with the access
// key: Config.RefreshSecret, or, when it is empty, 32 bytes derived from
// Config.Secret with HKDF-SHA256 (info "authsvc refresh-token key v1", no
// salt). The header is {"alg":"HS256","kid":…,"typ":"rt+jwt"}; the claims are
// iss, sub, aud (the issuer itself, so no access-token verifier accepts a
// refresh token), exp, iat, jti, type ("refresh"), sid, scope, client_id and
// auth_time. The encoding is deterministic: signing the same RefreshClaims
// twice gives the same string, which the idempotent-retry rule of /refresh
// relies on.
//
// # Verification
//
// VerifyAccess and VerifyRefresh share one strict path built on golang-jwt v5
// parser options:
//
//   - tokens longer than 64 KiB (the largest request body) are rejected before any parsing;
//   - the algorithm is pinned by configuration (WithValidMethods), so alg
//     "none" and every other algorithm fail, and the key function only ever
//     returns keys of the pinned algorithm's type;
//   - the protected header may contain only alg, typ and kid: jku, x5u, jwk,
//     x5c, crit and anything else are rejected;
//   - typ must be at+jwt (access) or rt+jwt (refresh), optionally with an
//     "application/" prefix, compared case-insensitively (RFC 9068 §4);
//   - kid is required and selects among the configured keys only. A token
//     without kid is rejected: authsvc always writes one, so there is no need
//     to try every key;
//   - exp, iat and jti are required (and nbf for access tokens), iss and aud
//     must match, the "type" claim must match, iat and nbf must not lie in the
//     future, all with Config.Leeway and the injected clock.
//
// Every failure wraps [ErrInvalidToken]; a token whose only defect is its age
// also wraps [ErrExpired]. Error messages name the defect but never contain key
// material or attacker-chosen header values.
//
// # Key rotation
//
// The keys of each kind form an immutable [KeySet] behind an atomic pointer.
// A signature or verification reads the pointer once and uses that snapshot;
// [Issuer.SetKeySet] swaps it (a reloaded JWT_KEYS_FILE, validated whole by
// [Issuer.NewKeySet] first).
//
// With Config.Keys (JWT_KEYS_FILE) the access-token keys follow a schedule,
// and everything about them is a pure function of the set and the injected
// clock: the key that signs at t is the one with the latest ActiveFrom not
// after t; keys whose ActiveFrom is still ahead (next keys), the signing key,
// and keys that stopped signing less than AccessTTL + Leeway ago (previous
// keys) are published in the JWKS and accepted — exactly those, so a token
// of a next key signed by a replica whose clock runs ahead is accepted, and
// a retired key is refused. [Issuer.PublishedJWKS] gives the document with a
// max-age that ends when the document or the signing key next changes, at
// most [JWKSMaxAge].
//
// Config.PreviousSecrets keep verifying HS256 access tokens and, when no
// RefreshSecret is configured, refresh tokens signed with the keys derived
// from them. When RefreshSecret is configured, it and
// Config.PreviousRefreshSecrets verify refresh tokens, plus the key derived
// from Secret only when Config.PreviousRefreshDerived says so: a resource
// server that holds an access secret could derive that key.
// Config.PreviousPublicKeys keep verifying access tokens and are published in
// the JWKS next to the current key, for as long as they are configured.
//
// # Key ids
//
// The kid of a public key is its RFC 7638 JWK thumbprint. The kid of an HMAC
// key is the first 16 characters of base64url(HMAC-SHA256(key, "authsvc kid
// v1")): keyed, so it does not help anyone test guesses of a weak secret the
// way a plain hash of the key would.
//
// # Randomness
//
// Config.Rand is used for token ids ([Issuer.NewID]) and must be safe for
// concurrent use. ECDSA signatures take their randomness from the crypto
// library itself: golang-jwt passes crypto/rand.Reader, and since Go 1.26
// crypto/ecdsa ignores the reader it is given anyway. RS256 and EdDSA
// signatures are deterministic.
package issuer
