package credential

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/testkit"
)

// acquired reports whether g.acquire returns within a short wait, and
// returns its release (nil when it blocked).
func tryAcquire(g *Gate) func() {
	got := make(chan func(), 1)
	go func() { got <- mustAcquire(g) }()
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
	release := mustAcquire(g)
	clk.Advance(900 * time.Millisecond) // the "hash" took 900 ms
	g.NoteActivity()
	released := time.Now()
	release()
	// The slot rests a third of that, 300 ms, before the next hash.
	next := make(chan time.Duration, 1)
	go func() {
		r := mustAcquire(g)
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

// mustAcquire is acquire without a deadline: it never gives up.
func mustAcquire(g *Gate) func() {
	r, err := g.acquire(context.Background())
	if err != nil {
		panic(err)
	}
	return r
}

func TestHashGate_GivesUp(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"deadline passed while queued: ErrQueueTimeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, ErrQueueTimeout},
		{"client gone while queued: its own error", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGate(1, testkit.NewClock(time.Unix(1_800_000_000, 0)).Now)
			hold := mustAcquire(g) // the only slot
			ctx, cancel := tt.ctx()
			defer cancel()
			r, err := g.acquire(ctx)
			if !errors.Is(err, tt.wantErr) || r != nil {
				t.Fatalf("acquire = %v, want %v", err, tt.wantErr)
			}
			hold()
			// The slot it gave up on is free for the next one.
			mustAcquire(g)()
		})
	}
}

func TestHashGate_DeadClientNeverAdmitted(t *testing.T) {
	g := NewGate(2, testkit.NewClock(time.Unix(1_800_000_000, 0)).Now) // a free slot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := g.acquire(ctx); !errors.Is(err, context.Canceled) || r != nil {
		t.Fatalf("acquire with a gone client = %v, want context.Canceled", err)
	}
	// Both slots are still free.
	a, b := tryAcquire(g), tryAcquire(g)
	if a == nil || b == nil {
		t.Fatal("a refused acquire kept a slot")
	}
	a()
	b()
}
