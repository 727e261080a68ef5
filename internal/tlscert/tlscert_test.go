package tlscert

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/tlscert/tlscerttest"
)

var (
	mustPair  = tlscerttest.WritePair
	writeFile = tlscerttest.WriteFile
)

func serialOf(tb testing.TB, r *Reloader) int64 {
	tb.Helper()
	c, err := r.GetCertificate(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c.Leaf.SerialNumber.Int64()
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestNew_UnreadableOrMismatchedPairFails(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	_, otherKey := tlscerttest.Generate(t, 2)
	wrongKey := filepath.Join(dir, "other-key.pem")
	writeFile(t, wrongKey, otherKey)
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing cert", filepath.Join(dir, "nope.pem"), keyFile, "TLS_CERT_FILE"},
		{"missing key", certFile, filepath.Join(dir, "nope.pem"), "TLS_KEY_FILE"},
		{"key of another certificate", certFile, wrongKey, "not a certificate and its key"},
		{"key given as certificate", keyFile, keyFile, "not a certificate and its key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cert, tc.key, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatalf("error quotes the key file: %v", err)
			}
		})
	}
}

func TestReload_NewPairServedBadPairKeepsOld(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	logs := &logBuffer{}
	r, err := New(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mustPair(t, dir, 2)
	if err := r.Reload(); err != nil || serialOf(t, r) != 2 {
		t.Fatalf("reload: err=%v serial=%d, want 2", err, serialOf(t, r))
	}
	// A certificate with the key of another: refused, the old one stays.
	certPEM, _ := tlscerttest.Generate(t, 3)
	writeFile(t, certFile, certPEM)
	if err := r.Reload(); err == nil {
		t.Fatal("mismatched pair loaded")
	}
	if serialOf(t, r) != 2 {
		t.Fatal("a bad pair replaced the good one")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "previous one stays") {
		t.Fatalf("no warning logged:\n%s", logs)
	}
}

func TestWatch_FollowsFileChanges(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	r, err := New(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Watch(ctx, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	waitSerial := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for serialOf(t, r) != want {
			if time.Now().After(deadline) {
				t.Fatalf("serial %d not served after a file change (still %d)", want, serialOf(t, r))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	mustPair(t, dir, 7)
	waitSerial(7)
	// A broken key file keeps serial 7; the next good pair is picked up.
	writeFile(t, keyFile, []byte("not a key"))
	time.Sleep(50 * time.Millisecond)
	if serialOf(t, r) != 7 {
		t.Fatal("a broken pair replaced the good one")
	}
	mustPair(t, dir, 8)
	waitSerial(8)
}

func TestServerConfig_ModernOnly(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	r, err := New(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(r.GetCertificate))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	dial := func(cfg *tls.Config) error {
		cfg.InsecureSkipVerify = true //nolint:gosec // a test certificate; only the protocol is tested
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	cases := []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.2 ECDHE AES-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 ECDHE ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true},
		{"TLS 1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := dial(tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("handshake err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
