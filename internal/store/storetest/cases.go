package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// ---- refresh-token families ------------------------------------------------

func testCreateThenRotate(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		edit func(*store.Session)
	}{
		{name: "bound to a client", edit: func(*store.Session) {}},
		{name: "bound to no client", edit: func(s *store.Session) { s.ClientID = "" }},
		{name: "no scope", edit: func(s *store.Session) { s.Scope = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := newSession(h), newToken(h, liveTTL)
			tt.edit(&s)
			mustCreate(t, h, s, first)

			h.Clock.Advance(time.Minute)
			next := newToken(h, liveTTL)
			next.AccessScope = ""
			mustRotate(t, h, s, first.ID, next, 0)
		})
	}
}

func testRotateChainOfThree(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	other, otherFirst := mustNewFamily(t, h)

	chain := mustRotateChain(t, h, s, first, 3, 0)

	// The newest token still rotates; a neighbouring family is untouched.
	mustRotate(t, h, s, chain[3].ID, newToken(h, liveTTL), 0)
	mustRotate(t, h, other, otherFirst.ID, newToken(h, liveTTL), 0)
}

func testCreateTakenID(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		// rotations made before the second CreateSession.
		rotations int
		// reuseFirst makes the second CreateSession pass the original first
		// token.
		reuseFirst bool
	}{
		{name: "different first token"},
		{name: "different first token after rotation", rotations: 1},
		{name: "same first token after rotation", rotations: 1, reuseFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := mustNewFamily(t, h)
			chain := mustRotateChain(t, h, s, first, tt.rotations, 0)

			intruder := newSession(h)
			intruder.ID = s.ID
			again := newToken(h, liveTTL)
			if tt.reuseFirst {
				again = first
			}
			err := h.Store.CreateSession(context.Background(), intruder, again)
			if !errors.Is(err, store.ErrExists) {
				t.Fatalf("CreateSession with a taken id: %v, want ErrExists", err)
			}
			// The original family is unchanged.
			mustRotate(t, h, s, chain[len(chain)-1].ID, newToken(h, liveTTL), 0)
		})
	}
}

func testCreateRepeated(t *testing.T, newHarness harnessFunc) {
	// A retried CreateSession (the client library resends it after a lost
	// reply) must not fail a login that did succeed.
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	if err := h.Store.CreateSession(context.Background(), s, first); err != nil {
		t.Fatalf("CreateSession repeated with the same first token: %v", err)
	}
	mustRotate(t, h, s, first.ID, newToken(h, liveTTL), 0)
}

func testReuseRevokesFamily(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		// rotations made before the reuse, each one second after the last.
		rotations int
		// presented is the index in the chain of the token presented again,
		// counted from the newest (1: the previous one); -1 presents a jti
		// the family never issued.
		presented int
		grace     time.Duration
		// after is how long after the last rotation the reuse happens.
		after time.Duration
	}{
		{name: "older token", rotations: 3, presented: 3},
		{name: "previous token without grace", rotations: 1, presented: 1},
		{name: "previous token after grace", rotations: 1, presented: 1, grace: grace, after: grace + time.Millisecond},
		{name: "two generations back inside grace", rotations: 2, presented: 2, grace: grace},
		{name: "jti never issued", rotations: 1, presented: -1, grace: grace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := mustNewFamily(t, h)
			chain := mustRotateChain(t, h, s, first, tt.rotations, tt.grace)
			current := chain[len(chain)-1]
			presented := newID()
			if tt.presented >= 0 {
				presented = chain[len(chain)-1-tt.presented].ID
			}
			h.Clock.Advance(tt.after)

			res, err := rotate(h, s.ID, presented, newToken(h, liveTTL), tt.grace)
			checkRotateErr(t, res, err, store.ErrReused)

			// RFC 9700 §4.14.2: the whole family is gone, the newest token
			// included.
			res, err = rotate(h, s.ID, current.ID, newToken(h, liveTTL), tt.grace)
			checkRotateErr(t, res, err, store.ErrNotFound)
			res, err = rotate(h, s.ID, presented, newToken(h, liveTTL), tt.grace)
			checkRotateErr(t, res, err, store.ErrNotFound)
		})
	}
}

