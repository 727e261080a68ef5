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
