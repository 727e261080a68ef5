package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecret_NeverPrinted checks every way a Secret could reach output:
// fmt verbs, slog (text and JSON) and encoding/json.
func TestSecret_NeverPrinted(t *testing.T) {
	const plain = "plain-secret-value-0123456789"
	s := Secret(plain)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %s %+v %#v %q\n", s, s, s, s, s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	b, err := json.Marshal(struct{ S Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(b)
	if strings.Contains(buf.String(), plain) {
		t.Fatalf("a secret was printed:\n%s", buf.String())
	}
	if s.Reveal() != plain {
		t.Fatal("Reveal does not return the value")
	}
}
