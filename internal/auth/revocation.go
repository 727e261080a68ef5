package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// MaxFeedWait is the longest a read of the revocation feed may wait for news.
const MaxFeedWait = 30 * time.Second

// Revocation is something resource servers must learn of through the
// revocation feed: a session that ended, or an access token that was revoked.
// Build it with SessionEnded or AccessTokenRevoked.
type Revocation struct {
	kind store.RevocationKind
	id   string
	at   time.Time // when the session ended, or the access token's exp
}

// SessionEnded describes the end of session sid at time at, however it ended
// (revocation, reuse, logout everywhere, the admin API, the session limit, a
// failed re-check), except plain expiry, which needs no announcement.
func SessionEnded(sid string, at time.Time) Revocation {
	return Revocation{kind: store.RevokedSession, id: sid, at: at}
}

// AccessTokenRevoked describes the revocation of the access token jti, which
// expires at exp.
func AccessTokenRevoked(jti string, exp time.Time) Revocation {
	return Revocation{kind: store.RevokedToken, id: jti, at: exp}
}

// RecordRevocation puts r into the revocation feed, from which every replica
// serves it at once. It is the one place the feed learns of revocations: call
// it whenever a session ends or an access token is revoked, after the store
// has done so (on a Redis Cluster the feed lives in another slot than the
// session, so it cannot be written in the same script).
//
// The entry stays in the feed while it matters: a session's until every
// access token minted for it may have expired (the end plus ACCESS_TOKEN_TTL
// plus CLOCK_SKEW), an access token's until its exp plus CLOCK_SKEW, since
// verifiers accept a token that long. A store that cannot be written gives
// TemporarilyUnavailable, so the caller's client tries again.
func (s *Service) RecordRevocation(ctx context.Context, r Revocation) error {
	if r.id == "" {
		return internal(errors.New("record revocation: empty id"))
	}
	exp := r.at.Add(s.cfg.ClockSkew)
	if r.kind == store.RevokedSession {
		exp = exp.Add(s.cfg.AccessTTL)
	}
	if err := s.store.AddRevocation(ctx, store.Revocation{Kind: r.kind, ID: r.id, ExpiresAt: exp}); err != nil {
		return storeError(fmt.Errorf("record revocation: %w", err))
	}
	return nil
}

// FeedReader answers reads of the revocation feed, holding waiting reads
// without a store connection each (package feed).
type FeedReader interface {
	// Read answers a read as store.RevocationFeed.Revocations does,
	// waiting up to wait for news after cursor.
	Read(ctx context.Context, cursor string, wait time.Duration) (store.RevocationPage, error)
}

// FeedRequest is a read of the revocation feed.
type FeedRequest struct {
	// Client is required, and must be a client allowed to introspect.
	Client *ClientAuth
	// Since is a cursor from an earlier answer, empty for the complete set.
	Since string
	// Wait is how long to wait for news after Since, 0 to MaxFeedWait.
	Wait time.Duration
}

// Revocations reads the revocation feed for a resource server. The caller
// must authenticate as a client whose configuration allows introspection;
// otherwise the answer is InvalidClient. A cursor that is not one of the
// feed's gives InvalidRequest. Without a FeedReader (Deps.Feed) reads never
// wait.
func (s *Service) Revocations(ctx context.Context, req FeedRequest, m Meta) (store.RevocationPage, error) {
	if req.Client == nil {
		return store.RevocationPage{}, newError(InvalidClient, "client authentication is required")
	}
	c, err := s.authenticateClient(ctx, *req.Client, false, m)
	if err != nil {
		return store.RevocationPage{}, err
	}
	if !c.Introspect {
		return store.RevocationPage{}, newError(InvalidClient, "the client may not read the revocation feed")
	}
	if req.Wait < 0 || req.Wait > MaxFeedWait {
		return store.RevocationPage{}, newError(InvalidRequest, "wait must be between 0 and 30 seconds")
	}
	var page store.RevocationPage
	if s.feed != nil {
		page, err = s.feed.Read(ctx, req.Since, req.Wait)
	} else {
		page, err = s.store.Revocations(ctx, req.Since, 0)
	}
	switch {
	case errors.Is(err, store.ErrInvalidCursor):
		return store.RevocationPage{}, &Error{Code: InvalidRequest, Description: "since is not a cursor of this feed", Err: err}
	case err != nil:
		return store.RevocationPage{}, storeError(err)
	}
	return page, nil
}
