package memory_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
)

// benchToken returns a refresh token issued at now, as the auth service
// stores one.
func benchToken(now time.Time) store.Token {
	return store.Token{
		ID: rand.Text(), IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		AccessID: rand.Text(), AccessIssuedAt: now, AccessExpiresAt: now.Add(15 * time.Minute),
		AccessScope: "read write",
	}
}

// benchRotations rotates one family of s in a loop, b.N times in all
// across calls.
func benchRotations(b *testing.B, s *memory.Store, now time.Time, loop func() bool) {
	ctx := context.Background()
	sess := store.Session{ID: rand.Text(), Subject: "alice", Scope: "read write", AuthTime: now, MaxExpiresAt: now.Add(720 * time.Hour)}
	current := benchToken(now)
	if err := s.CreateSession(ctx, sess, current); err != nil {
		b.Fatalf("CreateSession: %v", err)
	}
	for loop() {
		next := benchToken(now)
		if _, err := s.Rotate(ctx, store.RotateRequest{SessionID: sess.ID, Presented: current.ID, Next: next, Now: now}); err != nil {
			b.Fatalf("Rotate: %v", err)
		}
		current = next
	}
}

// BenchmarkRotate is one refresh rotation on the memory store, from one
// goroutine (the ids the loop makes for the next token are included).
func BenchmarkRotate(b *testing.B) {
	now := time.Now()
	s := memory.New(func() time.Time { return now })
	b.ReportAllocs()
	benchRotations(b, s, now, b.Loop)
}

// BenchmarkRotateParallel rotates one family per goroutine, all on one
// store: the cost of its single mutex under contention.
func BenchmarkRotateParallel(b *testing.B) {
	now := time.Now()
	s := memory.New(func() time.Time { return now })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) { benchRotations(b, s, now, pb.Next) })
}
