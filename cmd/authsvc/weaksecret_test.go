package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestWeakSecret(t *testing.T) {
	cases := []struct {
		name, value string
		weak        bool
	}{
		{"random", "q8Yv1m0ZkS3xP7rT2bN9wL4cF6hJ5dG0eA1uI3oK8sM=", false},
		{"too short", "short-key", true},
		{"one character", strings.Repeat("a", 48), true},
		{"changeme repeated", strings.Repeat("changeme", 6), true},
		{"a pattern cut short at the end", strings.Repeat("0123456789abcdef", 3)[:40], true},
		{"the Makefile's placeholder", "compose-config-check-only-not-a-real-key-0000", true},
		{"half repeated is still random", "q8Yv1m0ZkS3xP7rT2bN9wL4cF6hJ5dG0q8Yv1m0Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := weakSecret(tc.value) != ""; got != tc.weak {
				t.Fatalf("weakSecret = %q, want weak %v", weakSecret(tc.value), tc.weak)
			}
		})
	}
}

// TestShippedSecrets_AreAllListed finds every secret value the project's
// own files show (NAME=value or NAME: value for the key variables) and
// requires start-up to refuse each: weak by its form, or in shippedSecrets.
func TestShippedSecrets_AreAllListed(t *testing.T) {
	files := []string{"../../Makefile", "../../README.md", "../../docker-compose.yml"}
	for _, pattern := range []string{"../../configs/*", "../../docs/*.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	assign := regexp.MustCompile(`\b(?:REFRESH_)?SECRET_KEY(?:_PREVIOUS)?\s*[=:]\s*["']?([A-Za-z0-9+/=_.-]{16,})`)
	found := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range assign.FindAllStringSubmatch(string(data), -1) {
			found++
			if weakSecret(m[1]) == "" {
				t.Errorf("%s shows the secret value %q, which start-up would accept: add it to shippedSecrets", f, m[1])
			}
		}
	}
	if found == 0 {
		t.Fatal("no shipped secret found: the search is broken (the Makefile has one)")
	}
}
