package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// feed is the revocation feed of a memory Store: a log of entries in the
// order they were added, trimmed to store.FeedRetention, and the set still
// in force. The zero value is ready; the epoch is drawn on first use.
type feed struct {
	mu    sync.Mutex
	epoch string
	last  store.Cursor // the latest entry's position (zero before any)
	floor store.Cursor // a cursor below floor may have lost entries to trimming
	log   []store.Revocation
	set   map[revKey]time.Time // in force until
	wake  chan struct{}        // closed and replaced on every add
}

// revKey names an entry of the complete set.
type revKey struct {
	kind store.RevocationKind
	id   string
}

// init draws the epoch and makes the maps. f.mu must be held.
func (f *feed) init() {
	if f.epoch != "" {
		return
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	f.epoch = hex.EncodeToString(b[:])
	f.last.Epoch, f.floor.Epoch = f.epoch, f.epoch
	f.set = make(map[revKey]time.Time)
	f.wake = make(chan struct{})
}

// AddRevocation records r; see store.RevocationFeed.
func (s *Store) AddRevocation(_ context.Context, r store.Revocation) error {
	if r.Kind != store.RevokedToken && r.Kind != store.RevokedSession {
		return fmt.Errorf("memory: add revocation: unknown kind %d", r.Kind)
	}
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	now := s.now()
	r.ExpiresAt = r.ExpiresAt.Truncate(time.Millisecond)
	if !r.ExpiresAt.After(now) {
		return nil
	}
	// The entry's position, like a Redis stream id: the time in ms, and a
	// sequence number when the time has not moved on.
	next := store.Cursor{Epoch: f.epoch, MS: uint64(max(now.UnixMilli(), 0))}
	if next.Compare(f.last) <= 0 {
		next.MS, next.Seq = f.last.MS, f.last.Seq+1
	}
	// Trim the log to the retention window first; what goes was at most
	// f.last, so a reader at f.last still gets an exact answer.
	minMS := uint64(max(now.Add(-store.FeedRetention).UnixMilli(), 0))
	n := 0
	for n < len(f.log) && mustCursor(f.log[n].Cursor).MS < minMS {
		n++
	}
	if n > 0 {
		gone := mustCursor(f.log[n-1].Cursor)
		if gone.Compare(f.floor) > 0 {
			f.floor = gone
		}
		f.log = append(f.log[:0:0], f.log[n:]...)
	}
	r.Cursor = next.String()
	f.log = append(f.log, r)
	f.last = next
	k := revKey{r.Kind, r.ID}
	if old, ok := f.set[k]; !ok || r.ExpiresAt.After(old) {
		f.set[k] = r.ExpiresAt
	}
	for k, exp := range f.set {
		if !exp.After(now) {
			delete(f.set, k)
		}
	}
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

// Revocations reads the feed; see store.RevocationFeed.
func (s *Store) Revocations(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error) {
	var c store.Cursor
	if cursor != "" {
		var err error
		if c, err = store.ParseCursor(cursor); err != nil {
			return store.RevocationPage{}, fmt.Errorf("memory: read revocations: %w", err)
		}
	}
	var timer <-chan time.Time
	for {
		page, wake := s.readFeed(cursor, c)
		if page.Complete || len(page.Entries) > 0 || wait <= 0 {
			return page, nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
			return page, nil
		case <-ctx.Done():
			return store.RevocationPage{}, fmt.Errorf("memory: read revocations: %w", ctx.Err())
		}
	}
}

// readFeed answers a read at once, and returns the channel closed by the next
// add.
func (s *Store) readFeed(cursor string, c store.Cursor) (store.RevocationPage, <-chan struct{}) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	now := s.now()
	if cursor == "" || c.Epoch != f.epoch || c.Compare(f.floor) < 0 || c.Compare(f.last) > 0 {
		page := store.RevocationPage{Cursor: f.last.String(), Complete: true, Entries: []store.Revocation{}}
		for k, exp := range f.set {
			if exp.After(now) {
				page.Entries = append(page.Entries, store.Revocation{Kind: k.kind, ID: k.id, ExpiresAt: exp})
			}
		}
		return page, f.wake
	}
	page := store.RevocationPage{Cursor: cursor, Entries: []store.Revocation{}}
	for _, r := range f.log {
		if mustCursor(r.Cursor).Compare(c) > 0 && r.ExpiresAt.After(now) {
			page.Entries = append(page.Entries, r)
		}
	}
	if c.Compare(f.last) < 0 {
		page.Cursor = f.last.String()
	}
	return page, f.wake
}

// mustCursor parses a cursor this file wrote.
func mustCursor(s string) store.Cursor {
	c, err := store.ParseCursor(s)
	if err != nil {
		panic("memory: a stored cursor does not parse: " + err.Error())
	}
	return c
}
