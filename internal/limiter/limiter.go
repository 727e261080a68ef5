// Package limiter is the coarse per-address request limit of the POST
// endpoints (RATE_LIMIT_PER_ADDRESS): one token bucket per client address
// (golang.org/x/time/rate), kept in a fixed-size LRU
// (github.com/hashicorp/golang-lru/v2), so memory stays bounded however many
// distinct addresses send requests.
//
// The limit is per process: with N replicas behind a balancer an address
// gets up to N times the rate. That is deliberate: a shared limiter would
// cost a Redis round trip on every request, and the per-account brute-force
// limit (LOGIN_FAILURES_MAX) is the one kept across replicas.
package limiter

import (
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/authsvc/authsvc/internal/oauth"
)

// DefaultCapacity is the number of addresses whose buckets are kept. A
// bucket costs a few hundred bytes, so the limiter stays within a few tens
// of MiB however many addresses send requests.
const DefaultCapacity = 1 << 16

// PerAddress limits the requests of each client address to a rate per
// second with a burst of twice that. It is safe for concurrent use.
//
// When more than its capacity of addresses are active, the least recently
// seen address loses its bucket and starts afresh on its next request. An
// idle bucket refills within two seconds anyway, so this only matters to a
// sender with more addresses than the capacity, which the limit cannot
// stop in any case.
type PerAddress struct {
	limit   rate.Limit
	burst   int
	now     func() time.Time
	buckets *lru.Cache[string, *rate.Limiter]
}

// New returns a limiter of perSecond requests per second per address
// (burst: twice that, at least 1) that remembers at most capacity addresses
// (DefaultCapacity when not positive). now is the clock; nil means time.Now.
// perSecond must be positive.
func New(perSecond float64, capacity int, now func() time.Time) *PerAddress {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	if now == nil {
		now = time.Now
	}
	buckets, err := lru.New[string, *rate.Limiter](capacity)
	if err != nil {
		panic(err) // only for a non-positive size, excluded above
	}
	return &PerAddress{
		limit:   rate.Limit(perSecond),
		burst:   max(1, int(math.Ceil(2*perSecond))),
		now:     now,
		buckets: buckets,
	}
}

// Allow takes one request from addr's bucket. When the bucket is empty it
// returns false and how long until the next request from addr would pass.
func (l *PerAddress) Allow(addr string) (bool, time.Duration) {
	key := oauth.AddressKey(addr)
	b, ok := l.buckets.Get(key)
	if !ok {
		fresh := rate.NewLimiter(l.limit, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(key, fresh); found {
			b = prev
		} else {
			b = fresh
		}
	}
	now := l.now()
	if b.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.TokensAt(now)
	return false, time.Duration(missing / float64(l.limit) * float64(time.Second))
}

// Len returns the number of addresses whose buckets are kept.
func (l *PerAddress) Len() int { return l.buckets.Len() }
