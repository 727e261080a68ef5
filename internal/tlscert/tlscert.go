// Package tlscert serves authsvc's TLS certificate and replaces it without a
// restart: on demand (SIGHUP) and when the files change. A new pair that
// does not load keeps the old one in service.
package tlscert

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// Reloader holds the current certificate of a certificate/key file pair.
// Its GetCertificate goes in tls.Config; it is safe for concurrent use.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[loaded]
}

// loaded is one certificate with the file contents it was parsed from.
type loaded struct {
	cert            *tls.Certificate
	certPEM, keyPEM []byte
}

// New loads the pair once. Its error names the files, never their contents.
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log}
	l, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(l)
	return r, nil
}

// GetCertificate returns the current certificate; it is the
// tls.Config.GetCertificate of the server.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load().cert, nil
}

// Reload reads the pair again and, when it loads, serves it from the next
// handshake on. When it does not, the current certificate stays and the
// error is returned (and logged as a warning).
func (r *Reloader) Reload() error {
	l, err := r.load()
	if err != nil {
		r.log.Warn("TLS certificate not reloaded; the previous one stays in service", "error", err.Error())
		return err
	}
	old := r.cur.Swap(l)
	if !bytes.Equal(old.certPEM, l.certPEM) || !bytes.Equal(old.keyPEM, l.keyPEM) {
		r.log.Info("TLS certificate reloaded", "cert_file", r.certFile, "not_after", l.cert.Leaf.NotAfter)
	}
	return nil
}

// Watch polls the files every interval until ctx is done and reloads when
// their contents differ from the certificate in service. Polling the
// contents (rather than watching inodes) also follows the symlink swaps of
// mounted secrets.
func (r *Reloader) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastFailed []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		certPEM, err1 := os.ReadFile(r.certFile)
		keyPEM, err2 := os.ReadFile(r.keyFile)
		if err1 != nil || err2 != nil {
			continue // in the middle of a replacement, or gone: keep serving
		}
		cur := r.cur.Load()
		if bytes.Equal(cur.certPEM, certPEM) && bytes.Equal(cur.keyPEM, keyPEM) {
			continue
		}
		// A pair that failed once is not retried (nor warned about) until
		// one of the files changes again.
		seen := append(append([]byte(nil), certPEM...), keyPEM...)
		if bytes.Equal(seen, lastFailed) {
			continue
		}
		if r.Reload() != nil {
			lastFailed = seen
		}
	}
}

// load reads and checks the pair: the key must match the certificate.
func (r *Reloader) load() (*loaded, error) {
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE: cannot read %s: %w", r.certFile, errors.Unwrap(err))
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS_KEY_FILE: cannot read %s: %w", r.keyFile, errors.Unwrap(err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages describe the problem, not the key.
		return nil, fmt.Errorf("TLS_CERT_FILE/TLS_KEY_FILE: %s and %s are not a certificate and its key: %w", r.certFile, r.keyFile, err)
	}
	return &loaded{cert: &cert, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// ServerConfig returns the server TLS settings: TLS 1.2 and 1.3 only, and
// for 1.2 only ECDHE key exchange with AEAD ciphers (TLS 1.3 suites are all
// AEAD and not configurable). getCert supplies the certificate.
func ServerConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCert,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
