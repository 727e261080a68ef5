package issuer_test

import (
	"crypto"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/issuer"
)

const (
	testAccessTTL = 15 * time.Minute
	testLeeway    = 30 * time.Second
	// testRetention is how long a key stays published after it stopped
	// signing: ACCESS_TOKEN_TTL + CLOCK_SKEW.
	testRetention = testAccessTTL + testLeeway
)

// schedFixture is an ES256 issuer with a key set of three keys: k[0] active
// an hour before t0, k[1] from t0+10m, k[2] from t0+20m.
type schedFixture struct {
	iss   *issuer.Issuer
	clock *clock
	keys  []crypto.Signer
	kids  []string // kid of keys[n]
	at    []time.Time
}

func newSchedFixture(tb testing.TB) *schedFixture {
	tb.Helper()
	f := &schedFixture{clock: newClock(), at: []time.Time{t0.Add(-time.Hour), t0.Add(10 * time.Minute), t0.Add(20 * time.Minute)}}
	var sched []issuer.ScheduledKey
	for n, at := range f.at {
		k := mustECDSA(tb, elliptic.P256())
		f.keys = append(f.keys, k)
		sched = append(sched, issuer.ScheduledKey{PrivateKey: k, ActiveFrom: at, Name: "key" + string(rune('A'+n)) + ".pem"})
	}
	slices.Reverse(sched) // the order in the file does not matter
	iss, err := issuer.New(issuer.Config{
		Algorithm: "ES256", Secret: mustSecret(tb, 32), Keys: sched, AccessTTL: testAccessTTL,
		Issuer: testIssuer, Audience: []string{testAud}, Leeway: testLeeway, Now: f.clock.Now,
	})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	f.iss = iss
	for _, k := range iss.Keys() {
		f.kids = append(f.kids, k.KID)
	}
	if len(f.kids) != 3 {
		tb.Fatalf("Keys() = %d keys, want 3", len(f.kids))
	}
	return f
}

// token signs a long-lived access token now (the key is whichever signs now).
func (f *schedFixture) token(tb testing.TB) string {
	tb.Helper()
	now := f.clock.Now()
	s, err := f.iss.SignAccess(issuer.AccessClaims{ID: "jti-" + now.Format(time.RFC3339), Subject: "alice", IssuedAt: now, ExpiresAt: now.Add(48 * time.Hour)})
	if err != nil {
		tb.Fatalf("SignAccess: %v", err)
	}
	return s
}

// jwksKIDs returns the kids of the JWKS now, in order, and its max-age.
func (f *schedFixture) jwksKIDs(tb testing.TB) ([]string, time.Duration) {
	tb.Helper()
	doc, maxAge := f.iss.PublishedJWKS()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		tb.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, maxAge
}

