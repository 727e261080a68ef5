package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSecretVars_AreSecretFields keeps the list of secret variables in step
// with the Config struct: each names a field of type Secret or SecretList,
// and every such field is in the list.
func TestSecretVars_AreSecretFields(t *testing.T) {
	typ := reflect.TypeOf(Config{})
	inList := map[string]bool{}
	for _, n := range secretVars {
		inList[n] = true
	}
	found := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("envconfig")
		secret := f.Type == reflect.TypeOf(Secret("")) || f.Type == reflect.TypeOf(SecretList(nil))
		if secret && !inList[name] {
			t.Errorf("%s holds a secret but is not in secretVars", name)
		}
		if inList[name] {
			found[name] = true
			if !secret {
				t.Errorf("%s is in secretVars but its field is a %s, not a Secret", name, f.Type)
			}
		}
	}
	for _, n := range secretVars {
		if !found[n] {
			t.Errorf("secretVars names %s, which is not a configuration variable", n)
		}
	}
}

func TestLoadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := strings.Repeat("k", 20) + "-file-secret-value-0123"
	cases := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c *Config)
		wantErr []string // substrings, one per expected error
	}{
		{
			name: "one trailing newline is removed",
			env:  map[string]string{"SECRET_KEY_FILE": write("nl", key+"\n")},
			check: func(t *testing.T, c *Config) {
				if c.SecretKey.Reveal() != key {
					t.Errorf("SECRET_KEY = %q", c.SecretKey.Reveal())
				}
			},
		},
		{
			name: "a CRLF ending is removed",
			env:  map[string]string{"SECRET_KEY_FILE": write("crlf", key+"\r\n")},
			check: func(t *testing.T, c *Config) {
				if c.SecretKey.Reveal() != key {
					t.Errorf("SECRET_KEY = %q", c.SecretKey.Reveal())
				}
			},
		},
		{
			name: "only one newline is removed",
			env:  map[string]string{"REFRESH_SECRET_KEY_FILE": write("two", key+"\n\n")},
			check: func(t *testing.T, c *Config) {
				if c.RefreshSecretKey.Reveal() != key+"\n" {
					t.Errorf("REFRESH_SECRET_KEY = %q", c.RefreshSecretKey.Reveal())
				}
			},
		},
		{
			name: "no newline is kept as is",
			env:  map[string]string{"REDIS_PASSWORD_FILE": write("pw", "p4ss word")},
			check: func(t *testing.T, c *Config) {
				if c.RedisPassword.Reveal() != "p4ss word" {
					t.Errorf("REDIS_PASSWORD = %q", c.RedisPassword.Reveal())
				}
			},
		},
		{
			name: "a list is decoded like the variable",
			env:  map[string]string{"SECRET_KEY_PREVIOUS_FILE": write("prev", "a-old-key, b-old-key\n")},
			check: func(t *testing.T, c *Config) {
				if len(c.SecretKeyPrevious) != 2 || c.SecretKeyPrevious[1].Reveal() != "b-old-key" {
					t.Errorf("SECRET_KEY_PREVIOUS = %d entries", len(c.SecretKeyPrevious))
				}
			},
		},
		{
			name: "a file replaces the default",
			env:  map[string]string{"REDIS_URL_FILE": write("url", "redis://:pw@10.0.0.1:6379/2\n")},
			check: func(t *testing.T, c *Config) {
				if c.RedisURL.Reveal() != "redis://:pw@10.0.0.1:6379/2" {
					t.Errorf("REDIS_URL = %q", c.RedisURL.Reveal())
				}
			},
		},
		{
			name:    "both set",
			env:     map[string]string{"SECRET_KEY": key, "SECRET_KEY_FILE": write("both", key)},
			wantErr: []string{"SECRET_KEY and SECRET_KEY_FILE are both set"},
		},
		{
			name: "an empty variable counts as unset",
			env:  map[string]string{"SECRET_KEY": "", "SECRET_KEY_FILE": write("empty", key)},
			check: func(t *testing.T, c *Config) {
				if c.SecretKey.Reveal() != key {
					t.Errorf("SECRET_KEY = %q", c.SecretKey.Reveal())
				}
			},
		},
		{
			name:    "missing file",
			env:     map[string]string{"REDIS_PASSWORD_FILE": filepath.Join(dir, "nope")},
			wantErr: []string{"REDIS_PASSWORD_FILE: cannot read " + filepath.Join(dir, "nope") + ": no such file or directory"},
		},
		{
			name:    "a directory",
			env:     map[string]string{"SECRET_KEY_FILE": dir},
			wantErr: []string{"SECRET_KEY_FILE: cannot read " + dir},
		},
		{
			name:    "too large",
			env:     map[string]string{"SECRET_KEY_FILE": write("big", strings.Repeat("x", maxSecretFileBytes+1))},
			wantErr: []string{"SECRET_KEY_FILE: " + filepath.Join(dir, "big") + " is larger than"},
		},
		{
			name: "every problem at once",
			env: map[string]string{
				"SECRET_KEY": key, "SECRET_KEY_FILE": write("b1", key),
				"REDIS_URL": "redis://x", "REDIS_URL_FILE": write("b2", "redis://y"),
				"REFRESH_SECRET_KEY_FILE": filepath.Join(dir, "absent"),
			},
			wantErr: []string{"SECRET_KEY and SECRET_KEY_FILE", "REFRESH_SECRET_KEY_FILE: cannot read", "REDIS_URL and REDIS_URL_FILE"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			errs := loadSecretFiles(&c, lookup)
			if len(errs) != len(tc.wantErr) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tc.wantErr))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tc.wantErr[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e, tc.wantErr[i])
				}
				if strings.Contains(e.Error(), key) {
					t.Errorf("error %q quotes the secret", e)
				}
			}
			if tc.check != nil {
				tc.check(t, &c)
			}
		})
	}
}

// TestValidate_UnreadableSecretFileReportedOnce checks that a secret whose
// file cannot be read is reported as that file's problem only, not again as
// a missing variable.
func TestValidate_UnreadableSecretFileReportedOnce(t *testing.T) {
	c := Config{}
	lookup := func(k string) (string, bool) {
		if k == "SECRET_KEY_FILE" {
			return "/nonexistent/secret", true
		}
		return "", false
	}
	c.fileErrs = loadSecretFiles(&c, lookup)
	var lines []string
	for _, e := range c.Validate() {
		if strings.HasPrefix(e.Error(), "SECRET_KEY") {
			lines = append(lines, e.Error())
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "SECRET_KEY_FILE: cannot read /nonexistent/secret") {
		t.Fatalf("SECRET_KEY problems = %q, want the file's problem alone", lines)
	}
}
