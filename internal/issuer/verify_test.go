package issuer_test

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/issuer"
)

var algorithms = []string{"HS256", "RS256", "ES256", "EdDSA"}

func TestSignAccess_RoundTrip(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			in := f.accessClaims()
			tok := f.signAccess(t, in)

			h := tokenHeader(t, tok)
			want := map[string]any{"alg": alg, "typ": "at+jwt", "kid": f.accessKID}
			if !reflect.DeepEqual(h, want) {
				t.Errorf("header = %v, want %v", h, want)
			}
			if f.accessKID == "" {
				t.Error("kid is empty")
			}

			got, err := f.iss.VerifyAccess(tok)
			if err != nil {
				t.Fatalf("VerifyAccess: %v", err)
			}
			in.Issuer, in.Audience = testIssuer, []string{testAud}
			if !got.IssuedAt.Equal(in.IssuedAt) || !got.ExpiresAt.Equal(in.ExpiresAt) {
				t.Errorf("times = %v..%v, want %v..%v", got.IssuedAt, got.ExpiresAt, in.IssuedAt, in.ExpiresAt)
			}
			got.IssuedAt, got.ExpiresAt, in.IssuedAt, in.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("claims = %+v, want %+v", got, in)
			}
			if f.iss.Algorithm() != alg {
				t.Errorf("Algorithm() = %q, want %q", f.iss.Algorithm(), alg)
			}
		})
	}
}

