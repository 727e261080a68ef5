package redisstore

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
)

// TestFeedTrim lets more than the retention pass (shortened to 100 ms): the log is
// trimmed, a reader that had seen the trimmed entries still gets exact
// increments, and an older reader gets the complete set. The log never holds
// more than the retention window.
func TestFeedTrim(t *testing.T) {
	srv := redistest.Start(t)
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opt)
	now := time.Now()
	s := New(client, "authsvc-test:trim:")
	s.now = func() time.Time { return now }
	s.retention = 100 * time.Millisecond
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	read := func(cursor string) store.RevocationPage {
		t.Helper()
		p, err := s.Revocations(ctx, cursor, 0)
		if err != nil {
			t.Fatalf("Revocations: %v", err)
		}
		return p
	}
	add := func(id string, ttl time.Duration) {
		t.Helper()
		if err := s.AddRevocation(ctx, store.Revocation{Kind: store.RevokedToken, ID: id, ExpiresAt: now.Add(ttl)}); err != nil {
			t.Fatalf("AddRevocation: %v", err)
		}
	}

	old := read("")
	add("a", time.Hour)
	seen := read(old.Cursor)
	if seen.Complete || len(seen.Entries) != 1 {
		t.Fatalf("read before the trim = %+v, want the one entry", seen)
	}
	// Redis numbers and trims the log by its own clock.
	time.Sleep(200 * time.Millisecond)
	add("b", time.Hour)
	if n := client.XLen(ctx, s.revKeys()[0]).Val(); n != 1 {
		t.Errorf("log holds %d entries after the trim, want 1", n)
	}
	if p := read(seen.Cursor); p.Complete || len(p.Entries) != 1 || p.Entries[0].ID != "b" {
		t.Errorf("reader up to date before the trim got %+v, want the increment [b]", p)
	}
	p := read(old.Cursor)
	if !p.Complete || len(p.Entries) != 2 {
		t.Errorf("reader older than the trim got %+v, want the complete set of 2", p)
	}
	for _, k := range s.revKeys() {
		if ttl := client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no expiry (PTTL %v)", k, ttl)
		}
	}
}
