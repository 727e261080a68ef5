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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
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

// hashTimes is how long one password check takes when every core checks
// one at once, and how many checks a second that makes: the most a password
// grant can do. It is measured in this process before the load starts. A
// check alone on an idle machine is faster (Serial): argon2id's 19 MiB
// working sets contend for the memory caches when the cores hash together,
// as a busy server's do, so the serial time would promise a throughput no
// server reaches.
type hashTimes struct {
	Cores            int     `json:"cores"`
	Argon2idMs       float64 `json:"argon2id_ms"`        // authsvc's user hash, every core hashing
	BcryptMs         float64 `json:"bcrypt_ms"`          // the floor's /token/bcrypt, every core hashing
	Argon2idSerialMs float64 `json:"argon2id_serial_ms"` // one check alone (the fastest of a few)
	BcryptSerialMs   float64 `json:"bcrypt_serial_ms"`
	BcryptCost       int     `json:"bcrypt_cost"`      // the floor's -bcrypt-cost
	Argon2Max        float64 `json:"argon2id_max_rps"` // argon2id checks a second with every core hashing
	BcryptMax        float64 `json:"bcrypt_max_rps"`   // bcrypt checks a second with every core hashing
}

// measureHashes times each hash twice: alone (the fastest of a few serial
// checks), and with one goroutine per core checking back to back (the best
// of a few rounds, so that other load on the machine counts least).
func measureHashes(ctx context.Context, userHash string, cores, bcryptCost int) (hashTimes, error) {
	const serialChecks, rounds, checksPerCore = 7, 3, 4
	fastest := func(check func() error) (float64, error) {
		var ds []float64
		for range serialChecks {
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
	// together returns the milliseconds per check with cores checking at
	// once: each round's wall time divided by the checks each core made.
	together := func(check func() error) (float64, error) {
		var best float64
		for r := range rounds {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			errs := make([]error, cores)
			var wg sync.WaitGroup
			start := time.Now()
			for c := range cores {
				wg.Go(func() {
					for range checksPerCore {
						if err := check(); err != nil {
							errs[c] = err
							return
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return 0, err
			}
			if ms := float64(time.Since(start)) / 1e6 / checksPerCore; r == 0 || ms < best {
				best = ms
			}
		}
		return best, nil
	}
	checkArgon := func() error {
		ok, err := credential.Verify(userHash, []byte(benchPassword))
		if err == nil && !ok {
			err = fmt.Errorf("the bench password does not verify")
		}
		return err
	}
	bh, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcryptCost)
	if err != nil {
		return hashTimes{}, err
	}
	checkBcrypt := func() error { return bcrypt.CompareHashAndPassword(bh, []byte(benchPassword)) }
	h := hashTimes{Cores: cores, BcryptCost: bcryptCost}
	for _, m := range []struct {
		check    func() error
		serial   *float64
		together *float64
	}{
		{checkArgon, &h.Argon2idSerialMs, &h.Argon2idMs},
		{checkBcrypt, &h.BcryptSerialMs, &h.BcryptMs},
	} {
		if *m.serial, err = fastest(m.check); err != nil {
			return hashTimes{}, err
		}
		if *m.together, err = together(m.check); err != nil {
			return hashTimes{}, err
		}
	}
	h.Argon2Max = float64(cores) * 1000 / h.Argon2idMs
	h.BcryptMax = float64(cores) * 1000 / h.BcryptMs
	return h, nil
}