func TestSignAccess_ClaimsOnTheWire(t *testing.T) {
	tests := []struct {
		name     string
		audience []string
		in       func(f *fixture) issuer.AccessClaims
		want     string
	}{
		{
			name:     "all claims, one audience as a string",
			audience: []string{testAud},
			in:       func(f *fixture) issuer.AccessClaims { return f.accessClaims() },
			want: `{"iss":"https://auth.example.test","sub":"alice","aud":"api.example.test",` +
				`"exp":1893554345,"iat":1893553445,"nbf":1893553445,"jti":"jti-access-1","type":"access",` +
				`"scope":"read write","client_id":"billing"}`,
		},
		{
			name:     "no scope or client, two audiences as an array, Issuer and Audience of the claims ignored",
			audience: []string{"a", "b"},
			in: func(f *fixture) issuer.AccessClaims {
				c := f.accessClaims()
				c.Scope, c.ClientID = "", ""
				c.Issuer, c.Audience = "https://evil.test", []string{"evil"}
				c.IssuedAt = c.IssuedAt.Add(999 * time.Millisecond) // sub-second part dropped
				return c
			},
			want: `{"iss":"https://auth.example.test","sub":"alice","aud":["a","b"],` +
				`"exp":1893554345,"iat":1893553445,"nbf":1893553445,"jti":"jti-access-1","type":"access"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "HS256", func(c *issuer.Config) { c.Audience = tt.audience })
			tok := f.signAccess(t, tt.in(f))
			if got := rawSegment(t, tok, 1); got != tt.want {
				t.Errorf("claims JSON\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSignAccess_ResourceServerVerifies checks what a resource server does:
// python-jose's jwt.decode(token, SECRET_KEY, algorithms=["HS256"],
// audience=AUD, issuer=ISS) for HS256, or the JWKS public key otherwise. It
// does the same with golang-jwt, from the JWKS document alone for public keys,
// and checks the NumericDate claims are JSON integers (python-jose rejects
// anything else).
func TestSignAccess_ResourceServerVerifies(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg, func(c *issuer.Config) { c.Audience = []string{testAud, "other"} })
			tok := f.signAccess(t, f.accessClaims())

			var key any = f.cfg.Secret
			if alg != "HS256" {
				keys := jwksPublicKeys(t, f.iss.JWKS())
				key = keys[f.accessKID]
				if key == nil {
					t.Fatalf("kid %q not in JWKS", f.accessKID)
				}
			}
			_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key, nil },
				jwt.WithValidMethods([]string{alg}), jwt.WithAudience("other"), jwt.WithIssuer(testIssuer),
				jwt.WithTimeFunc(f.clock.Now), jwt.WithExpirationRequired())
			if err != nil {
				t.Fatalf("resource server rejects access token: %v", err)
			}
			for _, c := range []string{"exp", "iat", "nbf"} {
				n, ok := tokenClaims(t, tok)[c].(json.Number)
				if _, err := n.Int64(); !ok || err != nil {
					t.Errorf("%s = %v, want a JSON integer", c, tokenClaims(t, tok)[c])
				}
			}
		})
	}
}

func TestSignRefresh_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*issuer.Config)
	}{
		{name: "explicit refresh secret"},
		{name: "derived refresh key", mod: func(c *issuer.Config) { c.RefreshSecret = nil }},
		{name: "derived, with RS256 access tokens", mod: func(c *issuer.Config) {
			c.RefreshSecret, c.Algorithm, c.PrivateKey = nil, "RS256", rsaKeyA()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*issuer.Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			f := newFixture(t, "HS256", mods...)
			in := f.refreshClaims()
			tok := f.signRefresh(t, in)

			h := tokenHeader(t, tok)
			want := map[string]any{"alg": "HS256", "typ": "rt+jwt", "kid": f.refreshKID}
			if !reflect.DeepEqual(h, want) {
				t.Errorf("header = %v, want %v", h, want)
			}
			if f.refreshKID == "" || f.refreshKID == f.accessKID {
				t.Errorf("refresh kid %q must be set and differ from access kid %q", f.refreshKID, f.accessKID)
			}
			wantJSON := `{"iss":"https://auth.example.test","sub":"alice","aud":"https://auth.example.test",` +
				`"exp":1894158245,"iat":1893553445,"jti":"jti-refresh-1","type":"refresh","sid":"sid-1",` +
				`"scope":"read","client_id":"billing","auth_time":1893549845}`
			if got := rawSegment(t, tok, 1); got != wantJSON {
				t.Errorf("claims JSON\n got %s\nwant %s", got, wantJSON)
			}

			got, err := f.iss.VerifyRefresh(tok)
			if err != nil {
				t.Fatalf("VerifyRefresh: %v", err)
			}
			for _, p := range [][2]time.Time{{got.AuthTime, in.AuthTime}, {got.IssuedAt, in.IssuedAt}, {got.ExpiresAt, in.ExpiresAt}} {
				if !p[0].Equal(p[1]) {
					t.Errorf("time = %v, want %v", p[0], p[1])
				}
			}
			got.AuthTime, got.IssuedAt, got.ExpiresAt = in.AuthTime, in.IssuedAt, in.ExpiresAt
			// Refresh tokens are for authsvc alone: iss and aud are both the issuer.
			in.Issuer, in.Audience = "https://auth.example.test", []string{"https://auth.example.test"}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("claims = %+v, want %+v", got, in)
			}

			// A resource server holding SECRET_KEY must not accept it.
			_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return f.cfg.Secret, nil },
				jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(f.clock.Now))
			if err == nil {
				t.Error("refresh token verifies with the access secret")
			}
		})
	}
}

func TestSignRefresh_DerivedKeyIsHKDF(t *testing.T) {
	f := newFixture(t, "HS256", func(c *issuer.Config) { c.RefreshSecret = nil })
	// The same secret, given explicitly as the HKDF output, must produce the
	// same token.
	derived := hkdfSHA256(t, f.cfg.Secret, "authsvc refresh-token key v1", 32)
	g := newFixture(t, "HS256", func(c *issuer.Config) { c.Secret, c.RefreshSecret = f.cfg.Secret, derived })
	a, b := f.signRefresh(t, f.refreshClaims()), g.signRefresh(t, g.refreshClaims())
	if a != b {
		t.Errorf("derived refresh key is not HKDF-SHA256(Secret, %q)", "authsvc refresh-token key v1")
	}
}

func TestSignRefresh_Deterministic(t *testing.T) {
	f := newFixture(t, "ES256")
	c := f.refreshClaims()
	a := f.signRefresh(t, c)
	b := f.signRefresh(t, c)
	if a != b {
		t.Errorf("signing equal claims twice gave different tokens:\n%s\n%s", a, b)
	}
	c.ID = "jti-refresh-2"
	if f.signRefresh(t, c) == a {
		t.Error("different claims gave the same token")
	}
}

func TestSign_RejectsIncompleteClaims(t *testing.T) {
	f := newFixture(t, "HS256")
	access := []struct {
		name string
		mod  func(*issuer.AccessClaims)
	}{
		{"no id", func(c *issuer.AccessClaims) { c.ID = "" }},
		{"no subject", func(c *issuer.AccessClaims) { c.Subject = "" }},
		{"no issued at", func(c *issuer.AccessClaims) { c.IssuedAt = time.Time{} }},
		{"expiry not after issue", func(c *issuer.AccessClaims) { c.ExpiresAt = c.IssuedAt }},
	}
	for _, tt := range access {
		t.Run("access/"+tt.name, func(t *testing.T) {
			c := f.accessClaims()
			tt.mod(&c)
			if tok, err := f.iss.SignAccess(c); err == nil {
				t.Errorf("SignAccess = %q, want error", tok)
			}
		})
	}
	refresh := []struct {
		name string
		mod  func(*issuer.RefreshClaims)
	}{
		{"no id", func(c *issuer.RefreshClaims) { c.ID = "" }},
		{"no session", func(c *issuer.RefreshClaims) { c.SessionID = "" }},
		{"no subject", func(c *issuer.RefreshClaims) { c.Subject = "" }},
		{"no auth time", func(c *issuer.RefreshClaims) { c.AuthTime = time.Time{} }},
		{"expiry before issue", func(c *issuer.RefreshClaims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }},
	}
	for _, tt := range refresh {
		t.Run("refresh/"+tt.name, func(t *testing.T) {
			c := f.refreshClaims()
			tt.mod(&c)
			if tok, err := f.iss.SignRefresh(c); err == nil {
				t.Errorf("SignRefresh = %q, want error", tok)
			}
		})
	}
}

// verdict is what a verification test expects.
type verdict int

const (
	valid   verdict = iota
	invalid         // ErrInvalidToken, not ErrExpired
	expired         // ErrExpired and ErrInvalidToken
)

func checkVerdict(t *testing.T, err error, want verdict) {
	t.Helper()
	switch want {
	case valid:
		if err != nil {
			t.Fatalf("err = %v, want success", err)
		}
	case invalid:
		if !errors.Is(err, issuer.ErrInvalidToken) || errors.Is(err, issuer.ErrExpired) {
			t.Fatalf("err = %v, want ErrInvalidToken and not ErrExpired", err)
		}
	case expired:
		if !errors.Is(err, issuer.ErrExpired) || !errors.Is(err, issuer.ErrInvalidToken) {
			t.Fatalf("err = %v, want ErrExpired and ErrInvalidToken", err)
		}
	}
}

func TestVerifyAccess_Rejects(t *testing.T) {
	// with returns a token built from the fixture's forged header and claims
	// after mod changed them, signed with the fixture's own access key.
	with := func(mod func(h map[string]any, c jwt.MapClaims)) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			mod(h, c)
			return forge(t, jwt.GetSigningMethod(f.cfg.Algorithm), f.accessKey(), h, c)
		}
	}
	tests := []struct {
		name  string
		alg   string
		token func(t *testing.T, f *fixture) string
		want  verdict
	}{
		// Controls: the forging helpers make valid tokens, so each rejection
		// below is caused by its one change.
		{"control HS256", "HS256", with(func(map[string]any, jwt.MapClaims) {}), valid},
		{"control RS256", "RS256", with(func(map[string]any, jwt.MapClaims) {}), valid},
		{"control typ application/at+jwt", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "application/AT+JWT" }), valid},
		{"control aud array", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = []string{"x", testAud} }), valid},
		{"control 8 KiB", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["pad"] = strings.Repeat("p", 5000) }), valid},

		{"alg none", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			h["alg"] = "none"
			return forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, h, c)
		}, invalid},
		{"alg none with a signature", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			h["alg"] = "none"
			tok := forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, h, c)
			return tok + base64.RawURLEncoding.EncodeToString([]byte("sig"))
		}, invalid},
		{"HS512 with the right secret", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			h["alg"] = "HS512"
			return forge(t, jwt.SigningMethodHS512, f.cfg.Secret, h, c)
		}, invalid},
		{"RS256 token to an ES256 issuer", "ES256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			h["alg"] = "RS256"
			return forge(t, jwt.SigningMethodRS256, rsaKeyB(), h, c)
		}, invalid},
		{"PS256 with the right RSA key", "RS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			h["alg"] = "PS256"
			return forge(t, jwt.SigningMethodPS256, f.cfg.PrivateKey, h, c)
		}, invalid},
		{"HS256 signed with the RSA public key PEM as secret", "RS256", func(t *testing.T, f *fixture) string {
			der, err := x509.MarshalPKIXPublicKey(&f.cfg.PrivateKey.(*rsa.PrivateKey).PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			h, c := f.forgedAccess()
			h["alg"] = "HS256"
			return forge(t, jwt.SigningMethodHS256, pemBytes, h, c)
		}, invalid},
		{"HS256 signed with the RSA public key PKCS1 PEM as secret", "RS256", func(t *testing.T, f *fixture) string {
			pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY",
				Bytes: x509.MarshalPKCS1PublicKey(&f.cfg.PrivateKey.(*rsa.PrivateKey).PublicKey)})
			h, c := f.forgedAccess()
			h["alg"] = "HS256"
			return forge(t, jwt.SigningMethodHS256, pemBytes, h, c)
		}, invalid},
		{"unknown kid", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "not-a-configured-kid" }), invalid},
		{"missing kid", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { delete(h, "kid") }), invalid},
		{"kid not a string", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = 1 }), invalid},
		{"jku header", "RS256", with(func(h map[string]any, _ jwt.MapClaims) { h["jku"] = "https://evil.test/jwks.json" }), invalid},
		{"x5u header", "RS256", with(func(h map[string]any, _ jwt.MapClaims) { h["x5u"] = "https://evil.test/cert.pem" }), invalid},
		{"jwk header", "RS256", with(func(h map[string]any, _ jwt.MapClaims) {
			h["jwk"] = map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}
		}), invalid},
		{"x5c header", "RS256", with(func(h map[string]any, _ jwt.MapClaims) { h["x5c"] = []string{"MIIB"} }), invalid},
		{"crit header", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["crit"] = []string{"exp"} }), invalid},
		{"typ JWT", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "JWT" }), invalid},
		{"typ rt+jwt", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "rt+jwt" }), invalid},
		{"no typ", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { delete(h, "typ") }), invalid},
		{"expired", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = t0.Add(-time.Hour).Unix() }), expired},
		{"expired and wrong audience", "HS256", with(func(_ map[string]any, c jwt.MapClaims) {
			c["exp"], c["aud"] = t0.Add(-time.Hour).Unix(), "other"
		}), invalid},
		{"no exp", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "exp") }), invalid},
		{"exp not a number", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = "soon" }), invalid},
		{"nbf in the future", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["nbf"] = t0.Add(time.Minute).Unix() }), invalid},
		{"no nbf", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "nbf") }), invalid},
		{"iat in the future", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["iat"] = t0.Add(time.Minute).Unix() }), invalid},
		{"no iat", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "iat") }), invalid},
		{"wrong iss", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "https://evil.test" }), invalid},
		{"no iss", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "iss") }), invalid},
		{"wrong aud", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = "other" }), invalid},
		{"issuer as aud", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = []string{testIssuer} }), invalid},
		{"no aud", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "aud") }), invalid},
		{"type refresh", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["type"] = "refresh" }), invalid},
		{"no type", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "type") }), invalid},
		{"no jti", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "jti") }), invalid},
		{"no sub", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "sub") }), invalid},
		{"signed with another secret under our kid", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			return forge(t, jwt.SigningMethodHS256, mustSecret(t, 32), h, c)
		}, invalid},
		{"signed with another RSA key under our kid", "RS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			return forge(t, jwt.SigningMethodRS256, rsaKeyB(), h, c)
		}, invalid},
		{"signed with the refresh secret", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedAccess()
			return forge(t, jwt.SigningMethodHS256, f.cfg.RefreshSecret, h, c)
		}, invalid},
		{"refresh token", "HS256", func(t *testing.T, f *fixture) string {
			return f.signRefresh(t, f.refreshClaims())
		}, invalid},
		{"tampered payload", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			parts := strings.Split(tok, ".")
			payload := strings.Replace(rawSegment(t, tok, 1), `"sub":"alice"`, `"sub":"admin"`, 1)
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
			return strings.Join(parts, ".")
		}, invalid},
		{"tampered payload EdDSA", "EdDSA", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			parts := strings.Split(tok, ".")
			payload := strings.Replace(rawSegment(t, tok, 1), `"scope":"read write"`, `"scope":"admin"`, 1)
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
			return strings.Join(parts, ".")
		}, invalid},
		{"tampered header", "ES256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			parts := strings.Split(tok, ".")
			parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"` + f.accessKID + `","typ":"at+JWT"}`))
			return strings.Join(parts, ".")
		}, invalid},
		{"signature bit flipped", "RS256", func(t *testing.T, f *fixture) string {
			tok := []byte(f.signAccess(t, f.accessClaims()))
			i := len(tok) - 10
			if tok[i] == 'A' {
				tok[i] = 'B'
			} else {
				tok[i] = 'A'
			}
			return string(tok)
		}, invalid},
		{"truncated signature", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			return tok[:len(tok)-4]
		}, invalid},
		{"no signature", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			return tok[:strings.LastIndex(tok, ".")+1]
		}, invalid},
		{"two segments", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			return tok[:strings.LastIndex(tok, ".")]
		}, invalid},
		{"half a token", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			return tok[:len(tok)/2]
		}, invalid},
		{"four segments", "HS256", func(t *testing.T, f *fixture) string {
			return f.signAccess(t, f.accessClaims()) + ".x"
		}, invalid},
		{"padded base64", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signAccess(t, f.accessClaims())
			return tok + "=="
		}, invalid},
		{"empty", "HS256", func(*testing.T, *fixture) string { return "" }, invalid},
		{"garbage", "HS256", func(*testing.T, *fixture) string { return "not a token" }, invalid},
		{"validly signed but over 64 KiB", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["pad"] = strings.Repeat("p", 50000) }), invalid},
		{"huge", "HS256", func(*testing.T, *fixture) string {
			return strings.Repeat("A", 1<<20) + "." + strings.Repeat("B", 1<<20) + ".C"
		}, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.alg)
			tok := tt.token(t, f)
			got, err := f.iss.VerifyAccess(tok)
			checkVerdict(t, err, tt.want)
			if err != nil && !reflect.DeepEqual(got, issuer.AccessClaims{}) {
				t.Errorf("claims = %+v on failure, want zero", got)
			}
		})
	}
}

