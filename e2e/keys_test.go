package e2e

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/testkit"
)

// keyFiles is a folder of PEM key files and a JWT_KEYS_FILE listing them.
type keyFiles struct {
	dir  string
	keys map[string]crypto.Signer // by file name
	pems map[string][]byte        // the PEM text of each file
}

func newKeyFiles(tb testing.TB) *keyFiles {
	tb.Helper()
	return &keyFiles{dir: tb.TempDir(), keys: map[string]crypto.Signer{}, pems: map[string][]byte{}}
}

// add writes key as PKCS#8 PEM to name in the folder.
func (k *keyFiles) add(tb testing.TB, name string, key crypto.Signer) {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	k.keys[name], k.pems[name] = key, p
	k.write(tb, name, p)
}

// write writes a file of the folder atomically (write and rename, as
// editors and deployment tools do).
func (k *keyFiles) write(tb testing.TB, name string, data []byte) {
	tb.Helper()
	tmp := filepath.Join(k.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, name)); err != nil {
		tb.Fatal(err)
	}
}

// schedule writes keys.yaml: pairs of key file name (relative) and
// active_from, and returns its path.
func (k *keyFiles) schedule(tb testing.TB, entries ...any) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for i := 0; i+1 < len(entries); i += 2 {
		at := entries[i+1]
		if t, ok := at.(time.Time); ok {
			at = t.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "  - private_key_file: %s\n    active_from: %v\n", entries[i], at)
	}
	k.write(tb, "keys.yaml", []byte(b.String()))
	return filepath.Join(k.dir, "keys.yaml")
}

// secretsOf returns strings that would reveal the private keys if they
// appeared in output: each PEM body line and the private scalar or seed in
// the usual encodings.
func (k *keyFiles) secretsOf() []string {
	var out []string
	for name, p := range k.pems {
		for _, line := range strings.Split(string(p), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
		var raw []byte
		switch key := k.keys[name].(type) {
		case *ecdsa.PrivateKey:
			raw, _ = key.Bytes()
		case ed25519.PrivateKey:
			raw = key.Seed()
		case *rsa.PrivateKey:
			raw = key.Primes[0].Bytes()
		}
		out = append(out, base64.RawURLEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), hex.EncodeToString(raw))
	}
	return out
}

func mustES256(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	return testkit.MustECDSA(tb, elliptic.P256())
}

// ecThumbprint computes the RFC 7638 thumbprint of a P-256 public key, the
// kid authsvc must give it.
func ecThumbprint(pub *ecdsa.PublicKey) string {
	b, _ := pub.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	s := `{"crv":"P-256","kty":"EC","x":"` + enc(b[1:33]) + `","y":"` + enc(b[33:]) + `"}`
	sum := sha256.Sum256([]byte(s))
	return enc(sum[:])
}

// es256Env is a valid ES256 configuration with JWT_KEYS_FILE.
func es256Env(tb testing.TB, redisURL, keysFile string) map[string]string {
	env := baseEnv(tb, redisURL)
	env["JWT_ALGORITHM"] = "ES256"
	env["JWT_KEYS_FILE"] = keysFile
	return env
}

// runAuthsvc runs the binary with args and env to completion.
func runAuthsvc(tb testing.TB, env map[string]string, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + freeAddr(tb)}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		tb.Fatalf("authsvc %v did not finish\n%s", args, e.String())
	}
	return o.String(), e.String(), err
}

// jwksKIDs fetches the JWKS and returns its kids and Cache-Control.
func jwksKIDs(tb testing.TB, base string) ([]string, string) {
	tb.Helper()
	r := call(tb, http.MethodGet, base+"/.well-known/jwks.json", "", "")
	if r.Status != http.StatusOK {
		tb.Fatalf("JWKS: %d %s", r.Status, r.Body)
	}
	var doc struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		tb.Fatal(err)
	}
	var kids []string
	for _, k := range doc.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, r.Header.Get("Cache-Control")
}

// accessKID logs in and returns the kid of the access token.
func accessKID(tb testing.TB, base string) string {
	tb.Helper()
	return tokenKID(tb, login(tb, base).str("access_token"))
}

func tokenKID(tb testing.TB, tok string) string {
	tb.Helper()
	h, _ := jwtParts(tb, tok)
	kid, _ := h["kid"].(string)
	return kid
}

