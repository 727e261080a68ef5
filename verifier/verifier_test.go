package verifier_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/issuer"
	"github.com/authsvc/authsvc/internal/tokentest"
	"github.com/authsvc/authsvc/verifier"
)

// TestVerify_SharedTokenCases runs the token cases authsvc's own
// verification runs too (internal/issuer's TestVerifyAccess_SharedTokenCases):
// both accept exactly the same tokens.
func TestVerify_SharedTokenCases(t *testing.T) {
	for _, alg := range []string{"HS256", "ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			f := newFake(t, alg)
			v := mustVerifier(t, f.config())
			key := any(f.cfg.PrivateKey)
			if alg == "HS256" {
				key = f.cfg.Secret
			}
			tmpl := tokentest.Template{Token: f.token(t, "jti-1", "read"), Key: key, Now: f.clock.Now()}
			cases := tokentest.Cases(t, tmpl)
			rt, err := f.iss.SignRefresh(issuer.RefreshClaims{ID: "r1", SessionID: "s1", Subject: "alice",
				AuthTime: f.clock.Now(), IssuedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, tokentest.Case{Name: "refresh token", Token: rt})
			for _, c := range cases {
				_, err := v.Verify(context.Background(), c.Token)
				switch {
				case c.Accept && err != nil:
					t.Errorf("%s: refused: %v", c.Name, err)
				case !c.Accept && err == nil:
					t.Errorf("%s: accepted", c.Name)
				case !c.Accept && !errors.Is(err, verifier.ErrInvalidToken):
					t.Errorf("%s: error %v does not wrap ErrInvalidToken", c.Name, err)
				case !c.Accept && c.Expired != errors.Is(err, verifier.ErrExpired):
					t.Errorf("%s: errors.Is(err, ErrExpired) = %v, want %v (%v)", c.Name, !c.Expired, c.Expired, err)
				}
			}
		})
	}
}

func TestVerify_Claims(t *testing.T) {
	f := newFake(t, "ES256")
	v := mustVerifier(t, f.config())
	c, err := v.Verify(context.Background(), f.token(t, "jti-7", "read write"))
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if c.Subject != "alice" || c.ClientID != "billing" || c.ID != "jti-7" || strings.Join(c.Scope, " ") != "read write" ||
		!c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) || c.JKT != "" ||
		strings.Join(c.Audience, ",") != testAudience+",other.api" {
		t.Errorf("claims = %+v", c)
	}
	if !c.HasScope("write") || c.HasScope("admin") {
		t.Errorf("HasScope wrong for %v", c.Scope)
	}
	if c.Extra != nil || c.SessionID != "" {
		t.Errorf("a token without custom claims: Extra = %v, SessionID = %q", c.Extra, c.SessionID)
	}

	// sid has its field; custom claims land in Extra, even with keys
	// that look like known ones inside them.
	hdr, mc := splitJWT(t, f.token(t, "jti-8", "read"))
	mc["sid"] = "s-1"
	mc["tenant"] = "acme"
	mc["roles"] = []any{"admin", map[string]any{"sub": "x"}}
	c, err = v.Verify(context.Background(), signWith(t, hdr, mc, f.cfg.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionID != "s-1" || c.Extra["tenant"] != "acme" || len(c.Extra) != 2 || c.Extra["sub"] != nil {
		t.Errorf("SessionID = %q, Extra = %v", c.SessionID, c.Extra)
	}
}

// signWith signs claims under header with the ES256 key.
func signWith(t testing.TB, header map[string]any, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.Token{Header: header, Claims: claims, Method: jwt.SigningMethodES256}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerify_KnownKeyDoesNoIO verifies many tokens of a known key: the JWKS
// is fetched once, by New.
func TestVerify_KnownKeyDoesNoIO(t *testing.T) {
	f := newFake(t, "ES256")
	v := mustVerifier(t, f.config())
	tok := f.token(t, "j", "read")
	for range 100 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.jwksFetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for 100 verifications of a known key, want 1 (by New)", n)
	}
}

// TestVerify_UnknownKIDRefetchesAtMostEvery10s presents tokens of a key the
// JWKS did not have: one refetch, then none for 10 seconds whatever the
// number of such tokens; a key published meanwhile is found after that.
func TestVerify_UnknownKIDRefetchesAtMostEvery10s(t *testing.T) {
	f := newFake(t, "ES256")
	v := mustVerifier(t, f.config())

	// A second issuer with another key: the JWKS does not publish it yet.
	cfg2 := f.cfg
	cfg2.PrivateKey = nil
	next := newFake(t, "ES256")
	cfg2.PrivateKey = next.cfg.PrivateKey
	iss2, err := issuer.New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	tok, err := iss2.SignAccess(issuer.AccessClaims{ID: "j2", Subject: "alice", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, verifier.ErrUnknownKey) {
			t.Fatalf("token of an unpublished key: %v, want ErrUnknownKey", err)
		}
	}
	if n := f.jwksFetches.Load(); n != 2 {
		t.Fatalf("JWKS fetches after 50 unknown-kid tokens = %d, want 2 (New, one refetch)", n)
	}
	// The key is published; within the 10 s nothing is fetched.
	f.mu.Lock()
	f.jwks = iss2.JWKS()
	f.mu.Unlock()
	f.clock.Advance(9 * time.Second)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Fatalf("within 10 s: %v, want ErrUnknownKey", err)
	}
	if n := f.jwksFetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched again within 10 s (%d fetches)", n)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after 10 s the new key should be fetched: %v", err)
	}
	if n := f.jwksFetches.Load(); n != 3 {
		t.Errorf("JWKS fetches = %d, want 3", n)
	}
}

