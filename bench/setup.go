package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/credential"
)

// writeKey generates the private key alg needs (P-256, Ed25519, RSA 2048)
// and writes it as a PKCS#8 PEM file in dir.
func writeKey(dir, alg string) (string, error) {
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return "", nil // HS256 needs no key file
	}
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, alg+".pem")
	return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// credentials is the credentials file under test and what it holds.
type credentials struct {
	path         string
	userHash     string // argon2id, OWASP parameters: what `authsvc hash-password` writes
	clientSecret string // from credential.GenerateClientSecret, as `authsvc gen-client-secret`
}

// writeCredentials writes a credentials file with the production-recommended
// hashes: the user's password hashed like `authsvc hash-password` (argon2id,
// m=19 MiB, t=2, p=1), and a client secret made and hashed like `authsvc
// gen-client-secret` (256 random bits, fast salted SHA-256).
func writeCredentials(dir string) (*credentials, error) {
	userHash, err := credential.Hash([]byte(benchPassword))
	if err != nil {
		return nil, err
	}
	secret, secretHash, err := credential.GenerateClientSecret()
	if err != nil {
		return nil, err
	}
	yaml := fmt.Sprintf(`users:
  - username: %s
    password_hash: %q
    scopes: [read, write]
clients:
  - client_id: %s
    client_secret_hash: %q
    grant_types: [client_credentials, password, refresh_token]
    scopes: [read, write]
`, benchUser, userHash, benchClient, secretHash)
	path := filepath.Join(dir, "credentials.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	return &credentials{path: path, userHash: userHash, clientSecret: secret}, nil
}

// randomKey returns a random HMAC key for SECRET_KEY and REFRESH_SECRET_KEY.
func randomKey() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// hashTimes is how long one password check takes on one core (the fastest
// of a few), measured in this process before the load starts.
type hashTimes struct {
	Cores      int     `json:"cores"`
	Argon2idMs float64 `json:"argon2id_ms"`      // authsvc's user hash
	BcryptMs   float64 `json:"bcrypt_ms"`        // the floor's /token/bcrypt
	BcryptCost int     `json:"bcrypt_cost"`      // the floor's -bcrypt-cost
	Argon2Max  float64 `json:"argon2id_max_rps"` // cores ÷ one argon2id check
	BcryptMax  float64 `json:"bcrypt_max_rps"`   // cores ÷ one bcrypt check
}

// measureHashes times a few serial checks of each hash and keeps the
// fastest: the machine may be busy, and the bound should be the hash's own
// cost, not what other load added to it.
func measureHashes(ctx context.Context, userHash string, cores, bcryptCost int) (hashTimes, error) {
	const n = 7
	fastest := func(check func() error) (float64, error) {
		var ds []float64
		for range n {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			start := time.Now()
			if err := check(); err != nil {
				return 0, err
			}
			ds = append(ds, float64(time.Since(start))/1e6)
		}
		return slices.Min(ds), nil
	}
	argon, err := fastest(func() error {
		ok, err := credential.Verify(userHash, []byte(benchPassword))
		if err == nil && !ok {
			err = fmt.Errorf("the bench password does not verify")
		}
		return err
	})
	if err != nil {
		return hashTimes{}, err
	}
	bh, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcryptCost)
	if err != nil {
		return hashTimes{}, err
	}
	bc, err := fastest(func() error { return bcrypt.CompareHashAndPassword(bh, []byte(benchPassword)) })
	if err != nil {
		return hashTimes{}, err
	}
	return hashTimes{Cores: cores, Argon2idMs: argon, BcryptMs: bc, BcryptCost: bcryptCost,
		Argon2Max: float64(cores) * 1000 / argon, BcryptMax: float64(cores) * 1000 / bc}, nil
}
