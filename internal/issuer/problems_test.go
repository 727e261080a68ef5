package issuer_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/issuer"
)

// TestConfig_Problems checks the facts each problem carries, for a caller
// that words them its own way, and that New reports exactly these
// problems, in the issuer's words.
func TestConfig_Problems(t *testing.T) {
	secret, prev := mustSecret(t, 32), mustSecret(t, 40)
	base := func() issuer.Config {
		return issuer.Config{Algorithm: "HS256", Secret: secret, PreviousSecrets: [][]byte{prev},
			Issuer: testIssuer, Audience: []string{testAud}}
	}
	tests := []struct {
		name string
		mod  func(*issuer.Config)
		want []issuer.Problem // Rule, Env, Entry, Got, Other compared
	}{
		{"valid", func(*issuer.Config) {}, nil},
		{"no secret", func(c *issuer.Config) { c.Secret = nil }, []issuer.Problem{
			{Rule: issuer.RuleTooShort, Env: "SECRET_KEY", Entry: -1, Got: 0},
		}},
		{"short entries", func(c *issuer.Config) {
			c.PreviousSecrets = [][]byte{prev, []byte("short")}
			c.RefreshSecret = []byte("tiny")
			c.PreviousRefreshSecrets = [][]byte{mustSecret(t, 32), []byte("also short")}
		}, []issuer.Problem{
			{Rule: issuer.RuleTooShort, Env: "SECRET_KEY_PREVIOUS", Entry: 1, Got: 5},
			{Rule: issuer.RuleTooShort, Env: "REFRESH_SECRET_KEY", Entry: -1, Got: 4},
			{Rule: issuer.RuleTooShort, Env: "REFRESH_SECRET_KEY_PREVIOUS", Entry: 1, Got: 10},
		}},
		{"refresh keys equal to access keys", func(c *issuer.Config) {
			c.RefreshSecret = prev
			c.PreviousRefreshSecrets = [][]byte{mustSecret(t, 32), secret}
		}, []issuer.Problem{
			{Rule: issuer.RuleReusesAccessKey, Env: "REFRESH_SECRET_KEY", Entry: -1,
				Other: issuer.Setting{Field: "PreviousSecrets", Env: "SECRET_KEY_PREVIOUS", Entry: 0}},
			{Rule: issuer.RuleReusesAccessKey, Env: "REFRESH_SECRET_KEY_PREVIOUS", Entry: 1,
				Other: issuer.Setting{Field: "Secret", Env: "SECRET_KEY", Entry: -1}},
		}},
		{"claims and clock", func(c *issuer.Config) {
			c.Issuer, c.Audience, c.Leeway = "", []string{"a", ""}, -time.Second
		}, []issuer.Problem{
			{Rule: issuer.RuleRequired, Env: "JWT_ISSUER", Entry: -1},
			{Rule: issuer.RuleEmptyEntry, Env: "JWT_AUDIENCE", Entry: 1},
			{Rule: issuer.RuleNegative, Env: "CLOCK_SKEW", Entry: -1},
		}},
		{"unknown algorithm", func(c *issuer.Config) { c.Algorithm = "HS512" }, []issuer.Problem{
			{Rule: issuer.RuleUnknownAlgorithm, Env: "JWT_ALGORITHM", Entry: -1},
		}},
		{"no key for ES256", func(c *issuer.Config) { c.Algorithm = "ES256" }, []issuer.Problem{
			{Rule: issuer.RuleNoKeySource, Env: "JWT_PRIVATE_KEY_FILE", Entry: -1,
				Other: issuer.Setting{Field: "Keys", Env: "JWT_KEYS_FILE", Entry: -1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mod(&cfg)
			got := cfg.Problems()
			if len(got) != len(tt.want) {
				t.Fatalf("Problems = %v, want %d", got, len(tt.want))
			}
			for n, p := range got {
				w := tt.want[n]
				if p.Rule != w.Rule || p.Env != w.Env || p.Entry != w.Entry || p.Got != w.Got || p.Other != w.Other {
					t.Errorf("problem %d = %+v, want %+v", n, p, w)
				}
				if p.Rule == issuer.RuleTooShort && p.Min != issuer.MinSecretLen {
					t.Errorf("problem %d: Min = %d, want %d", n, p.Min, issuer.MinSecretLen)
				}
				if !strings.Contains(p.Error(), p.Env) {
					t.Errorf("problem %d: %q does not name %s", n, p, p.Env)
				}
			}
			_, err := issuer.New(cfg)
			if len(got) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, p := range got {
				if !strings.Contains(err.Error(), p.Error()) {
					t.Errorf("New's error %q lacks %q", err, p)
				}
				var asP issuer.Problem
				if !errors.As(err, &asP) {
					t.Errorf("New's error %q holds no Problem", err)
				}
			}
		})
	}
}

// TestConfig_ProblemsBeforeKeys checks the key-source rules on a Config
// whose keys are not read yet.
func TestConfig_ProblemsBeforeKeys(t *testing.T) {
	for _, tc := range []struct {
		alg      string
		given    issuer.KeySources
		rules    []issuer.Rule
		envs     []string
		keySetEr bool
	}{
		{"HS256", issuer.KeySources{}, nil, nil, false},
		{"HS256", issuer.KeySources{Keys: true}, []issuer.Rule{issuer.RuleNotForHS256}, []string{"JWT_KEYS_FILE"}, true},
		{"HS256", issuer.KeySources{PrivateKey: true, PreviousPublicKeys: true},
			[]issuer.Rule{issuer.RuleNotForHS256, issuer.RuleNotForHS256}, []string{"JWT_PRIVATE_KEY_FILE", "JWT_PREVIOUS_PUBLIC_KEY_FILES"}, false},
		{"ES256", issuer.KeySources{Keys: true}, nil, nil, false},
		{"RS256", issuer.KeySources{PrivateKey: true, PreviousPublicKeys: true}, nil, nil, false},
		{"EdDSA", issuer.KeySources{PrivateKey: true, Keys: true}, []issuer.Rule{issuer.RuleBothKeySources}, []string{"JWT_KEYS_FILE"}, true},
		{"EdDSA", issuer.KeySources{PreviousPublicKeys: true}, []issuer.Rule{issuer.RuleNoKeySource}, []string{"JWT_PRIVATE_KEY_FILE"}, false},
	} {
		// The keys in the Config are not looked at.
		cfg := issuer.Config{Algorithm: tc.alg, Secret: mustSecret(t, 32), Issuer: testIssuer, Audience: []string{testAud},
			PrivateKey: mustEd25519(t)}
		ps := cfg.ProblemsBeforeKeys(tc.given)
		var rules []issuer.Rule
		var envs []string
		for _, p := range ps {
			rules, envs = append(rules, p.Rule), append(envs, p.Env)
			if p.Algorithm != tc.alg {
				t.Errorf("%s %+v: Algorithm = %q", tc.alg, tc.given, p.Algorithm)
			}
			if errors.Is(p, issuer.ErrKeySet) != tc.keySetEr {
				t.Errorf("%s %+v: %q wraps ErrKeySet: %v, want %v", tc.alg, tc.given, p, !tc.keySetEr, tc.keySetEr)
			}
		}
		if !slices.Equal(rules, tc.rules) || !slices.Equal(envs, tc.envs) {
			t.Errorf("%s %+v: rules %v on %v, want %v on %v", tc.alg, tc.given, rules, envs, tc.rules, tc.envs)
		}
	}
}