func TestVerifyRefresh_Rejects(t *testing.T) {
	with := func(mod func(h map[string]any, c jwt.MapClaims)) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			mod(h, c)
			return forge(t, jwt.SigningMethodHS256, f.cfg.RefreshSecret, h, c)
		}
	}
	tests := []struct {
		name  string
		alg   string
		token func(t *testing.T, f *fixture) string
		want  verdict
	}{
		{"control", "HS256", with(func(map[string]any, jwt.MapClaims) {}), valid},
		{"control aud as string", "RS256", with(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = testIssuer }), valid},

		{"access token", "HS256", func(t *testing.T, f *fixture) string { return f.signAccess(t, f.accessClaims()) }, invalid},
		{"access token RS256", "RS256", func(t *testing.T, f *fixture) string { return f.signAccess(t, f.accessClaims()) }, invalid},
		{"signed with the access secret under the access kid", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			h["kid"] = f.accessKID
			return forge(t, jwt.SigningMethodHS256, f.cfg.Secret, h, c)
		}, invalid},
		{"signed with the access secret under the refresh kid", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			return forge(t, jwt.SigningMethodHS256, f.cfg.Secret, h, c)
		}, invalid},
		{"alg none", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			h["alg"] = "none"
			return forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, h, c)
		}, invalid},
		{"HS384 with the refresh secret", "HS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			h["alg"] = "HS384"
			return forge(t, jwt.SigningMethodHS384, f.cfg.RefreshSecret, h, c)
		}, invalid},
		{"RS256 with the access key", "RS256", func(t *testing.T, f *fixture) string {
			h, c := f.forgedRefresh()
			h["alg"] = "RS256"
			return forge(t, jwt.SigningMethodRS256, f.cfg.PrivateKey, h, c)
		}, invalid},
		{"typ at+jwt", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "at+jwt" }), invalid},
		{"unknown kid", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "nope" }), invalid},
		{"jku header", "HS256", with(func(h map[string]any, _ jwt.MapClaims) { h["jku"] = "https://evil.test/" }), invalid},
		{"aud is the access audience", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = testAud }), invalid},
		{"wrong iss", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "https://evil.test" }), invalid},
		{"type access", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["type"] = "access" }), invalid},
		{"no sid", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "sid") }), invalid},
		{"no auth_time", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "auth_time") }), invalid},
		{"no exp", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { delete(c, "exp") }), invalid},
		{"iat in the future", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["iat"] = t0.Add(time.Hour).Unix() }), invalid},
		{"expired", "HS256", with(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = t0.Add(-time.Minute).Unix() }), expired},
		{"tampered payload", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signRefresh(t, f.refreshClaims())
			parts := strings.Split(tok, ".")
			payload := strings.Replace(rawSegment(t, tok, 1), `"sid":"sid-1"`, `"sid":"sid-2"`, 1)
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
			return strings.Join(parts, ".")
		}, invalid},
		{"truncated", "HS256", func(t *testing.T, f *fixture) string {
			tok := f.signRefresh(t, f.refreshClaims())
			return tok[:len(tok)-1]
		}, invalid},
		{"huge", "HS256", func(*testing.T, *fixture) string { return strings.Repeat("x.", 5000) }, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.alg)
			got, err := f.iss.VerifyRefresh(tt.token(t, f))
			checkVerdict(t, err, tt.want)
			if err != nil && !reflect.DeepEqual(got, issuer.RefreshClaims{}) {
				t.Errorf("claims = %+v on failure, want zero", got)
			}
		})
	}
}

