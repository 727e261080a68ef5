package auth

import (
	"errors"
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

func TestFailureKey_NoCollisions(t *testing.T) {
	// "a|b" from address "c" must not share a key with "a" from "b|c".
	if failureKey("u", "a|b", "c") == failureKey("u", "a", "b|c") {
		t.Fatal("failure keys collide")
	}
	if failureKey("u", "x", "1") == failureKey("c", "x", "1") {
		t.Fatal("user and client failure keys collide")
	}
}
