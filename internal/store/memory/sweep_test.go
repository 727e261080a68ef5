package memory

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/storetest"
)

// TestSweep_KeepsMemoryBounded checks that records nobody touches again are
// still dropped once they expire, by the sweep that writes trigger.
func TestSweep_KeepsMemoryBounded(t *testing.T) {
	tests := []struct {
		name  string
		write func(s *Store, i int, now time.Time)
	}{
		{name: "families", write: func(s *Store, i int, now time.Time) {
			tok := store.Token{ID: "t" + strconv.Itoa(i), ExpiresAt: now.Add(time.Minute)}
			_ = s.CreateSession(context.Background(), store.Session{ID: strconv.Itoa(i)}, tok)
		}},
		{name: "denylist", write: func(s *Store, i int, now time.Time) {
			_ = s.DenyAccessToken(context.Background(), strconv.Itoa(i), now.Add(time.Minute))
		}},
		{name: "failures", write: func(s *Store, i int, _ time.Time) {
			_, _ = s.AddFailure(context.Background(), store.FailureKey{Address: strconv.Itoa(i), Name: "n"}, time.Minute, 100)
		}},
	}
	const rounds, perRound = 20, 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			s := New(clock.Now)
			for r := range rounds {
				for i := range perRound {
					tt.write(s, r*perRound+i, clock.Now())
				}
				// Everything written so far expires.
				clock.Advance(2 * time.Minute)
			}
			// Live records are at most one round; the sweep lets dead ones
			// reach about as many again, never all rounds' worth.
			if got, limit := s.size(), 3*perRound; got > limit {
				t.Fatalf("%d records held after %d rounds of %d, want at most %d", got, rounds, perRound, limit)
			}
		})
	}
}

// TestIndex_DailyLoginForAYearStaysSmall logs one subject in every day for
// a year, never logging out, with week-long sessions: the store holds the
// live week of sessions and one index entry, not a year of them.
func TestIndex_DailyLoginForAYearStaysSmall(t *testing.T) {
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(clock.Now)
	ctx := context.Background()
	for day := range 365 {
		now := clock.Now()
		sess := store.Session{ID: store.NewSessionID("alice", strconv.Itoa(day)), Subject: "alice", AuthTime: now, MaxExpiresAt: now.Add(30 * 24 * time.Hour)}
		if err := s.CreateSession(ctx, sess, store.Token{ID: "t" + strconv.Itoa(day), ExpiresAt: now.Add(7 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	listed, err := s.Sessions(ctx, "alice", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 6 {
		t.Errorf("listed %d sessions, want the 6 of the last week still live", len(listed))
	}
	s.mu.Lock()
	indexed := len(s.bySubject["alice"])
	s.mu.Unlock()
	if indexed > 7 {
		t.Errorf("the index holds %d entries after a year of daily logins, want at most a week's", indexed)
	}
	if n := s.size(); n > 2*7+1 {
		t.Errorf("the store holds %d records, want at most about a week's", n)
	}
}