func TestVerify_Leeway(t *testing.T) {
	tests := []struct {
		name   string
		leeway time.Duration
		// at is when the token is verified, relative to its iat (t0); the
		// token lives 15 minutes.
		at   time.Duration
		want verdict
	}{
		{"expired 10s ago, leeway 30s", 30 * time.Second, 15*time.Minute + 10*time.Second, valid},
		{"expired 10s ago, leeway 5s", 5 * time.Second, 15*time.Minute + 10*time.Second, expired},
		{"expired 10s ago, no leeway", 0, 15*time.Minute + 10*time.Second, expired},
		{"one second before exp, no leeway", 0, 15*time.Minute - time.Second, valid},
		{"at exp, no leeway", 0, 15 * time.Minute, expired},
		{"issued 10s in the future, leeway 30s", 30 * time.Second, -10 * time.Second, valid},
		{"issued 10s in the future, leeway 5s", 5 * time.Second, -10 * time.Second, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "EdDSA", func(c *issuer.Config) { c.Leeway = tt.leeway })
			access := f.signAccess(t, f.accessClaims())
			rc := f.refreshClaims()
			rc.ExpiresAt = rc.IssuedAt.Add(15 * time.Minute)
			refresh := f.signRefresh(t, rc)

			f.clock.Set(t0.Add(tt.at))
			_, err := f.iss.VerifyAccess(access)
			checkVerdict(t, err, tt.want)
			_, err = f.iss.VerifyRefresh(refresh)
			checkVerdict(t, err, tt.want)
		})
	}
}

