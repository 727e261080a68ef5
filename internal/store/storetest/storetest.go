// Package storetest is the conformance suite every store.Store implementation
// runs, in the manner of dex's storage/conformance and testing/fstest:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			clock := storetest.NewClock(time.Now())
//			return storetest.Harness{Store: memory.New(clock.Now), Clock: clock}
//		})
//	}
//
// # Time
//
// The suite never reads the wall clock for the times it writes. Every
// req.Now, token iat/exp and denylist exp comes from the Harness's Clock,
// which the suite moves forward with Clock.Advance. How the store sees that
// movement depends on how it measures expiry:
//
//   - A store built on an injected clock (memory) is given Clock.Now. Moving
//     Clock expires its records at once; the suite never sleeps for it.
//   - A store whose records expire by the wall clock (Redis TTLs set with
//     PEXPIREAT/PXAT from the times the suite passes in) sets RealTTL. Its
//     Clock must start at the current time. Wherever the suite waits for
//     something to expire, it sleeps for the same duration it advances
//     Clock, so the wall clock is never behind Clock and a record the suite
//     expects gone is gone. Those waits are a few hundred milliseconds; cases
//     that only move request time forward (grace windows) do not sleep.
//
// Each case, and each row of a table-driven case, gets its own Harness from
// newStore, and builds its own fixtures from fresh random ids. Cases run in
// parallel, so newStore must be safe for concurrent use.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/testkit"
)

// Durations the suite works with.
const (
	// liveTTL is the lifetime of records that must not expire in a case.
	liveTTL = time.Hour
	// shortTTL is the lifetime of records a case watches expire.
	shortTTL = 300 * time.Millisecond
	// slack is how long past an expiry the suite waits before it expects the
	// record gone.
	slack = 150 * time.Millisecond
	// grace is the REFRESH_REUSE_GRACE the grace cases use.
	grace = 10 * time.Second
	// racers is the number of goroutines in the concurrency cases.
	racers = 50
)

// Clock is the shared manual clock of internal/testkit, safe for concurrent
// use. Create it with NewClock; pass Clock.Now to a store that takes an
// injected clock.
type Clock = testkit.Clock

// NewClock returns a Clock reading start, truncated to the millisecond (the
// resolution Redis keeps) and stripped of its monotonic reading.
func NewClock(start time.Time) *Clock {
	return testkit.NewClock(start.Round(0).Truncate(time.Millisecond))
}

// Harness is one store under test and the clock the suite drives it with.
type Harness struct {
	// Store is the implementation under test. Run closes it when the case
	// ends.
	Store store.Store
	// Clock provides every time the suite writes or passes as req.Now. A
	// store that takes an injected clock must be built with Clock.Now.
	Clock *Clock
	// RealTTL says the store expires records by the wall clock, as Redis
	// does. The suite then sleeps through each expiry wait as well as
	// advancing Clock, and Clock must start at the current time.
	RealTTL bool
}

// wait lets d pass: it advances the clock and, for a RealTTL store, sleeps.
func (h *Harness) wait(d time.Duration) {
	if h.RealTTL {
		time.Sleep(d)
	}
	h.Clock.Advance(d)
}

// waitUntil lets time pass until t plus slack.
func (h *Harness) waitUntil(t time.Time) {
	if d := t.Sub(h.Clock.Now()); d > 0 {
		h.wait(d + slack)
	} else {
		h.wait(slack)
	}
}

// harnessFunc returns a fresh, validated Harness for one case.
type harnessFunc func(t *testing.T) *Harness

