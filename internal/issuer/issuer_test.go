package issuer_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/authsvc/authsvc/internal/issuer"
)

func TestNew_RejectsBadConfig(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	tests := []struct {
		name string
		mod  func(c *issuer.Config)
		// wantIn are substrings the error must contain: the variables at fault.
		wantIn []string
	}{
		{"short secret", func(c *issuer.Config) { c.Secret = []byte("SuperSecretShortValue") }, []string{"SECRET_KEY"}},
		{"no secret", func(c *issuer.Config) { c.Secret = nil }, []string{"SECRET_KEY"}},
		{"short previous secret", func(c *issuer.Config) {
			c.PreviousSecrets = [][]byte{secret[:], []byte("SuperSecretShortValue")}
		}, []string{"SECRET_KEY_PREVIOUS"}},
		{"short refresh secret", func(c *issuer.Config) { c.RefreshSecret = []byte("SuperSecretShortValue") }, []string{"REFRESH_SECRET_KEY"}},
		{"refresh secret equals secret", func(c *issuer.Config) { c.RefreshSecret = bytes.Clone(c.Secret) }, []string{"REFRESH_SECRET_KEY"}},
		{"refresh secret equals a previous secret", func(c *issuer.Config) {
			c.PreviousSecrets = [][]byte{bytes.Clone(c.RefreshSecret)}
		}, []string{"REFRESH_SECRET_KEY"}},
		{"unknown algorithm", func(c *issuer.Config) { c.Algorithm = "HS512" }, []string{"JWT_ALGORITHM"}},
		{"alg none", func(c *issuer.Config) { c.Algorithm = "none" }, []string{"JWT_ALGORITHM"}},
		{"no algorithm", func(c *issuer.Config) { c.Algorithm = "" }, []string{"JWT_ALGORITHM"}},
		{"lower-case algorithm", func(c *issuer.Config) { c.Algorithm = "rs256"; c.PrivateKey = rsaKeyA() }, []string{"JWT_ALGORITHM"}},
		{"RS256 without key", func(c *issuer.Config) { c.Algorithm = "RS256" }, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"RS256 with RSA 1024", func(c *issuer.Config) { c.Algorithm, c.PrivateKey = "RS256", rsa1024() }, []string{"JWT_PRIVATE_KEY_FILE", "2048"}},
		{"RS256 with ECDSA key", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "RS256", mustECDSA(t, elliptic.P256())
		}, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"ES256 with P-384", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "ES256", mustECDSA(t, elliptic.P384())
		}, []string{"JWT_PRIVATE_KEY_FILE", "P-256"}},
		{"ES256 with RSA key", func(c *issuer.Config) { c.Algorithm, c.PrivateKey = "ES256", rsaKeyA() }, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"EdDSA with ECDSA key", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "EdDSA", mustECDSA(t, elliptic.P256())
		}, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"HS256 with private key", func(c *issuer.Config) { c.PrivateKey = mustEd25519(t) }, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"HS256 with previous public key", func(c *issuer.Config) {
			c.PreviousPublicKeys = []crypto.PublicKey{mustEd25519(t).Public()}
		}, []string{"JWT_PREVIOUS_PUBLIC_KEY_FILES"}},
		{"RS256 with previous ECDSA key", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "RS256", rsaKeyA()
			c.PreviousPublicKeys = []crypto.PublicKey{&mustECDSA(t, elliptic.P256()).PublicKey}
		}, []string{"JWT_PREVIOUS_PUBLIC_KEY_FILES"}},
		{"RS256 with previous RSA 1024", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "RS256", rsaKeyA()
			c.PreviousPublicKeys = []crypto.PublicKey{&rsa1024().PublicKey}
		}, []string{"JWT_PREVIOUS_PUBLIC_KEY_FILES"}},
		{"ES256 with previous P-384 key", func(c *issuer.Config) {
			c.Algorithm, c.PrivateKey = "ES256", mustECDSA(t, elliptic.P256())
			c.PreviousPublicKeys = []crypto.PublicKey{&mustECDSA(t, elliptic.P384()).PublicKey}
		}, []string{"JWT_PREVIOUS_PUBLIC_KEY_FILES"}},
		{"EdDSA with previous X25519 key", func(c *issuer.Config) {
			x, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			c.Algorithm, c.PrivateKey = "EdDSA", mustEd25519(t)
			c.PreviousPublicKeys = []crypto.PublicKey{x.PublicKey()}
		}, []string{"JWT_PREVIOUS_PUBLIC_KEY_FILES"}},
		{"no issuer", func(c *issuer.Config) { c.Issuer = "" }, []string{"JWT_ISSUER"}},
		{"no audience", func(c *issuer.Config) { c.Audience = nil }, []string{"JWT_AUDIENCE"}},
		{"empty audience value", func(c *issuer.Config) { c.Audience = []string{"a", ""} }, []string{"JWT_AUDIENCE"}},
		{"negative leeway", func(c *issuer.Config) { c.Leeway = -time.Second }, []string{"CLOCK_SKEW"}},
		{"every problem at once", func(c *issuer.Config) {
			c.Secret, c.Issuer, c.Audience, c.Algorithm = []byte("SuperSecretShortValue"), "", nil, "HS1"
		}, []string{"SECRET_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_ALGORITHM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := issuer.Config{
				Algorithm:     "HS256",
				Secret:        bytes.Clone(secret),
				RefreshSecret: []byte("refresh-refresh-refresh-refresh-0"),
				Issuer:        testIssuer,
				Audience:      []string{testAud},
			}
			tt.mod(&cfg)
			iss, err := issuer.New(cfg)
			if err == nil {
				t.Fatalf("New = %v, want error", iss)
			}
			msg := err.Error()
			for _, w := range tt.wantIn {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, s := range append([][]byte{cfg.Secret, cfg.RefreshSecret}, cfg.PreviousSecrets...) {
				if len(s) > 0 && leaks(msg, s) {
					t.Errorf("error %q contains a secret", msg)
				}
			}
		})
	}
}

