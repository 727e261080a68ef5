package redisstore_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
)

// BenchmarkRotateParallel rotates one family per goroutine through one
// client: how many rotations per second one process gets out of the pool
// and the Lua script, where BenchmarkRotate shows one round trip. It runs
// 16 goroutines per CPU, about the load benchmark's 32 clients on 2 cores.
func BenchmarkRotateParallel(b *testing.B) {
	srv := redistest.Start(b)
	s := mustStore(b, srv, newPrefix())
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		sess, current := mustFamily(b, s)
		now := current.IssuedAt
		for pb.Next() {
			next := nextToken(now)
			if _, err := s.Rotate(ctx, store.RotateRequest{SessionID: sess.ID, Presented: current.ID, Next: next, Now: now}); err != nil {
				b.Errorf("Rotate: %v", err)
				return
			}
			current = next
		}
	})
}

// subjectSessions is the number of sessions one subject holds in the index
// benchmarks: far more than any real user, to show the cost per session.
const subjectSessions = 1000

// mustSubjectWith1000 gives one fresh subject subjectSessions live sessions
// over ten clients, and returns the subject.
func mustSubjectWith1000(b *testing.B, s store.Store) string {
	b.Helper()
	subject := "bench-" + rand.Text()
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for i := range subjectSessions {
		sess := store.Session{
			ID: store.NewSessionID(subject, rand.Text()), Subject: subject, ClientID: "client-" + strconv.Itoa(i%10),
			Scope: "read write", AuthTime: now.Add(time.Duration(i) * time.Millisecond), MaxExpiresAt: now.Add(720 * time.Hour),
		}
		if err := s.CreateSession(ctx, sess, nextToken(now)); err != nil {
			b.Fatalf("CreateSession: %v", err)
		}
	}
	return subject
}

// BenchmarkSessions_List1000 lists a subject with 1,000 live sessions (the
// admin API's GET /admin/subjects/{sub}/sessions): one script over the
// subject's index and its families, on a single node.
func BenchmarkSessions_List1000(b *testing.B) {
	srv := redistest.Start(b)
	s := mustStore(b, srv, newPrefix())
	subject := mustSubjectWith1000(b, s)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		list, err := s.Sessions(ctx, subject, time.Now())
		if err != nil || len(list) != subjectSessions {
			b.Fatalf("Sessions: %d sessions, %v", len(list), err)
		}
	}
}

// BenchmarkSessions_EndAll1000 ends every session of a subject with 1,000
// live sessions (POST /logout-all, DELETE /admin/subjects/{sub}/sessions):
// one script; the sessions are made again, off the clock, before each run.
func BenchmarkSessions_EndAll1000(b *testing.B) {
	srv := redistest.Start(b)
	s := mustStore(b, srv, newPrefix())
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		subject := mustSubjectWith1000(b, s)
		b.StartTimer()
		ended, err := s.EndSessions(ctx, subject, time.Now())
		if err != nil || len(ended) != subjectSessions {
			b.Fatalf("EndSessions: %d ended, %v", len(ended), err)
		}
	}
}
