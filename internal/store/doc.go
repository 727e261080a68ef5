// Package store defines where authsvc keeps its state: refresh-token families
// (login sessions), the access-token denylist, login-failure counters and
// the DPoP proof ids already used.
//
// Guarantees every implementation gives:
//
//   - Rotate is atomic: of any number of concurrent rotations presenting the
//     same current refresh token, across goroutines and processes, exactly one
//     succeeds. Detecting a reuse and revoking the family happen in the same
//     atomic step.
//   - Nothing lives forever: a family expires with its current refresh token,
//     a denylist entry with its access token, a failure counter with its
//     window, a used DPoP proof id when the proof would be too old anyway. The keyspace does not grow without bound.
//   - Errors that mean "cannot read or write right now" are reported as
//     ErrUnavailable, so callers fail closed.
//   - Tokens themselves are never stored, only their ids and claims.
//   - The revocation feed is shared: an entry added by one process is read
//     by every process at once, and a cursor is answered exactly or with the
//     complete set, never with a gap.
//
// Implementations live in subpackages: redis (production; single node,
// Sentinel or Cluster) and memory (one process, development only). The
// conformance suite in storetest runs against each of them.
package store
