package credential

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrQueueTimeout is the error (tested with errors.Is) of an authentication
// that waited for a slow-hash slot until its context's deadline
// (HASH_QUEUE_TIMEOUT): nothing was verified, and the caller answers 503.
var ErrQueueTimeout = errors.New("credential: waited too long for a password-hash slot")

// Gate admits slow hash verifications (bcrypt, argon2id), so that a flood
// of logins queues instead of taking the whole machine. The service builds
// one in cmd/authsvc and hands it to Parse or Load (WithGate); it learns of
// other work through NoteActivity, which the service wires to the token
// rules' activity hook. A nil *Gate admits everything at once.
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
type Gate struct {
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

// NewGate returns a gate for a machine of cpus CPUs that reads the time
// from now.
func NewGate(cpus int, now func() time.Time) *Gate {
	base := max(1, cpus/2)
	return &Gate{
		base:     make(chan struct{}, base),
		extra:    make(chan struct{}, max(0, cpus-base)),
		quietFor: quietFor,
		now:      now,
	}
}

// NoteActivity tells the gate that a request other than a password check
// is being served (a refresh, a revocation, an introspection). While such
// requests keep coming, password and slow client-secret checks use at most
// half the CPUs. It is safe for concurrent use, and a no-op on nil.
func (g *Gate) NoteActivity() {
	if g != nil {
		g.lastActive.Store(g.now().UnixNano())
	}
}

// quiet reports whether no other work was noted within quietFor.
func (g *Gate) quiet() bool {
	return g.now().UnixNano()-g.lastActive.Load() >= int64(g.quietFor)
}

// acquire waits for a slot and returns its release. A nil gate admits at
// once. It gives up when ctx is done: with ErrQueueTimeout when its
// deadline passed, with ctx's error when it was cancelled (the client has
// gone). A request whose context is done when a slot comes free is not
// admitted either: nobody would read its answer.
func (g *Gate) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, gateError(err)
	}
	if g == nil {
		return func() {}, nil
	}
	slot, err := g.takeSlot(ctx)
	if err == nil && ctx.Err() != nil {
		<-slot
		err = ctx.Err()
	}
	if err != nil {
		return nil, gateError(err)
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

// gateError is the error of a wait given up: ErrQueueTimeout for a passed
// deadline, the context's own error otherwise.
func gateError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrQueueTimeout, err)
	}
	return err
}

// takeSlot waits for a base slot, or an extra one while quiet, and returns
// the channel it took it from; or ctx's error when ctx is done first.
func (g *Gate) takeSlot(ctx context.Context) (chan struct{}, error) {
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
