package credential

import (
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/testkit"
)

// acquired reports whether g.acquire returns within a short wait, and
// returns its release (nil when it blocked).
func tryAcquire(g *Gate) func() {
	got := make(chan func(), 1)
	go func() { got <- g.acquire() }()
	select {
	case r := <-got:
		return r
	case <-time.After(100 * time.Millisecond):
		// It stays blocked; drain it later by releasing a slot.
		return nil
	}
}

func TestHashGate_Slots(t *testing.T) {
	cases := []struct {
		name         string
		cpus         int
		busy         bool
		wantAdmitted int
	}{
		{"quiet: every CPU hashes", 4, false, 4},
		{"busy: half the CPUs hash", 4, true, 2},
		{"two CPUs, busy: one hashes", 2, true, 1},
		{"two CPUs, quiet: both hash", 2, false, 2},
		{"one CPU: always one", 1, false, 1},
		{"one CPU, busy: still one", 1, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := testkit.NewClock(time.Unix(1_800_000_000, 0))
			g := NewGate(tc.cpus, clk.Now)
			clk.Advance(time.Hour) // long quiet
			if tc.busy {
				g.NoteActivity()
			}
			var releases []func()
			for range tc.cpus + 1 {
				r := tryAcquire(g)
				if r == nil {
					break
				}
				releases = append(releases, r)
			}
			if len(releases) != tc.wantAdmitted {
				t.Fatalf("admitted %d, want %d", len(releases), tc.wantAdmitted)
			}
			// Releasing lets the blocked acquire through, so its
			// goroutine ends.
			for _, r := range releases {
				r()
			}
		})
	}
}

func TestHashGate_ExtraSlotsOpenAfterQuiet(t *testing.T) {
	clk := testkit.NewClock(time.Unix(1_800_000_000, 0))
	g := NewGate(2, clk.Now)
	g.NoteActivity()
	first := tryAcquire(g)
	if first == nil {
		t.Fatal("the base slot was not admitted")
	}
	if tryAcquire(g) != nil {
		t.Fatal("the extra slot opened while busy")
	}
	// The blocked acquire above holds the base slot once first releases;
	// now the service goes quiet and a new request gets the extra slot.
	clk.Advance(quietFor)
	second := tryAcquire(g)
	if second == nil {
		t.Fatal("the extra slot stayed closed after the quiet period")
	}
	second()
	first()
	<-g.base // the blocked acquire's slot
}

func TestHashGate_BusyBaseSlotRests(t *testing.T) {
	clk := testkit.NewClock(time.Unix(1_800_000_000, 0))
	g := NewGate(2, clk.Now)
	g.NoteActivity()
	release := g.acquire()
	clk.Advance(900 * time.Millisecond) // the "hash" took 900 ms
	g.NoteActivity()
	released := time.Now()
	release()
	// The slot rests a third of that, 300 ms, before the next hash.
	next := make(chan time.Duration, 1)
	go func() {
		r := g.acquire()
		next <- time.Since(released)
		r()
	}()
	select {
	case waited := <-next:
		if waited < 250*time.Millisecond {
			t.Fatalf("the next hash was admitted after %v, before the slot rested", waited)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the resting slot was never released")
	}
}