func TestKeySet_ScheduleIsAFunctionOfTheClock(t *testing.T) {
	f := newSchedFixture(t)
	// Tokens signed while each key signed, kept for later checks.
	tokens := map[int]string{}

	const (
		next = issuer.StateNext
		sign = issuer.StateSigning
		prev = issuer.StatePrevious
		ret  = issuer.StateRetired
	)
	for _, step := range []struct {
		name    string
		at      time.Time
		signer  int // index of the key that signs
		states  [3]issuer.KeyState
		jwks    []int         // keys published, in order
		maxAge  time.Duration // JWKS max-age
		accepts map[int]bool  // tokens (by signer) accepted now
	}{
		{"before the first switch", t0, 0, [3]issuer.KeyState{sign, next, next}, []int{0, 1, 2}, issuer.JWKSMaxAge, map[int]bool{0: true}},
		{"seven seconds before the switch", t0.Add(10*time.Minute - 7*time.Second), 0, [3]issuer.KeyState{sign, next, next}, []int{0, 1, 2}, 7 * time.Second, map[int]bool{0: true}},
		{"half a second before the switch", t0.Add(10*time.Minute - 500*time.Millisecond), 0, [3]issuer.KeyState{sign, next, next}, []int{0, 1, 2}, time.Second, map[int]bool{0: true}},
		{"at the switch", t0.Add(10 * time.Minute), 1, [3]issuer.KeyState{prev, sign, next}, []int{1, 2, 0}, issuer.JWKSMaxAge, map[int]bool{0: true, 1: true}},
		{"second switch", t0.Add(20 * time.Minute), 2, [3]issuer.KeyState{prev, prev, sign}, []int{2, 0, 1}, issuer.JWKSMaxAge, map[int]bool{0: true, 1: true, 2: true}},
		{"just before the first key retires", t0.Add(10*time.Minute + testRetention - time.Second), 2, [3]issuer.KeyState{prev, prev, sign}, []int{2, 0, 1}, time.Second, map[int]bool{0: true, 1: true, 2: true}},
		{"first key retired", t0.Add(10*time.Minute + testRetention), 2, [3]issuer.KeyState{ret, prev, sign}, []int{2, 1}, issuer.JWKSMaxAge, map[int]bool{0: false, 1: true, 2: true}},
		{"second key retired", t0.Add(20*time.Minute + testRetention), 2, [3]issuer.KeyState{ret, ret, sign}, []int{2}, issuer.JWKSMaxAge, map[int]bool{0: false, 1: false, 2: true}},
	} {
		t.Run(step.name, func(t *testing.T) {
			f.clock.Set(step.at)
			tok := f.token(t)
			if kid := tokenHeader(t, tok)["kid"]; kid != f.kids[step.signer] {
				t.Fatalf("signed with kid %v, want key %d", kid, step.signer)
			}
			if _, ok := tokens[step.signer]; !ok {
				tokens[step.signer] = tok
			}
			for n, k := range f.iss.Keys() {
				if k.State != step.states[n] {
					t.Errorf("key %d state = %s, want %s", n, k.State, step.states[n])
				}
				if !k.ActiveFrom.Equal(f.at[n]) || k.Algorithm != "ES256" {
					t.Errorf("key %d = %+v, want active_from %s", n, k, f.at[n])
				}
			}
			kids, maxAge := f.jwksKIDs(t)
			var want []string
			for _, n := range step.jwks {
				want = append(want, f.kids[n])
			}
			if !slices.Equal(kids, want) {
				t.Errorf("JWKS kids = %v, want keys %v", kids, step.jwks)
			}
			if maxAge != step.maxAge {
				t.Errorf("JWKS max-age = %s, want %s", maxAge, step.maxAge)
			}
			for n, ok := range step.accepts {
				tok, signed := tokens[n]
				if !signed {
					continue
				}
				_, err := f.iss.VerifyAccess(tok)
				if ok && err != nil {
					t.Errorf("token of key %d rejected: %v", n, err)
				}
				if !ok && !errors.Is(err, issuer.ErrInvalidToken) {
					t.Errorf("token of retired key %d: err = %v, want ErrInvalidToken", n, err)
				}
			}
		})
	}
}