// Run runs the conformance suite against the stores newStore builds.
// newStore is called once for every case and table row, from parallel
// subtests.
func Run(t *testing.T, newStore func(t *testing.T) Harness) {
	newHarness := func(t *testing.T) *Harness {
		t.Helper()
		h := newStore(t)
		if h.Store == nil || h.Clock == nil {
			t.Fatalf("storetest: newStore returned a Harness without Store or Clock")
		}
		if h.RealTTL {
			if off := time.Until(h.Clock.Now()).Abs(); off > time.Second {
				t.Fatalf("storetest: RealTTL harness clock is %v off the wall clock; start it at time.Now()", off)
			}
		}
		t.Cleanup(func() {
			if err := h.Store.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return &h
	}
	cases := []struct {
		name string
		run  func(t *testing.T, newHarness harnessFunc)
	}{
		{"CreateThenRotate", testCreateThenRotate},
		{"RotateChainOfThree", testRotateChainOfThree},
		{"CreateTakenIDReturnsErrExists", testCreateTakenID},
		{"CreateRepeatedIsIdempotent", testCreateRepeated},
		{"ReuseRevokesFamily", testReuseRevokesFamily},
		{"RetryInsideGraceReturnsStoredSuccessor", testRetryInsideGrace},
		{"RetryDoesNotExtendGrace", testRetryDoesNotExtendGrace},
		{"ReplayedRotationIsIdempotent", testReplayedRotation},
		{"UnknownSessionReturnsErrNotFound", testUnknownSession},
		{"RevokeThenRotateReturnsErrNotFound", testRevokeThenRotate},
		{"RevokeUnknownSessionSucceeds", testRevokeUnknown},
		{"SessionReadsCurrentToken", testSessionRead},
		{"DeniedUntilExpiry", testDeniedUntilExpiry},
		{"DenyPastExpiryIsNoop", testDenyPastExpiry},
		{"SessionExpiresWithCurrentToken", testSessionExpires},
		{"RotationMovesExpiry", testRotationMovesExpiry},
		{"FailuresCountAndReset", testFailures},
		{"FailureNamesBounded", testFailureNamesBounded},
		{"ConcurrentRotateHasOneWinner", testConcurrentRotate},
		{"UseProofOnce", testUseProofOnce},
		{"UseProofPastUntilRecordsNothing", testUseProofPastUntil},
		{"ConcurrentUseProofHasOneWinner", testConcurrentUseProof},
		{"DPoPBoundSessionRotatesOnlyWithItsKey", testDPoPBoundSession},
		{"DPoPProofRequired", testDPoPProofRequired},
		{"DPoPReuseWinsOverKeyMismatch", testDPoPReuseWins},
		{"DPoPBoundLogoutAllNeedsTheKey", testDPoPBoundLogoutAll},
		{"Ping", testPing},
		{"IndexListsSubjectSessionsOldestFirst", testIndexList},
		{"IndexEndOneSession", testIndexEndOne},
		{"IndexEndAllSessionsOfSubject", testIndexEndAll},
		{"IndexForgetsExpiredSessions", testIndexExpiry},
		{"IndexCappedCreateEndsOldest", testIndexCapped},
		{"LogoutAllEndsEverySessionOfSubject", testLogoutAll},
		{"ConcurrentLoginsRaceLogoutAll", testLoginsRaceLogoutAll},
		{"FeedCompleteSet", testFeedCompleteSet},
		{"FeedIncrements", testFeedIncrements},
		{"FeedEntryExpires", testFeedEntryExpires},
		{"FeedMalformedCursor", testFeedMalformedCursor},
		{"FeedForeignCursorGivesCompleteSet", testFeedForeignCursorGivesCompleteSet},
		{"FeedTrimmedCursorGivesCompleteSet", testFeedTrimmedCursorGivesCompleteSet},
		{"FeedWaitWakesOnAdd", testFeedWaitWakesOnAdd},
		{"FeedUnknownKindRefused", testFeedUnknownKindRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newHarness)
		})
	}
}

// ---- fixtures --------------------------------------------------------------

// newID returns a fresh random id.
func newID() string {
	return rand.Text()
}

// newSession returns a session logged in now.
func newSession(h *Harness) store.Session {
	return newSessionOf(h, "user-"+newID(), "client-"+newID())
}

// newSessionOf returns a session of subject under client, logged in now.
func newSessionOf(h *Harness, subject, client string) store.Session {
	now := h.Clock.Now()
	return store.Session{
		ID:           store.NewSessionID(subject, newID()),
		Subject:      subject,
		ClientID:     client,
		Scope:        "read write",
		AuthTime:     now,
		MaxExpiresAt: now.Add(720 * time.Hour),
	}
}

// newToken returns a token issued now that expires after ttl.
func newToken(h *Harness, ttl time.Duration) store.Token {
	now := h.Clock.Now()
	return store.Token{
		ID:              newID(),
		IssuedAt:        now,
		ExpiresAt:       now.Add(ttl),
		AccessID:        newID(),
		AccessIssuedAt:  now,
		AccessExpiresAt: now.Add(15 * time.Minute),
		AccessScope:     "read",
	}
}

