package main

import (
	"slices"
	"strings"
	"testing"
)

// TestValidate_IssuerRules checks start-up's lines for the rules of the
// issuer's settings (issuer.Config.Problems): each problem once, worded
// with the variable first and entries counted as the variable lists them,
// never quoting a key.
func TestValidate_IssuerRules(t *testing.T) {
	const (
		key  = "q8Yv1m0ZkS3xP7rT2bN9wL4cF6hJ5dG0aW"
		key2 = "Zp3Lr8Tq1Xv6Nb0Mc4Kd7Hf2Gj9Sw5Ye1Ua"
		key3 = "Hc7Vn2Qe5Rt9Wy1Ui4Op8As3Df6Gh0Jk2Lx"
	)
	tests := []struct {
		name string
		edit func(*Config)
		want []string // the lines about the issuer's settings, in order
	}{
		{"valid", func(*Config) {}, nil},
		{"nothing set", func(c *Config) { c.SecretKey, c.JWTIssuer, c.JWTAudience = "", "", nil },
			[]string{"SECRET_KEY: is required (at least 32 bytes)", "JWT_ISSUER: is required", "JWT_AUDIENCE: is required"}},
		{"short keys", func(c *Config) {
			c.SecretKey, c.SecretKeyPrevious, c.RefreshSecretKey = "short", SecretList{key2, "short"}, "tiny"
			c.RefreshSecretKeyPrevious = SecretList{"derived", key3, "also-short"}
		}, []string{
			"SECRET_KEY: must be at least 32 bytes, got 5",
			"SECRET_KEY_PREVIOUS: entry 2 must be at least 32 bytes",
			"REFRESH_SECRET_KEY: must be at least 32 bytes, got 4",
			"REFRESH_SECRET_KEY_PREVIOUS: entry 3 must be at least 32 bytes (or the word derived)",
		}},
		{"refresh key equal to an access key", func(c *Config) { c.SecretKeyPrevious, c.RefreshSecretKey = SecretList{key2}, key2 },
			[]string{"REFRESH_SECRET_KEY: must differ from SECRET_KEY_PREVIOUS entry 1"}},
		{"refresh key equal to SECRET_KEY", func(c *Config) { c.RefreshSecretKey = key },
			[]string{"REFRESH_SECRET_KEY: must differ from SECRET_KEY"}},
		{"previous refresh key equal to SECRET_KEY", func(c *Config) { c.RefreshSecretKeyPrevious = SecretList{"derived", key} },
			[]string{"REFRESH_SECRET_KEY_PREVIOUS: PreviousRefreshSecrets[0] (REFRESH_SECRET_KEY_PREVIOUS) must differ from SECRET_KEY and SECRET_KEY_PREVIOUS"}},
		{"negative CLOCK_SKEW, once", func(c *Config) { c.ClockSkew.V = -1 }, []string{"CLOCK_SKEW: must not be negative"}},
		{"unknown algorithm", func(c *Config) { c.JWTAlgorithm = "HS512" }, []string{"JWT_ALGORITHM: must be HS256, RS256, ES256 or EdDSA"}},
		{"keys file with HS256", func(c *Config) { c.JWTKeysFile = "/k.yaml" },
			[]string{"JWT_KEYS_FILE: cannot be used with JWT_ALGORITHM=HS256"}},
		// HS256 ignores the asymmetric key files, as it always has.
		{"private key file with HS256", func(c *Config) {
			c.JWTPrivateKeyFile, c.JWTPreviousPublicKeyFiles = "/k.pem", List{"/p.pem"}
		}, nil},
		{"both key sources", func(c *Config) { c.JWTAlgorithm, c.JWTKeysFile, c.JWTPrivateKeyFile = "ES256", "/k.yaml", "/k.pem" },
			[]string{"JWT_KEYS_FILE: and JWT_PRIVATE_KEY_FILE cannot both be set"}},
		{"no key source", func(c *Config) { c.JWTAlgorithm = "EdDSA" },
			[]string{"JWT_PRIVATE_KEY_FILE: or JWT_KEYS_FILE is required with JWT_ALGORITHM=EdDSA"}},
		{"one source each", func(c *Config) { c.JWTAlgorithm, c.JWTKeysFile = "RS256", "/k.yaml" }, nil},
	}
	prefixes := []string{"SECRET_KEY", "REFRESH_SECRET_KEY", "JWT_", "CLOCK_SKEW"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SECRET_KEY", key)
			t.Setenv("JWT_ISSUER", "https://auth.example.test")
			t.Setenv("JWT_AUDIENCE", "api")
			c, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(c)
			var got []string
			for _, e := range c.Validate() {
				line := e.Error()
				if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(line, p) }) {
					got = append(got, line)
				}
				for _, s := range []string{key, key2, key3} {
					if strings.Contains(line, s[:8]) {
						t.Errorf("%q quotes a key", line)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
			for n, w := range tt.want {
				if !strings.HasPrefix(got[n], w) {
					t.Errorf("line %d = %q, want it to start with %q", n, got[n], w)
				}
			}
		})
	}
}

// TestValidate_AuthenticatorURL checks start-up's lines for the
// authenticator's URL rule (authenticator.CheckURL), never quoting the URL.
func TestValidate_AuthenticatorURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://authn.example/check", ""},
		{"ftp://authn.example", "USER_AUTHENTICATOR_URL: must be an http:// or https:// URL"},
		{"https://u:pw-0123456789@authn.example/check", "USER_AUTHENTICATOR_URL: must not hold credentials; use USER_AUTHENTICATOR_TOKEN"},
	} {
		c := Config{UserAuthenticatorURL: tc.url}
		var got []string
		for _, e := range c.Validate() {
			if strings.HasPrefix(e.Error(), "USER_AUTHENTICATOR_URL") {
				got = append(got, e.Error())
			}
			if strings.Contains(e.Error(), "pw-0123456789") {
				t.Errorf("%q quotes the password", e)
			}
		}
		if (tc.want == "" && len(got) != 0) || (tc.want != "" && (len(got) != 1 || got[0] != tc.want)) {
			t.Errorf("%s: lines %q, want %q", tc.url, got, tc.want)
		}
	}
}
