package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// ---- revocation feed -------------------------------------------------------

// feedWait is how long the waiting cases let a blocking read wait at most.
const feedWait = 5 * time.Second

// newRevocation returns an entry of kind that stays in force for ttl.
func newRevocation(h *Harness, kind store.RevocationKind, ttl time.Duration) store.Revocation {
	return store.Revocation{Kind: kind, ID: newID(), ExpiresAt: h.Clock.Now().Add(ttl)}
}

// mustAdd adds entries to the feed or fails the test.
func mustAdd(tb testing.TB, h *Harness, entries ...store.Revocation) {
	tb.Helper()
	for _, r := range entries {
		if err := h.Store.AddRevocation(context.Background(), r); err != nil {
			tb.Fatalf("AddRevocation: %v", err)
		}
	}
}

// mustRead reads the feed after cursor without waiting, or fails the test.
func mustRead(tb testing.TB, h *Harness, cursor string) store.RevocationPage {
	tb.Helper()
	page, err := h.Store.Revocations(context.Background(), cursor, 0)
	if err != nil {
		tb.Fatalf("Revocations(%q): %v", cursor, err)
	}
	if page.Cursor == "" {
		tb.Fatalf("Revocations(%q) returned no cursor", cursor)
	}
	if _, err := store.ParseCursor(page.Cursor); err != nil {
		tb.Fatalf("Revocations(%q) returned cursor %q that does not parse: %v", cursor, page.Cursor, err)
	}
	return page
}

// entryKey names an entry without its cursor, with its exp in ms.
func entryKey(r store.Revocation) string {
	return fmt.Sprintf("%d:%s:%d", r.Kind, r.ID, r.ExpiresAt.UnixMilli())
}

// checkEntries checks that got holds exactly want (kind, id, exp), in order
// when ordered is true, and that every entry's cursor parses when withCursor.
func checkEntries(tb testing.TB, got []store.Revocation, want []store.Revocation, ordered bool) {
	tb.Helper()
	g := make([]string, len(got))
	for i, r := range got {
		g[i] = entryKey(r)
	}
	w := make([]string, len(want))
	for i, r := range want {
		w[i] = entryKey(r)
	}
	if !ordered {
		slices.Sort(g)
		slices.Sort(w)
	}
	if !slices.Equal(g, w) {
		tb.Errorf("entries = %v, want %v", g, w)
	}
}

// ownEntries keeps the entries whose id is one of ids: the complete set of a
// shared store may hold other cases' entries.
func ownEntries(entries []store.Revocation, ids ...string) []store.Revocation {
	var out []store.Revocation
	for _, r := range entries {
		if slices.Contains(ids, r.ID) {
			out = append(out, r)
		}
	}
	return out
}

func testFeedCompleteSet(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	tok := newRevocation(h, store.RevokedToken, liveTTL)
	sess := newRevocation(h, store.RevokedSession, liveTTL)
	expired := newRevocation(h, store.RevokedToken, -time.Second)
	mustAdd(t, h, tok, sess, expired)
	// The same session again with a later exp keeps the later one.
	later := sess
	later.ExpiresAt = sess.ExpiresAt.Add(time.Minute)
	mustAdd(t, h, later, sess)

	page := mustRead(t, h, "")
	if !page.Complete {
		t.Errorf("complete set: Complete = false")
	}
	checkEntries(t, ownEntries(page.Entries, tok.ID, sess.ID, expired.ID), []store.Revocation{tok, later}, false)
	for _, r := range page.Entries {
		if !r.ExpiresAt.After(h.Clock.Now()) {
			t.Errorf("complete set holds an expired entry: %+v", r)
		}
	}
}

func testFeedIncrements(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	start := mustRead(t, h, "")

	a := newRevocation(h, store.RevokedToken, liveTTL)
	mustAdd(t, h, a)
	p1 := mustRead(t, h, start.Cursor)
	if p1.Complete {
		t.Fatalf("read after a fresh cursor: Complete = true, want the increment")
	}
	checkEntries(t, p1.Entries, []store.Revocation{a}, true)
	if p1.Cursor == start.Cursor {
		t.Errorf("cursor did not move past the new entry")
	}
	if len(p1.Entries) == 1 && p1.Entries[0].Cursor != p1.Cursor {
		t.Errorf("entry cursor = %q, want the page cursor %q", p1.Entries[0].Cursor, p1.Cursor)
	}

	// Nothing new: an empty page with the same cursor.
	p2 := mustRead(t, h, p1.Cursor)
	if p2.Complete || len(p2.Entries) != 0 || p2.Cursor != p1.Cursor {
		t.Errorf("read at the latest cursor = %+v, want an empty increment at %q", p2, p1.Cursor)
	}

	b := newRevocation(h, store.RevokedSession, liveTTL)
	c := newRevocation(h, store.RevokedToken, liveTTL)
	mustAdd(t, h, b, c)
	p3 := mustRead(t, h, p1.Cursor)
	if p3.Complete {
		t.Fatalf("second increment: Complete = true")
	}
	checkEntries(t, p3.Entries, []store.Revocation{b, c}, true)

	// The first cursor still reads all three, in order.
	p4 := mustRead(t, h, start.Cursor)
	checkEntries(t, p4.Entries, []store.Revocation{a, b, c}, true)
	if p4.Cursor != p3.Cursor {
		t.Errorf("cursor after all three = %q, want %q", p4.Cursor, p3.Cursor)
	}
}