// leaks reports whether msg contains secret, or a long enough piece of it,
// as text, hex or base64.
func leaks(msg string, secret []byte) bool {
	for _, enc := range []string{
		string(secret), hex.EncodeToString(secret),
		base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret),
	} {
		if len(enc) >= 8 && strings.Contains(msg, enc[:8]) {
			return true
		}
	}
	return false
}

func TestNew_AcceptsGoodConfig(t *testing.T) {
	edPriv := mustEd25519(t)
	tests := []struct {
		name string
		cfg  issuer.Config
	}{
		{"HS256 minimal, derived refresh key", issuer.Config{
			Algorithm: "HS256", Secret: mustSecret(t, 32), Issuer: testIssuer, Audience: []string{testAud},
		}},
		{"HS256 with previous secrets equal to the current one", func() issuer.Config {
			s := mustSecret(t, 64)
			return issuer.Config{Algorithm: "HS256", Secret: s, PreviousSecrets: [][]byte{s, mustSecret(t, 32)},
				Issuer: testIssuer, Audience: []string{testAud, "b"}}
		}()},
		{"RS256 with its own public key as previous", issuer.Config{
			Algorithm: "RS256", Secret: mustSecret(t, 32), PrivateKey: rsaKeyA(),
			PreviousPublicKeys: []crypto.PublicKey{&rsaKeyA().PublicKey, &rsaKeyB().PublicKey},
			Issuer:             testIssuer, Audience: []string{testAud},
		}},
		{"EdDSA key given as a pointer", issuer.Config{
			Algorithm: "EdDSA", Secret: mustSecret(t, 32), PrivateKey: &edPriv,
			Issuer: testIssuer, Audience: []string{testAud},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := issuer.New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			now := time.Now()
			tok, err := iss.SignAccess(issuer.AccessClaims{ID: "x", Subject: "s", IssuedAt: now, ExpiresAt: now.Add(time.Minute)})
			if err != nil {
				t.Fatalf("SignAccess: %v", err)
			}
			if _, err := iss.VerifyAccess(tok); err != nil {
				t.Fatalf("VerifyAccess with the real clock: %v", err)
			}
			// Duplicates are published once.
			var doc struct{ Keys []map[string]any }
			if err := json.Unmarshal(iss.JWKS(), &doc); err != nil {
				t.Fatal(err)
			}
			seen := map[any]bool{}
			for _, k := range doc.Keys {
				if seen[k["kid"]] {
					t.Errorf("kid %v published twice", k["kid"])
				}
				seen[k["kid"]] = true
			}
		})
	}
}

