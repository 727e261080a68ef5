package redisstore_test

import (
	"context"
	"testing"

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