func TestVerify_PreviousKeys(t *testing.T) {
	type keys struct {
		secret, refresh []byte
		previous        [][]byte
		priv            crypto.Signer
		previousPub     []crypto.PublicKey
	}
	s1, s2, r1 := mustSecret(t, 32), mustSecret(t, 48), mustSecret(t, 32)
	ecOld, ecNew := mustECDSA(t, elliptic.P256()), mustECDSA(t, elliptic.P256())
	edOld, edNew := mustEd25519(t), mustEd25519(t)
	tests := []struct {
		name        string
		alg         string
		old, cur    keys
		wantAccess  verdict
		wantRefresh verdict
	}{
		{"HS256 previous secret", "HS256",
			keys{secret: s1}, keys{secret: s2, previous: [][]byte{s1}}, valid, valid},
		{"HS256 secret rotated away", "HS256",
			keys{secret: s1}, keys{secret: s2}, invalid, invalid},
		{"HS256 explicit refresh secret kept", "HS256",
			keys{secret: s1, refresh: r1}, keys{secret: s2, refresh: r1, previous: [][]byte{s1}}, valid, valid},
		{"derived refresh key of a previous secret is not accepted once a refresh secret is set", "HS256",
			keys{secret: s1}, keys{secret: s2, refresh: r1, previous: [][]byte{s1}}, valid, invalid},
		{"RS256 previous public key", "RS256",
			keys{secret: s1, priv: rsaKeyA()}, keys{secret: s1, priv: rsaKeyB(), previousPub: []crypto.PublicKey{&rsaKeyA().PublicKey}}, valid, valid},
		{"RS256 key rotated away", "RS256",
			keys{secret: s1, priv: rsaKeyA()}, keys{secret: s1, priv: rsaKeyB()}, invalid, valid},
		{"ES256 previous public key", "ES256",
			keys{secret: s1, priv: ecOld}, keys{secret: s1, priv: ecNew, previousPub: []crypto.PublicKey{&ecOld.PublicKey}}, valid, valid},
		{"EdDSA previous public key", "EdDSA",
			keys{secret: s1, priv: edOld}, keys{secret: s2, previous: [][]byte{s1}, priv: edNew, previousPub: []crypto.PublicKey{edOld.Public()}}, valid, valid},
		{"EdDSA key rotated away", "EdDSA",
			keys{secret: s1, priv: edOld}, keys{secret: s1, priv: edNew}, invalid, valid},
	}
	build := func(t *testing.T, alg string, k keys) *fixture {
		return newFixture(t, alg, func(c *issuer.Config) {
			c.Secret, c.RefreshSecret, c.PreviousSecrets = k.secret, k.refresh, k.previous
			c.PrivateKey, c.PreviousPublicKeys = k.priv, k.previousPub
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, cur := build(t, tt.alg, tt.old), build(t, tt.alg, tt.cur)
			_, err := cur.iss.VerifyAccess(old.signAccess(t, old.accessClaims()))
			checkVerdict(t, err, tt.wantAccess)
			_, err = cur.iss.VerifyRefresh(old.signRefresh(t, old.refreshClaims()))
			checkVerdict(t, err, tt.wantRefresh)

			// The current keys always work.
			if _, err := cur.iss.VerifyAccess(cur.signAccess(t, cur.accessClaims())); err != nil {
				t.Errorf("current access token: %v", err)
			}
			if _, err := cur.iss.VerifyRefresh(cur.signRefresh(t, cur.refreshClaims())); err != nil {
				t.Errorf("current refresh token: %v", err)
			}

			// A previous public key is published.
			if tt.alg != "HS256" {
				pub := jwksPublicKeys(t, cur.iss.JWKS())
				_, published := pub[old.accessKID]
				if published != (len(tt.cur.previousPub) > 0) {
					t.Errorf("old kid published = %v, want %v", published, len(tt.cur.previousPub) > 0)
				}
				if _, ok := pub[cur.accessKID]; !ok {
					t.Error("current kid not published")
				}
			}
		})
	}
}

