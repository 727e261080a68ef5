package feed_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/feed"
	"github.com/authsvc/authsvc/internal/store"
	"github.com/authsvc/authsvc/internal/store/memory"
)

// countingSource counts the store reads a Feed makes, split into quick reads
// and blocking ones.
type countingSource struct {
	feed.Source
	quick, blocking atomic.Int64
}

func (c *countingSource) Revocations(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error) {
	if wait > 0 {
		c.blocking.Add(1)
	} else {
		c.quick.Add(1)
	}
	return c.Source.Revocations(ctx, cursor, wait)
}

// start runs a Feed on a fresh memory store until the test ends.
func start(t *testing.T) (*feed.Feed, *memory.Store, *countingSource) {
	t.Helper()
	st := memory.New(nil)
	src := &countingSource{Source: st}
	f := feed.New(src, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); f.Close(); <-done })
	return f, st, src
}

func mustAdd(t *testing.T, st store.Store, id string) store.Revocation {
	t.Helper()
	r := store.Revocation{Kind: store.RevokedToken, ID: id, ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.AddRevocation(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// mustCursor returns the cursor of the complete set.
func mustCursor(t *testing.T, f *feed.Feed) string {
	t.Helper()
	p, err := f.Read(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cursor
}

// TestFeed_ThousandWaitersOneReader holds 1,000 waiting reads on one Feed:
// none of them reads the store while it waits, one entry reaches all of
// them, and it reaches them within a second.
func TestFeed_ThousandWaitersOneReader(t *testing.T) {
	f, st, src := start(t)
	cursor := mustCursor(t, f)
	// Let the reader take its first read, so the buffer covers cursor.
	deadline := time.Now().Add(5 * time.Second)
	for src.blocking.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	const n = 1000
	var wg sync.WaitGroup
	var started sync.WaitGroup
	got := make(chan time.Time, n)
	errs := make(chan error, n)
	started.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			p, err := f.Read(context.Background(), cursor, 20*time.Second)
			switch {
			case err != nil:
				errs <- err
			case len(p.Entries) != 1 || p.Entries[0].ID != "x":
				errs <- errUnexpected(p)
			default:
				got <- time.Now()
			}
		}()
	}
	started.Wait()
	time.Sleep(200 * time.Millisecond) // let them all block
	quickBefore := src.quick.Load()
	added := time.Now()
	mustAdd(t, st, "x")
	wg.Wait()
	close(got)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var latest time.Duration
	count := 0
	for at := range got {
		count++
		latest = max(latest, at.Sub(added))
	}
	if count != n {
		t.Fatalf("%d of %d waiters got the entry", count, n)
	}
	t.Logf("%d waiters, latest answer %v after the add; store reads by waiters: %d", n, latest, src.quick.Load()-1)
	if latest > time.Second {
		t.Errorf("the entry reached the last waiter after %v, want within 1s", latest)
	}
	if q := src.quick.Load() - quickBefore; q != 0 {
		t.Errorf("waiters made %d store reads after the add; want 0 (served from the reader's buffer)", q)
	}
}

type unexpected struct{ p store.RevocationPage }

func (u unexpected) Error() string { return "unexpected page" }

func errUnexpected(p store.RevocationPage) error { return unexpected{p} }

func TestFeed_Read(t *testing.T) {
	f, st, _ := start(t)
	c0 := mustCursor(t, f)
	a := mustAdd(t, st, "a")

	t.Run("increment after a cursor", func(t *testing.T) {
		p, err := f.Read(context.Background(), c0, time.Second)
		if err != nil || p.Complete || len(p.Entries) != 1 || p.Entries[0].ID != a.ID {
			t.Fatalf("Read = %+v, %v; want the one entry", p, err)
		}
	})
	t.Run("timeout answers empty at the same cursor", func(t *testing.T) {
		latest, _ := f.Read(context.Background(), c0, time.Second)
		p, err := f.Read(context.Background(), latest.Cursor, 50*time.Millisecond)
		if err != nil || p.Complete || len(p.Entries) != 0 || p.Cursor != latest.Cursor {
			t.Fatalf("Read = %+v, %v; want empty at %s", p, err, latest.Cursor)
		}
	})
	t.Run("malformed cursor", func(t *testing.T) {
		if _, err := f.Read(context.Background(), "bad", 0); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("another epoch gets the complete set", func(t *testing.T) {
		p, err := f.Read(context.Background(), "0.1-0", time.Second)
		if err != nil || !p.Complete || len(p.Entries) != 1 {
			t.Fatalf("Read = %+v, %v; want the complete set", p, err)
		}
	})
}

// TestFeed_CloseAnswersWaiters closes the Feed while reads wait: each is
// answered at once, not when its wait runs out.
func TestFeed_CloseAnswersWaiters(t *testing.T) {
	f, _, _ := start(t)
	cursor := mustCursor(t, f)
	done := make(chan time.Duration, 10)
	for range 10 {
		go func() {
			began := time.Now()
			_, _ = f.Read(context.Background(), cursor, 30*time.Second)
			done <- time.Since(began)
		}()
	}
	time.Sleep(100 * time.Millisecond)
	f.Close()
	timeout := time.After(5 * time.Second)
	for range 10 {
		select {
		case d := <-done:
			if d > 5*time.Second {
				t.Errorf("a waiting read ended after %v", d)
			}
		case <-timeout:
			t.Fatal("a waiting read was not answered after Close")
		}
	}
}
