package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// ---- the per-subject index -------------------------------------------------

// indexSessions is how many sessions the index cases give one subject.
const indexSessions = 6

// mustSubjectSessions creates n sessions of subject, one second apart, over
// three clients (and one bound to none), and returns them oldest first with
// their first tokens.
func mustSubjectSessions(tb testing.TB, h *Harness, subject string, n int) ([]store.Session, []store.Token) {
	tb.Helper()
	clients := []string{"web", "mobile", "cli", ""}
	var (
		sessions []store.Session
		tokens   []store.Token
	)
	for i := range n {
		h.Clock.Advance(time.Second)
		s, first := newSessionOf(h, subject, clients[i%len(clients)]), newToken(h, liveTTL)
		mustCreate(tb, h, s, first)
		sessions = append(sessions, s)
		tokens = append(tokens, first)
	}
	return sessions, tokens
}

// mustList lists subject's sessions or fails the test.
func mustList(tb testing.TB, h *Harness, subject string) []store.SessionInfo {
	tb.Helper()
	got, err := h.Store.Sessions(context.Background(), subject, h.Clock.Now())
	if err != nil {
		tb.Fatalf("Sessions: %v", err)
	}
	if got == nil {
		tb.Errorf("Sessions returned nil, want a non-nil (possibly empty) list")
	}
	return got
}

// ids returns the ids of sessions.
func ids(sessions []store.SessionInfo) []string {
	var out []string
	for _, s := range sessions {
		out = append(out, s.ID)
	}
	return out
}

// sameIDs reports whether a and b hold the same ids, in any order.
func sameIDs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func testIndexList(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	subject := "alice-" + newID()
	sessions, tokens := mustSubjectSessions(t, h, subject, indexSessions)
	// Neighbours: another subject, and one whose name extends this one.
	mustSubjectSessions(t, h, "bob-"+newID(), 2)
	mustSubjectSessions(t, h, subject+"x", 1)

	// One session rotates: the list shows its new token and when.
	h.Clock.Advance(time.Second)
	next := newToken(h, liveTTL)
	mustRotate(t, h, sessions[2], tokens[2].ID, next, 0)
	rotatedAt := h.Clock.Now()
	tokens[2] = next

	got := mustList(t, h, subject)
	if len(got) != indexSessions {
		t.Fatalf("Sessions listed %d sessions, want %d: %v", len(got), indexSessions, ids(got))
	}
	for i, si := range got {
		if d := sessionDiff(si.Session, sessions[i]); d != "" {
			t.Errorf("session %d (oldest login first) differs: %s", i, d)
		}
		if d := tokenDiff(si.Current, tokens[i]); d != "" {
			t.Errorf("session %d current token differs: %s", i, d)
		}
		want := time.Time{}
		if i == 2 {
			want = rotatedAt
		}
		if !si.RefreshedAt.Equal(want) {
			t.Errorf("session %d RefreshedAt = %v, want %v", i, si.RefreshedAt, want)
		}
	}
	if got := mustList(t, h, "nobody-"+newID()); len(got) != 0 {
		t.Errorf("a subject without sessions lists %v, want none", ids(got))
	}
}

func testIndexEndOne(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	subject := "alice-" + newID()
	sessions, tokens := mustSubjectSessions(t, h, subject, 3)
	ctx := context.Background()

	got, err := h.Store.EndSession(ctx, sessions[1].ID, h.Clock.Now())
	if err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	if d := sessionDiff(got, sessions[1]); d != "" {
		t.Errorf("EndSession returned a different session: %s", d)
	}
	checkSessionGone(t, h, sessions[1].ID)
	if listed := ids(mustList(t, h, subject)); !slices.Equal(listed, []string{sessions[0].ID, sessions[2].ID}) {
		t.Errorf("after ending one, Sessions lists %v, want the other two", listed)
	}
	checkSession(t, h, sessions[0], tokens[0])

	if _, err := h.Store.EndSession(ctx, sessions[1].ID, h.Clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ending it again: error = %v, want ErrNotFound", err)
	}
	if _, err := h.Store.EndSession(ctx, store.NewSessionID(subject, newID()), h.Clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ending an unknown session: error = %v, want ErrNotFound", err)
	}
}

