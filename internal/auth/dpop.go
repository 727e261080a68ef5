package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/authsvc/authsvc/dpop"
)

// DPoPConfig configures sender-constrained tokens (RFC 9449) at the token
// endpoints.
type DPoPConfig struct {
	// Checker checks proofs. Nil means the dpop defaults (ES256, EdDSA,
	// RS256, PS256; 60 s) with Config.ClockSkew and the service's clock.
	Checker *dpop.Checker
	// BaseURL is JWT_ISSUER: a proof's htu must be BaseURL followed by the
	// path of the endpoint it was sent to.
	BaseURL string
	// Nonces, when set, makes every proof carry a nonce it issued
	// (DPOP_NONCE_REQUIRED, RFC 9449 §8).
	Nonces *dpop.Nonces
}

// DPoPInput is what a token request carries for DPoP.
type DPoPInput struct {
	// Proofs are the values of the request's DPoP headers, in order; more
	// than one is an error (RFC 9449 §4.3 step 1).
	Proofs []string
	// Path is the path of the endpoint the request was sent to (/token,
	// /refresh, …), for the proof's htu.
	Path string
}

// Public descriptions of DPoP errors.
const (
	errDPoPRequired    = "this client must send a DPoP proof"
	errDPoPTwoHeaders  = "more than one DPoP header"
	errDPoPReplayed    = "the DPoP proof was already used"
	errDPoPNonce       = "the DPoP proof must carry the nonce of the DPoP-Nonce header"
	errDPoPWrongKey    = "the session is bound to a DPoP key; send a proof made with it"
	dpopProofKeyPrefix = "p1:"
)

// DPoPAlgs returns the algorithms accepted for proofs, for the metadata
// document (dpop_signing_alg_values_supported).
func (s *Service) DPoPAlgs() []string { return s.dpop.Checker.Algs() }

// DPoPNonce returns the nonce every token response carries in its
// DPoP-Nonce header, or "" when nonces are not required.
func (s *Service) DPoPNonce() string {
	if s.dpop.Nonces == nil {
		return ""
	}
	return s.dpop.Nonces.Current()
}

// checkProof checks the DPoP proof of a token request (RFC 9449 §4.3) and
// returns the thumbprint of its key, or "" when the request has none. A
// proof that fails a check is InvalidDPoPProof; one whose only fault is its
// nonce is UseDPoPNonce, with the nonce to use. Each proof is accepted once
// on every replica: its jti, hashed with its key, is kept in the store until
// the proof is too old anyway.
func (s *Service) checkProof(ctx context.Context, in DPoPInput) (string, error) {
	switch len(in.Proofs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", newError(InvalidDPoPProof, errDPoPTwoHeaders)
	}
	p, err := s.dpop.Checker.Check(in.Proofs[0], dpop.Request{
		Method: http.MethodPost, URL: strings.TrimRight(s.dpop.BaseURL, "/") + in.Path,
	})
	if err != nil {
		// The checker's messages name the failed check, never the proof.
		return "", &Error{Code: InvalidDPoPProof, Description: err.Error(), Err: err}
	}
	first, err := s.store.UseProof(ctx, proofKey(p), p.ReplayUntil)
	if err != nil {
		return "", storeError(err)
	}
	if !first {
		return "", &Error{Code: InvalidDPoPProof, Description: errDPoPReplayed, Err: dpop.ErrReplayed}
	}
	if s.dpop.Nonces != nil && !s.dpop.Nonces.Valid(p.Nonce) {
		return "", &Error{Code: UseDPoPNonce, Description: errDPoPNonce, DPoPNonce: s.dpop.Nonces.Current(), Err: dpop.ErrUseNonce}
	}
	return p.JKT, nil
}

// proofKey is the store id of a used proof: a fixed-size hash of its key's
// thumbprint and its jti, so a client cannot make the store keep long keys
// and two clients' jti values never collide.
func proofKey(p *dpop.Proof) string {
	h := sha256.New()
	h.Write([]byte(p.JKT))
	h.Write([]byte{0})
	h.Write([]byte(p.ID))
	return dpopProofKeyPrefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// requireProof applies a client's dpop_bound_access_tokens: such a client
// must send a proof with every token request.
func requireProof(dpopBound bool, jkt string) error {
	if dpopBound && jkt == "" {
		return newError(InvalidDPoPProof, errDPoPRequired)
	}
	return nil
}
