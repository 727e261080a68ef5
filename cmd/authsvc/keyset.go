package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/reload"
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
		return nil, keysFileSyntax(path, err)
	}
	if len(f.Keys) == 0 {
		return nil, []error{fmt.Errorf("%s: lists no keys (want keys: [{private_key_file, active_from}, …])", path)}
	}
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
		file := resolveKeyPath(path, k.PrivateKeyFile)
		priv, err := readPrivateKey(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", entry, err))
			continue
		}
		keys = append(keys, issuer.ScheduledKey{PrivateKey: priv, ActiveFrom: at, Name: file})
	}
	return keys, errs
}

// fieldNotFound matches yaml's message for an unknown field.
var fieldNotFound = regexp.MustCompile(`^(line \d+): field (\S+) not found in type`)

// keysFileSyntax words a YAML error of the keys file, one line per problem,
// without yaml's Go type names and without quoting the file's values (a
// private key given as the keys file by mistake must not be echoed).
func keysFileSyntax(path string, err error) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []error{fmt.Errorf("%s: %w", path, err)} // syntax errors name a line, not a value
	}
	var errs []error
	for _, e := range te.Errors {
		if m := fieldNotFound.FindStringSubmatch(e); m != nil {
			errs = append(errs, fmt.Errorf("%s: %s: unknown field %s (an entry has private_key_file and active_from)", path, m[1], m[2]))
			continue
		}
		line, _, _ := strings.Cut(e, ":")
		errs = append(errs, fmt.Errorf("%s: %s: not a key set (want keys: [{private_key_file, active_from}, …])", path, line))
	}
	return errs
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

// keySetSource is JWT_KEYS_FILE as a reloadable source: the file and every
// key file it names are watched; a reload reads them into a new key set,
// validated whole against the running configuration, then swapped into iss.
// Without JWT_KEYS_FILE it watches nothing and a reload keeps the keys.
func keySetSource(path string, iss *issuer.Issuer, log *slog.Logger) reload.Source {
	if path == "" {
		return reload.Source{
			Name:    "JWT_KEYS_FILE",
			Files:   func() []string { return nil },
			Prepare: func() (func(), []string) { return func() {}, nil },
		}
	}
	var (
		mu    sync.Mutex
		files = keysFileNames(path)
	)
	return reload.Source{
		Name: "JWT_KEYS_FILE",
		Files: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return files
		},
		Prepare: func() (func(), []string) {
			keys, errs := readKeysFile(path)
			mu.Lock()
			files = keysFileNames(path) // watch what the file names now, valid or not
			mu.Unlock()
			if len(errs) > 0 {
				return nil, errorLines(errs)
			}
			ks, err := iss.NewKeySet(keys)
			if err != nil {
				return nil, errorLines(splitJoined(err))
			}
			return func() {
				iss.SetKeySet(ks)
				now := time.Now()
				warnShortLeads(log, ks, now)
				log.Info("key set in force", "published", ks.Published(now))
			}, nil
		},
	}
}

// keysFileNames returns JWT_KEYS_FILE and the key files it names, as far as
// it can be read.
func keysFileNames(path string) []string {
	names := []string{path}
	data, err := readLimited(path)
	if err != nil {
		return names
	}
	var f keysFile
	if yaml.Unmarshal(data, &f) != nil {
		return names
	}
	for _, k := range f.Keys {
		if k.PrivateKeyFile != "" {
			names = append(names, resolveKeyPath(path, k.PrivateKeyFile))
		}
	}
	return names
}

// resolveKeyPath resolves a key file named in the keys file at path: a
// relative name counts from the keys file's folder.
func resolveKeyPath(keysFile, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(keysFile), name)
}

// errorLines turns problems into lines.
func errorLines(errs []error) []string {
	out := make([]string, len(errs))
	for n, e := range errs {
		out[n] = e.Error()
	}
	return out
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
