package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/auth"
)

const (
	// dpopNonceKeyInfo is the HKDF info of the DPoP nonce key, derived from
	// SECRET_KEY so that every replica makes and accepts the same nonces
	// with nothing shared but the configuration.
	dpopNonceKeyInfo = "authsvc dpop nonce v1"
	// dpopNonceStep is how often the nonce changes; each is accepted for
	// the step before, its own and the next, so at least this long.
	dpopNonceStep = time.Minute
)

// dpopConfig builds the DPoP settings (RFC 9449) from the validated
// configuration: the proof checker and, with DPOP_NONCE_REQUIRED, the
// server nonces.
func dpopConfig(cfg *Config) (auth.DPoPConfig, error) {
	checker, err := dpop.NewChecker(dpop.Options{
		Algs: cfg.DPoPSigningAlgs, Lifetime: cfg.DPoPProofLifetime.V, Leeway: cfg.ClockSkew.V,
	})
	if err != nil {
		return auth.DPoPConfig{}, fmt.Errorf("DPOP_SIGNING_ALGS: %w", err)
	}
	d := auth.DPoPConfig{Checker: checker, BaseURL: cfg.JWTIssuer}
	if cfg.DPoPNonceRequired.V {
		key, err := hkdf.Key(sha256.New, []byte(cfg.SecretKey.Reveal()), nil, dpopNonceKeyInfo, 32)
		if err != nil {
			return auth.DPoPConfig{}, fmt.Errorf("derive the DPoP nonce key: %w", err)
		}
		if d.Nonces, err = dpop.NewNonces(key, dpopNonceStep, nil); err != nil {
			return auth.DPoPConfig{}, err
		}
	}
	return d, nil
}
