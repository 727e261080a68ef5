package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// RSA sizes of gen-key: the default, and the bounds of -bits.
const (
	genKeyRSABits    = 3072
	genKeyRSAMinBits = 2048
	genKeyRSAMaxBits = 8192
)

// genKey writes a new PKCS#8 PEM private key for the algorithm named by
// -alg to stdout. It needs no configuration.
func genKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "", "RS256, ES256 or EdDSA (required)")
	bits := fs.Int("bits", 0, fmt.Sprintf("RSA modulus size in bits, %d to %d (default %d)", genKeyRSAMinBits, genKeyRSAMaxBits, genKeyRSABits))
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("gen-key: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen-key: unexpected argument %q", fs.Arg(0))
	}
	bitsSet := false
	fs.Visit(func(f *flag.Flag) { bitsSet = bitsSet || f.Name == "bits" })

	var (
		key crypto.Signer
		err error
	)
	switch *alg {
	case "RS256":
		n := genKeyRSABits
		if bitsSet {
			n = *bits
		}
		if n < genKeyRSAMinBits || n > genKeyRSAMaxBits {
			return fmt.Errorf("gen-key: -bits must be between %d and %d", genKeyRSAMinBits, genKeyRSAMaxBits)
		}
		key, err = rsa.GenerateKey(rand.Reader, n)
	case "ES256", "EdDSA":
		if bitsSet {
			return fmt.Errorf("gen-key: -bits applies to RS256 only")
		}
		if *alg == "ES256" {
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		} else {
			_, key, err = ed25519.GenerateKey(rand.Reader)
		}
	case "":
		return errors.New("gen-key: -alg is required: RS256, ES256 or EdDSA")
	default:
		return errors.New("gen-key: -alg must be RS256, ES256 or EdDSA")
	}
	if err != nil {
		return fmt.Errorf("gen-key: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("gen-key: encode: %w", err)
	}
	return pem.Encode(stdout, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// listKeys reads the configuration as start-up does and prints one line
// per access-token key: kid, algorithm, active_from (RFC 3339) and state
// (next, signing, previous or retired). Keys without a schedule (SECRET_KEY,
// JWT_PRIVATE_KEY_FILE, previous keys) show the Unix epoch as active_from.
// Nothing secret is printed: a kid is a public key's thumbprint, or a keyed
// label of an HMAC key that is in every token's header anyway.
func listKeys(stdout, stderr io.Writer) error {
	cfg, err := loadValidConfig(stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	iss, errs := buildIssuer(cfg, log)
	if len(errs) > 0 {
		return printProblems(stderr, errs...)
	}
	for _, k := range iss.Keys() {
		if _, err := fmt.Fprintf(stdout, "%s %s %s %s\n", k.KID, k.Algorithm, k.ActiveFrom.UTC().Format(time.RFC3339), k.State); err != nil {
			return err
		}
	}
	return nil
}
