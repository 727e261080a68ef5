package verifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Feed timing.
const (
	// feedWait is the wait of a long poll when MaxStale allows it.
	feedWait = 25 * time.Second
	// feedMinPause is the least time between two polls that do not wait.
	feedMinPause = 200 * time.Millisecond
	// feedMaxBackoff bounds the pause after failed polls.
	feedMaxBackoff = 5 * time.Second
	// feedSlack is added to a poll's wait for its own timeout.
	feedSlack = 10 * time.Second
)

// feedAnswer is the body of GET /revocations.
type feedAnswer struct {
	Cursor        string `json:"cursor"`
	Complete      bool   `json:"complete"`
	RevokedTokens []struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	} `json:"revoked_tokens"`
	RevokedSessions []struct {
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	} `json:"revoked_sessions"`
}

// revokedSet is an immutable snapshot of what the feed lists: jti and sid
// to the unix second the entry stops mattering.
type revokedSet struct {
	tokens   map[string]int64
	sessions map[string]int64
}

// feedFollower follows the revocation feed.
type feedFollower struct {
	url      string
	cfg      FeedConfig
	client   *http.Client
	now      func() time.Time
	wait     time.Duration
	set      atomic.Pointer[revokedSet]
	heard    atomic.Int64 // unix nanos of the last answer from the feed
	cursor   string       // only the run goroutine touches it after initial
	requests atomic.Int64 // polls made, for tests
}

// newFeedFollower prepares a follower of the feed at u.
func newFeedFollower(u string, cfg FeedConfig, client *http.Client, now func() time.Time) *feedFollower {
	f := &feedFollower{url: u, cfg: cfg, client: client, now: now, wait: feedWait}
	if cfg.MaxStale > 0 {
		f.wait = min(f.wait, cfg.MaxStale/2)
	}
	if client.Timeout > 0 {
		f.wait = min(f.wait, client.Timeout-5*time.Second)
	}
	f.wait = max(f.wait.Truncate(time.Second), 0)
	f.set.Store(&revokedSet{tokens: map[string]int64{}, sessions: map[string]int64{}})
	return f
}

// initial reads the complete set once.
func (f *feedFollower) initial(ctx context.Context) error {
	if err := f.poll(ctx, 0); err != nil {
		return fmt.Errorf("verifier: read the revocation feed: %w", err)
	}
	return nil
}

// fresh returns ErrStale when MaxStale is set and the feed has not answered
// for longer than that.
func (f *feedFollower) fresh() error {
	if f.cfg.MaxStale <= 0 {
		return nil
	}
	if f.now().Sub(time.Unix(0, f.heard.Load())) > f.cfg.MaxStale {
		return ErrStale
	}
	return nil
}

// revoked reports whether the feed lists jti, or sid when not empty.
func (f *feedFollower) revoked(jti, sid string) bool {
	s := f.set.Load()
	if _, ok := s.tokens[jti]; ok {
		return true
	}
	if sid != "" {
		if _, ok := s.sessions[sid]; ok {
			return true
		}
	}
	return false
}

// run long-polls the feed until ctx is done. After a failure it backs off
// and keeps the set it has.
func (f *feedFollower) run(ctx context.Context) {
	backoff := feedMinPause
	for ctx.Err() == nil {
		began := time.Now()
		err := f.poll(ctx, f.wait)
		pause := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			pause, backoff = backoff, min(2*backoff, feedMaxBackoff)
		default:
			backoff = feedMinPause
			if f.wait == 0 {
				pause = feedMinPause - time.Since(began)
			}
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// poll makes one request of the feed, waiting up to wait for news, and
// applies the answer.
func (f *feedFollower) poll(ctx context.Context, wait time.Duration) error {
	f.requests.Add(1)
	ctx, cancel := context.WithTimeout(ctx, wait+feedSlack)
	defer cancel()
	q := url.Values{}
	if f.cursor != "" {
		q.Set("since", f.cursor)
		q.Set("wait", strconv.Itoa(int(wait/time.Second)))
	}
	u := f.url
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	// RFC 6749 §2.3.1: id and secret form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", f.url, resp.StatusCode)
	}
	var a feedAnswer
	dec := json.NewDecoder(limitBody(resp))
	if err := dec.Decode(&a); err != nil {
		return fmt.Errorf("GET %s: %w", f.url, err)
	}
	if a.Cursor == "" {
		return fmt.Errorf("GET %s: answer without a cursor", f.url)
	}
	f.apply(a)
	f.cursor = a.Cursor
	f.heard.Store(f.now().UnixNano())
	return nil
}

// apply merges an answer into a new set (or replaces the set with a
// complete one), dropping entries that no longer matter.
func (f *feedFollower) apply(a feedAnswer) {
	now := f.now().Unix()
	old := f.set.Load()
	next := &revokedSet{tokens: map[string]int64{}, sessions: map[string]int64{}}
	if !a.Complete {
		for k, exp := range old.tokens {
			if exp >= now {
				next.tokens[k] = exp
			}
		}
		for k, exp := range old.sessions {
			if exp >= now {
				next.sessions[k] = exp
			}
		}
	}
	for _, t := range a.RevokedTokens {
		if t.Exp >= now && t.Exp > next.tokens[t.JTI] {
			next.tokens[t.JTI] = t.Exp
		}
	}
	for _, s := range a.RevokedSessions {
		if s.Exp >= now && s.Exp > next.sessions[s.SID] {
			next.sessions[s.SID] = s.Exp
		}
	}
	f.set.Store(next)
}