func testRetryInsideGrace(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name  string
		after time.Duration // since the rotation
	}{
		{name: "at once", after: 0},
		{name: "halfway", after: grace / 2},
		{name: "at the end of the window", after: grace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := mustNewFamily(t, h)
			h.Clock.Advance(time.Second)
			successor := newToken(h, liveTTL)
			mustRotate(t, h, s, first.ID, successor, grace)

			h.Clock.Advance(tt.after)
			// Twice: a retry changes nothing, so a second one gets the same.
			for range 2 {
				res, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), grace)
				if err != nil {
					t.Fatalf("retry inside grace: %v", err)
				}
				checkResult(t, res, s, successor, true)
			}

			// The stored successor is still current and rotates normally.
			mustRotate(t, h, s, successor.ID, newToken(h, liveTTL), grace)
		})
	}
}

func testRetryDoesNotExtendGrace(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	successor := newToken(h, liveTTL)
	mustRotate(t, h, s, first.ID, successor, grace)

	h.Clock.Advance(grace / 2)
	res, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), grace)
	if err != nil {
		t.Fatalf("retry inside grace: %v", err)
	}
	checkResult(t, res, s, successor, true)

	// The window counts from the rotation, not from the retry.
	h.Clock.Advance(grace/2 + time.Millisecond)
	res, err = rotate(h, s.ID, first.ID, newToken(h, liveTTL), grace)
	checkRotateErr(t, res, err, store.ErrReused)
}

func testReplayedRotation(t *testing.T, newHarness harnessFunc) {
	// The very same request sent twice (a client library resending it after
	// a lost reply) is one rotation, not a reuse, even without grace: only
	// the request that made Next.ID can present it.
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	next := newToken(h, liveTTL)
	req := store.RotateRequest{SessionID: s.ID, Presented: first.ID, Next: next, Now: h.Clock.Now()}
	for i := range 2 {
		res, err := h.Store.Rotate(context.Background(), req)
		if err != nil {
			t.Fatalf("Rotate #%d: %v", i+1, err)
		}
		checkResult(t, res, s, next, false)
	}
	mustRotate(t, h, s, next.ID, newToken(h, liveTTL), 0)
}

func testUnknownSession(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	for _, grace := range []time.Duration{0, grace} {
		res, err := rotate(h, newID(), newID(), newToken(h, liveTTL), grace)
		checkRotateErr(t, res, err, store.ErrNotFound)
	}
}

func testRevokeThenRotate(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	chain := mustRotateChain(t, h, s, first, 1, grace)
	if err := h.Store.RevokeSession(context.Background(), s.ID); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	// Neither the current token nor a retry of the previous one works.
	for _, tok := range chain {
		res, err := rotate(h, s.ID, tok.ID, newToken(h, liveTTL), grace)
		checkRotateErr(t, res, err, store.ErrNotFound)
	}
}

func testRevokeUnknown(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := mustNewFamily(t, h)
	for range 2 {
		if err := h.Store.RevokeSession(context.Background(), newID()); err != nil {
			t.Fatalf("RevokeSession of an unknown id: %v", err)
		}
	}
	if err := h.Store.RevokeSession(context.Background(), s.ID); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if err := h.Store.RevokeSession(context.Background(), s.ID); err != nil {
		t.Fatalf("RevokeSession of a revoked id: %v", err)
	}
	res, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), 0)
	checkRotateErr(t, res, err, store.ErrNotFound)
}

// ---- expiry ----------------------------------------------------------------

func testSessionExpires(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := newSession(h), newToken(h, shortTTL)
	mustCreate(t, h, s, first)
	h.waitUntil(first.ExpiresAt)

	res, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), grace)
	checkRotateErr(t, res, err, store.ErrNotFound)
	// The id is free again.
	mustCreate(t, h, s, newToken(h, liveTTL))
}