// TestE2E_KeysFileStartupErrors checks every start-up error of
// JWT_KEYS_FILE and REFRESH_SECRET_KEY_PREVIOUS: each names the variable,
// the file and the problem, and no key material reaches the output.
func TestE2E_KeysFileStartupErrors(t *testing.T) {
	kf := newKeyFiles(t)
	kf.add(t, "a.pem", mustES256(t))
	kf.add(t, "b.pem", mustES256(t))
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	kf.add(t, "ed.pem", ed)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	kf.add(t, "small.pem", small)
	kf.write(t, "garbage.pem", []byte("not a key\n"))
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	// Each case writes its own keys file (a name of its own, so the cases
	// do not share one).
	sched := func(name string, entries ...any) string {
		p := kf.schedule(t, entries...)
		dst := filepath.Join(kf.dir, name)
		if err := os.Rename(p, dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	good := sched("good.yaml", "a.pem", past)

	for _, tc := range []struct {
		name  string
		env   map[string]string
		wants []string
	}{
		{"HS256 with a keys file", map[string]string{"JWT_ALGORITHM": "HS256", "JWT_KEYS_FILE": good},
			[]string{"JWT_KEYS_FILE: cannot be used with JWT_ALGORITHM=HS256"}},
		{"both keys file and private key file", map[string]string{"JWT_PRIVATE_KEY_FILE": filepath.Join(kf.dir, "a.pem")},
			[]string{"JWT_KEYS_FILE: and JWT_PRIVATE_KEY_FILE cannot both be set"}},
		{"no key active now", map[string]string{"JWT_KEYS_FILE": sched("late.yaml", "a.pem", future)},
			[]string{"no key is active now", "the earliest active_from is " + future.UTC().Format(time.RFC3339)}},
		{"keys file unreadable", map[string]string{"JWT_KEYS_FILE": filepath.Join(kf.dir, "missing.yaml")},
			[]string{"JWT_KEYS_FILE: cannot read " + filepath.Join(kf.dir, "missing.yaml")}},
		{"key file unreadable", map[string]string{"JWT_KEYS_FILE": sched("nofile.yaml", "a.pem", past, "nope.pem", future)},
			[]string{"keys[1]: cannot read " + filepath.Join(kf.dir, "nope.pem")}},
		{"key file not a key", map[string]string{"JWT_KEYS_FILE": sched("garbage.yaml", "garbage.pem", past)},
			[]string{"keys[0]: " + filepath.Join(kf.dir, "garbage.pem") + ": parse private key: no PEM private key block found"}},
		{"wrong key type", map[string]string{"JWT_KEYS_FILE": sched("ed.yaml", "a.pem", past, "ed.pem", future)},
			[]string{filepath.Join(kf.dir, "ed.pem") + ": key does not suit the algorithm: ES256 needs an ECDSA P-256 private key, got an Ed25519 key"}},
		{"RSA under 2048 bits", map[string]string{"JWT_ALGORITHM": "RS256", "JWT_KEYS_FILE": sched("small.yaml", "small.pem", past)},
			[]string{"small.pem: key does not suit the algorithm: RSA key must be at least 2048 bits"}},
		{"bad active_from", map[string]string{"JWT_KEYS_FILE": sched("badtime.yaml", "a.pem", "tomorrow")},
			[]string{"keys[0]: active_from must be an RFC 3339 time"}},
		{"same active_from twice", map[string]string{"JWT_KEYS_FILE": sched("twice.yaml", "a.pem", past, "b.pem", past)},
			[]string{"another key has the same active_from"}},
		{"same key twice", map[string]string{"JWT_KEYS_FILE": sched("dup.yaml", "a.pem", past, "a.pem", future)},
			[]string{"the same key is listed twice"}},
		{"empty keys file", map[string]string{"JWT_KEYS_FILE": sched("empty.yaml")},
			[]string{"lists no keys"}},
		{"a private key as the keys file", map[string]string{"JWT_KEYS_FILE": filepath.Join(kf.dir, "a.pem")},
			[]string{filepath.Join(kf.dir, "a.pem") + ": line 1: not a key set"}},
		{"unknown field", map[string]string{"JWT_KEYS_FILE": func() string {
			kf.write(t, "extra.yaml", []byte("keys:\n  - private_key_file: a.pem\n    active_from: 2020-01-01T00:00:00Z\n    passphrase: x\n"))
			return filepath.Join(kf.dir, "extra.yaml")
		}()}, []string{"extra.yaml: line 4: unknown field passphrase"}},
		{"short previous refresh key", map[string]string{"REFRESH_SECRET_KEY_PREVIOUS": "derived,too-short"},
			[]string{"REFRESH_SECRET_KEY_PREVIOUS: entry 2 must be at least 32 bytes"}},
		{"previous refresh key equal to SECRET_KEY", map[string]string{"REFRESH_SECRET_KEY_PREVIOUS": testSecret},
			[]string{"REFRESH_SECRET_KEY_PREVIOUS) must differ from SECRET_KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := es256Env(t, "redis://127.0.0.1:1/0", good)
			for k, v := range tc.env {
				env[k] = v
			}
			// Start-up and check-config report the same problems.
			for _, args := range [][]string{nil, {"check-config"}} {
				_, out, err := runAuthsvc(t, env, args...)
				if err == nil {
					t.Fatalf("authsvc %v succeeded:\n%s", args, out)
				}
				for _, w := range tc.wants {
					if !strings.Contains(out, w) {
						t.Errorf("authsvc %v: output lacks %q:\n%s", args, w, out)
					}
				}
				for _, s := range append(kf.secretsOf(), testSecret, testRefreshSecret) {
					if strings.Contains(out, s) {
						t.Fatalf("authsvc %v: output holds key material:\n%s", args, out)
					}
				}
			}
		})
	}
}

// TestE2E_KeysFileReload starts with a key set, then refuses every broken
// change (by SIGHUP and by the file watch) without changing the keys in
// force, and finally applies a good change: the new next key is published
// at once and signs from its active_from on.
func TestE2E_KeysFileReload(t *testing.T) {
	rds := redistest.Start(t)
	kf := newKeyFiles(t)
	a, b := mustES256(t), mustES256(t)
	kf.add(t, "a.pem", a)
	kf.add(t, "b.pem", b)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	kf.add(t, "ed.pem", ed)
	past := time.Now().Add(-time.Hour)
	keysFile := kf.schedule(t, "a.pem", past)
	env := es256Env(t, rds.URL(), keysFile)
	env["REFRESH_REUSE_GRACE"] = "30s"
	svc := startAuthsvc(t, env)
	kidA, kidB := ecThumbprint(&a.PublicKey), ecThumbprint(&b.PublicKey)
	if kids, _ := jwksKIDs(t, svc.URL); len(kids) != 1 || kids[0] != kidA {
		t.Fatalf("JWKS kids %v, want [%s]", kids, kidA)
	}
	refused := func() int { return strings.Count(svc.logs.String(), "configuration reload refused") }

	for _, tc := range []struct {
		name   string
		hup    bool // send SIGHUP; otherwise the file watch must notice
		change func()
		want   string
	}{
		{"no key active now", true, func() { kf.schedule(t, "a.pem", time.Now().Add(time.Hour)) }, "no key is active now"},
		{"wrong key type", false, func() { kf.schedule(t, "a.pem", past, "ed.pem", time.Now().Add(time.Hour)) }, "ES256 needs an ECDSA P-256 private key"},
		{"key file unreadable", true, func() { kf.schedule(t, "a.pem", past, "gone.pem", time.Now().Add(time.Hour)) }, "cannot read " + filepath.Join(kf.dir, "gone.pem")},
		{"key file corrupted", false, func() {
			kf.schedule(t, "a.pem", past)
			kf.write(t, "a.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
		}, "parse private key"},
		{"keys file deleted", true, func() {
			kf.write(t, "a.pem", kf.pems["a.pem"])
			if err := os.Remove(keysFile); err != nil {
				t.Fatal(err)
			}
		}, "cannot read " + keysFile},
		{"keys file malformed", false, func() { kf.write(t, "keys.yaml", []byte("keys: [unclosed\n")) }, "JWT_KEYS_FILE: " + keysFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := refused()
			tc.change()
			// The file watch notices within 5 s; SIGHUP on every other
			// case checks the signal path too.
			if tc.hup {
				if err := svc.signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 6*time.Second, "the reload to be refused", func() bool { return refused() > before })
			if !strings.Contains(svc.logs.String(), tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, tail(svc.logs.String(), 20))
			}
			if kids, _ := jwksKIDs(t, svc.URL); len(kids) != 1 || kids[0] != kidA {
				t.Errorf("JWKS changed after a refused reload: %v", kids)
			}
			if kid := accessKID(t, svc.URL); kid != kidA {
				t.Errorf("signing kid changed after a refused reload: %s", kid)
			}
		})
	}

	t.Run("a good change applies", func(t *testing.T) {
		switchAt := time.Now().Add(4 * time.Second).Truncate(time.Second)
		kf.schedule(t, "a.pem", past, "b.pem", switchAt)
		if err := svc.signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 6*time.Second, "the next key to be published", func() bool {
			kids, _ := jwksKIDs(t, svc.URL)
			return len(kids) == 2
		})
		kids, cc := jwksKIDs(t, svc.URL)
		if kids[0] != kidA || kids[1] != kidB {
			t.Fatalf("JWKS kids %v, want [%s %s]", kids, kidA, kidB)
		}
		// The switch is seconds away: the JWKS max-age ends there.
		var maxAge int
		if _, err := fmt.Sscanf(cc, "public, max-age=%d", &maxAge); err != nil || maxAge < 1 || maxAge > 5 {
			t.Errorf("Cache-Control %q, want a max-age ending at the switch", cc)
		}
		if !strings.Contains(svc.logs.String(), "a next key starts signing sooner than twice the JWKS max-age") {
			t.Errorf("no warning about the short lead of the next key")
		}
		l := login(t, svc.URL)
		tokA := l.str("access_token")
		first := postForm(t, svc.URL+"/refresh", "refresh_token", l.str("refresh_token"))
		if first.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", first.Status, first.Body)
		}
		if tokenKID(t, tokA) != kidA {
			t.Fatalf("signing with %s before the switch", tokenKID(t, tokA))
		}
		time.Sleep(time.Until(switchAt) + 100*time.Millisecond)
		if kid := accessKID(t, svc.URL); kid != kidB {
			t.Fatalf("signing kid %s after the switch, want %s", kid, kidB)
		}
		// A grace-window retry across the switch: the same successor, its
		// access token re-minted with the same claims by the new key.
		retry := postForm(t, svc.URL+"/refresh", "refresh_token", l.str("refresh_token"))
		if retry.Status != http.StatusOK || retry.str("refresh_token") != first.str("refresh_token") {
			t.Fatalf("grace retry after the switch: %d, same refresh token: %v", retry.Status, retry.str("refresh_token") == first.str("refresh_token"))
		}
		_, c1 := jwtParts(t, first.str("access_token"))
		_, c2 := jwtParts(t, retry.str("access_token"))
		if c1["jti"] != c2["jti"] || c1["exp"] != c2["exp"] || tokenKID(t, first.str("access_token")) != kidA || tokenKID(t, retry.str("access_token")) != kidB {
			t.Fatalf("grace retry after the switch: claims %v vs %v", c1, c2)
		}
		// The token of the old key is still accepted (previous key).
		r := postForm(t, svc.URL+"/introspect", "token", tokA, "client_id", "intro", "client_secret", introSecret)
		if r.Status != http.StatusOK || r.JSON["active"] != true {
			t.Fatalf("introspect of the previous key's token: %d %s", r.Status, r.Body)
		}
		if m := call(t, http.MethodGet, svc.URL+"/metrics", "", ""); !regexp.MustCompile(`authsvc_config_reloads_total\{result="ok"\} [1-9]`).Match(m.Body) {
			t.Errorf("metrics lack a successful reload")
		}
	})
	for _, s := range kf.secretsOf() {
		if strings.Contains(svc.logs.String(), s) {
			t.Fatal("the log holds key material")
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestE2E_GenKey checks that openssl reads what gen-key writes, with the
// right type and size, and the refusals of bad arguments.
func TestE2E_GenKey(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install it with 'apt-get install openssl'")
	}
	for _, tc := range []struct {
		args  []string
		wants []string // in `openssl pkey -text` output
	}{
		{[]string{"-alg", "RS256"}, []string{"Private-Key: (3072 bit"}},
		{[]string{"-alg", "RS256", "-bits", "2048"}, []string{"Private-Key: (2048 bit"}},
		{[]string{"-alg", "ES256"}, []string{"Private-Key: (256 bit)", "prime256v1"}},
		{[]string{"-alg", "EdDSA"}, []string{"ED25519 Private-Key"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runAuthsvc(t, nil, append([]string{"gen-key"}, tc.args...)...)
			if err != nil {
				t.Fatalf("gen-key: %v\n%s", err, errOut)
			}
			if !strings.HasPrefix(out, "-----BEGIN PRIVATE KEY-----\n") || strings.Count(out, "-----BEGIN") != 1 {
				t.Fatalf("not one PKCS#8 PEM block:\n%s", out)
			}
			ossl := exec.Command("openssl", "pkey", "-noout", "-text")
			ossl.Stdin = strings.NewReader(out)
			text, err := ossl.CombinedOutput()
			if err != nil {
				t.Fatalf("openssl pkey: %v\n%s", err, text)
			}
			for _, w := range tc.wants {
				if !strings.Contains(string(text), w) {
					t.Errorf("openssl output lacks %q:\n%s", w, text)
				}
			}
			// The key is what authsvc itself accepts for the algorithm.
			kf := newKeyFiles(t)
			kf.write(t, "k.pem", []byte(out))
			env := baseEnv(t, "redis://127.0.0.1:1/0")
			env["JWT_ALGORITHM"], env["JWT_KEYS_FILE"] = tc.args[1], kf.schedule(t, "k.pem", time.Now().Add(-time.Minute))
			if keys, errOut, err := runAuthsvc(t, env, "keys"); err != nil || strings.Count(keys, "\n") != 1 {
				t.Fatalf("authsvc keys with the generated key: %v\n%s%s", err, keys, errOut)
			}
		})
	}
	for _, args := range [][]string{{}, {"-alg", "HS256"}, {"-alg", "RS256", "-bits", "1024"}, {"-alg", "ES256", "-bits", "3072"}, {"-alg", "RS256", "extra"}} {
		if out, _, err := runAuthsvc(t, nil, append([]string{"gen-key"}, args...)...); err == nil || out != "" {
			t.Errorf("gen-key %v: err %v, output %q", args, err, out)
		}
	}
}

// TestE2E_KeysCommand checks `authsvc keys`: one line per key with its
// thumbprint kid, alg, active_from and state, and no key material.
func TestE2E_KeysCommand(t *testing.T) {
	kf := newKeyFiles(t)
	keys := []*ecdsa.PrivateKey{mustES256(t), mustES256(t), mustES256(t), mustES256(t)}
	now := time.Now().Truncate(time.Second)
	at := []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Hour), now.Add(-5 * time.Minute), now.Add(time.Hour)}
	var entries []any
	for n, k := range keys {
		name := fmt.Sprintf("k%d.pem", n)
		kf.add(t, name, k)
		entries = append(entries, name, at[n])
	}
	// ACCESS_TOKEN_TTL 15m + CLOCK_SKEW 30s: k0 stopped signing an hour
	// ago (retired), k1 five minutes ago (previous), k2 signs, k3 is next.
	env := es256Env(t, "redis://127.0.0.1:1/0", kf.schedule(t, entries...))
	out, errOut, err := runAuthsvc(t, env, "keys")
	if err != nil {
		t.Fatalf("keys: %v\n%s", err, errOut)
	}
	states := []string{"retired", "previous", "signing", "next"}
	var want strings.Builder
	for n, k := range keys {
		fmt.Fprintf(&want, "%s ES256 %s %s\n", ecThumbprint(&k.PublicKey), at[n].UTC().Format(time.RFC3339), states[n])
	}
	if out != want.String() {
		t.Fatalf("keys printed\n%s\nwant\n%s", out, want.String())
	}
	for _, s := range kf.secretsOf() {
		if strings.Contains(out+errOut, s) {
			t.Fatal("authsvc keys printed key material")
		}
	}

	t.Run("HS256", func(t *testing.T) {
		env := baseEnv(t, "redis://127.0.0.1:1/0")
		env["SECRET_KEY_PREVIOUS"] = "previous-key-0123456789-abcdefghijklmnop"
		out, errOut, err := runAuthsvc(t, env, "keys")
		if err != nil {
			t.Fatalf("keys: %v\n%s", err, errOut)
		}
		if !regexp.MustCompile(`^\S{16} HS256 1970-01-01T00:00:00Z signing\n\S{16} HS256 1970-01-01T00:00:00Z previous\n$`).MatchString(out) {
			t.Fatalf("keys printed %q", out)
		}
		if strings.Contains(out+errOut, testSecret) || strings.Contains(out+errOut, "previous-key-0123456789") {
			t.Fatal("authsvc keys printed a secret")
		}
	})
}

