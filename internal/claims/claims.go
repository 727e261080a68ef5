// Package claims holds the custom claims an operator or a user authenticator
// adds to access tokens: a tenant, a role, a tier. A [Set] is parsed and
// checked once, when the credentials file is read or an authenticator
// answers, and keeps each value as compact JSON, so adding the claims to a
// token costs a few appends and no reflection.
//
// Names the service sets itself or that verifiers give a meaning to are
// reserved ([Reserved]); the claims of one source take at most [MaxBytes]
// as a JSON object.
package claims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/authsvc/authsvc/internal/jsonenc"
)

// MaxBytes is the largest JSON object the claims of one source (a user, a
// client, an authenticator answer) may take.
const MaxBytes = 2 << 10

// Reserved lists the claim names that cannot be set: those authsvc writes
// itself (RFC 7519 §4.1, RFC 9068 §2.2, the session and DPoP claims) and
// those verifiers give a meaning to (RFC 8693 act and may_act, OpenID
// Connect azp, nonce, auth_time and the hash claims).
var Reserved = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type", "scope", "client_id",
	"cnf", "sid", "auth_time", "act", "may_act", "azp", "nonce", "at_hash", "c_hash", "s_hash",
}

var reserved = func() map[string]bool {
	m := make(map[string]bool, len(Reserved))
	for _, n := range Reserved {
		m[n] = true
	}
	return m
}()

// IsReserved reports whether name is one of Reserved.
func IsReserved(name string) bool { return reserved[name] }

// Errors of Parse and Decode; match them with errors.Is.
var (
	// ErrReserved means a claim has a reserved name.
	ErrReserved = errors.New("reserved claim name")
	// ErrTooLarge means the claims take more than MaxBytes as JSON.
	ErrTooLarge = errors.New("claims too large")
	// ErrInvalid means the claims are not a JSON object of named values.
	ErrInvalid = errors.New("claims must be an object of named values")
)

// Set is an immutable set of claims, sorted by name, each value compact
// JSON. The zero Set is empty and ready to use.
type Set struct {
	names  []string
	values []json.RawMessage
}

// Len returns the number of claims.
func (s Set) Len() int { return len(s.names) }

// Names returns the claim names in order.
func (s Set) Names() []string { return slices.Clone(s.names) }

// Get returns the compact JSON value of the claim name.
func (s Set) Get(name string) (json.RawMessage, bool) {
	i, ok := slices.BinarySearch(s.names, name)
	if !ok {
		return nil, false
	}
	return s.values[i], true
}

// FromValues builds a Set from decoded values (a YAML or JSON object): each
// value is encoded as JSON once. A reserved or empty name, a value JSON
// cannot represent, or a result over MaxBytes is an error naming the claim
// (never its value).
func FromValues(m map[string]any) (Set, error) {
	raw := make(map[string]json.RawMessage, len(m))
	for name, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			return Set{}, fmt.Errorf("claim %s: %w: the value cannot be written as JSON", quote(name), ErrInvalid)
		}
		raw[name] = b
	}
	return fromRaw(raw)
}

// Decode parses a JSON object into a Set; see Lenient for an answer whose
// reserved names are dropped rather than refused.
func Decode(data []byte) (Set, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return Set{}, err
	}
	return fromRaw(raw)
}

// Lenient parses a JSON object from an outside source: reserved names are
// dropped and returned in dropped (sorted), the rest must be valid and,
// measured as the object received (compacted), within MaxBytes.
func Lenient(data []byte) (s Set, dropped []string, err error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return Set{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if compact.Len() > MaxBytes {
		return Set{}, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, compact.Len(), MaxBytes)
	}
	raw, err := decodeObject(compact.Bytes())
	if err != nil {
		return Set{}, nil, err
	}
	for name := range raw {
		if IsReserved(name) {
			dropped = append(dropped, name)
			delete(raw, name)
		}
	}
	slices.Sort(dropped)
	s, err = fromRaw(raw)
	return s, dropped, err
}

func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrInvalid
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	// Repeated names would make "which value" ambiguous; refuse them.
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if _, dup := raw[name]; dup {
			return nil, fmt.Errorf("%w: claim %s given twice", ErrInvalid, quote(name))
		}
		raw[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the object", ErrInvalid)
	}
	return raw, nil
}

// fromRaw checks the names and size and builds the sorted Set; values are
// compacted so that the encoding is canonical.
func fromRaw(raw map[string]json.RawMessage) (Set, error) {
	var s Set
	for name := range raw {
		switch {
		case name == "":
			return Set{}, fmt.Errorf("%w: a claim name is empty", ErrInvalid)
		case IsReserved(name):
			return Set{}, fmt.Errorf("claim %s: %w (set by authsvc or meaningful to verifiers)", quote(name), ErrReserved)
		}
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	s.values = make([]json.RawMessage, len(s.names))
	for i, name := range s.names {
		var b bytes.Buffer
		if err := json.Compact(&b, raw[name]); err != nil {
			return Set{}, fmt.Errorf("claim %s: %w", quote(name), ErrInvalid)
		}
		s.values[i] = b.Bytes()
	}
	if n := len(s.AppendObject(nil)); n > MaxBytes {
		return Set{}, fmt.Errorf("%w: %d bytes as JSON, at most %d", ErrTooLarge, n, MaxBytes)
	}
	return s, nil
}

// Merge returns s with the claims of over added; on a name both have,
// over's value wins.
func (s Set) Merge(over Set) Set {
	switch {
	case over.Len() == 0:
		return s
	case s.Len() == 0:
		return over
	}
	out := Set{
		names:  make([]string, 0, s.Len()+over.Len()),
		values: make([]json.RawMessage, 0, s.Len()+over.Len()),
	}
	i, j := 0, 0
	for i < len(s.names) || j < len(over.names) {
		switch {
		case j == len(over.names) || (i < len(s.names) && s.names[i] < over.names[j]):
			out.names, out.values = append(out.names, s.names[i]), append(out.values, s.values[i])
			i++
		case i == len(s.names) || over.names[j] < s.names[i]:
			out.names, out.values = append(out.names, over.names[j]), append(out.values, over.values[j])
			j++
		default: // same name: over wins
			out.names, out.values = append(out.names, over.names[j]), append(out.values, over.values[j])
			i++
			j++
		}
	}
	return out
}

// AppendMembers appends the claims as members of a JSON object that dst is
// writing: each preceded by a comma unless dst ends with the opening brace.
func (s Set) AppendMembers(dst []byte) []byte {
	for i, name := range s.names {
		if len(dst) > 0 && dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = jsonenc.String(dst, name)
		dst = append(dst, ':')
		dst = append(dst, s.values[i]...)
	}
	return dst
}

// AppendObject appends the claims as one JSON object.
func (s Set) AppendObject(dst []byte) []byte {
	dst = append(dst, '{')
	dst = s.AppendMembers(dst)
	return append(dst, '}')
}

// MarshalJSON writes the claims as one JSON object.
func (s Set) MarshalJSON() ([]byte, error) { return s.AppendObject(nil), nil }

// UnmarshalJSON reads a JSON object written by MarshalJSON; null is empty.
func (s *Set) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*s = Set{}
		return nil
	}
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*s = d
	return nil
}

// String lists the claim names, never the values.
func (s Set) String() string { return "claims[" + strings.Join(s.names, " ") + "]" }

// quote names a claim in an error message: short printable names are
// quoted, anything else is not repeated.
func quote(name string) string {
	if len(name) > 64 {
		return "(a long name)"
	}
	return fmt.Sprintf("%q", name)
}
