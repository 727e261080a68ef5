package main

import (
	"strings"
	"testing"
	"time"
)

func TestValidate_DPoPSettings(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" for none about DPoP
	}{
		{name: "defaults", edit: func(*Config) {}},
		{name: "one algorithm", edit: func(c *Config) { c.DPoPSigningAlgs = List{"EdDSA"} }},
		{name: "HS256 refused", edit: func(c *Config) { c.DPoPSigningAlgs = List{"ES256", "HS256"} }, wantErr: `DPOP_SIGNING_ALGS: "HS256"`},
		{name: "none refused", edit: func(c *Config) { c.DPoPSigningAlgs = List{"none"} }, wantErr: `DPOP_SIGNING_ALGS: "none"`},
		{name: "empty list", edit: func(c *Config) { c.DPoPSigningAlgs = nil }, wantErr: "DPOP_SIGNING_ALGS: must name"},
		{name: "lifetime zero", edit: func(c *Config) { c.DPoPProofLifetime.V = 0 }, wantErr: "DPOP_PROOF_LIFETIME: must be positive"},
		{name: "lifetime too long", edit: func(c *Config) { c.DPoPProofLifetime.V = time.Hour }, wantErr: "DPOP_PROOF_LIFETIME: must be at most"},
		{name: "nonce flag unparsable", edit: func(c *Config) { c.DPoPNonceRequired.Err = errNotBool }, wantErr: "DPOP_NONCE_REQUIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SECRET_KEY", strings.Repeat("k", 40))
			c, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(c)
			var dpopErrs []string
			for _, e := range c.Validate() {
				if strings.HasPrefix(e.Error(), "DPOP_") {
					dpopErrs = append(dpopErrs, e.Error())
				}
			}
			switch {
			case tt.wantErr == "" && len(dpopErrs) > 0:
				t.Errorf("Validate: %v, want no DPoP problem", dpopErrs)
			case tt.wantErr != "" && (len(dpopErrs) != 1 || !strings.Contains(dpopErrs[0], tt.wantErr)):
				t.Errorf("Validate: %v, want one problem containing %q", dpopErrs, tt.wantErr)
			}
		})
	}
}

var errNotBool = func() error { var b Bool; _ = b.Decode("maybe"); return b.Err }()