func TestNew_CopiesKeys(t *testing.T) {
	secret := mustSecret(t, 32)
	iss, err := issuer.New(issuer.Config{Algorithm: "HS256", Secret: secret, Issuer: testIssuer, Audience: []string{testAud}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := issuer.AccessClaims{ID: "x", Subject: "s", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	before, _ := iss.SignAccess(c)
	clear(secret)
	after, _ := iss.SignAccess(c)
	if before != after {
		t.Error("changing the caller's secret slice changed the signing key")
	}
}

func TestNewID(t *testing.T) {
	tests := []struct {
		name    string
		rand    func() *bytes.Reader
		want    string
		wantErr bool
	}{
		{"known bytes", func() *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{0xfb}, 16)) }, "-_v7-_v7-_v7-_v7-_v7-w", false},
		{"zeros", func() *bytes.Reader { return bytes.NewReader(make([]byte, 32)) }, "AAAAAAAAAAAAAAAAAAAAAA", false},
		{"source runs dry", func() *bytes.Reader { return bytes.NewReader(make([]byte, 15)) }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := issuer.New(issuer.Config{Algorithm: "HS256", Secret: mustSecret(t, 32),
				Issuer: testIssuer, Audience: []string{testAud}, Rand: tt.rand()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := iss.NewID()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("NewID = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}

	t.Run("failing source", func(t *testing.T) {
		boom := errors.New("boom")
		iss, err := issuer.New(issuer.Config{Algorithm: "HS256", Secret: mustSecret(t, 32),
			Issuer: testIssuer, Audience: []string{testAud}, Rand: iotest.ErrReader(boom)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iss.NewID(); !errors.Is(err, boom) {
			t.Errorf("err = %v, want it to wrap %v", err, boom)
		}
	})

	t.Run("crypto/rand by default, unique, 22 characters", func(t *testing.T) {
		f := newFixture(t, "HS256")
		seen := map[string]bool{}
		for range 1000 {
			id, err := f.iss.NewID()
			if err != nil {
				t.Fatal(err)
			}
			if len(id) != 22 || seen[id] {
				t.Fatalf("id %q: length %d, seen before %v", id, len(id), seen[id])
			}
			if b, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(b) != 16 {
				t.Fatalf("id %q is not 16 bytes of base64url: %v", id, err)
			}
			seen[id] = true
		}
	})
}

func TestKID_HMACIsKeyedNotAHash(t *testing.T) {
	for _, mode := range []string{"explicit refresh secret", "derived refresh key"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, "HS256", func(c *issuer.Config) {
				if mode == "derived refresh key" {
					c.RefreshSecret = nil
				}
			})
			refreshKey := f.cfg.RefreshSecret
			if refreshKey == nil {
				refreshKey = hkdfSHA256(t, f.cfg.Secret, "authsvc refresh-token key v1", 32)
			}
			for _, k := range []struct {
				kid string
				key []byte
			}{{f.accessKID, f.cfg.Secret}, {f.refreshKID, refreshKey}} {
				sum := sha256.Sum256(k.key)
				for _, plain := range []string{
					base64.RawURLEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:]),
					base64.StdEncoding.EncodeToString(sum[:]),
				} {
					if strings.HasPrefix(plain, k.kid) {
						t.Errorf("kid %q is a prefix of a plain hash of the key", k.kid)
					}
				}
				m := hmac.New(sha256.New, k.key)
				m.Write([]byte("authsvc kid v1"))
				if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:16]; k.kid != want {
					t.Errorf("kid = %q, want base64url(HMAC-SHA256(key, \"authsvc kid v1\"))[:16] = %q", k.kid, want)
				}
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	ecPrev := mustECDSA(t, elliptic.P256())
	edPrev := mustEd25519(t)
	tests := []struct {
		alg      string
		previous []crypto.PublicKey
		kty, crv string
		members  []string // public members besides kty, kid, use, alg
	}{
		{alg: "HS256"},
		{alg: "RS256", previous: []crypto.PublicKey{&rsaKeyB().PublicKey}, kty: "RSA", members: []string{"n", "e"}},
		{alg: "ES256", previous: []crypto.PublicKey{&ecPrev.PublicKey}, kty: "EC", crv: "P-256", members: []string{"crv", "x", "y"}},
		{alg: "EdDSA", previous: []crypto.PublicKey{edPrev.Public()}, kty: "OKP", crv: "Ed25519", members: []string{"crv", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			f := newFixture(t, tt.alg, func(c *issuer.Config) { c.PreviousPublicKeys = tt.previous })
			raw := f.iss.JWKS()
			if tt.alg == "HS256" {
				if string(raw) != `{"keys":[]}` {
					t.Errorf("JWKS = %s, want {\"keys\":[]}", raw)
				}
				return
			}
			var doc struct {
				Keys []map[string]string `json:"keys"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("JWKS %s: %v", raw, err)
			}
			if len(doc.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, want current and previous: %s", len(doc.Keys), raw)
			}
			if doc.Keys[0]["kid"] != f.accessKID {
				t.Errorf("first key kid = %q, want the current kid %q", doc.Keys[0]["kid"], f.accessKID)
			}
			for _, k := range doc.Keys {
				wantNames := append([]string{"kty", "kid", "use", "alg"}, tt.members...)
				var names []string
				for n := range k {
					names = append(names, n)
				}
				slices.Sort(names)
				slices.Sort(wantNames)
				if !slices.Equal(names, wantNames) {
					t.Errorf("members %v, want %v", names, wantNames)
				}
				if k["kty"] != tt.kty || k["use"] != "sig" || k["alg"] != tt.alg || k["crv"] != tt.crv {
					t.Errorf("key %v: want kty %q, use sig, alg %q, crv %q", k, tt.kty, tt.alg, tt.crv)
				}
				if got := rfc7638(t, k); k["kid"] != got {
					t.Errorf("kid %q, want RFC 7638 thumbprint %q", k["kid"], got)
				}
			}
			// Every published key verifies what its private key signs.
			pubs := jwksPublicKeys(t, raw)
			if _, ok := pubs[f.accessKID]; !ok {
				t.Error("current key missing")
			}
			raw[0] = 'X'
			if f.iss.JWKS()[0] != '{' {
				t.Error("modifying the returned JWKS changed the issuer's copy")
			}
		})
	}
}

// rfc7638 computes the JWK thumbprint of k independently of the package.
func rfc7638(t *testing.T, k map[string]string) string {
	t.Helper()
	var req []string
	switch k["kty"] {
	case "RSA":
		req = []string{"e", "kty", "n"}
	case "EC":
		req = []string{"crv", "kty", "x", "y"}
	case "OKP":
		req = []string{"crv", "kty", "x"}
	default:
		t.Fatalf("kty %q", k["kty"])
	}
	var b strings.Builder
	b.WriteByte('{')
	for n, name := range req {
		if n > 0 {
			b.WriteByte(',')
		}
		v, _ := json.Marshal(k[name])
		fmt.Fprintf(&b, "%q:%s", name, v)
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwksPublicKeys rebuilds the public keys of a JWKS document the way a
// resource server would, by kid.
func jwksPublicKeys(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("member %q: %v", s, err)
		}
		return b
	}
	keys := map[string]any{}
	for _, k := range doc.Keys {
		switch k["kty"] {
		case "RSA":
			keys[k["kid"]] = &rsa.PublicKey{N: new(big.Int).SetBytes(b64(k["n"])), E: int(new(big.Int).SetBytes(b64(k["e"])).Int64())}
		case "EC":
			x, y := b64(k["x"]), b64(k["y"])
			if len(x) != 32 || len(y) != 32 {
				t.Fatalf("EC coordinates of %d and %d bytes, want 32", len(x), len(y))
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				t.Fatal(err)
			}
			keys[k["kid"]] = pub
		case "OKP":
			keys[k["kid"]] = ed25519.PublicKey(b64(k["x"]))
		default:
			t.Fatalf("kty %q", k["kty"])
		}
	}
	return keys
}

// hkdfSHA256 is RFC 5869 HKDF with an empty salt, written out independently
// of crypto/hkdf, for outputs up to one block.
func hkdfSHA256(t *testing.T, secret []byte, info string, n int) []byte {
	t.Helper()
	if n > sha256.Size {
		t.Fatal("hkdfSHA256: one block only")
	}
	ext := hmac.New(sha256.New, make([]byte, sha256.Size))
	ext.Write(secret)
	exp := hmac.New(sha256.New, ext.Sum(nil))
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)[:n]
}

func TestRedaction(t *testing.T) {
	f := newFixture(t, "HS256", func(c *issuer.Config) { c.PreviousSecrets = [][]byte{mustSecret(t, 32)} })
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("config", "cfg", f.cfg, "issuer", f.iss)
	outputs := []string{
		fmt.Sprintf("%v %+v %#v %s", f.cfg, f.cfg, f.cfg, f.cfg),
		fmt.Sprintf("%v %+v %#v %s", f.iss, f.iss, f.iss, f.iss),
		fmt.Sprintf("%v %+v", &f.cfg, []issuer.Config{f.cfg}),
		logs.String(),
	}
	for _, out := range outputs {
		for _, s := range append([][]byte{f.cfg.Secret, f.cfg.RefreshSecret}, f.cfg.PreviousSecrets...) {
			if leaks(out, s) || strings.Contains(out, strings.Trim(fmt.Sprint(s), "[]")[:20]) {
				t.Errorf("output leaks a secret: %s", out)
			}
		}
	}
	if !strings.Contains(outputs[0], testIssuer) {
		t.Errorf("String() = %q, want the issuer named", outputs[0])
	}
}
