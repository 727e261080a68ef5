package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/tlscert/tlscerttest"
)

// servedSerial connects to addr and returns the serial number of the
// certificate the server presents.
func servedSerial(tb testing.TB, addr string) int64 {
	tb.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the serial is read
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestE2E_TLS serves HTTPS with a certificate made by the test: the API
// works over TLS 1.2+ with HSTS, plain HTTP and TLS 1.1 do not, and SIGHUP
// loads a new certificate (a broken one is refused and the old one kept).
func TestE2E_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := tlscerttest.WritePair(t, dir, 1)
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	env["TLS_CERT_FILE"], env["TLS_KEY_FILE"] = certFile, keyFile
	svc := startAuthsvc(t, env)
	addr := strings.TrimPrefix(svc.URL, "https://")

	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	t.Run("login over HTTPS with HSTS", func(t *testing.T) {
		resp, err := client.PostForm(svc.URL+"/token", map[string][]string{
			"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
			t.Fatalf("Strict-Transport-Security = %q", hsts)
		}
		if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("TLS state %+v", resp.TLS)
		}
	})
	t.Run("plain HTTP is not served", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatal("plain HTTP answered 200")
			}
		}
	})
	t.Run("TLS 1.1 and CBC suites are refused", func(t *testing.T) {
		for _, cfg := range []*tls.Config{
			{MaxVersion: tls.VersionTLS11, RootCAs: pool},
			{MaxVersion: tls.VersionTLS12, RootCAs: pool, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}},
		} {
			if c, err := tls.Dial("tcp", addr, cfg); err == nil {
				c.Close()
				t.Fatalf("handshake with %x succeeded", cfg.MaxVersion)
			}
		}
	})
	t.Run("SIGHUP reloads, a bad pair keeps the old one", func(t *testing.T) {
		waitSerial := func(want int64) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for servedSerial(t, addr) != want {
				if time.Now().After(deadline) {
					t.Fatalf("serial %d not served (still %d)", want, servedSerial(t, addr))
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		tlscerttest.WritePair(t, dir, 2)
		if err := svc.signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitSerial(2)

		tlscerttest.WriteFile(t, keyFile, []byte("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n"))
		if err := svc.signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(svc.logs.String(), "previous one stays in service") {
			if time.Now().After(deadline) {
				t.Fatalf("no warning about the bad pair:\n%s", svc.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := servedSerial(t, addr); got != 2 {
			t.Fatalf("serial %d served after a bad pair, want 2", got)
		}
		if r, err := insecureClient.Get(svc.URL + "/healthz"); err != nil || r.StatusCode != 200 {
			t.Fatalf("serving after a bad reload: %v", err)
		}
	})
}

// TestE2E_TLSUnreadablePairFailsStartup checks that a certificate that
// cannot be loaded stops the start with a line naming the variable.
func TestE2E_TLSUnreadablePairFailsStartup(t *testing.T) {
	dir := t.TempDir()
	certFile, _ := tlscerttest.WritePair(t, dir, 1)
	for name, pair := range map[string][2]string{
		"missing key":   {certFile, filepath.Join(dir, "missing.pem")},
		"key is no key": {certFile, certFile},
		"missing cert":  {filepath.Join(dir, "missing.pem"), certFile},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(binPath)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + freeAddr(t)}
			for k, v := range baseEnv(t, "redis://"+freeAddr(t)+"/0") {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, "TLS_CERT_FILE="+pair[0], "TLS_KEY_FILE="+pair[1])
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("started with %s:\n%s", name, out)
			}
			if !strings.Contains(string(out), "TLS_") || strings.Contains(string(out), "BEGIN") {
				t.Fatalf("start-up output does not name the variable (or quotes a file):\n%s", out)
			}
		})
	}
}
