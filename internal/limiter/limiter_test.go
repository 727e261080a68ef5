package limiter

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/testkit"
)

func newClock() *testkit.Clock { return testkit.NewClock(testkit.T0) }

// take calls Allow n times for addr and returns how many passed and the last
// refusal's retry delay.
func take(l *PerAddress, addr string, n int) (passed int, retry time.Duration) {
	for range n {
		ok, d := l.Allow(addr)
		if ok {
			passed++
		} else {
			retry = d
		}
	}
	return passed, retry
}

func TestAllow_BurstIsTwiceTheRate(t *testing.T) {
	for _, tc := range []struct {
		rate      float64
		wantBurst int
	}{{5, 10}, {1, 2}, {0.5, 1}, {2.5, 5}} {
		t.Run(strconv.FormatFloat(tc.rate, 'f', -1, 64), func(t *testing.T) {
			c := newClock()
			l := New(tc.rate, 0, c.Now)
			if got, _ := take(l, "192.0.2.1", 100); got != tc.wantBurst {
				t.Fatalf("passed %d of 100 at once, want the burst %d", got, tc.wantBurst)
			}
		})
	}
}

func TestAllow_RefillsAtTheRateAndSaysWhen(t *testing.T) {
	c := newClock()
	l := New(4, 0, c.Now) // one token every 250 ms, burst 8
	take(l, "192.0.2.1", 8)
	ok, retry := l.Allow("192.0.2.1")
	if ok || retry <= 0 || retry > 250*time.Millisecond {
		t.Fatalf("empty bucket: ok=%v retry=%v, want refusal with 0 < retry ≤ 250ms", ok, retry)
	}
	c.Advance(retry)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Fatal("refused after the announced delay")
	}
	c.Advance(10 * time.Second)
	if got, _ := take(l, "192.0.2.1", 100); got != 8 {
		t.Fatalf("after a long pause passed %d, want the burst 8", got)
	}
}

func TestAllow_AddressesAreIndependent(t *testing.T) {
	c := newClock()
	l := New(1, 0, c.Now)
	take(l, "192.0.2.1", 10)
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Fatal("a second address was limited by the first")
	}
}

func TestAllow_IPv6CountsPer64(t *testing.T) {
	c := newClock()
	l := New(1, 0, c.Now)
	take(l, "2001:db8:1:2::1", 2)
	if ok, _ := l.Allow("2001:db8:1:2:ffff::9"); ok {
		t.Fatal("another address of the same /64 got a fresh bucket")
	}
	if ok, _ := l.Allow("2001:db8:1:3::1"); !ok {
		t.Fatal("another /64 was limited")
	}
	take(l, "198.51.100.7", 2)
	if ok, _ := l.Allow("::ffff:198.51.100.7"); ok {
		t.Fatal("an IPv4-mapped address got a bucket of its own")
	}
}

func TestAllow_MemoryBoundedByCapacity(t *testing.T) {
	c := newClock()
	l := New(1, 1000, c.Now)
	for i := range 50_000 {
		l.Allow("10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255))
	}
	if n := l.Len(); n > 1000 {
		t.Fatalf("kept %d buckets, capacity 1000", n)
	}
}

func TestAllow_ConcurrentFirstRequestsShareOneBucket(t *testing.T) {
	c := newClock()
	l := New(5, 0, c.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 50 {
		wg.Go(func() {
			if ok, _ := l.Allow("192.0.2.1"); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 10 {
		t.Fatalf("%d of 50 concurrent first requests passed, want the burst 10", passed)
	}
}
