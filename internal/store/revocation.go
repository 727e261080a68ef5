package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidCursor means a revocation-feed cursor is malformed: it is not a
// cursor this package could have written. A well-formed cursor that is merely
// too old is not an error; see RevocationFeed.
var ErrInvalidCursor = errors.New("store: malformed revocation cursor")

// RevocationKind says what a Revocation names.
type RevocationKind uint8

// The kinds of revocation-feed entries.
const (
	// RevokedToken is an access token revoked by its jti.
	RevokedToken RevocationKind = iota + 1
	// RevokedSession is a session that ended (any way but plain expiry):
	// every access token carrying its sid is revoked with it.
	RevokedSession
)

// Revocation is one entry of the revocation feed.
type Revocation struct {
	// Kind says whether ID is a jti or a session id.
	Kind RevocationKind
	// ID is the access token's jti (RevokedToken) or the session id
	// (RevokedSession).
	ID string
	// ExpiresAt is when the entry stops mattering: no access token it
	// revokes is accepted after it, leeway included. Times come back with
	// millisecond precision.
	ExpiresAt time.Time
	// Cursor is the entry's place in the feed (a cursor that reads what
	// came after it). It is empty in a complete set and ignored by
	// AddRevocation.
	Cursor string
}

// RevocationPage is one answer of RevocationFeed.Revocations.
type RevocationPage struct {
	// Cursor reads what comes after this page.
	Cursor string
	// Complete says Entries are everything still in force, replacing
	// whatever the reader had; otherwise they are the entries added after
	// the cursor the reader gave, oldest first.
	Complete bool
	// Entries are the revocations, none of them expired.
	Entries []Revocation
}

// RevocationFeed keeps the revocation feed: the access tokens and sessions
// revoked before their time, in the order they were revoked, for resource
// servers that verify tokens themselves. It is part of Store.
type RevocationFeed interface {
	// AddRevocation records r. Once it returns, every process's
	// Revocations sees it. Adding the same entry twice keeps the later
	// ExpiresAt in the complete set. An entry already expired is a no-op.
	AddRevocation(ctx context.Context, r Revocation) error

	// Revocations reads the feed. With an empty cursor it returns the
	// complete set: every entry whose ExpiresAt is still ahead, with
	// Complete true. With a cursor from an earlier page it returns the
	// entries added after it, Complete false, or, when the cursor cannot be
	// answered exactly (the entries after it were trimmed, the feed was
	// lost and started again, or the cursor is ahead of the feed), the
	// complete set with Complete true. A cursor that does not parse gives
	// ErrInvalidCursor.
	//
	// When wait is positive and nothing came after the cursor, it blocks
	// until something does or wait has passed (then the page is empty and
	// carries the same cursor), or ctx's deadline passes (an error; a
	// cancellation without a deadline may not end the wait early). It holds
	// one store connection meanwhile: it
	// is meant for the one reader of a process that fans out to every
	// waiting request, not to be called per request. A complete set never
	// waits.
	Revocations(ctx context.Context, cursor string, wait time.Duration) (RevocationPage, error)
}

// FeedRetention is how long the feed keeps entries for readers that follow
// it with a cursor. A reader whose cursor is older (it was away that long)
// gets the complete set instead; the complete set itself keeps every entry
// until its ExpiresAt.
const FeedRetention = 10 * time.Minute

// Cursor is the parsed form of a revocation-feed cursor, shared by every
// implementation so that readers above the store can order cursors:
// "<epoch>.<ms>-<seq>". Epoch names one life of the feed (it changes when the
// feed's data is lost); ms and seq order the entries within it, like a Redis
// stream id.
type Cursor struct {
	Epoch string
	MS    uint64
	Seq   uint64
}

// maxEpochLen bounds the epoch part of a cursor.
const maxEpochLen = 32

// ParseCursor parses a cursor written by Cursor.String. Anything else gives
// an error wrapping ErrInvalidCursor.
func ParseCursor(s string) (Cursor, error) {
	epoch, id, ok := strings.Cut(s, ".")
	if !ok || epoch == "" || len(epoch) > maxEpochLen {
		return Cursor{}, ErrInvalidCursor
	}
	for _, r := range epoch {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return Cursor{}, ErrInvalidCursor
		}
	}
	ms, seq, err := ParseStreamID(id)
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{Epoch: epoch, MS: ms, Seq: seq}, nil
}

// ParseStreamID parses the "<ms>-<seq>" part of a cursor.
func ParseStreamID(id string) (ms, seq uint64, err error) {
	a, b, ok := strings.Cut(id, "-")
	if !ok {
		return 0, 0, ErrInvalidCursor
	}
	if ms, err = parseDecimal(a); err != nil {
		return 0, 0, err
	}
	if seq, err = parseDecimal(b); err != nil {
		return 0, 0, err
	}
	return ms, seq, nil
}

// parseDecimal parses a plain unsigned decimal: digits only, no sign, no
// leading zeros (so every value has one spelling).
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrInvalidCursor
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalidCursor
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	return n, nil
}

// String returns the cursor's text form.
func (c Cursor) String() string {
	return c.Epoch + "." + c.StreamID()
}

// StreamID returns the "<ms>-<seq>" part of the cursor.
func (c Cursor) StreamID() string {
	return strconv.FormatUint(c.MS, 10) + "-" + strconv.FormatUint(c.Seq, 10)
}

// Compare orders c and d within one epoch: -1 when c comes first, 0 when they
// are equal, +1 when c comes later. It ignores the epochs.
func (c Cursor) Compare(d Cursor) int {
	switch {
	case c.MS < d.MS:
		return -1
	case c.MS > d.MS:
		return 1
	case c.Seq < d.Seq:
		return -1
	case c.Seq > d.Seq:
		return 1
	}
	return 0
}