func testFeedEntryExpires(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	start := mustRead(t, h, "")
	short := newRevocation(h, store.RevokedToken, shortTTL)
	long := newRevocation(h, store.RevokedSession, liveTTL)
	mustAdd(t, h, short, long)
	h.waitUntil(short.ExpiresAt)

	page := mustRead(t, h, "")
	checkEntries(t, ownEntries(page.Entries, short.ID, long.ID), []store.Revocation{long}, false)
	inc := mustRead(t, h, start.Cursor)
	checkEntries(t, inc.Entries, []store.Revocation{long}, true)
}

func testFeedMalformedCursor(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	valid := mustRead(t, h, "").Cursor
	epoch, _, _ := strings.Cut(valid, ".")
	for _, bad := range []string{
		"x", ".", "abc", epoch, epoch + ".", epoch + ".1", epoch + ".1-", epoch + ".-1", epoch + ".01-0",
		epoch + ".1-0-0", epoch + ".1--1", epoch + ".99999999999999999999999-0", "XYZ.1-0", "ab cd.1-0",
		strings.Repeat("a", 33) + ".1-0", epoch + ".1-0\x00",
	} {
		_, err := h.Store.Revocations(context.Background(), bad, 0)
		if !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("Revocations(%q) error = %v, want ErrInvalidCursor", bad, err)
		}
	}
}

func testFeedForeignCursorGivesCompleteSet(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	r := newRevocation(h, store.RevokedToken, liveTTL)
	mustAdd(t, h, r)
	latest := mustRead(t, h, "")
	cur, _ := store.ParseCursor(latest.Cursor)
	otherEpoch := "0"
	if cur.Epoch == otherEpoch {
		otherEpoch = "1"
	}
	for name, c := range map[string]store.Cursor{
		"another epoch":        {Epoch: otherEpoch, MS: cur.MS, Seq: cur.Seq},
		"ahead of the feed":    {Epoch: cur.Epoch, MS: cur.MS + 1000, Seq: 0},
		"ahead by one in a ms": {Epoch: cur.Epoch, MS: cur.MS, Seq: cur.Seq + 1},
	} {
		page := mustRead(t, h, c.String())
		if !page.Complete {
			t.Errorf("%s: Complete = false, want the complete set", name)
		}
		checkEntries(t, ownEntries(page.Entries, r.ID), []store.Revocation{r}, false)
	}
}

func testFeedTrimmedCursorGivesCompleteSet(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	if h.RealTTL {
		t.Skip("the log is trimmed by the store's own clock; the Redis store's TestFeedTrim covers it")
	}
	old := mustRead(t, h, "")
	a := newRevocation(h, store.RevokedToken, 2*store.FeedRetention)
	mustAdd(t, h, a)
	h.Clock.Advance(store.FeedRetention + time.Minute)
	// A reader that saw a is still exact: trimming dropped only what it
	// had seen.
	seen := mustRead(t, h, old.Cursor)
	b := newRevocation(h, store.RevokedSession, liveTTL)
	mustAdd(t, h, b)
	if p := mustRead(t, h, seen.Cursor); p.Complete {
		t.Errorf("a reader up to date before the trim got the complete set")
	} else {
		checkEntries(t, p.Entries, []store.Revocation{b}, true)
	}
	// A reader from before a was trimmed away cannot be answered exactly.
	p := mustRead(t, h, old.Cursor)
	if !p.Complete {
		t.Fatalf("a cursor older than the retention got an increment: %+v", p)
	}
	checkEntries(t, ownEntries(p.Entries, a.ID, b.ID), []store.Revocation{a, b}, false)
}

func testFeedWaitWakesOnAdd(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	start := mustRead(t, h, "")
	type result struct {
		page store.RevocationPage
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, err := h.Store.Revocations(context.Background(), start.Cursor, feedWait)
		done <- result{p, err}
	}()
	// Let the reader block first when it can; the answer must be the same
	// either way.
	time.Sleep(50 * time.Millisecond)
	r := newRevocation(h, store.RevokedToken, liveTTL)
	mustAdd(t, h, r)
	res := <-done
	if res.err != nil {
		t.Fatalf("waiting Revocations: %v", res.err)
	}
	if res.page.Complete {
		t.Fatalf("waiting read returned the complete set")
	}
	checkEntries(t, res.page.Entries, []store.Revocation{r}, true)

	// With nothing new the wait runs out and the cursor stays.
	p, err := h.Store.Revocations(context.Background(), res.page.Cursor, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("Revocations after the wait: %v", err)
	}
	if p.Complete || len(p.Entries) != 0 || p.Cursor != res.page.Cursor {
		t.Errorf("read that timed out = %+v, want an empty increment at %q", p, res.page.Cursor)
	}

	// The context's deadline ends the wait with an error.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := h.Store.Revocations(ctx, res.page.Cursor, feedWait); err == nil {
		t.Errorf("Revocations past its context's deadline returned no error")
	}
}

func testFeedUnknownKindRefused(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	r := newRevocation(h, 0, liveTTL)
	if err := h.Store.AddRevocation(context.Background(), r); err == nil {
		t.Errorf("AddRevocation of kind 0 succeeded")
	}
}