func testIndexEndAll(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	subject := "alice-" + newID()
	sessions, _ := mustSubjectSessions(t, h, subject, indexSessions)
	bob := "bob-" + newID()
	bobs, bobTokens := mustSubjectSessions(t, h, bob, 2)
	ctx := context.Background()

	ended, err := h.Store.EndSessions(ctx, subject, h.Clock.Now())
	if err != nil {
		t.Fatalf("EndSessions: %v", err)
	}
	var want []string
	for _, s := range sessions {
		want = append(want, s.ID)
		checkSessionGone(t, h, s.ID)
	}
	if !sameIDs(ended, want) {
		t.Errorf("EndSessions ended %v, want %v", ended, want)
	}
	if listed := mustList(t, h, subject); len(listed) != 0 {
		t.Errorf("after EndSessions, Sessions lists %v", ids(listed))
	}
	for i, s := range bobs {
		checkSession(t, h, s, bobTokens[i])
	}
	if again, err := h.Store.EndSessions(ctx, subject, h.Clock.Now()); err != nil || len(again) != 0 {
		t.Errorf("EndSessions again = %v, %v; want nothing ended", again, err)
	}
	// A login afterwards is unaffected and listed.
	later, _ := mustSubjectSessions(t, h, subject, 1)
	if listed := ids(mustList(t, h, subject)); !slices.Equal(listed, []string{later[0].ID}) {
		t.Errorf("a login after EndSessions: Sessions lists %v, want %v", listed, later[0].ID)
	}
}

func testIndexExpiry(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	subject := "alice-" + newID()
	var short []store.Token
	for range 3 {
		s, first := newSessionOf(h, subject, "web"), newToken(h, shortTTL)
		mustCreate(t, h, s, first)
		short = append(short, first)
	}
	if got := mustList(t, h, subject); len(got) != 3 {
		t.Fatalf("Sessions lists %d, want 3 before expiry", len(got))
	}
	h.waitUntil(short[0].ExpiresAt)
	if got := mustList(t, h, subject); len(got) != 0 {
		t.Errorf("after expiry, Sessions lists %v, want none", ids(got))
	}
	if ended, err := h.Store.EndSessions(context.Background(), subject, h.Clock.Now()); err != nil || len(ended) != 0 {
		t.Errorf("after expiry, EndSessions = %v, %v; want nothing to end", ended, err)
	}
	// A login after the others expired is the only one listed.
	s, first := newSessionOf(h, subject, "web"), newToken(h, liveTTL)
	mustCreate(t, h, s, first)
	if got := ids(mustList(t, h, subject)); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("Sessions lists %v, want only the new %s", got, s.ID)
	}
}

func testIndexCapped(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name      string
		existing  int
		limit     int
		wantEnded int // the oldest this many end
	}{
		{name: "under the limit", existing: 1, limit: 3, wantEnded: 0},
		{name: "at the limit ends the oldest", existing: 3, limit: 3, wantEnded: 1},
		{name: "above the limit (lowered) ends the oldest surplus", existing: 4, limit: 2, wantEnded: 3},
		{name: "no limit", existing: 4, limit: 0, wantEnded: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			subject := "alice-" + newID()
			old, _ := mustSubjectSessions(t, h, subject, tt.existing)
			other, otherFirst := mustNewFamily(t, h)
			h.Clock.Advance(time.Second)
			s, first := newSessionOf(h, subject, "web"), newToken(h, liveTTL)
			ended, err := h.Store.CreateSessionCapped(context.Background(), s, first, tt.limit, h.Clock.Now())
			if err != nil {
				t.Fatalf("CreateSessionCapped: %v", err)
			}
			var want []string
			for _, o := range old[:tt.wantEnded] {
				want = append(want, o.ID)
				checkSessionGone(t, h, o.ID)
			}
			if !sameIDs(ended, want) {
				t.Errorf("ended %v, want the oldest %v", ended, want)
			}
			listed := ids(mustList(t, h, subject))
			wantListed := []string{}
			for _, o := range old[tt.wantEnded:] {
				wantListed = append(wantListed, o.ID)
			}
			wantListed = append(wantListed, s.ID)
			if !slices.Equal(listed, wantListed) {
				t.Errorf("Sessions lists %v, want %v", listed, wantListed)
			}
			checkSession(t, h, s, first)
			checkSession(t, h, other, otherFirst)
		})
	}
}

