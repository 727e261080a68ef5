package redisstore

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/store"
)

var (
	//go:embed revadd.lua
	revAddSrc string
	//go:embed revread.lua
	revReadSrc string

	revAddScript  = goredis.NewScript(revAddSrc)
	revReadScript = goredis.NewScript(revReadSrc)
)

// maxBlockRead bounds the entries one blocking read returns; the reader asks
// again at once for the rest.
const maxBlockRead = 1000

// Kinds of feed entries as stored.
const (
	kindToken   = "t"
	kindSession = "s"
)

// revKeys returns the feed's keys: the log (a stream), the set in force (a
// sorted set) and the meta hash. The hash tag puts them in one slot.
func (s *Store) revKeys() []string {
	return []string{s.prefix + "rev:{feed}:log", s.prefix + "rev:{feed}:set", s.prefix + "rev:{feed}:meta"}
}

// feedRetention is how long the log keeps entries: store.FeedRetention,
// unless a test shortened it.
func (s *Store) feedRetention() time.Duration {
	if s.retention > 0 {
		return s.retention
	}
	return store.FeedRetention
}

// newEpoch returns a random epoch for a feed that has none yet.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AddRevocation records r in one script: the entry joins the set in force
// (expiring at r.ExpiresAt) and the log (trimmed to store.FeedRetention);
// see store.RevocationFeed.
func (s *Store) AddRevocation(ctx context.Context, r store.Revocation) error {
	kind, err := kindOf(r.Kind)
	if err != nil {
		return fmt.Errorf("redisstore: add revocation: %w", err)
	}
	now := s.now()
	if !r.ExpiresAt.After(now) {
		return nil
	}
	exp := r.ExpiresAt.Add(time.Millisecond - time.Nanosecond).UnixMilli()
	retention := s.feedRetention()
	keep := max(exp, now.Add(retention).UnixMilli())
	err = revAddScript.Run(ctx, s.client, s.revKeys(), kind, r.ID, exp, millis(now), retention.Milliseconds(), newEpoch(), keep).Err()
	if err != nil {
		return s.fail("add revocation", err)
	}
	return nil
}

// Revocations reads the feed in one script and, when it has nothing after
// the cursor and wait is positive, blocks in XREAD on the log; see
// store.RevocationFeed.
func (s *Store) Revocations(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error) {
	var c store.Cursor
	if cursor != "" {
		var err error
		if c, err = store.ParseCursor(cursor); err != nil {
			return store.RevocationPage{}, fmt.Errorf("redisstore: read revocations: %w", err)
		}
	}
	now := s.now()
	reply, err := revReadScript.Run(ctx, s.client, s.revKeys(), c.Epoch, c.StreamID(), millis(now),
		newEpoch(), s.feedRetention().Milliseconds()).Slice()
	if err != nil {
		return store.RevocationPage{}, s.fail("read revocations", err)
	}
	page, err := parseRevRead(reply, now)
	if err != nil {
		return store.RevocationPage{}, fmt.Errorf("redisstore: read revocations: %w", err)
	}
	if page.Complete || len(page.Entries) > 0 || wait <= 0 {
		return page, nil
	}
	// Nothing after the cursor yet: wait for the next entry on the log.
	// The page's cursor is at least the caller's (equal, or the latest of
	// entries that had already expired).
	after, err := store.ParseCursor(page.Cursor)
	if err != nil {
		return store.RevocationPage{}, fmt.Errorf("redisstore: read revocations: %w", err)
	}
	// The client does not end a blocking read at ctx's deadline (its
	// context timeouts are off), so the block itself stops there.
	byDeadline := false
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait, byDeadline = time.Until(dl), true
	}
	if wait < time.Millisecond {
		return store.RevocationPage{}, s.fail("wait for revocations", context.DeadlineExceeded)
	}
	streams, err := s.client.XRead(ctx, &goredis.XReadArgs{
		Streams: []string{s.revKeys()[0], after.StreamID()},
		Count:   maxBlockRead,
		Block:   wait,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		if byDeadline {
			return store.RevocationPage{}, s.fail("wait for revocations", context.DeadlineExceeded)
		}
		return page, nil // the time is up
	}
	if err != nil {
		return store.RevocationPage{}, s.fail("wait for revocations", err)
	}
	now = s.now()
	for _, st := range streams {
		for _, m := range st.Messages {
			r, err := entryOf(after.Epoch, m.ID, m.Values)
			if err != nil {
				return store.RevocationPage{}, fmt.Errorf("redisstore: wait for revocations: %w", err)
			}
			page.Cursor = r.Cursor
			if r.ExpiresAt.After(now) {
				page.Entries = append(page.Entries, r)
			}
		}
	}
	return page, nil
}