// TestE2E_RefreshKeyRotationAcrossInstances runs an instance with the old
// refresh key and one with the new key and the old one in
// REFRESH_SECRET_KEY_PREVIOUS on one Redis: tokens of the old instance keep
// working on the new one and rotate onto the new key, so nobody is logged
// out. A grace-window retry after the key change returns the same successor
// (same ids), signed with the new key.
func TestE2E_RefreshKeyRotationAcrossInstances(t *testing.T) {
	rds := redistest.Start(t)
	const newRefreshKey = "e2e-new-refresh-key-0123456789-ABCDEFGHIJ"

	t.Run("new REFRESH_SECRET_KEY", func(t *testing.T) {
		oldEnv := baseEnv(t, rds.URL())
		oldEnv["REFRESH_REUSE_GRACE"] = "30s"
		newEnv := maps.Clone(oldEnv)
		newEnv["REFRESH_SECRET_KEY"] = newRefreshKey
		newEnv["REFRESH_SECRET_KEY_PREVIOUS"] = testRefreshSecret
		strictEnv := maps.Clone(newEnv)
		delete(strictEnv, "REFRESH_SECRET_KEY_PREVIOUS")
		oldSvc, newSvc, strict := startAuthsvc(t, oldEnv), startAuthsvc(t, newEnv), startAuthsvc(t, strictEnv)

		l := login(t, oldSvc.URL)
		rt1 := l.str("refresh_token")
		oldKID := tokenKID(t, rt1)
		r1 := postForm(t, oldSvc.URL+"/refresh", "refresh_token", rt1)
		if r1.Status != http.StatusOK {
			t.Fatalf("refresh on the old instance: %d %s", r1.Status, r1.Body)
		}
		// The same token again, now at the new instance, inside the grace
		// window: the same successor, re-minted with the new key.
		r2 := postForm(t, newSvc.URL+"/refresh", "refresh_token", rt1)
		if r2.Status != http.StatusOK {
			t.Fatalf("grace retry on the new instance: %d %s", r2.Status, r2.Body)
		}
		_, c1 := jwtParts(t, r1.str("refresh_token"))
		_, c2 := jwtParts(t, r2.str("refresh_token"))
		_, a1 := jwtParts(t, r1.str("access_token"))
		_, a2 := jwtParts(t, r2.str("access_token"))
		if c1["jti"] != c2["jti"] || c1["sid"] != c2["sid"] || c1["exp"] != c2["exp"] || a1["jti"] != a2["jti"] {
			t.Fatalf("the retry after the key change is not the same successor: %v vs %v", c1, c2)
		}
		newKID := tokenKID(t, r2.str("refresh_token"))
		if newKID == oldKID || tokenKID(t, r1.str("refresh_token")) != oldKID {
			t.Fatalf("kids: old %s, retry %s", oldKID, newKID)
		}
		// The successor as the old instance signed it is accepted by the
		// new one, and rotates onto the new key.
		r3 := postForm(t, newSvc.URL+"/refresh", "refresh_token", r1.str("refresh_token"))
		if r3.Status != http.StatusOK || tokenKID(t, r3.str("refresh_token")) != newKID {
			t.Fatalf("refresh of an old-key token on the new instance: %d %s", r3.Status, r3.Body)
		}
		if r4 := postForm(t, newSvc.URL+"/refresh", "refresh_token", r3.str("refresh_token")); r4.Status != http.StatusOK {
			t.Fatalf("refresh of the rotated token: %d %s", r4.Status, r4.Body)
		}
		// Without the previous key the old token is refused, and not used
		// up: the instance that knows the key still rotates it.
		rtX := login(t, oldSvc.URL).str("refresh_token")
		wantError(t, postForm(t, strict.URL+"/refresh", "refresh_token", rtX), http.StatusBadRequest, "invalid_grant")
		if r := postForm(t, newSvc.URL+"/refresh", "refresh_token", rtX); r.Status != http.StatusOK {
			t.Fatalf("refresh after a refusal elsewhere: %d %s", r.Status, r.Body)
		}
	})

	t.Run("from the derived key", func(t *testing.T) {
		oldEnv := baseEnv(t, rds.URL())
		delete(oldEnv, "REFRESH_SECRET_KEY")
		newEnv := maps.Clone(oldEnv)
		newEnv["REFRESH_SECRET_KEY"] = newRefreshKey
		newEnv["REFRESH_SECRET_KEY_PREVIOUS"] = "derived"
		oldSvc, newSvc := startAuthsvc(t, oldEnv), startAuthsvc(t, newEnv)
		rt := login(t, oldSvc.URL).str("refresh_token")
		r := postForm(t, newSvc.URL+"/refresh", "refresh_token", rt)
		if r.Status != http.StatusOK || tokenKID(t, r.str("refresh_token")) == tokenKID(t, rt) {
			t.Fatalf("refresh of a derived-key token: %d %s", r.Status, r.Body)
		}
		// HS256 without REFRESH_SECRET_KEY warns at start-up; with it, not.
		const warning = "JWT_ALGORITHM is HS256 and REFRESH_SECRET_KEY is unset"
		if !strings.Contains(oldSvc.logs.String(), warning) {
			t.Errorf("no start-up warning about the derived refresh key under HS256")
		}
		if strings.Contains(newSvc.logs.String(), warning) {
			t.Errorf("the warning appears although REFRESH_SECRET_KEY is set")
		}
		for _, s := range []string{testSecret, newRefreshKey} {
			if strings.Contains(oldSvc.logs.String()+newSvc.logs.String(), s) {
				t.Fatal("a log holds a secret")
			}
		}
	})
}