func TestVerify_Concurrent(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 8 {
				wg.Go(func() {
					for range 20 {
						a, err := f.iss.SignAccess(f.accessClaims())
						if err == nil {
							_, err = f.iss.VerifyAccess(a)
						}
						if err == nil {
							var r string
							if r, err = f.iss.SignRefresh(f.refreshClaims()); err == nil {
								_, err = f.iss.VerifyRefresh(r)
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if !errors.Is(issuer.ErrExpired, issuer.ErrInvalidToken) {
		t.Error("ErrExpired does not wrap ErrInvalidToken")
	}
	if errors.Is(issuer.ErrInvalidToken, issuer.ErrExpired) {
		t.Error("ErrInvalidToken is ErrExpired")
	}
}

func TestSignAccess_DPoPBinding(t *testing.T) {
	f := newFixture(t, "ES256")
	bearer := f.accessClaims()
	bound := f.accessClaims()
	bound.JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

	tok := f.signAccess(t, bound)
	cnf, ok := tokenClaims(t, tok)["cnf"].(map[string]any)
	if !ok || cnf["jkt"] != bound.JKT || len(cnf) != 1 {
		t.Errorf("cnf = %v, want {jkt: %s} (RFC 9449 §6.1)", tokenClaims(t, tok)["cnf"], bound.JKT)
	}
	got, err := f.iss.VerifyAccess(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.JKT != bound.JKT {
		t.Errorf("VerifyAccess JKT = %q, want %q", got.JKT, bound.JKT)
	}

	tok = f.signAccess(t, bearer)
	if _, ok := tokenClaims(t, tok)["cnf"]; ok {
		t.Error("a bearer token carries cnf")
	}
	if got, err := f.iss.VerifyAccess(tok); err != nil || got.JKT != "" {
		t.Errorf("VerifyAccess of a bearer token: JKT %q, err %v", got.JKT, err)
	}
}

// TestVerify_LargeTokens checks that a token the issuer signs with a long
// scope list (over 8 KiB on the wire) verifies as access and refresh token,
// and that one over 64 KiB is refused before it is parsed.
func TestVerify_LargeTokens(t *testing.T) {
	f := newFixture(t, "ES256")
	scopes := make([]string, 400)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("scope.resource.%03d.read-write", i)
	}
	ac := f.accessClaims()
	ac.Scope = strings.Join(scopes, " ")
	tok := f.signAccess(t, ac)
	if len(tok) <= 8<<10 {
		t.Fatalf("token is %d bytes; the case needs one over 8 KiB", len(tok))
	}
	if got, err := f.iss.VerifyAccess(tok); err != nil || got.Scope != ac.Scope {
		t.Fatalf("VerifyAccess of a %d-byte token: %v", len(tok), err)
	}
	rc := f.refreshClaims()
	rc.Scope = ac.Scope
	if _, err := f.iss.VerifyRefresh(f.signRefresh(t, rc)); err != nil {
		t.Fatalf("VerifyRefresh of a large token: %v", err)
	}

	ac.Scope = strings.Repeat("s", 70<<10)
	if _, err := f.iss.VerifyAccess(f.signAccess(t, ac)); !errors.Is(err, issuer.ErrInvalidToken) {
		t.Fatalf("VerifyAccess of a token over 64 KiB: err = %v, want ErrInvalidToken", err)
	}
}
