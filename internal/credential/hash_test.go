package credential

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/oauth"
)

func TestHash_RoundTrip(t *testing.T) {
	h, err := Hash([]byte("correct horse"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)
	m := phc.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("Hash = %q, want OWASP argon2id PHC form", h)
	}
	if salt, _ := base64.RawStdEncoding.DecodeString(m[1]); len(salt) != 16 {
		t.Errorf("salt is %d bytes, want 16", len(salt))
	}
	if key, _ := base64.RawStdEncoding.DecodeString(m[2]); len(key) != 32 {
		t.Errorf("key is %d bytes, want 32", len(key))
	}

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", "correct horse", true},
		{"wrong password", "correct horsf", false},
		{"prefix", "correct hors", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(h, []byte(tt.password))
			if err != nil || got != tt.want {
				t.Errorf("Verify = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}

	h2, err := Hash([]byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestHash_RejectsBadPasswords(t *testing.T) {
	tests := []struct {
		name     string
		password []byte
	}{
		{"empty", nil},
		{"over MaxPasswordLen", []byte(strings.Repeat("p", oauth.MaxPasswordLen+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Hash(tt.password)
			if err == nil {
				t.Fatalf("Hash = %q, want an error", h)
			}
			if strings.Contains(err.Error(), "ppppp") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	long := strings.Repeat("x", 72)
	bc := mustBcrypt(t, "s3cret", bcrypt.MinCost)
	bcLong := mustBcrypt(t, long, bcrypt.MinCost) // exactly 72 bytes
	ar := mustArgon2id(t, "s3cret", 64, 1, 1)
	arLong := mustArgon2id(t, long+"tail", 64, 1, 2)
	secret, fast := mustSecret(t)
	shortFast, err := newHash(hashParams{kind: kindSHA256, saltLen: 16, keyLen: 32}, []byte("short"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"bcrypt 2a right", bc, "s3cret", true},
		{"bcrypt 2b right", "$2b" + bc[3:], "s3cret", true},
		{"bcrypt 2y right", "$2y" + bc[3:], "s3cret", true},
		{"bcrypt wrong", bc, "s3creT", false},
		{"bcrypt empty", bc, "", false},
		{"bcrypt 72 bytes right", bcLong, long, true},
		{"bcrypt over 72 bytes is rejected, not truncated", bcLong, long + "y", false},
		{"argon2id right", ar, "s3cret", true},
		{"argon2id wrong", ar, "s3cre", false},
		{"argon2id over 72 bytes right", arLong, long + "tail", true},
		{"argon2id over 72 bytes wrong tail", arLong, long + "tair", false},
		{"sha256 right", fast, secret, true},
		{"sha256 wrong", fast, otherLastChar(secret), false},
		{"sha256 short secret never matches", shortFast, "short", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.hash, []byte(tt.password))
			if err != nil || got != tt.want {
				t.Errorf("Verify = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestVerify_InvalidHash(t *testing.T) {
	bc := mustBcrypt(t, "pw", bcrypt.MinCost)
	ar := mustArgon2id(t, "pw", 64, 1, 1)
	_, fast := mustSecret(t)
	arParts := strings.Split(ar, "$") // "", argon2id, v=19, params, salt, key
	argon := func(version, params, salt, key string) string {
		return strings.Join([]string{"", "argon2id", version, params, salt, key}, "$")
	}
	salt, key := arParts[4], arParts[5]
	b64 := func(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }

	tests := []struct {
		name string
		hash string
		want string // in the message
	}{
		{"empty", "", "empty"},
		{"plain text", "hunter2", "unrecognised format"},
		{"md5 crypt", "$1$abcdefgh$0123456789abcdefghijkl", "unrecognised format"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, "argon2id"},
		{"bcrypt truncated", bc[:59], "malformed bcrypt"},
		{"bcrypt too long", bc + "a", "malformed bcrypt"},
		{"bcrypt 2x", "$2x" + bc[3:], "malformed bcrypt"},
		{"bcrypt cost letters", bc[:4] + "ab" + bc[6:], "bcrypt cost"},
		{"bcrypt cost 3", bc[:4] + "03" + bc[6:], "not between 4 and 31"},
		{"bcrypt cost 32", bc[:4] + "32" + bc[6:], "not between 4 and 31"},
		{"bcrypt cost above limit", bc[:4] + "17" + bc[6:], "above the limit of 16"},
		{"bcrypt bad character", bc[:40] + "!" + bc[41:], "malformed bcrypt"},
		{"argon2id missing part", strings.Join(arParts[:5], "$"), "malformed argon2id"},
		{"argon2id version 16", argon("v=16", "m=64,t=1,p=1", salt, key), "version"},
		{"argon2id no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, "malformed argon2id"},
		{"argon2id params out of order", argon("v=19", "t=1,m=64,p=1", salt, key), "parameters"},
		{"argon2id extra param", argon("v=19", "m=64,t=1,p=1,k=2", salt, key), "parameters"},
		{"argon2id negative", argon("v=19", "m=-64,t=1,p=1", salt, key), "parameters"},
		{"argon2id overflow", argon("v=19", "m=4294967296,t=1,p=1", salt, key), "parameters"},
		{"argon2id t=0", argon("v=19", "m=64,t=0,p=1", salt, key), "at least 1"},
		{"argon2id p=0", argon("v=19", "m=64,t=1,p=0", salt, key), "at least 1"},
		{"argon2id m below 8p", argon("v=19", "m=15,t=1,p=2", salt, key), "8×p"},
		{"argon2id m above 1 GiB", argon("v=19", "m=1048577,t=1,p=1", salt, key), "above the limit"},
		{"argon2id t above 10", argon("v=19", "m=64,t=11,p=1", salt, key), "above the limit"},
		{"argon2id p above 16", argon("v=19", "m=256,t=1,p=17", salt, key), "above the limit"},
		{"argon2id padded salt", argon("v=19", "m=64,t=1,p=1", salt+"==", key), "salt"},
		{"argon2id newline in salt", argon("v=19", "m=64,t=1,p=1", salt[:4]+"\n"+salt[4:], key), "salt"},
		{"argon2id short salt", argon("v=19", "m=64,t=1,p=1", b64(7), key), "salt of 7 bytes"},
		{"argon2id short key", argon("v=19", "m=64,t=1,p=1", salt, b64(15)), "digest of 15 bytes"},
		{"argon2id empty key", argon("v=19", "m=64,t=1,p=1", salt, ""), "digest"},
		{"sha256 missing part", strings.Join(strings.Split(fast, "$")[:3], "$"), "malformed sha256"},
		{"sha256 short salt", "$sha256$" + b64(8) + "$" + b64(32), "salt of 8 bytes"},
		{"sha256 short digest", "$sha256$" + b64(16) + "$" + b64(31), "digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.hash, []byte("pw"))
			if err == nil {
				t.Fatalf("Verify = %v, nil; want an error", ok)
			}
			if ok {
				t.Error("Verify = true with an error")
			}
			if !errors.Is(err, ErrInvalidHash) {
				t.Errorf("error %v is not ErrInvalidHash", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			assertNoHash(t, err.Error(), tt.hash)
		})
	}
}

func TestGenerateClientSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		secret, hash := mustSecret(t)
		if seen[secret] {
			t.Fatal("GenerateClientSecret repeated a secret")
		}
		seen[secret] = true
		raw, err := base64.RawURLEncoding.Strict().DecodeString(secret)
		if err != nil || len(raw) != 32 || len(secret) != 43 {
			t.Fatalf("secret %q is not 32 bytes of unpadded base64url (err %v)", secret, err)
		}
		if !regexp.MustCompile(`^\$sha256\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(hash) {
			t.Fatalf("hash %q is not $sha256$<16-byte salt>$<32-byte digest>", hash)
		}
		if strings.Contains(hash, secret) {
			t.Fatal("hash contains the secret")
		}
		if ok, err := Verify(hash, []byte(secret)); !ok || err != nil {
			t.Fatalf("Verify(own secret) = %v, %v", ok, err)
		}
		if ok, _ := Verify(hash, []byte(secret+"x")); ok {
			t.Fatal("Verify accepted a different secret")
		}
	}
}

func TestHashParams_Weakness(t *testing.T) {
	argon := func(m, t uint32, salt int) hashParams {
		return hashParams{kind: kindArgon2id, memory: m, time: t, threads: 1, saltLen: salt, keyLen: 32}
	}
	tests := []struct {
		name   string
		params hashParams
		weak   bool
	}{
		{"bcrypt 10", hashParams{kind: kindBcrypt, cost: 10}, true},
		{"bcrypt 11", hashParams{kind: kindBcrypt, cost: 11}, true},
		{"bcrypt 12", hashParams{kind: kindBcrypt, cost: 12}, false},
		{"argon2id OWASP 19 MiB t=2", argon(19456, 2, 16), false},
		{"argon2id OWASP 46 MiB t=1", argon(47104, 1, 16), false},
		{"argon2id OWASP 12 MiB t=3", argon(12288, 3, 16), false},
		{"argon2id OWASP 9 MiB t=4", argon(9216, 4, 16), false},
		{"argon2id OWASP 7 MiB t=5", argon(7168, 5, 16), false},
		{"argon2id RFC 9106 64 MiB t=3", argon(65536, 3, 16), false},
		{"argon2id 19 MiB t=1", argon(19456, 1, 16), true},
		{"argon2id 12 MiB t=2", argon(12288, 2, 16), true},
		{"argon2id 4 MiB t=10", argon(4096, 10, 16), true},
		{"argon2id 8-byte salt", argon(19456, 2, 8), true},
		{"sha256", hashParams{kind: kindSHA256, saltLen: 16, keyLen: 32}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.params.weakness() != ""; got != tt.weak {
				t.Errorf("weak = %v (%q), want %v", got, tt.params.weakness(), tt.weak)
			}
		})
	}
}

// TestVerify_SlowHashSemaphore checks that bcrypt and argon2id wait for a
// slot of the slow-hash gate and the sha256 fast path does not.
func TestVerify_SlowHashSemaphore(t *testing.T) {
	bc := mustBcrypt(t, "pw", bcrypt.MinCost)
	ar := mustArgon2id(t, "pw", 64, 1, 1)
	secret, fast := mustSecret(t)
	slowHashes := NewGate(2, time.Now)
	gated := WithGate(slowHashes)

	for range cap(slowHashes.base) {
		slowHashes.base <- struct{}{}
	}
	for range cap(slowHashes.extra) {
		slowHashes.extra <- struct{}{}
	}
	released := false
	release := func() {
		if !released {
			released = true
			for range cap(slowHashes.base) {
				<-slowHashes.base
			}
			for range cap(slowHashes.extra) {
				<-slowHashes.extra
			}
		}
	}
	defer release()

	done := make(chan bool, 3)
	go func() { ok, _ := Verify(fast, []byte(secret), gated); done <- ok }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("sha256 Verify = false")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sha256 Verify waited for a slow-hash slot")
	}

	go func() { ok, _ := Verify(bc, []byte("pw"), gated); done <- ok }()
	go func() { ok, _ := Verify(ar, []byte("pw"), gated); done <- ok }()
	select {
	case <-done:
		t.Fatal("a slow hash was verified while every slot was taken")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	for range 2 {
		select {
		case ok := <-done:
			if !ok {
				t.Error("slow Verify = false after release")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("slow Verify did not finish after the slots were released")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	owasp, err := Hash([]byte("benchmark password"))
	if err != nil {
		b.Fatal(err)
	}
	secret, fast := mustSecret(b)
	benchmarks := []struct {
		name     string
		hash     string
		password string
	}{
		{"argon2id-OWASP", owasp, "benchmark password"},
		{"bcrypt-12", mustBcrypt(b, "benchmark password", 12), "benchmark password"},
		{"sha256-client-secret", fast, secret},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			password := []byte(bm.password)
			for b.Loop() {
				if ok, err := Verify(bm.hash, password); !ok || err != nil {
					b.Fatalf("Verify = %v, %v", ok, err)
				}
			}
		})
	}
}

// otherLastChar returns s with its last character replaced by a different one.
func otherLastChar(s string) string {
	c := byte('A')
	if s[len(s)-1] == c {
		c = 'B'
	}
	return s[:len(s)-1] + string(c)
}