// TestE2E_KeysFileAdminReload checks POST /admin/reload with a key set: a
// broken set is refused with 400 invalid_config naming the problem and
// nothing changes; a good one answers with the number of keys the JWKS now
// publishes.
func TestE2E_KeysFileAdminReload(t *testing.T) {
	const opsSecret = "ops-Secret-Capybara-57"
	rds := redistest.Start(t)
	kf := newKeyFiles(t)
	a, b := mustES256(t), mustES256(t)
	kf.add(t, "a.pem", a)
	kf.add(t, "b.pem", b)
	past := time.Now().Add(-time.Hour)
	env := es256Env(t, rds.URL(), kf.schedule(t, "a.pem", past))
	creds, err := os.ReadFile(env["CREDENTIALS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	creds = fmt.Appendf(creds, "  - client_id: ops\n    client_secret_hash: %q\n    grant_types: [client_credentials]\n    admin: true\n", mustHash(t, opsSecret))
	kf.write(t, "credentials.yaml", creds)
	env["CREDENTIALS_FILE"] = filepath.Join(kf.dir, "credentials.yaml")
	adminAddr := freeAddr(t)
	env["ADMIN_ADDR"] = adminAddr
	svc := startAuthsvc(t, env)
	reload := func() *response {
		return call(t, http.MethodPost, "http://"+adminAddr+"/admin/reload", "", "", "Authorization", basic("ops", opsSecret))
	}
	kidA, kidB := ecThumbprint(&a.PublicKey), ecThumbprint(&b.PublicKey)

	kf.schedule(t, "a.pem", time.Now().Add(time.Hour))
	r := reload()
	if r.Status != http.StatusBadRequest || r.str("error") != "invalid_config" || !strings.Contains(string(r.Body), "JWT_KEYS_FILE") ||
		!strings.Contains(string(r.Body), "no key is active now") {
		t.Fatalf("reload of a set with no active key: %d %s", r.Status, r.Body)
	}
	if kids, _ := jwksKIDs(t, svc.URL); len(kids) != 1 || kids[0] != kidA {
		t.Fatalf("JWKS changed after a refused reload: %v", kids)
	}

	kf.schedule(t, "a.pem", past, "b.pem", time.Now().Add(time.Hour))
	r = reload()
	if r.Status != http.StatusOK || r.JSON["keys"] != float64(2) {
		t.Fatalf("reload of a good set: %d %s", r.Status, r.Body)
	}
	if kids, _ := jwksKIDs(t, svc.URL); len(kids) != 2 || kids[0] != kidA || kids[1] != kidB {
		t.Fatalf("JWKS after the reload: %v", kids)
	}
	for _, s := range kf.secretsOf() {
		if strings.Contains(string(r.Body)+svc.logs.String(), s) {
			t.Fatal("key material in an answer or the log")
		}
	}
}