func testRotationMovesExpiry(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	start := h.Clock.Now()
	s, first := newSession(h), newToken(h, shortTTL)
	mustCreate(t, h, s, first)

	next := newToken(h, shortTTL)
	next.ExpiresAt = start.Add(3*shortTTL + 2*slack)
	mustRotate(t, h, s, first.ID, next, 0)

	// Past the first token's expiry the family lives on with next's.
	h.waitUntil(first.ExpiresAt)
	last := newToken(h, shortTTL)
	last.ExpiresAt = next.ExpiresAt
	mustRotate(t, h, s, next.ID, last, 0)

	// And ends with it.
	h.waitUntil(last.ExpiresAt)
	res, err := rotate(h, s.ID, last.ID, newToken(h, liveTTL), 0)
	checkRotateErr(t, res, err, store.ErrNotFound)
}

// ---- access-token denylist -------------------------------------------------

func testDeniedUntilExpiry(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	ctx := context.Background()
	jti, other := newID(), newID()
	exp := h.Clock.Now().Add(shortTTL)
	if err := h.Store.DenyAccessToken(ctx, jti, exp); err != nil {
		t.Fatalf("DenyAccessToken: %v", err)
	}
	checkDenied(t, h, jti, true)
	checkDenied(t, h, other, false)

	h.waitUntil(exp)
	checkDenied(t, h, jti, false)
}

func testDenyPastExpiry(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		exp  time.Duration // relative to now
	}{
		{name: "now", exp: 0},
		{name: "a second ago", exp: -time.Second},
		{name: "long ago", exp: -24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			jti := newID()
			if err := h.Store.DenyAccessToken(context.Background(), jti, h.Clock.Now().Add(tt.exp)); err != nil {
				t.Fatalf("DenyAccessToken: %v", err)
			}
			checkDenied(t, h, jti, false)
		})
	}
}

// checkDenied checks AccessTokenDenied for jti.
func checkDenied(tb testing.TB, h *Harness, jti string, want bool) {
	tb.Helper()
	got, err := h.Store.AccessTokenDenied(context.Background(), jti)
	if err != nil {
		tb.Fatalf("AccessTokenDenied: %v", err)
	}
	if got != want {
		tb.Errorf("AccessTokenDenied = %v, want %v", got, want)
	}
}

// ---- login failures --------------------------------------------------------

func testFailures(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	ctx := context.Background()
	addr := "192.0.2.1|" + newID()
	key := store.FailureKey{Address: addr, Name: "alice"}
	bob := store.FailureKey{Address: addr, Name: "bob"}
	other := store.FailureKey{Address: "192.0.2.2|" + newID(), Name: "alice"}
	window := 2 * shortTTL
	const maxNames = 100

	checkFailures(t, h, key, store.FailureCount{}, 0, 0)
	for want := int64(1); want <= 3; want++ {
		c, err := h.Store.AddFailure(ctx, key, window, maxNames)
		if err != nil {
			t.Fatalf("AddFailure: %v", err)
		}
		checkCount(t, "AddFailure", c, store.FailureCount{Name: want, Address: want, Names: 1}, 1, window)
	}
	c, err := h.Store.AddFailure(ctx, bob, window, maxNames)
	if err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	checkCount(t, "AddFailure bob", c, store.FailureCount{Name: 1, Address: 4, Names: 2}, 1, window)

	// The window is fixed: a later failure does not extend it.
	h.wait(shortTTL)
	c, err = h.Store.AddFailure(ctx, key, window, maxNames)
	if err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	checkCount(t, "AddFailure", c, store.FailureCount{Name: 4, Address: 5, Names: 2}, 1, window-shortTTL)
	checkFailures(t, h, key, store.FailureCount{Name: 4, Address: 5, Names: 2}, 1, window-shortTTL)
	checkFailures(t, h, store.FailureKey{Address: addr, Name: "carol"}, store.FailureCount{Address: 5, Names: 2}, 1, window-shortTTL)
	checkFailures(t, h, other, store.FailureCount{}, 0, 0)

	// After the window the count starts again.
	h.wait(window - shortTTL + slack)
	checkFailures(t, h, key, store.FailureCount{}, 0, 0)
	c, err = h.Store.AddFailure(ctx, key, window, maxNames)
	if err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	checkCount(t, "AddFailure", c, store.FailureCount{Name: 1, Address: 1, Names: 1}, 1, window)
}

