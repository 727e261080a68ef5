package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestGrantScope(t *testing.T) {
	allowed := []string{"read", "write"}
	cases := []struct {
		name      string
		requested string
		allowed   []string
		want      string
		wantCode  Code
	}{
		{"none requested grants all allowed", "", allowed, "read write", ""},
		{"subset", "write", allowed, "write", ""},
		{"order kept and repeats dropped", "write read write", allowed, "write read", ""},
		{"extra spaces ignored", "  read   ", allowed, "read", ""},
		{"one not allowed fails all", "read admin", allowed, "", InvalidScope},
		{"nothing allowed, something asked", "read", nil, "", InvalidScope},
		{"nothing allowed, nothing asked", "", nil, "", ""},
		{"quote is not a scope character", `re"ad`, allowed, "", InvalidScope},
		{"backslash is not a scope character", `re\ad`, allowed, "", InvalidScope},
		{"non-ASCII is not a scope character", "rëad", allowed, "", InvalidScope},
		{"tab is not a separator", "read\twrite", allowed, "", InvalidScope},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := grantScope(tc.requested, tc.allowed)
			if tc.wantCode != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("grantScope(%q) = %q, %v; want %q", tc.requested, got, err, tc.want)
			}
		})
	}
}

func TestIntersect(t *testing.T) {
	got := intersect([]string{"read", "write", "admin"}, []string{"admin", "read"})
	if len(got) != 2 || got[0] != "read" || got[1] != "admin" {
		t.Fatalf("intersect = %v", got)
	}
}

func TestNameHash_FixedSizeKeyedNoCollisions(t *testing.T) {
	s := New(Config{NameKey: []byte("key one")}, Deps{})
	other := New(Config{NameKey: []byte("key two")}, Deps{})
	short, long := s.nameHash(kindUser, "x"), s.nameHash(kindUser, strings.Repeat("x", 256))
	if len(short) != len(long) || len(short) != 22 {
		t.Errorf("name hashes are %d and %d bytes, want 22 both", len(short), len(long))
	}
	if s.nameHash(kindUser, "x") == s.nameHash(kindClient, "x") {
		t.Error("user and client name hashes collide")
	}
	if s.nameHash(kindUser, "x") == other.nameHash(kindUser, "x") {
		t.Error("the hash does not depend on the key")
	}
	if strings.Contains(long, "xxx") {
		t.Error("the hash carries the name")
	}
}

func TestParseScope_Bounds(t *testing.T) {
	tokens := func(n int, tok func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = tok(i)
		}
		return strings.Join(parts, " ")
	}
	cases := []struct {
		name  string
		scope string
		ok    bool
	}{
		{"at the token limit", tokens(MaxScopeTokens, func(i int) string { return fmt.Sprint("s", i) }), true},
		{"one token too many", tokens(MaxScopeTokens+1, func(i int) string { return fmt.Sprint("s", i) }), false},
		{"repeats count too", tokens(MaxScopeTokens+1, func(int) string { return "read" }), false},
		{"longest token", strings.Repeat("a", MaxScopeTokenLen), true},
		{"token too long", strings.Repeat("a", MaxScopeTokenLen+1), false},
		{"many spaces, few tokens", strings.Repeat(" ", 8000) + "read", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := parseScope(tc.scope); ok != tc.ok {
				t.Fatalf("parseScope ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}
