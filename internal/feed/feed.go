// Package feed serves reads of the revocation feed to many waiting requests
// with one reader per process.
//
// A Feed runs one goroutine (Run) that follows the store's feed with a
// blocking read, so it learns of a new entry the moment any replica adds it,
// and keeps the entries it saw in a bounded buffer. A request that asks to
// wait for news (Read with wait > 0) is answered from the buffer and waits on
// it: it holds no store connection, so a thousand long-polling resource
// servers cost the store one connection, not a thousand. When the reader sees
// an entry it wakes every waiting request at once. Only a cursor the buffer
// does not cover (before the reader's start, or of another epoch of the feed)
// costs a quick store read.
package feed

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// Durations of the reader.
const (
	// readBlock is how long one blocking read of the store waits; the reader
	// loops, so this only bounds how late it notices Close.
	readBlock = 2 * time.Second
	// minBackoff and maxBackoff bound the pause after a failed read.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
	// maxBuffered is the most entries the buffer keeps; a waiting request
	// whose cursor is older than the buffer reads the store instead.
	maxBuffered = 10000
)

// Source is the store's side of the feed.
type Source interface {
	Revocations(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error)
}

// Feed fans the store's revocation feed out to waiting requests. Create it
// with New, start Run in a goroutine, and Close it on shutdown. Its methods
// are safe for concurrent use.
type Feed struct {
	src Source
	log *slog.Logger
	now func() time.Time

	mu sync.Mutex
	// from is the position after which buf holds every entry the store
	// had (zero Epoch: the reader has not read yet).
	from store.Cursor
	// last is the newest position the reader has seen.
	last store.Cursor
	buf  []store.Revocation
	// wake is closed and replaced whenever the buffer changes or the
	// Feed closes.
	wake   chan struct{}
	closed bool
}

// New returns a Feed on src. log receives read failures (nil discards them);
// now is the clock that judges expiry (nil means time.Now).
func New(src Source, log *slog.Logger, now func() time.Time) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Feed{src: src, log: log, now: now, wake: make(chan struct{})}
}

// Run is the Feed's one reader: it follows the store until ctx is done or
// the Feed is closed. A failed read is logged and retried with backoff;
// waiting requests are answered from the store meanwhile when they time out.
func (f *Feed) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		f.mu.Lock()
		ch := f.wake
		for !f.closed {
			f.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-ch:
			}
			f.mu.Lock()
			ch = f.wake
		}
		f.mu.Unlock()
		cancel()
	}()
	backoff := minBackoff
	cursor := ""
	failing := false
	for ctx.Err() == nil {
		rctx, rcancel := context.WithTimeout(ctx, readBlock+5*time.Second)
		wait := readBlock
		if cursor == "" {
			wait = 0
		}
		page, err := f.src.Revocations(rctx, cursor, wait)
		rcancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				f.log.Warn("revocation feed: read failed; retrying", "error", err.Error())
				failing = true
			}
			if errors.Is(err, store.ErrInvalidCursor) {
				cursor = ""
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		if failing {
			f.log.Info("revocation feed: reading again")
			failing = false
		}
		backoff = minBackoff
		cursor = page.Cursor
		f.apply(page)
	}
}

// apply takes one page of the reader into the buffer and wakes the waiting
// requests when something changed.
func (f *Feed) apply(page store.RevocationPage) {
	c, err := store.ParseCursor(page.Cursor)
	if err != nil {
		return // the store wrote it; cannot happen
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case page.Complete || c.Epoch != f.from.Epoch:
		// A fresh start: the buffer covers what comes after c.
		f.from, f.last, f.buf = c, c, nil
	case c.Compare(f.last) > 0:
		f.last = c
		f.buf = append(f.buf, page.Entries...)
		if n := len(f.buf) - maxBuffered; n > 0 {
			if p, err := store.ParseCursor(f.buf[n-1].Cursor); err == nil {
				f.from = p
			}
			f.buf = append(f.buf[:0:0], f.buf[n:]...)
		}
	default:
		return
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

// Read answers a read of the feed. Without a cursor it returns the complete
// set from the store. With one it answers from the reader's buffer when that
// covers the cursor (no store round trip), and otherwise reads the store. When
// there is nothing new and wait is positive, it waits, without a store
// connection, until the reader sees an entry after the cursor, wait passes,
// ctx is done, or the Feed closes, and then answers with what is known (an
// empty page at the same cursor when nothing came).
func (f *Feed) Read(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error) {
	if cursor == "" {
		return f.src.Revocations(ctx, "", 0)
	}
	at, err := store.ParseCursor(cursor)
	if err != nil {
		return store.RevocationPage{}, err
	}
	var timer <-chan time.Time
	askStore := true
	for {
		f.mu.Lock()
		entries, covered := f.after(at)
		ch, closed := f.wake, f.closed
		f.mu.Unlock()
		switch {
		case covered && len(entries) > 0:
			return store.RevocationPage{Cursor: entries[len(entries)-1].Cursor, Entries: f.live(entries)}, nil
		case !covered && askStore:
			// The reader has not read yet, or started over past this
			// cursor (the feed was lost, or the buffer moved on): the
			// store answers exactly.
			askStore = false
			page, err := f.src.Revocations(ctx, cursor, 0)
			if err != nil || page.Complete || len(page.Entries) > 0 || wait <= 0 {
				return page, err
			}
			if at, err = store.ParseCursor(page.Cursor); err != nil {
				return store.RevocationPage{}, err
			}
			cursor = page.Cursor
			continue
		}
		empty := store.RevocationPage{Cursor: cursor, Entries: []store.Revocation{}}
		if wait <= 0 || closed {
			return empty, nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ch:
			askStore = true
		case <-timer:
			return empty, nil
		case <-ctx.Done():
			return empty, nil
		}
	}
}

// after returns the buffered entries after c, and whether the buffer covers
// c (the reader has read, in c's epoch, from c or earlier). f.mu must be
// held.
func (f *Feed) after(c store.Cursor) ([]store.Revocation, bool) {
	if f.from.Epoch == "" || c.Epoch != f.from.Epoch || c.Compare(f.from) < 0 {
		return nil, false
	}
	var out []store.Revocation
	for i := len(f.buf) - 1; i >= 0; i-- {
		p, err := store.ParseCursor(f.buf[i].Cursor)
		if err != nil || p.Compare(c) <= 0 {
			break
		}
		out = append(out, f.buf[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, true
}

// live returns the entries not yet expired.
func (f *Feed) live(entries []store.Revocation) []store.Revocation {
	now := f.now()
	out := make([]store.Revocation, 0, len(entries))
	for _, r := range entries {
		if r.ExpiresAt.After(now) {
			out = append(out, r)
		}
	}
	return out
}

// Close answers every waiting request at once with what is known and stops
// the reader. Reads after Close still answer, without waiting.
func (f *Feed) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.wake)
		f.wake = make(chan struct{})
	}
	return nil
}