// TestKeySet_NextKeyIsAccepted: a replica whose clock is slightly ahead
// signs with the next key already; the others accept it, since it is
// published.
func TestKeySet_NextKeyIsAccepted(t *testing.T) {
	ahead := newSchedFixture(t)
	// A second replica with the same schedule and its own clock.
	var sched []issuer.ScheduledKey
	for n, k := range ahead.keys {
		sched = append(sched, issuer.ScheduledKey{PrivateKey: k, ActiveFrom: ahead.at[n]})
	}
	clk := newClock()
	other, err := issuer.New(issuer.Config{
		Algorithm: "ES256", Secret: mustSecret(t, 32), Keys: sched, AccessTTL: testAccessTTL,
		Issuer: testIssuer, Audience: []string{testAud}, Leeway: testLeeway, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ahead.clock.Set(t0.Add(10*time.Minute + time.Second))
	clk.Set(t0.Add(10*time.Minute - time.Second))
	tok := ahead.token(t)
	if _, err := other.VerifyAccess(tok); err != nil {
		t.Fatalf("a token of the next key is rejected by the replica behind: %v", err)
	}
	if kid := tokenHeader(t, tok)["kid"]; kid != ahead.kids[1] {
		t.Fatalf("kid %v, want the second key", kid)
	}
}

// TestKeySet_KIDIsThumbprintOfPublicKey: the kid of a scheduled key is the
// same as the kid the simple form gives the same key (RFC 7638), so it is
// stable across replicas and restarts.
func TestKeySet_KIDIsStable(t *testing.T) {
	k := mustEd25519(t)
	simple := newFixture(t, "EdDSA", func(c *issuer.Config) { c.PrivateKey = k })
	sched, err := issuer.New(issuer.Config{
		Algorithm: "EdDSA", Secret: mustSecret(t, 32), AccessTTL: time.Minute,
		Keys:   []issuer.ScheduledKey{{PrivateKey: k, ActiveFrom: t0.Add(-time.Minute)}},
		Issuer: testIssuer, Audience: []string{testAud}, Now: newClock().Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sched.Keys()[0].KID; got != simple.accessKID {
		t.Fatalf("kid %q, simple form %q", got, simple.accessKID)
	}
}

func TestNew_KeySetErrors(t *testing.T) {
	es := mustECDSA(t, elliptic.P256())
	es2 := mustECDSA(t, elliptic.P256())
	past, future := t0.Add(-time.Hour), t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		mod  func(*issuer.Config)
		want error
		text string
	}{
		{"HS256 with a key set", func(c *issuer.Config) {
			c.Algorithm = "HS256"
			c.PrivateKey = nil
		}, issuer.ErrKeySet, "HS256"},
		{"both a private key and a key set", func(c *issuer.Config) { c.PrivateKey = es2 }, issuer.ErrKeySet, "cannot both be set"},
		{"no key active now", func(c *issuer.Config) {
			c.Keys = []issuer.ScheduledKey{{PrivateKey: es, ActiveFrom: future, Name: "late.pem"}}
		}, issuer.ErrNoActiveKey, "after now"},
		{"wrong key type", func(c *issuer.Config) { c.Algorithm = "RS256" }, issuer.ErrKeyMismatch, "RS256 needs an RSA private key"},
		{"RSA under 2048 bits", func(c *issuer.Config) {
			c.Algorithm = "RS256"
			c.Keys = []issuer.ScheduledKey{{PrivateKey: rsa1024(), ActiveFrom: past, Name: "small.pem"}}
		}, issuer.ErrKeyMismatch, "small.pem: key does not suit the algorithm: RSA key must be at least 2048 bits"},
		{"Ed25519 key for ES256", func(c *issuer.Config) {
			c.Keys = append(c.Keys, issuer.ScheduledKey{PrivateKey: mustEd25519(t), ActiveFrom: future, Name: "ed.pem"})
		}, issuer.ErrKeyMismatch, "ed.pem"},
		{"missing active_from", func(c *issuer.Config) {
			c.Keys = append(c.Keys, issuer.ScheduledKey{PrivateKey: es2, Name: "b.pem"})
		}, issuer.ErrKeySet, "b.pem: invalid key set: active_from is required"},
		{"same active_from twice", func(c *issuer.Config) {
			c.Keys = append(c.Keys, issuer.ScheduledKey{PrivateKey: es2, ActiveFrom: past, Name: "b.pem"})
		}, issuer.ErrKeySet, "same active_from"},
		{"same key twice", func(c *issuer.Config) {
			c.Keys = append(c.Keys, issuer.ScheduledKey{PrivateKey: es, ActiveFrom: future, Name: "b.pem"})
		}, issuer.ErrKeySet, "listed twice"},
		{"no keys in the set", func(c *issuer.Config) { c.Keys = []issuer.ScheduledKey{}; c.PrivateKey = nil }, nil, "is required for ES256"},
		{"no access TTL", func(c *issuer.Config) { c.AccessTTL = 0 }, nil, "AccessTTL (ACCESS_TOKEN_TTL) must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := issuer.Config{
				Algorithm: "ES256", Secret: mustSecret(t, 32), AccessTTL: testAccessTTL,
				Keys:   []issuer.ScheduledKey{{PrivateKey: es, ActiveFrom: past, Name: "a.pem"}},
				Issuer: testIssuer, Audience: []string{testAud}, Leeway: testLeeway, Now: newClock().Now,
			}
			tc.mod(&cfg)
			_, err := issuer.New(cfg)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %q, want it to contain %q", err, tc.text)
			}
		})
	}
}

