// Package verifier lets a resource server accept authsvc's access tokens: it
// verifies them locally, as strictly as authsvc itself does, and can follow
// authsvc's revocation feed so that a revoked token or an ended session is
// refused within seconds instead of at the token's expiry.
//
// # Verifying
//
// Build one Verifier at start-up with New and share it; it is safe for
// concurrent use. With public keys (RS256, ES256, EdDSA) New finds the JWKS
// through the issuer's RFC 8414 metadata (or Config.JWKSURL), fetches it
// before it returns, and keeps it fresh in the background as the JWKS's
// Cache-Control says. A token naming a key id the Verifier does not know
// triggers at most one extra fetch per 10 seconds; verifying a token whose key
// is known does no I/O at all. With HS256, Config.HMACSecret (and
// Config.HMACPreviousSecrets during a rotation) verify instead and nothing is
// fetched.
//
// A token is accepted only when authsvc's own verification would accept it:
// header typ at+jwt and only the alg, typ and kid parameters; the algorithm
// pinned by the key (never taken from the token, so "none" and algorithm
// confusion fail); kid among the known keys; claim type "access"; iss equal to
// Config.Issuer; aud containing Config.Audience; exp, nbf, iat, jti and sub
// present; exp, nbf and iat checked with Config.Leeway.
//
// # Revocation feed
//
// With Config.Feed the Verifier follows GET /revocations, authenticating as a
// client with introspect: true. It long-polls, so a revocation reaches it
// within about a second, and it refuses a listed jti, or a token whose sid
// names an ended session, with an error matching ErrRevoked. When the feed
// cannot be reached it keeps using the last set it had; with
// FeedConfig.MaxStale it refuses every token (ErrStale) once it has not heard
// from the feed for longer than that.
//
// # HTTP
//
// Middleware verifies the request's access token and puts the claims in the
// request context (FromContext); RequireScope checks scopes after it. Their
// answers follow RFC 6750 §3: 401 with a WWW-Authenticate challenge for a
// missing or bad token, 403 insufficient_scope naming the scope, each with a
// JSON body. Package echoverifier adapts both to Echo.
//
// # DPoP
//
// A token bound to a key (claim cnf.jkt, RFC 9449) is accepted only as
// "Authorization: DPoP <token>" together with a DPoP header holding a proof
// for that very request: htm the request's method, htu its URL (PublicURL,
// or the scheme and Host of the request, followed by the path; the query is
// ignored), ath the hash of the token, signed by the key of cnf.jkt, and a
// jti this Verifier has not accepted before (an in-memory cache remembers
// each for the proof's lifetime; with several instances of a resource
// server, a proof could be replayed once per instance within that minute).
// A bound token sent as Bearer, or to Verify, is refused (ErrDPoPBound); a
// bad proof gives ErrInvalidDPoPProof and the answer
// `WWW-Authenticate: DPoP error="invalid_dpop_proof", algs="…"`.
package verifier