// parseRevRead turns the reply of revread.lua into a page.
func parseRevRead(reply []any, now time.Time) (store.RevocationPage, error) {
	if len(reply) != 4 {
		return store.RevocationPage{}, fmt.Errorf("script reply has %d values, want 4", len(reply))
	}
	code, ok1 := reply[0].(int64)
	epoch, ok2 := reply[1].(string)
	last, ok3 := reply[2].(string)
	list, ok4 := reply[3].([]any)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return store.RevocationPage{}, errors.New("malformed script reply")
	}
	ms, seq, err := store.ParseStreamID(last)
	if err != nil {
		return store.RevocationPage{}, fmt.Errorf("last stream id: %w", err)
	}
	page := store.RevocationPage{
		Cursor:   store.Cursor{Epoch: epoch, MS: ms, Seq: seq}.String(),
		Complete: code == 1,
		Entries:  []store.Revocation{},
	}
	if page.Complete {
		if len(list)%2 != 0 {
			return store.RevocationPage{}, errors.New("odd member list")
		}
		for i := 0; i < len(list); i += 2 {
			member, _ := list[i].(string)
			score, _ := list[i+1].(string)
			kind, id, ok := strings.Cut(member, ":")
			exp, err := strconv.ParseInt(score, 10, 64)
			k, kerr := kindFrom(kind)
			if !ok || err != nil || kerr != nil {
				return store.RevocationPage{}, errors.New("malformed member of the set in force")
			}
			if at := time.UnixMilli(exp).UTC(); at.After(now) {
				page.Entries = append(page.Entries, store.Revocation{Kind: k, ID: id, ExpiresAt: at})
			}
		}
		return page, nil
	}
	for _, e := range list {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return store.RevocationPage{}, errors.New("malformed log entry")
		}
		id, _ := pair[0].(string)
		raw, _ := pair[1].([]any)
		vals := make(map[string]any, len(raw)/2)
		for i := 0; i+1 < len(raw); i += 2 {
			k, _ := raw[i].(string)
			vals[k] = raw[i+1]
		}
		r, err := entryOf(epoch, id, vals)
		if err != nil {
			return store.RevocationPage{}, err
		}
		page.Cursor = r.Cursor
		if r.ExpiresAt.After(now) {
			page.Entries = append(page.Entries, r)
		}
	}
	return page, nil
}

// entryOf builds a feed entry from a log entry's id and fields.
func entryOf(epoch, id string, vals map[string]any) (store.Revocation, error) {
	ms, seq, err := store.ParseStreamID(id)
	if err != nil {
		return store.Revocation{}, fmt.Errorf("log entry id: %w", err)
	}
	kind, _ := vals["k"].(string)
	rid, _ := vals["i"].(string)
	exp, _ := vals["e"].(string)
	k, err := kindFrom(kind)
	if err != nil {
		return store.Revocation{}, err
	}
	expMS, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return store.Revocation{}, errors.New("log entry has a malformed exp")
	}
	return store.Revocation{
		Kind: k, ID: rid, ExpiresAt: time.UnixMilli(expMS).UTC(),
		Cursor: store.Cursor{Epoch: epoch, MS: ms, Seq: seq}.String(),
	}, nil
}

// kindOf returns the stored form of a kind.
func kindOf(k store.RevocationKind) (string, error) {
	switch k {
	case store.RevokedToken:
		return kindToken, nil
	case store.RevokedSession:
		return kindSession, nil
	}
	return "", fmt.Errorf("unknown revocation kind %d", k)
}

// kindFrom parses the stored form of a kind.
func kindFrom(s string) (store.RevocationKind, error) {
	switch s {
	case kindToken:
		return store.RevokedToken, nil
	case kindSession:
		return store.RevokedSession, nil
	}
	return 0, errors.New("log entry has an unknown kind")
}