// mustCreate creates a family or fails the test.
func mustCreate(tb testing.TB, h *Harness, s store.Session, first store.Token) {
	tb.Helper()
	if err := h.Store.CreateSession(context.Background(), s, first); err != nil {
		tb.Fatalf("CreateSession: %v", err)
	}
}

// mustNewFamily creates a family with a long-lived first token.
func mustNewFamily(tb testing.TB, h *Harness) (store.Session, store.Token) {
	tb.Helper()
	s, first := newSession(h), newToken(h, liveTTL)
	mustCreate(tb, h, s, first)
	return s, first
}

// rotate presents presented for session id at the clock's time.
func rotate(h *Harness, id, presented string, next store.Token, grace time.Duration) (store.RotateResult, error) {
	return h.Store.Rotate(context.Background(), store.RotateRequest{
		SessionID: id,
		Presented: presented,
		Next:      next,
		Now:       h.Clock.Now(),
		Grace:     grace,
	})
}

// mustRotate rotates presented to next and checks the result is a fresh
// rotation of session s.
func mustRotate(tb testing.TB, h *Harness, s store.Session, presented string, next store.Token, grace time.Duration) {
	tb.Helper()
	res, err := rotate(h, s.ID, presented, next, grace)
	if err != nil {
		tb.Fatalf("Rotate: %v", err)
	}
	checkResult(tb, res, s, next, false)
}

// mustRotateChain rotates the family n times from first, one second apart,
// and returns every token, first included.
func mustRotateChain(tb testing.TB, h *Harness, s store.Session, first store.Token, n int, grace time.Duration) []store.Token {
	tb.Helper()
	chain := []store.Token{first}
	for range n {
		h.Clock.Advance(time.Second)
		next := newToken(h, liveTTL)
		mustRotate(tb, h, s, chain[len(chain)-1].ID, next, grace)
		chain = append(chain, next)
	}
	return chain
}

// checkRotateErr checks that a rotation failed with want.
func checkRotateErr(tb testing.TB, res store.RotateResult, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("Rotate error = %v, want %v", err, want)
	}
	if res != (store.RotateResult{}) {
		tb.Errorf("Rotate failed with %v but returned a result: %+v", err, res)
	}
}

// checkResult checks a rotation result field by field.
func checkResult(tb testing.TB, got store.RotateResult, s store.Session, current store.Token, retried bool) {
	tb.Helper()
	if d := sessionDiff(got.Session, s); d != "" {
		tb.Errorf("result Session differs: %s", d)
	}
	if d := tokenDiff(got.Current, current); d != "" {
		tb.Errorf("result Current differs: %s", d)
	}
	if got.Retried != retried {
		tb.Errorf("result Retried = %v, want %v", got.Retried, retried)
	}
}

// tokenDiff describes how got differs from want, or returns "".
func tokenDiff(got, want store.Token) string {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.time("IssuedAt", got.IssuedAt, want.IssuedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.str("AccessID", got.AccessID, want.AccessID)
	d.time("AccessIssuedAt", got.AccessIssuedAt, want.AccessIssuedAt)
	d.time("AccessExpiresAt", got.AccessExpiresAt, want.AccessExpiresAt)
	d.str("AccessScope", got.AccessScope, want.AccessScope)
	d.str("AccessJKT", got.AccessJKT, want.AccessJKT)
	return d.String()
}

// sessionDiff describes how got differs from want, or returns "".
func sessionDiff(got, want store.Session) string {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("Subject", got.Subject, want.Subject)
	d.str("ClientID", got.ClientID, want.ClientID)
	d.str("Scope", got.Scope, want.Scope)
	d.time("AuthTime", got.AuthTime, want.AuthTime)
	d.time("MaxExpiresAt", got.MaxExpiresAt, want.MaxExpiresAt)
	d.str("JKT", got.JKT, want.JKT)
	return d.String()
}

// diff collects field differences; times compare with Equal.
type diff []string

func (d *diff) str(name, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", name, got, want))
	}
}

func (d *diff) time(name string, got, want time.Time) {
	if !got.Equal(want) {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v", name, got, want))
	}
}

func (d diff) String() string {
	s := ""
	for i, x := range d {
		if i > 0 {
			s += "; "
		}
		s += x
	}
	return s
}