func testLogoutAll(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		// present returns the token to present of a family rotated once
		// (first → second) and the grace to present it with.
		present func(first, second store.Token) (string, time.Duration)
		wantErr error
	}{
		{name: "current token", present: func(_, second store.Token) (string, time.Duration) { return second.ID, 0 }},
		{name: "previous token inside grace", present: func(first, _ store.Token) (string, time.Duration) { return first.ID, grace }},
		{name: "previous token without grace is a reuse", present: func(first, _ store.Token) (string, time.Duration) { return first.ID, 0 }, wantErr: store.ErrReused},
		{name: "unknown token of the family is a reuse", present: func(_, _ store.Token) (string, time.Duration) { return newID(), grace }, wantErr: store.ErrReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			subject := "alice-" + newID()
			sessions, tokens := mustSubjectSessions(t, h, subject, 4)
			h.Clock.Advance(time.Second)
			second := newToken(h, liveTTL)
			mustRotate(t, h, sessions[0], tokens[0].ID, second, grace)
			other, otherFirst := mustNewFamily(t, h)

			presented, g := tt.present(tokens[0], second)
			sub, ended, err := h.Store.LogoutAll(context.Background(), store.LogoutAllRequest{
				SessionID: sessions[0].ID, Presented: presented, Now: h.Clock.Now(), Grace: g,
			})
			checkSession(t, h, other, otherFirst)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("LogoutAll error = %v, want %v", err, tt.wantErr)
				}
				// Only the presented family ends on a reuse.
				checkSessionGone(t, h, sessions[0].ID)
				for i := 1; i < len(sessions); i++ {
					checkSession(t, h, sessions[i], tokens[i])
				}
				return
			}
			if err != nil {
				t.Fatalf("LogoutAll: %v", err)
			}
			if sub != subject {
				t.Errorf("LogoutAll subject = %q, want %q", sub, subject)
			}
			var want []string
			for _, s := range sessions {
				want = append(want, s.ID)
				checkSessionGone(t, h, s.ID)
			}
			if !sameIDs(ended, want) {
				t.Errorf("LogoutAll ended %v, want %v", ended, want)
			}
		})
	}
	t.Run("unknown session", func(t *testing.T) {
		h := newHarness(t)
		_, _, err := h.Store.LogoutAll(context.Background(), store.LogoutAllRequest{
			SessionID: store.NewSessionID("alice", newID()), Presented: newID(), Now: h.Clock.Now(),
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LogoutAll error = %v, want ErrNotFound", err)
		}
	})
}

// testLoginsRaceLogoutAll races logins of one subject against EndSessions
// and LogoutAll: every login either was ended by one of them (it came
// first) or is live and listed afterwards (it came after). None survives a
// logout-all it lost, and none is lost without being reported ended.
func testLoginsRaceLogoutAll(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	subject := "alice-" + newID()
	anchors, anchorTokens := mustSubjectSessions(t, h, subject, 1)
	ctx := context.Background()

	var (
		mu      sync.Mutex
		created []string
		ended   = map[string]int{}
		wg      sync.WaitGroup
		errs    = make(chan error, racers*2)
		start   = make(chan struct{})
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, first := newSessionOf(h, subject, fmt.Sprintf("client-%d", i%3)), newToken(h, liveTTL)
			if err := h.Store.CreateSession(ctx, s, first); err != nil {
				errs <- fmt.Errorf("CreateSession: %w", err)
				return
			}
			mu.Lock()
			created = append(created, s.ID)
			mu.Unlock()
		}()
		if i%10 == 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var (
					got []string
					err error
				)
				if i == 0 {
					_, got, err = h.Store.LogoutAll(ctx, store.LogoutAllRequest{
						SessionID: anchors[0].ID, Presented: anchorTokens[0].ID, Now: h.Clock.Now(),
					})
					if errors.Is(err, store.ErrNotFound) {
						err = nil // an EndSessions ended its session first
					}
				} else {
					got, err = h.Store.EndSessions(ctx, subject, h.Clock.Now())
				}
				if err != nil {
					errs <- fmt.Errorf("ending all: %w", err)
					return
				}
				mu.Lock()
				for _, id := range got {
					ended[id]++
				}
				mu.Unlock()
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if ended[anchors[0].ID] != 1 {
		t.Errorf("the session that existed before the race was ended %d times, want once", ended[anchors[0].ID])
	}
	listed := ids(mustList(t, h, subject))
	var survivors []string
	for _, id := range created {
		switch n := ended[id]; {
		case n > 1:
			t.Errorf("session %s reported ended %d times", id, n)
		case n == 1:
			checkSessionGone(t, h, id)
		default:
			survivors = append(survivors, id)
			if _, _, err := h.Store.Session(ctx, id); err != nil {
				t.Errorf("session %s was not ended but is gone: %v", id, err)
			}
		}
	}
	if !sameIDs(listed, survivors) {
		t.Errorf("listed %v, want exactly the %d sessions not ended %v", listed, len(survivors), survivors)
	}
	if len(ended) > len(created)+1 {
		t.Errorf("%d sessions reported ended, but only %d existed", len(ended), len(created)+1)
	}
}
