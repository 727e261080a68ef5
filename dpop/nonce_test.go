package dpop_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/authsvc/authsvc/dpop"
)

func TestNonces(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	now := t0
	clock := func() time.Time { return now }
	a, err := dpop.NewNonces(key, time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica: same key, its own value.
	b, _ := dpop.NewNonces(key, time.Minute, clock)
	other, _ := dpop.NewNonces(bytes.Repeat([]byte{8}, 32), time.Minute, clock)

	n := a.Current()
	if !b.Valid(n) {
		t.Fatal("a nonce of one replica is refused by another")
	}
	if other.Valid(n) {
		t.Error("a nonce made with another key is accepted")
	}
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{at: 0, want: true},
		{at: 59 * time.Second, want: true},
		{at: 119 * time.Second, want: true}, // the next step still accepts it: good ≥ 60 s
		{at: 120 * time.Second, want: false},
		{at: -1 * time.Second, want: true}, // a replica whose clock is behind
		{at: -61 * time.Second, want: false},
	}
	for _, tt := range tests {
		now = t0.Add(tt.at)
		if got := b.Valid(n); got != tt.want {
			t.Errorf("Valid at %v = %v, want %v", tt.at, got, tt.want)
		}
	}
	now = t0
	for _, bad := range []string{"", "x", n[:len(n)-1] + "A", n + "A", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
		if bad == n {
			continue
		}
		if a.Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestNewNonces_RefusesBadOptions(t *testing.T) {
	if _, err := dpop.NewNonces(make([]byte, 31), time.Minute, nil); err == nil {
		t.Error("a 31-byte key is accepted")
	}
	if _, err := dpop.NewNonces(make([]byte, 32), time.Millisecond, nil); err == nil {
		t.Error("a 1ms step is accepted")
	}
}
