package verifier

import (
	"testing"
	"time"
)

// TestReplayCache: each proof once until its time is up, and the cache
// holds no more than the proofs of the last lifetime.
func TestReplayCache(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newReplayCache(func() time.Time { return now })
	until := now.Add(90 * time.Second)
	if !c.use("k", "a", until) || c.use("k", "a", until) {
		t.Fatal("a proof is not accepted exactly once")
	}
	if !c.use("other-key", "a", until) {
		t.Error("the same jti under another key is refused")
	}
	for i := range 100 {
		c.use("k", string(rune('b'+i)), until)
	}
	now = until.Add(replaySweepEvery + time.Second)
	if !c.use("k", "a", now.Add(time.Minute)) {
		t.Error("an expired entry still refuses its proof")
	}
	c.mu.Lock()
	n := len(c.seen)
	c.mu.Unlock()
	if n != 1 {
		t.Errorf("the cache holds %d entries after they expired, want 1", n)
	}
}