func TestNew_Discovery(t *testing.T) {
	f := newFake(t, "ES256")
	t.Run("issuer mismatch in metadata", func(t *testing.T) {
		cfg := f.config()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/oauth-authorization-server" {
				_, _ = w.Write([]byte(`{"issuer":"https://evil.example","jwks_uri":"` + f.srv.URL + `/.well-known/jwks.json"}`))
				return
			}
			http.NotFound(w, r)
		}))
		defer srv.Close()
		cfg.Issuer = srv.URL
		if _, err := verifier.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "names issuer") {
			t.Errorf("New with a metadata naming another issuer: %v", err)
		}
	})
	t.Run("explicit JWKSURL skips discovery", func(t *testing.T) {
		cfg := f.config()
		cfg.Issuer = "urn:not-a-url"
		cfg.JWKSURL = f.srv.URL + "/.well-known/jwks.json"
		v, err := verifier.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
	})
	t.Run("required fields", func(t *testing.T) {
		for _, cfg := range []verifier.Config{{}, {Issuer: f.srv.URL}, {Audience: "a"},
			{Issuer: f.srv.URL, Audience: "a", Feed: &verifier.FeedConfig{}}} {
			if _, err := verifier.New(context.Background(), cfg); err == nil {
				t.Errorf("New(%+v) succeeded", cfg)
			}
		}
	})
	t.Run("unreachable JWKS", func(t *testing.T) {
		cfg := f.config()
		cfg.JWKSURL = f.srv.URL + "/nothing-here"
		if _, err := verifier.New(context.Background(), cfg); err == nil {
			t.Error("New succeeded without keys")
		}
	})
}

// TestRefreshSchedule checks how long a JWKS is used by its Cache-Control.
func TestRefreshSchedule(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"public, max-age=300": 300 * time.Second,
		"max-age=5":           30 * time.Second,
		"max-age=999999999":   24 * time.Hour,
		"no-store":            30 * time.Second, // the floor
		"":                    5 * time.Minute,
		"public":              5 * time.Minute,
	} {
		if got := verifier.RefreshAfter(cc); got != want {
			t.Errorf("RefreshAfter(%q) = %v, want %v", cc, got, want)
		}
	}
}

