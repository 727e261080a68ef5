package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authsvc/authsvc/internal/issuer"
)

// maxKeysFileSize bounds what is read of JWT_KEYS_FILE and of each key file.
const maxKeysFileSize = 1 << 20

// keysFile is the YAML of JWT_KEYS_FILE.
type keysFile struct {
	Keys []struct {
		PrivateKeyFile string `yaml:"private_key_file"`
		ActiveFrom     string `yaml:"active_from"`
	} `yaml:"keys"`
}

// readKeysFile reads JWT_KEYS_FILE and the key files it names (relative
// paths count from the folder of the keys file), returning one error per
// problem. Errors name files and entries, never key material.
func readKeysFile(path string) ([]issuer.ScheduledKey, []error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, []error{err}
	}
	var f keysFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		// yaml's messages quote only the file's structure (field names,
		// line numbers); the file holds no secret.
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	if len(f.Keys) == 0 {
		return nil, []error{fmt.Errorf("%s: lists no keys (want keys: [{private_key_file, active_from}, …])", path)}
	}
	dir := filepath.Dir(path)
	var (
		keys []issuer.ScheduledKey
		errs []error
	)
	for n, k := range f.Keys {
		entry := fmt.Sprintf("%s: keys[%d]", path, n)
		if k.PrivateKeyFile == "" {
			errs = append(errs, fmt.Errorf("%s: private_key_file is required", entry))
			continue
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(k.ActiveFrom))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: active_from must be an RFC 3339 time such as 2026-12-01T00:00:00Z", entry))
			continue
		}
		file := k.PrivateKeyFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		priv, err := readPrivateKey(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", entry, err))
			continue
		}
		keys = append(keys, issuer.ScheduledKey{PrivateKey: priv, ActiveFrom: at, Name: file})
	}
	return keys, errs
}

// readLimited reads a configuration file of at most maxKeysFileSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeysFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	if len(data) > maxKeysFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxKeysFileSize)
	}
	return data, nil
}

// keySetReloader re-reads JWT_KEYS_FILE into the running issuer. A reload is
// two steps, so that the keys and the credentials change together or not at
// all: Prepare reads and validates everything and changes nothing; the
// function it returns installs the new set.
type keySetReloader struct {
	path string
	iss  *issuer.Issuer
	log  *slog.Logger
	mu   sync.Mutex // one reload at a time
}

// Prepare reads JWT_KEYS_FILE and its key files and validates the new set
// whole. On success apply installs it and returns the number of keys the
// JWKS then publishes; on failure problems holds one error per problem and
// nothing changed. Without JWT_KEYS_FILE, apply does nothing.
func (r *keySetReloader) Prepare() (apply func() (published int), problems []error) {
	if r == nil || r.path == "" {
		return func() int { return 0 }, nil
	}
	keys, errs := readKeysFile(r.path)
	if len(errs) > 0 {
		return nil, prefixErrs("JWT_KEYS_FILE", errs)
	}
	ks, err := r.iss.NewKeySet(keys)
	if err != nil {
		return nil, prefixErrs("JWT_KEYS_FILE", splitJoined(err))
	}
	return func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.iss.SetKeySet(ks)
		now := time.Now()
		warnShortLeads(r.log, ks, now)
		return ks.Published(now)
	}, nil
}

// Reload prepares and applies a new key set, logging the outcome. It is
// what SIGHUP and a changed file do when no other reload runs with it.
func (r *keySetReloader) Reload(reason string) error {
	apply, problems := r.Prepare()
	if len(problems) > 0 {
		for _, p := range problems {
			r.log.Error("key set reload refused: the previous keys stay in force", "reason", reason, "problem", p.Error())
		}
		return fmt.Errorf("key set reload: %d problems", len(problems))
	}
	n := apply()
	r.log.Info("key set reloaded", "reason", reason, "published", n)
	return nil
}

// warnShortLeads logs one warning per next key that starts signing less
// than twice the JWKS max-age from now: a verifier that cached the JWKS
// before the key was added may not know it when it starts signing.
func warnShortLeads(log *slog.Logger, ks keyLister, now time.Time) {
	for _, k := range ks.ShortLeads(now) {
		log.Warn("JWT_KEYS_FILE: a next key starts signing sooner than twice the JWKS max-age: verifiers that cached the key set before it was added may reject its tokens until they refetch; add next keys at least 10 minutes ahead",
			"kid", k.KID, "active_from", k.ActiveFrom.Format(time.RFC3339), "in", k.ActiveFrom.Sub(now).Round(time.Second).String(),
			"jwks_max_age", issuer.JWKSMaxAge.String())
	}
}

// keyLister is what warnShortLeads needs of a key set.
type keyLister interface {
	ShortLeads(now time.Time) []issuer.KeyInfo
}

// prefixErrs names the variable a list of problems belongs to.
func prefixErrs(name string, errs []error) []error {
	out := make([]error, len(errs))
	for n, e := range errs {
		out[n] = fmt.Errorf("%s: %w", name, e)
	}
	return out
}

// splitJoined turns an errors.Join (possibly wrapped) into its parts, so
// that each problem gets a line of its own.
func splitJoined(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}
