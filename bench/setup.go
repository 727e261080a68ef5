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

// hashTimes is how long one password check takes alone on one core (the
// fastest of a few), measured in this process before the load starts, and
// how long with every core checking at once: argon2id's 19 MiB working sets
// can contend for the memory caches then, as a busy server's do, by a
// share that varies with the host from run to run.
type hashTimes struct {
	Cores      int     `json:"cores"`
	Argon2idMs float64 `json:"argon2id_ms"`      // authsvc's user hash, alone
	BcryptMs   float64 `json:"bcrypt_ms"`        // the floor's /token/bcrypt, alone
	BcryptCost int     `json:"bcrypt_cost"`      // the floor's -bcrypt-cost
	Argon2Max  float64 `json:"argon2id_max_rps"` // cores ÷ one argon2id check alone
	BcryptMax  float64 `json:"bcrypt_max_rps"`   // cores ÷ one bcrypt check alone
	// The same with every core checking at once (the median round).
	Argon2idAllCoresMs float64 `json:"argon2id_all_cores_ms"`
	BcryptAllCoresMs   float64 `json:"bcrypt_all_cores_ms"`
	Argon2AllCoresMax  float64 `json:"argon2id_all_cores_max_rps"`
	BcryptAllCoresMax  float64 `json:"bcrypt_all_cores_max_rps"`
}

// measureHashes times each hash twice: alone (the fastest of a few serial
// checks), and with one goroutine per core checking back to back (the
// median of a few rounds).
func measureHashes(ctx context.Context, userHash string, cores, bcryptCost int) (hashTimes, error) {
	const serialChecks, rounds, checksPerCore = 7, 5, 4
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
	// once: each round's wall time divided by the checks each core made,
	// the median round (how fast the caches let two hashes run varies from
	// round to round more than one hash alone does).
	together := func(check func() error) (float64, error) {
		var ms []float64
		for range rounds {
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
			ms = append(ms, float64(time.Since(start))/1e6/checksPerCore)
		}
		slices.Sort(ms)
		return ms[len(ms)/2], nil
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
		{checkArgon, &h.Argon2idMs, &h.Argon2idAllCoresMs},
		{checkBcrypt, &h.BcryptMs, &h.BcryptAllCoresMs},
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
	h.Argon2AllCoresMax = float64(cores) * 1000 / h.Argon2idAllCoresMs
	h.BcryptAllCoresMax = float64(cores) * 1000 / h.BcryptAllCoresMs
	return h, nil
}