// TestVerify_BoundTokenAsBearer refuses a token carrying cnf.jkt presented
// without a proof.
func TestVerify_BoundTokenAsBearer(t *testing.T) {
	f := newFake(t, "HS256")
	v := mustVerifier(t, f.config())
	good := f.token(t, "j", "read")
	hdr, claims := splitJWT(t, good)
	claims["cnf"] = map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
	bound := signHS(t, hdr, claims, f.cfg.Secret)
	if _, err := v.Verify(context.Background(), bound); !errors.Is(err, verifier.ErrDPoPBound) {
		t.Errorf("Verify of a bound token: %v, want ErrDPoPBound", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+bound)
	if _, err := v.VerifyRequest(r); !errors.Is(err, verifier.ErrDPoPBound) {
		t.Errorf("VerifyRequest of a bound token as Bearer: %v, want ErrDPoPBound", err)
	}
}

// splitJWT decodes a token's header and claims, unverified.
func splitJWT(t testing.TB, token string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(token, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header, claims
}

// signHS signs claims under header with HS256 and secret.
func signHS(t testing.TB, header map[string]any, claims jwt.MapClaims, secret []byte) string {
	t.Helper()
	tok := jwt.Token{Header: header, Claims: claims, Method: jwt.SigningMethodHS256}
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOtherKeys(t *testing.T) {
	for in, want := range map[string]bool{
		`{"iss":"a","sub":"b","aud":["x","y"],"exp":1,"cnf":{"jkt":"z"}}`: false,
		`{"iss":"a","tenant":"t"}`:                                        true,
		`{"iss":"a","roles":[{"tenant":1}],"sub":"b"}`:                    true,
		`{"iss":"a","cnf":{"other":1}}`:                                   false,
		`{"iss":"a","aud":["tenant"]}`:                                    false,
		`{"iss":"a","s\u0075b":"b"}`:                                      true,
		`{"iss":"a\"tenant\":1"}`:                                         false,
		`{"iss":"a`:                                                       true,
		`{}`:                                                              false,
	} {
		if got := verifier.OtherKeys([]byte(in)); got != want {
			t.Errorf("otherKeys(%s) = %v, want %v", in, got, want)
		}
	}
}

// TestJWKS_RefreshedAsCacheControlSays serves the JWKS with a short
// max-age (the floor lowered to 100 ms for the test): the Verifier fetches
// it again by itself and picks up a new key without any unknown-kid fetch;
// with a long max-age it does not fetch at all.
func TestJWKS_RefreshedAsCacheControlSays(t *testing.T) {
	defer verifier.SetMinRefresh(100 * time.Millisecond)()
	t.Run("short max-age", func(t *testing.T) {
		f := newFake(t, "ES256")
		f.cacheControl = "public, max-age=0"
		cfg := f.config()
		cfg.Now = nil
		mustVerifier(t, cfg)
		eventually(t, 5*time.Second, "a second fetch of the JWKS", func() bool { return f.jwksFetches.Load() >= 3 })
	})
	t.Run("long max-age", func(t *testing.T) {
		f := newFake(t, "ES256")
		f.cacheControl = "public, max-age=300"
		cfg := f.config()
		cfg.Now = nil
		mustVerifier(t, cfg)
		time.Sleep(500 * time.Millisecond)
		if n := f.jwksFetches.Load(); n != 1 {
			t.Errorf("JWKS fetched %d times within its max-age, want 1", n)
		}
	})
}

// TestVerify_LargeTokens: a token authsvc issues with many custom claims
// can pass 8 KiB; it verifies like any other, up to authsvc's own 64 KiB
// request limit, above which it is refused unparsed.
func TestVerify_LargeTokens(t *testing.T) {
	f := newFake(t, "ES256")
	v := mustVerifier(t, f.config())
	hdr, mc := splitJWT(t, f.token(t, "jti-big", "read"))
	mc["blob"] = strings.Repeat("x", 10<<10)
	if _, err := v.Verify(context.Background(), signWith(t, hdr, mc, f.cfg.PrivateKey)); err != nil {
		t.Fatalf("a 10 KiB token: %v", err)
	}
	mc["blob"] = strings.Repeat("x", 64<<10)
	if _, err := v.Verify(context.Background(), signWith(t, hdr, mc, f.cfg.PrivateKey)); err == nil {
		t.Fatal("a token over 64 KiB was accepted")
	}
}
