package issuer_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/issuer"
)

// equaler is what every standard library key type implements.
type equaler interface {
	Equal(crypto.PublicKey) bool
}

func pemBlock(tb testing.TB, typ string, der []byte, err error) []byte {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	rsaKey := rsaKeyA()
	ecKey := mustECDSA(t, elliptic.P256())
	edKey := mustEd25519(t)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return pemBlock(t, "PRIVATE KEY", der, err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
	tests := []struct {
		name string
		data []byte
		want crypto.Signer
	}{
		{"PKCS#8 RSA", pkcs8(rsaKey), rsaKey},
		{"PKCS#8 ECDSA", pkcs8(ecKey), ecKey},
		{"PKCS#8 Ed25519", pkcs8(edKey), edKey},
		{"PKCS#1 RSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), rsaKey},
		{"SEC 1 EC after EC PARAMETERS (openssl ecparam -genkey)", append(ecParams, pemBlock(t, "EC PRIVATE KEY", sec1, nil)...), ecKey},
		{"text around the block", append(append([]byte("comment\n"), pkcs8(edKey)...), "trailer\n"...), edKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := issuer.ParsePrivateKeyPEM(tt.data)
			if err != nil {
				t.Fatalf("ParsePrivateKeyPEM: %v", err)
			}
			if !got.Public().(equaler).Equal(tt.want.Public()) {
				t.Errorf("parsed a different key: %T", got)
			}
		})
	}
}

func TestParsePrivateKeyPEM_Errors(t *testing.T) {
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xDER, err := x509.MarshalPKCS8PrivateKey(x)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(mustEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(edDER)
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt = corrupt[:len(corrupt)-3]
	pubDER, err := x509.MarshalPKIXPublicKey(mustEd25519(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not PEM", []byte("-----BEGIN NOTHING")},
		{"public key only", pemBlock(t, "PUBLIC KEY", pubDER, nil)},
		{"X25519 cannot sign", pemBlock(t, "PRIVATE KEY", xDER, nil)},
		{"corrupt DER", pemBlock(t, "PRIVATE KEY", corrupt, nil)},
		{"PKCS#8 in an RSA PRIVATE KEY block", pemBlock(t, "RSA PRIVATE KEY", edDER, nil)},
		{"encrypted PKCS#8", pemBlock(t, "ENCRYPTED PRIVATE KEY", edDER, nil)},
		{"legacy encrypted PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"},
			Bytes:   edDER})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := issuer.ParsePrivateKeyPEM(tt.data)
			if err == nil {
				t.Fatalf("ParsePrivateKeyPEM = %T, want error", k)
			}
			if body := pemBody(tt.data); body != "" && strings.Contains(err.Error(), body[:16]) {
				t.Errorf("error %q contains key material", err)
			}
		})
	}
}

// pemBody returns the base64 body of the first PEM block in data.
func pemBody(data []byte) string {
	lines := strings.Split(string(data), "\n")
	for n, l := range lines {
		if strings.HasPrefix(l, "-----BEGIN") && n+1 < len(lines) && len(lines[n+1]) >= 16 && !strings.Contains(lines[n+1], ":") {
			return lines[n+1]
		}
	}
	return ""
}

func TestParsePublicKeyPEM(t *testing.T) {
	rsaKey := rsaKeyA()
	ecKey := mustECDSA(t, elliptic.P256())
	edKey := mustEd25519(t)
	pkixPEM := func(k crypto.PublicKey) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		return pemBlock(t, "PUBLIC KEY", der, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authsvc test"},
		NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)
	tests := []struct {
		name string
		data []byte
		want crypto.PublicKey
	}{
		{"PKIX RSA", pkixPEM(rsaKey.Public()), rsaKey.Public()},
		{"PKIX ECDSA", pkixPEM(ecKey.Public()), ecKey.Public()},
		{"PKIX Ed25519", pkixPEM(edKey.Public()), edKey.Public()},
		{"PKCS#1 RSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}), rsaKey.Public()},
		{"certificate", pemBlock(t, "CERTIFICATE", certDER, err), ecKey.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := issuer.ParsePublicKeyPEM(tt.data)
			if err != nil {
				t.Fatalf("ParsePublicKeyPEM: %v", err)
			}
			if !tt.want.(equaler).Equal(got) {
				t.Errorf("parsed a different key: %T", got)
			}
		})
	}

	t.Run("a parsed key works as a previous key", func(t *testing.T) {
		old := newFixture(t, "ES256", func(c *issuer.Config) { c.PrivateKey = ecKey })
		pub, err := issuer.ParsePublicKeyPEM(pkixPEM(ecKey.Public()))
		if err != nil {
			t.Fatal(err)
		}
		cur := newFixture(t, "ES256", func(c *issuer.Config) { c.PreviousPublicKeys = []crypto.PublicKey{pub} })
		if _, err := cur.iss.VerifyAccess(old.signAccess(t, old.accessClaims())); err != nil {
			t.Errorf("VerifyAccess: %v", err)
		}
	})
}

func TestParsePublicKeyPEM_Errors(t *testing.T) {
	edDER, err := x509.MarshalPKCS8PrivateKey(mustEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("hello")},
		{"private key", pemBlock(t, "PRIVATE KEY", edDER, nil)},
		{"corrupt PKIX", pemBlock(t, "PUBLIC KEY", []byte{0x30, 0x03, 0x01}, nil)},
		{"corrupt certificate", pemBlock(t, "CERTIFICATE", []byte{0x30, 0x00}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := issuer.ParsePublicKeyPEM(tt.data); err == nil {
				t.Fatalf("ParsePublicKeyPEM = %T, want error", k)
			}
		})
	}
}
