package verifier

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/authsvc/authsvc/dpop"
)

// ErrInvalidDPoPProof is wrapped by the error for a request whose DPoP proof
// is missing, malformed, made for another request or token, made with
// another key than the token's cnf.jkt, or already used (RFC 9449 §4.3,
// §7.1). It wraps ErrInvalidToken; a resource server answers it with 401
// and `WWW-Authenticate: DPoP error="invalid_dpop_proof"`.
var ErrInvalidDPoPProof = fmt.Errorf("%w: invalid DPoP proof", ErrInvalidToken)

// Causes wrapped with ErrInvalidToken or ErrInvalidDPoPProof for DPoP.
var (
	errNotBound    = errors.New("the DPoP scheme carries a token bound to no key")
	errProofCount  = errors.New("not exactly one DPoP header")
	errProofKey    = errors.New("the proof is made with another key than the token's cnf.jkt")
	errProofReplay = errors.New("the proof was already used")
)

// dpopError carries the algorithms for the WWW-Authenticate challenge of
// an answer to a DPoP request (RFC 9449 §7.1).
type dpopError struct {
	algs string
	err  error
}

func (e *dpopError) Error() string { return e.err.Error() }
func (e *dpopError) Unwrap() error { return e.err }

// verifyDPoP verifies a token sent as "Authorization: DPoP <token>" with
// its proof (RFC 9449 §7.1): the token must be bound (cnf.jkt), and the one
// DPoP header a proof for this very request (htm, htu, ath) made with that
// key, its jti not seen before within the proof's lifetime.
func (v *Verifier) verifyDPoP(r *http.Request, token string) (*Claims, error) {
	fail := func(err error) (*Claims, error) { return nil, &dpopError{algs: v.dpopAlgs, err: err} }
	c, err := v.verify(r.Context(), token)
	if err != nil {
		return fail(err)
	}
	if c.JKT == "" {
		return fail(fmt.Errorf("verify access token: %w: %w", ErrInvalidToken, errNotBound))
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return fail(fmt.Errorf("verify DPoP proof: %w: %w", ErrInvalidDPoPProof, errProofCount))
	}
	p, err := v.dpop.Check(proofs[0], dpop.Request{Method: r.Method, URL: v.requestURL(r), AccessToken: token})
	if err != nil {
		return fail(fmt.Errorf("verify DPoP proof: %w: %w", ErrInvalidDPoPProof, err))
	}
	if p.JKT != c.JKT {
		return fail(fmt.Errorf("verify DPoP proof: %w: %w", ErrInvalidDPoPProof, errProofKey))
	}
	if !v.replay.use(p.JKT, p.ID, p.ReplayUntil) {
		return fail(fmt.Errorf("verify DPoP proof: %w: %w", ErrInvalidDPoPProof, errProofReplay))
	}
	return c, nil
}

// requestURL is the URL the client sent r to, for the proof's htu:
// Config.PublicURL followed by the path, or the scheme and Host of the
// request itself.
func (v *Verifier) requestURL(r *http.Request) string {
	base := v.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.EscapedPath()
}

// replayCache remembers the proofs a Verifier accepted until each is too
// old to be accepted again, so each is accepted once (RFC 9449 §11.1). Its
// size is bounded by the proofs accepted within one proof lifetime.
type replayCache struct {
	now func() time.Time

	mu        sync.Mutex
	seen      map[[sha256.Size]byte]time.Time
	nextSweep time.Time
}

// replaySweepEvery is how often expired entries are dropped.
const replaySweepEvery = 10 * time.Second

func newReplayCache(now func() time.Time) *replayCache {
	return &replayCache{now: now, seen: map[[sha256.Size]byte]time.Time{}}
}

// use records the proof jti of key jkt until until and reports whether it
// was not recorded already.
func (c *replayCache) use(jkt, jti string, until time.Time) bool {
	id := sha256.Sum256([]byte(jkt + "\x00" + jti))
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.nextSweep) {
		for k, t := range c.seen {
			if !t.After(now) {
				delete(c.seen, k)
			}
		}
		c.nextSweep = now.Add(replaySweepEvery)
	}
	if t, ok := c.seen[id]; ok && t.After(now) {
		return false
	}
	c.seen[id] = until
	return true
}
