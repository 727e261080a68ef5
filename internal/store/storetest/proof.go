package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---- used DPoP proof ids ---------------------------------------------------

func testUseProofOnce(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	ctx := context.Background()
	id, other := newID(), newID()
	until := h.Clock.Now().Add(shortTTL)

	checkUseProof(t, h, id, until, true)
	checkUseProof(t, h, id, until, false)
	checkUseProof(t, h, other, until, true)

	h.waitUntil(until)
	// Once the proof is too old to be accepted, its id is forgotten.
	first, err := h.Store.UseProof(ctx, id, h.Clock.Now().Add(liveTTL))
	if err != nil {
		t.Fatalf("UseProof: %v", err)
	}
	if !first {
		t.Error("UseProof after the record expired = false, want true")
	}
}

func testUseProofPastUntil(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	id := newID()
	past := h.Clock.Now().Add(-1)
	checkUseProof(t, h, id, past, true)
	// Nothing was recorded: a live use of the same id is still its first.
	checkUseProof(t, h, id, h.Clock.Now().Add(liveTTL), true)
}

func testConcurrentUseProof(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	id, until := newID(), h.Clock.Now().Add(liveTTL)
	var (
		wins  atomic.Int32
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for range racers {
		wg.Go(func() {
			<-start
			first, err := h.Store.UseProof(context.Background(), id, until)
			if err != nil {
				t.Errorf("UseProof: %v", err)
			}
			if first {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d of %d concurrent uses of one proof id were first, want exactly 1", n, racers)
	}
}

// checkUseProof checks that UseProof reports want.
func checkUseProof(tb testing.TB, h *Harness, id string, until time.Time, want bool) {
	tb.Helper()
	first, err := h.Store.UseProof(context.Background(), id, until)
	if err != nil {
		tb.Fatalf("UseProof: %v", err)
	}
	if first != want {
		tb.Errorf("UseProof = %v, want %v", first, want)
	}
}
