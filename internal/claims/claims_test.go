package claims

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustDecode(tb testing.TB, s string) Set {
	tb.Helper()
	set, err := Decode([]byte(s))
	if err != nil {
		tb.Fatalf("Decode(%s): %v", s, err)
	}
	return set
}

func TestFromValues_EncodesSortedAndMatchesEncodingJSON(t *testing.T) {
	in := map[string]any{"tenant": "acme", "roles": []any{"a<b", "c"}, "level": 3, "ok": true, "nested": map[string]any{"x": nil}}
	s, err := FromValues(in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(in) // encoding/json sorts map keys too
	if got := s.AppendObject(nil); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFromValues_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]any
		want error
	}{
		{"reserved sub", map[string]any{"sub": "x"}, ErrReserved},
		{"reserved cnf", map[string]any{"tenant": "a", "cnf": map[string]any{}}, ErrReserved},
		{"empty name", map[string]any{"": 1}, ErrInvalid},
		{"not JSON", map[string]any{"f": func() {}}, ErrInvalid},
		{"too large", map[string]any{"big": strings.Repeat("x", MaxBytes)}, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FromValues(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Every reserved name is refused.
	for _, n := range Reserved {
		if _, err := FromValues(map[string]any{n: 1}); !errors.Is(err, ErrReserved) {
			t.Errorf("%s: err = %v, want ErrReserved", n, err)
		}
	}
}

func TestFromValues_SizeLimitIsInclusive(t *testing.T) {
	// {"k":"…"} is 8 bytes plus the value.
	if _, err := FromValues(map[string]any{"k": strings.Repeat("x", MaxBytes-8)}); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
	if _, err := FromValues(map[string]any{"k": strings.Repeat("x", MaxBytes-7)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes+1: err = %v, want ErrTooLarge", err)
	}
}

func TestLenient_DropsReservedKeepsRest(t *testing.T) {
	s, dropped, err := Lenient([]byte(`{"sub":"evil","tenant":"acme","aud":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(dropped, ",") != "aud,sub" {
		t.Errorf("dropped = %q", dropped)
	}
	if got := string(s.AppendObject(nil)); got != `{"tenant":"acme"}` {
		t.Errorf("kept %s", got)
	}
}

func TestLenient_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"array", `["a"]`, ErrInvalid},
		{"string", `"a"`, ErrInvalid},
		{"broken", `{"a":`, ErrInvalid},
		{"repeated name", `{"a":1,"a":2}`, ErrInvalid},
		{"too large", `{"a":"` + strings.Repeat("x", MaxBytes) + `"}`, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Lenient([]byte(tc.in)); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMerge_OverWins(t *testing.T) {
	user := mustDecode(t, `{"tenant":"acme","tier":"bronze","a":1}`)
	client := mustDecode(t, `{"tier":"gold","z":true}`)
	got := string(user.Merge(client).AppendObject(nil))
	if want := `{"a":1,"tenant":"acme","tier":"gold","z":true}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := string(Set{}.Merge(client).AppendObject(nil)); got != `{"tier":"gold","z":true}` {
		t.Errorf("empty.Merge = %s", got)
	}
	if got := string(user.Merge(Set{}).AppendObject(nil)); got != `{"a":1,"tenant":"acme","tier":"bronze"}` {
		t.Errorf("Merge(empty) = %s", got)
	}
}

func TestAppendMembers_CommaRules(t *testing.T) {
	s := mustDecode(t, `{"b":2,"a":"x"}`)
	if got := string(s.AppendMembers([]byte(`{"iss":"i"`))); got != `{"iss":"i","a":"x","b":2` {
		t.Errorf("after a member: %s", got)
	}
	if got := string(s.AppendMembers([]byte(`{`))); got != `{"a":"x","b":2` {
		t.Errorf("after the brace: %s", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := mustDecode(t, `{ "tenant" : "acme", "n": [1, 2] }`)
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"n":[1,2],"tenant":"acme"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Set
	if err := json.Unmarshal(b, &back); err != nil || string(back.AppendObject(nil)) != string(b) {
		t.Errorf("round trip = %s, %v", back.AppendObject(nil), err)
	}
}

func TestString_NamesOnly(t *testing.T) {
	s := mustDecode(t, `{"secret_thing":"do-not-print"}`)
	if strings.Contains(s.String(), "do-not-print") {
		t.Errorf("String leaks the value: %s", s)
	}
}
