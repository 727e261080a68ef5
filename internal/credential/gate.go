package credential

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrQueueTimeout is the error (tested with errors.Is) of an authentication
// that waited for a slow-hash slot until its context's deadline
// (HASH_QUEUE_TIMEOUT): nothing was verified, and the caller answers 503.
var ErrQueueTimeout = errors.New("credential: waited too long for a password-hash slot")

// hashGate admits slow hash verifications (bcrypt, argon2id), so that a
// flood of logins queues instead of taking the whole machine.
//
// Half the CPUs (at least one) are always open to hashing: the base slots.
// The other half, the extra slots, are open only while the service is
// otherwise quiet — no NoteActivity in the last quietFor. A login flood
// alone therefore hashes on every CPU (password-grant throughput ≈ cores ÷
// hash time), and a login flood beside refreshes hashes on half of them,
// leaving the rest to the token path, whose requests take microseconds.
// While busy, a base slot also rests for busyRest of each hash's duration
// before it admits the next, so that on a 2-core machine the one hashing
// core still leaves some time to the token path.
type hashGate struct {
	base, extra chan struct{}
	quietFor    time.Duration
	now         func() time.Time
	lastActive  atomic.Int64 // unix nanoseconds of the last NoteActivity
}

// quietFor is how long after the last other request the extra slots open.
const quietFor = 100 * time.Millisecond

// busyRest is the share of a hash's duration a base slot rests, while the
// service is busy, before it admits the next hash.
const busyRest = 3 // one third

func newHashGate(cpus int, now func() time.Time) *hashGate {
	base := max(1, cpus/2)
	return &hashGate{
		base:     make(chan struct{}, base),
		extra:    make(chan struct{}, max(0, cpus-base)),
		quietFor: quietFor,
		now:      now,
	}
}

// slowHashes is the process-wide gate.
var slowHashes = newHashGate(runtime.GOMAXPROCS(0), time.Now)

// noteActivity records that other work is being served.
func (g *hashGate) noteActivity() { g.lastActive.Store(g.now().UnixNano()) }

// quiet reports whether no other work was noted within quietFor.
func (g *hashGate) quiet() bool {
	return g.now().UnixNano()-g.lastActive.Load() >= int64(g.quietFor)
}

// acquire waits for a slot and returns its release. It gives up when ctx
// is done: with ErrQueueTimeout when its deadline passed, with ctx's error
// when it was cancelled (the client has gone). A request whose context is
// done when a slot comes free is not admitted either: nobody would read its
// answer.
func (g *hashGate) acquire(ctx context.Context) (release func(), err error) {
	slot, err := g.takeSlot(ctx)
	if err == nil && ctx.Err() != nil {
		<-slot
		err = ctx.Err()
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: %w", ErrQueueTimeout, err)
		}
		return nil, err
	}
	if slot == g.extra {
		return func() { <-g.extra }, nil
	}
	start := g.now()
	return func() {
		if g.quiet() {
			<-g.base
			return
		}
		rest := g.now().Sub(start) / busyRest
		go func() {
			time.Sleep(rest)
			<-g.base
		}()
	}, nil
}

// takeSlot waits for a base slot, or an extra one while quiet, and returns
// the channel it took it from; or ctx's error when ctx is done first.
func (g *hashGate) takeSlot(ctx context.Context) (chan struct{}, error) {
	select {
	case g.base <- struct{}{}:
		return g.base, nil
	default:
	}
	if g.quiet() {
		select {
		case g.base <- struct{}{}:
			return g.base, nil
		case g.extra <- struct{}{}:
			return g.extra, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case g.base <- struct{}{}:
		return g.base, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NoteActivity tells the slow-hash gate that a request other than a
// password check is being served (a refresh, a revocation, a request that
// a fast client-secret hash authenticates). While such requests keep
// coming, password and slow client-secret checks use at most half the CPUs.
func NoteActivity() { slowHashes.noteActivity() }