// testFailureNamesBounded: an address holds at most maxNames named
// counters; further names count in its total only, names already held keep
// counting.
func testFailureNamesBounded(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	ctx := context.Background()
	addr := "192.0.2.9|" + newID()
	const maxNames = 5
	for i := range 3 * maxNames {
		k := store.FailureKey{Address: addr, Name: fmt.Sprintf("name-%d", i)}
		c, err := h.Store.AddFailure(ctx, k, time.Minute, maxNames)
		if err != nil {
			t.Fatalf("AddFailure: %v", err)
		}
		want := store.FailureCount{Name: 1, Address: int64(i + 1), Names: min(i+1, maxNames)}
		if i >= maxNames {
			want.Name = 0
		}
		checkCount(t, fmt.Sprintf("AddFailure name %d", i), c, want, 1, time.Minute)
	}
	c, err := h.Store.AddFailure(ctx, store.FailureKey{Address: addr, Name: "name-0"}, time.Minute, maxNames)
	if err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	checkCount(t, "AddFailure of a held name", c, store.FailureCount{Name: 2, Address: 3*maxNames + 1, Names: maxNames}, 1, time.Minute)
}

// checkFailures checks Failures for k.
func checkFailures(tb testing.TB, h *Harness, k store.FailureKey, want store.FailureCount, minReset, maxReset time.Duration) {
	tb.Helper()
	c, err := h.Store.Failures(context.Background(), k)
	if err != nil {
		tb.Fatalf("Failures: %v", err)
	}
	checkCount(tb, "Failures", c, want, minReset, maxReset)
}

// checkCount checks failure counts (ResetIn aside) and that ResetIn is in
// [minReset, maxReset].
func checkCount(tb testing.TB, op string, c, want store.FailureCount, minReset, maxReset time.Duration) {
	tb.Helper()
	got := c
	got.ResetIn = 0
	if got != want {
		tb.Errorf("%s = %+v, want %+v", op, got, want)
	}
	if c.ResetIn < minReset || c.ResetIn > maxReset {
		tb.Errorf("%s ResetIn = %v, want in [%v, %v]", op, c.ResetIn, minReset, maxReset)
	}
}

// ---- concurrency -----------------------------------------------------------

func testConcurrentRotate(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name  string
		grace time.Duration
	}{
		{name: "without grace", grace: 0},
		{name: "with grace", grace: grace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := mustNewFamily(t, h)

			type outcome struct {
				next store.Token
				res  store.RotateResult
				err  error
			}
			out := make([]outcome, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range out {
				out[i].next = newToken(h, liveTTL)
				wg.Go(func() {
					<-start
					out[i].res, out[i].err = rotate(h, s.ID, first.ID, out[i].next, tt.grace)
				})
			}
			close(start)
			wg.Wait()

			var winners []outcome
			for _, o := range out {
				switch {
				case o.err == nil && !o.res.Retried:
					winners = append(winners, o)
				case o.err == nil:
				case errors.Is(o.err, store.ErrReused), errors.Is(o.err, store.ErrNotFound):
					if tt.grace > 0 {
						t.Errorf("Rotate inside grace: %v, want a retry", o.err)
					}
				default:
					t.Errorf("Rotate: %v, want ErrReused or ErrNotFound", o.err)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("%d of %d concurrent rotations rotated, want exactly 1", len(winners), racers)
			}
			win := winners[0]
			checkResult(t, win.res, s, win.next, false)

			if tt.grace == 0 {
				// The losers were reuses, so the family is revoked.
				res, err := rotate(h, s.ID, win.next.ID, newToken(h, liveTTL), 0)
				checkRotateErr(t, res, err, store.ErrNotFound)
				return
			}
			for _, o := range out {
				if o.err == nil && o.res.Retried {
					checkResult(t, o.res, s, win.next, true)
				}
			}
			mustRotate(t, h, s, win.next.ID, newToken(h, liveTTL), tt.grace)
		})
	}
}

// ---- health ----------------------------------------------------------------

func testPing(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	if err := h.Store.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
