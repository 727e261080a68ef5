package jsonenc

import (
	"encoding/json"
	"testing"
)

var strings = []string{
	"", "alice", "read write", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\b\f",
	"\x00\x01\x1f\x7f", "<script>&amp;</script>", "ünïcødé ✓ 日本", "\u2028\u2029",
	"bad utf8 \xff\xfe end", "\xc3", "emoji 🔑", "eyJhbGciOiJIUzI1NiJ9.e30.sig-_",
}

func TestString_MatchesEncodingJSON(t *testing.T) {
	for _, s := range strings {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestObject_MatchesEncodingJSON(t *testing.T) {
	type doc struct {
		A string   `json:"a"`
		B int64    `json:"b"`
		C []string `json:"c"`
	}
	for _, s := range strings {
		d := doc{A: s, B: -1234567890123, C: []string{s, "x"}}
		want, _ := json.Marshal(d)
		got := append([]byte{'{'}, nil...)
		got = StringField(got, "a", d.A)
		got = IntField(got, "b", d.B)
		got = Strings(Field(got, "c"), d.C)
		got = append(got, '}')
		if string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range strings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Fatalf("String(%q) = %s, want %s", s, got, want)
		}
	})
}