func TestIssuer_ReloadKeySet(t *testing.T) {
	f := newSchedFixture(t)
	before := f.token(t)
	prevPub := mustEd25519(t) // not ES256: only for the mismatch case below

	t.Run("refused reload changes nothing", func(t *testing.T) {
		for _, keys := range [][]issuer.ScheduledKey{
			nil,
			{{PrivateKey: mustECDSA(t, elliptic.P256()), ActiveFrom: t0.Add(time.Minute)}}, // none active
			{{PrivateKey: prevPub, ActiveFrom: t0.Add(-time.Minute)}},                      // mismatch
		} {
			if ks, err := f.iss.NewKeySet(keys); err == nil {
				t.Fatalf("NewKeySet accepted a bad set: %v", ks)
			}
		}
		if kid := tokenHeader(t, f.token(t))["kid"]; kid != f.kids[0] {
			t.Fatalf("signing key changed to %v", kid)
		}
	})

	t.Run("a new set applies at once", func(t *testing.T) {
		nk := mustECDSA(t, elliptic.P256())
		ks, err := f.iss.NewKeySet([]issuer.ScheduledKey{
			{PrivateKey: f.keys[0], ActiveFrom: f.at[0]},
			{PrivateKey: nk, ActiveFrom: t0.Add(-time.Second)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := ks.Published(t0); n != 2 {
			t.Errorf("Published = %d, want 2", n)
		}
		// NewKeySet alone changes nothing.
		if kid := tokenHeader(t, f.token(t))["kid"]; kid != f.kids[0] {
			t.Fatalf("NewKeySet changed the signing key")
		}
		f.iss.SetKeySet(ks)
		after := f.token(t)
		if kid := tokenHeader(t, after)["kid"]; kid == f.kids[0] {
			t.Fatal("still signing with the old key")
		}
		for _, tok := range []string{before, after} {
			if _, err := f.iss.VerifyAccess(tok); err != nil {
				t.Errorf("VerifyAccess: %v", err)
			}
		}
		kids, _ := f.jwksKIDs(t)
		if len(kids) != 2 || kids[1] != f.kids[0] {
			t.Errorf("JWKS kids = %v, want the new key then %s", kids, f.kids[0])
		}
		// The dropped keys are no longer accepted.
		f.clock.Set(f.at[1])
		if _, err := f.iss.VerifyAccess(f.token(t)); err != nil {
			t.Errorf("VerifyAccess after the old switch time: %v", err)
		}
	})

	t.Run("RSA under 2048 bits refused", func(t *testing.T) {
		r := newFixture(t, "RS256", func(c *issuer.Config) { c.AccessTTL = testAccessTTL })
		_, err := r.iss.NewKeySet([]issuer.ScheduledKey{
			{PrivateKey: rsaKeyA(), ActiveFrom: t0.Add(-time.Hour)},
			{PrivateKey: rsa1024(), ActiveFrom: t0.Add(time.Hour), Name: "small.pem"},
		})
		if !errors.Is(err, issuer.ErrKeyMismatch) || !strings.Contains(err.Error(), "small.pem") {
			t.Fatalf("err = %v, want ErrKeyMismatch naming small.pem", err)
		}
	})

	t.Run("HS256 refuses a key set", func(t *testing.T) {
		h := newFixture(t, "HS256")
		_, err := h.iss.NewKeySet([]issuer.ScheduledKey{{PrivateKey: f.keys[0], ActiveFrom: t0}})
		if !errors.Is(err, issuer.ErrKeySet) {
			t.Fatalf("err = %v, want ErrKeySet", err)
		}
	})
}

func TestKeySet_ShortLeads(t *testing.T) {
	f := newSchedFixture(t)
	ks, err := f.iss.NewKeySet([]issuer.ScheduledKey{
		{PrivateKey: f.keys[0], ActiveFrom: f.at[0]},
		{PrivateKey: f.keys[1], ActiveFrom: t0.Add(2*issuer.JWKSMaxAge - time.Second)},
		{PrivateKey: f.keys[2], ActiveFrom: t0.Add(2 * issuer.JWKSMaxAge)},
	})
	if err != nil {
		t.Fatal(err)
	}
	short := ks.ShortLeads(t0)
	if len(short) != 1 || short[0].KID != f.kids[1] {
		t.Fatalf("ShortLeads = %+v, want only the key 1s short of 2×max-age", short)
	}
}

func TestKeys_SimpleAndHMACForms(t *testing.T) {
	t.Run("simple form", func(t *testing.T) {
		old := mustEd25519(t)
		f := newFixture(t, "EdDSA", func(c *issuer.Config) { c.PreviousPublicKeys = []crypto.PublicKey{old.Public()} })
		keys := f.iss.Keys()
		if len(keys) != 2 || keys[0].State != issuer.StateSigning || keys[1].State != issuer.StatePrevious ||
			keys[0].KID != f.accessKID || keys[0].ActiveFrom.Unix() != 0 {
			t.Fatalf("Keys() = %+v", keys)
		}
		f.clock.Set(t0.Add(10 * 365 * 24 * time.Hour))
		if got := f.iss.Keys()[1].State; got != issuer.StatePrevious {
			t.Fatalf("a previous public key became %s", got)
		}
	})
	t.Run("HS256", func(t *testing.T) {
		f := newFixture(t, "HS256", func(c *issuer.Config) { c.PreviousSecrets = [][]byte{mustSecret(t, 32)} })
		keys := f.iss.Keys()
		if len(keys) != 2 || keys[0].KID != f.accessKID || keys[0].State != issuer.StateSigning ||
			keys[1].State != issuer.StatePrevious || keys[0].Algorithm != "HS256" {
			t.Fatalf("Keys() = %+v", keys)
		}
		if doc := string(f.iss.JWKS()); doc != `{"keys":[]}` {
			t.Fatalf("HS256 JWKS = %s", doc)
		}
	})
}

func TestRefresh_PreviousKeys(t *testing.T) {
	secret, oldRefresh, newRefresh := mustSecret(t, 32), mustSecret(t, 32), mustSecret(t, 32)
	build := func(t *testing.T, mod func(*issuer.Config)) *fixture {
		return newFixture(t, "HS256", func(c *issuer.Config) { c.Secret = secret; mod(c) })
	}
	fromOld := build(t, func(c *issuer.Config) { c.RefreshSecret = oldRefresh })
	fromDerived := build(t, func(c *issuer.Config) { c.RefreshSecret = nil })
	for _, tc := range []struct {
		name   string
		from   *fixture
		mod    func(*issuer.Config)
		accept bool
	}{
		{"old key listed", fromOld, func(c *issuer.Config) {
			c.RefreshSecret = newRefresh
			c.PreviousRefreshSecrets = [][]byte{oldRefresh}
		}, true},
		{"old key not listed", fromOld, func(c *issuer.Config) { c.RefreshSecret = newRefresh }, false},
		{"derived listed", fromDerived, func(c *issuer.Config) {
			c.RefreshSecret = newRefresh
			c.PreviousRefreshDerived = true
		}, true},
		{"derived not listed", fromDerived, func(c *issuer.Config) { c.RefreshSecret = newRefresh }, false},
		{"back to derived, old key listed", fromOld, func(c *issuer.Config) {
			c.RefreshSecret = nil
			c.PreviousRefreshSecrets = [][]byte{oldRefresh}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := build(t, tc.mod)
			to.clock.Set(tc.from.clock.Now())
			old := tc.from.signRefresh(t, tc.from.refreshClaims())
			c, err := to.iss.VerifyRefresh(old)
			if !tc.accept {
				if !errors.Is(err, issuer.ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrInvalidToken", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyRefresh: %v", err)
			}
			// Re-signed by the new issuer: the current key, so the string
			// differs but the claims are the same.
			again := to.signRefresh(t, c)
			if again == old || tokenHeader(t, again)["kid"] != to.refreshKID {
				t.Fatalf("re-signed token kid %v, want the current key %s", tokenHeader(t, again)["kid"], to.refreshKID)
			}
			if rawSegment(t, again, 1) != rawSegment(t, old, 1) {
				t.Fatal("claims differ after re-signing")
			}
		})
	}
}

func TestNew_PreviousRefreshSecretErrors(t *testing.T) {
	secret, prev := mustSecret(t, 32), mustSecret(t, 32)
	for _, tc := range []struct {
		name string
		keys [][]byte
		text string
	}{
		{"short", [][]byte{[]byte("short")}, "must be at least 32 bytes"},
		{"equal to SECRET_KEY", [][]byte{secret}, "must differ from SECRET_KEY"},
		{"equal to SECRET_KEY_PREVIOUS", [][]byte{prev}, "must differ from SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := issuer.New(issuer.Config{
				Algorithm: "HS256", Secret: secret, PreviousSecrets: [][]byte{prev}, RefreshSecret: mustSecret(t, 32),
				PreviousRefreshSecrets: tc.keys, Issuer: testIssuer, Audience: []string{testAud},
			})
			if err == nil || !strings.Contains(err.Error(), "REFRESH_SECRET_KEY_PREVIOUS") || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want REFRESH_SECRET_KEY_PREVIOUS %s", err, tc.text)
			}
		})
	}
}
