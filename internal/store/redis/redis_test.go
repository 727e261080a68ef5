package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
	redisstore "github.com/authsvc/authsvc/internal/store/redis"
	"github.com/authsvc/authsvc/internal/store/storetest"
)

// TestMain silences go-redis's own logging: the unavailability tests make it
// report every refused dial, and the tests check those errors themselves.
func TestMain(m *testing.M) {
	goredis.SetLogger(discardLogger{})
	os.Exit(m.Run())
}

// discardLogger drops go-redis log lines.
type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// mustClient returns a new client of srv. The caller closes it, or hands it
// to a Store that does.
func mustClient(tb testing.TB, srv *redistest.Server) *goredis.Client {
	tb.Helper()
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		tb.Fatalf("parse %q: %v", srv.URL(), err)
	}
	// Fail fast when the server is gone: the unavailability tests stop it.
	opt.DialTimeout = time.Second
	opt.DialerRetries = 1
	opt.MaxRetries = 1
	opt.MaxRetryBackoff = 20 * time.Millisecond
	return goredis.NewClient(opt)
}

// mustInspector returns a client for looking at srv directly, closed when
// the test ends.
func mustInspector(tb testing.TB, srv *redistest.Server) *goredis.Client {
	tb.Helper()
	c := mustClient(tb, srv)
	tb.Cleanup(func() { c.Close() })
	return c
}

// newPrefix returns a key prefix no other test uses, so tests share a server
// without FLUSHing it.
func newPrefix() string {
	return "authsvc-test:" + rand.Text() + ":"
}

// mustStore returns a Store on srv under prefix, closed when the test ends.
func mustStore(tb testing.TB, srv *redistest.Server, prefix string) *redisstore.Store {
	tb.Helper()
	s := redisstore.New(mustClient(tb, srv), prefix)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	srv := redistest.Start(t)
	runConformance(t, func() goredis.UniversalClient { return mustClient(t, srv) })
}

// runConformance runs the conformance suite on Stores built on clients from
// newClient, each case under its own key prefix.
func runConformance(t *testing.T, newClient func() goredis.UniversalClient) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		return storetest.Harness{
			Store:   redisstore.New(newClient(), newPrefix()),
			Clock:   storetest.NewClock(time.Now()),
			RealTTL: true,
		}
	})
}

// fixture returns a session and a token that lives an hour from now.
func fixture() (store.Session, store.Token) {
	now := time.Now().Truncate(time.Millisecond)
	s := store.Session{
		ID: store.NewSessionID("alice", rand.Text()), Subject: "alice", ClientID: "billing", Scope: "read",
		AuthTime: now, MaxExpiresAt: now.Add(720 * time.Hour),
	}
	return s, nextToken(now)
}

// nextToken returns a fresh token issued at now that lives an hour.
func nextToken(now time.Time) store.Token {
	return store.Token{
		ID: rand.Text(), IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		AccessID: rand.Text(), AccessIssuedAt: now, AccessExpiresAt: now.Add(15 * time.Minute),
		AccessScope: "read",
	}
}

// op is one call of a Store method.
type op struct {
	name string
	call func(ctx context.Context, s store.Store) error
}

// opsOn returns one call of every Store method, on a family created by
// whoever runs them before (see mustFamily).
func opsOn(sess store.Session, first store.Token) []op {
	now := first.IssuedAt
	return []op{
		{"CreateSession", func(ctx context.Context, s store.Store) error {
			other, tok := fixture()
			return s.CreateSession(ctx, other, tok)
		}},
		{"Rotate", func(ctx context.Context, s store.Store) error {
			_, err := s.Rotate(ctx, store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: nextToken(now), Now: now})
			return err
		}},
		{"Session", func(ctx context.Context, s store.Store) error {
			_, _, err := s.Session(ctx, sess.ID)
			return err
		}},
		{"CreateSessionCapped", func(ctx context.Context, s store.Store) error {
			other, tok := fixture()
			_, err := s.CreateSessionCapped(ctx, other, tok, 2, now)
			return err
		}},
		{"Sessions", func(ctx context.Context, s store.Store) error {
			_, err := s.Sessions(ctx, sess.Subject, now)
			return err
		}},
		{"LogoutAll", func(ctx context.Context, s store.Store) error {
			_, _, err := s.LogoutAll(ctx, store.LogoutAllRequest{SessionID: sess.ID, Presented: first.ID, Now: now})
			return err
		}},
		{"EndSession", func(ctx context.Context, s store.Store) error {
			_, err := s.EndSession(ctx, sess.ID, now)
			return err
		}},
		{"EndSessions", func(ctx context.Context, s store.Store) error {
			_, err := s.EndSessions(ctx, sess.Subject, now)
			return err
		}},
		{"RevokeSession", func(ctx context.Context, s store.Store) error {
			return s.RevokeSession(ctx, sess.ID)
		}},
		{"DenyAccessToken", func(ctx context.Context, s store.Store) error {
			return s.DenyAccessToken(ctx, rand.Text(), time.Now().Add(time.Hour))
		}},
		{"AccessTokenDenied", func(ctx context.Context, s store.Store) error {
			_, err := s.AccessTokenDenied(ctx, rand.Text())
			return err
		}},
		{"AddFailure", func(ctx context.Context, s store.Store) error {
			_, err := s.AddFailure(ctx, store.FailureKey{Address: "192.0.2.1", Name: "alice"}, time.Minute, 100)
			return err
		}},
		{"Failures", func(ctx context.Context, s store.Store) error {
			_, err := s.Failures(ctx, store.FailureKey{Address: "192.0.2.1", Name: "alice"})
			return err
		}},
		{"Ping", func(ctx context.Context, s store.Store) error {
			return s.Ping(ctx)
		}},
		{"AddRevocation", func(ctx context.Context, s store.Store) error {
			return s.AddRevocation(ctx, store.Revocation{Kind: store.RevokedSession, ID: sess.ID, ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"Revocations", func(ctx context.Context, s store.Store) error {
			_, err := s.Revocations(ctx, "", 0)
			return err
		}},
	}
}

// mustFamily creates a family in s.
func mustFamily(tb testing.TB, s store.Store) (store.Session, store.Token) {
	tb.Helper()
	sess, first := fixture()
	if err := s.CreateSession(context.Background(), sess, first); err != nil {
		tb.Fatalf("CreateSession: %v", err)
	}
	return sess, first
}

func TestStore_UnavailableErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup returns the Store under test after breaking its Redis, and
		// the family the operations use.
		setup func(t *testing.T) (store.Store, store.Session, store.Token)
		// ops lists the operations that must fail; nil means all.
		ops []string
		// replies lists the Redis error codes of which the message must
		// name one, if any.
		replies []string
	}{
		{
			name: "server stopped",
			setup: func(t *testing.T) (store.Store, store.Session, store.Token) {
				srv := redistest.Start(t)
				s := mustStore(t, srv, newPrefix())
				sess, first := mustFamily(t, s)
				srv.Stop()
				return s, sess, first
			},
		},
		{
			name: "read-only replica",
			setup: func(t *testing.T) (store.Store, store.Session, store.Token) {
				// No diskless-sync delay: the replica gets the data at once.
				primary := redistest.Start(t, redistest.WithArgs("--repl-diskless-sync-delay", "0"))
				replica := redistest.Start(t, redistest.WithArgs("--replicaof", "127.0.0.1", strconv.Itoa(primary.Port())))
				prefix := newPrefix()
				sess, first := mustFamily(t, mustStore(t, primary, prefix))
				s := mustStore(t, replica, prefix)
				waitReplicated(t, mustInspector(t, replica), prefix)
				return s, sess, first
			},
			ops:     []string{"CreateSession", "Rotate", "RevokeSession", "DenyAccessToken", "AddFailure"},
			replies: []string{"READONLY"},
		},
		{
			name: "replica cut off from its primary",
			setup: func(t *testing.T) (store.Store, store.Session, store.Token) {
				gone := redistest.Start(t)
				gone.Stop()
				replica := redistest.Start(t, redistest.WithArgs(
					"--replicaof", "127.0.0.1", strconv.Itoa(gone.Port()),
					"--replica-serve-stale-data", "no"))
				sess, first := fixture()
				return mustStore(t, replica, newPrefix()), sess, first
			},
			// Scripts and reads get MASTERDOWN; plain writes are refused
			// first for being on a replica.
			replies: []string{"MASTERDOWN", "READONLY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, sess, first := tt.setup(t)
			for _, o := range opsOn(sess, first) {
				if tt.ops != nil && !slices.Contains(tt.ops, o.name) {
					continue
				}
				err := o.call(context.Background(), s)
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s: error %v, want ErrUnavailable", o.name, err)
					continue
				}
				if tt.replies != nil && !containsAny(err.Error(), tt.replies) {
					t.Errorf("%s: error %q names none of %q", o.name, err, tt.replies)
				}
				if strings.Contains(err.Error(), first.ID) {
					t.Errorf("%s: error %q contains a token id", o.name, err)
				}
			}
		})
	}
}

// waitReplicated waits until the replica holds keys under prefix.
func waitReplicated(tb testing.TB, replica *goredis.Client, prefix string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		keys, _, err := replica.Scan(context.Background(), 0, prefix+"*", 1000).Result()
		if err == nil && len(keys) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("replica did not receive the primary's keys")
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// contains reports whether list holds s.
func TestStore_ContextErrors(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := mustStore(t, srv, newPrefix())
	sess, first := mustFamily(t, s)

	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()

	tests := []struct {
		name            string
		ctx             context.Context
		want            error
		wantUnavailable bool
	}{
		{name: "deadline exceeded is unavailable", ctx: expired, want: context.DeadlineExceeded, wantUnavailable: true},
		{name: "canceled by the caller is not", ctx: canceled, want: context.Canceled, wantUnavailable: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, o := range opsOn(sess, first) {
				err := o.call(tt.ctx, s)
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: error %v, want %v", o.name, err, tt.want)
				}
				if got := errors.Is(err, store.ErrUnavailable); got != tt.wantUnavailable {
					t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v, want %v", o.name, err, got, tt.wantUnavailable)
				}
			}
		})
	}
}

func TestStore_EveryKeyHasTTL(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	inspect := mustInspector(t, srv)
	tests := []struct {
		name string
		// run performs operations and returns how many keys they leave.
		run func(t *testing.T, s store.Store) int
	}{
		{"CreateSession", func(t *testing.T, s store.Store) int {
			mustFamily(t, s)
			return 2 // the family and its subject's index
		}},
		{"CreateSessionCapped ending the oldest", func(t *testing.T, s store.Store) int {
			for range 3 {
				sess, first := fixture()
				if _, err := s.CreateSessionCapped(context.Background(), sess, first, 1, first.IssuedAt); err != nil {
					t.Fatalf("CreateSessionCapped: %v", err)
				}
			}
			return 2
		}},
		{"LogoutAll and EndSessions leave nothing", func(t *testing.T, s store.Store) int {
			sess, first := mustFamily(t, s)
			mustFamily(t, s)
			if _, _, err := s.LogoutAll(context.Background(), store.LogoutAllRequest{SessionID: sess.ID, Presented: first.ID, Now: first.IssuedAt}); err != nil {
				t.Fatalf("LogoutAll: %v", err)
			}
			mustFamily(t, s)
			if _, err := s.EndSessions(context.Background(), sess.Subject, first.IssuedAt); err != nil {
				t.Fatalf("EndSessions: %v", err)
			}
			return 0
		}},
		{"Rotate", func(t *testing.T, s store.Store) int {
			sess, first := mustFamily(t, s)
			now := first.IssuedAt
			for _, grace := range []time.Duration{0, time.Minute} {
				next := nextToken(now)
				mustRotateOK(t, s, store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: next, Now: now, Grace: grace})
				// A retry inside grace (the second pass) leaves the TTL as it was.
				if grace > 0 {
					mustRotateOK(t, s, store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: nextToken(now), Now: now, Grace: grace})
				}
				first = next
			}
			return 2
		}},
		{"Rotate reuse and revoke", func(t *testing.T, s store.Store) int {
			sess, first := mustFamily(t, s)
			now := first.IssuedAt
			mustRotateOK(t, s, store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: nextToken(now), Now: now})
			_, err := s.Rotate(context.Background(), store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: nextToken(now), Now: now})
			if !errors.Is(err, store.ErrReused) {
				t.Fatalf("reuse: %v", err)
			}
			other, _ := mustFamily(t, s)
			if err := s.RevokeSession(context.Background(), other.ID); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			return 0
		}},
		{"DenyAccessToken", func(t *testing.T, s store.Store) int {
			ctx := context.Background()
			for _, exp := range []time.Time{time.Now().Add(time.Hour), time.Now().Add(-time.Hour)} {
				if err := s.DenyAccessToken(ctx, rand.Text(), exp); err != nil {
					t.Fatalf("DenyAccessToken: %v", err)
				}
			}
			if _, err := s.AccessTokenDenied(ctx, rand.Text()); err != nil {
				t.Fatalf("AccessTokenDenied: %v", err)
			}
			return 1
		}},
		{"AddFailure and Failures", func(t *testing.T, s store.Store) int {
			ctx := context.Background()
			for range 3 {
				if _, err := s.AddFailure(ctx, store.FailureKey{Address: "192.0.2.1", Name: "alice"}, time.Minute, 100); err != nil {
					t.Fatalf("AddFailure: %v", err)
				}
			}
			if _, err := s.Failures(ctx, store.FailureKey{Address: "192.0.2.1", Name: "bob"}); err != nil {
				t.Fatalf("Failures: %v", err)
			}
			return 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := newPrefix()
			want := tt.run(t, mustStore(t, srv, prefix))
			keys := scanKeys(t, inspect, prefix)
			if len(keys) != want {
				t.Errorf("%d keys under the prefix, want %d: %q", len(keys), want, keys)
			}
			for _, k := range keys {
				ttl, err := inspect.PTTL(context.Background(), k).Result()
				if err != nil {
					t.Fatalf("PTTL %s: %v", k, err)
				}
				if ttl <= 0 {
					t.Errorf("key %s has PTTL %v, want a TTL", k, ttl)
				}
			}
		})
	}
}

// mustRotateOK rotates or fails the test.
func mustRotateOK(tb testing.TB, s store.Store, req store.RotateRequest) store.RotateResult {
	tb.Helper()
	res, err := s.Rotate(context.Background(), req)
	if err != nil {
		tb.Fatalf("Rotate: %v", err)
	}
	return res
}

// scanKeys returns every key under prefix, by SCAN (never KEYS or FLUSH).
func scanKeys(tb testing.TB, c *goredis.Client, prefix string) []string {
	tb.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, globEscape(prefix)+"*", 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("SCAN: %v", err)
	}
	return keys
}

// globEscape escapes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestStore_SurvivesRestartWithAOF(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithAOF(redistest.FsyncAlways))
	s := mustStore(t, srv, newPrefix())
	sess, first := mustFamily(t, s)
	now := first.IssuedAt
	next := nextToken(now)
	mustRotateOK(t, s, store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: next, Now: now})

	srv.Restart()

	// The rotation survived: the old token is a reuse inside no grace, so
	// present the new one.
	res := mustRotateOK(t, s, store.RotateRequest{SessionID: sess.ID, Presented: next.ID, Next: nextToken(now), Now: now})
	if res.Session.Subject != sess.Subject {
		t.Fatalf("after restart Session.Subject = %q, want %q", res.Session.Subject, sess.Subject)
	}
}

func TestRotate_ExpiryJudgedByRequestTime(t *testing.T) {
	t.Parallel()
	// Redis still holds the family (its TTL is an hour away), but by the
	// application's clock the current token has expired: not found, and
	// the record is dropped.
	srv := redistest.Start(t)
	prefix := newPrefix()
	s := mustStore(t, srv, prefix)
	sess, first := mustFamily(t, s)
	later := first.ExpiresAt
	_, err := s.Rotate(context.Background(), store.RotateRequest{SessionID: sess.ID, Presented: first.ID, Next: nextToken(later), Now: later})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Rotate at the token's expiry: %v, want ErrNotFound", err)
	}
	if keys := scanKeys(t, mustInspector(t, srv), prefix); len(keys) != 0 {
		t.Fatalf("expired family still stored: %q", keys)
	}
}

func BenchmarkRotate(b *testing.B) {
	srv := redistest.Start(b)
	s := mustStore(b, srv, newPrefix())
	sess, current := mustFamily(b, s)
	now := current.IssuedAt
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		next := nextToken(now)
		if _, err := s.Rotate(ctx, store.RotateRequest{SessionID: sess.ID, Presented: current.ID, Next: next, Now: now}); err != nil {
			b.Fatalf("Rotate: %v", err)
		}
		current = next
	}
}

// TestIndex_ExpiredSessionsLeaveTheIndex checks the index itself: a login
// after the subject's other sessions expired leaves one index entry, and
// once every session has expired no key of the subject is left, index
// included.
func TestIndex_ExpiredSessionsLeaveTheIndex(t *testing.T) {
	srv := redistest.Start(t)
	inspect := mustInspector(t, srv)
	prefix := newPrefix()
	s := mustStore(t, srv, prefix)
	ctx := context.Background()
	login := func(ttl time.Duration) store.Session {
		now := time.Now().Truncate(time.Millisecond)
		sess := store.Session{ID: store.NewSessionID("alice", rand.Text()), Subject: "alice", AuthTime: now, MaxExpiresAt: now.Add(time.Hour)}
		tok := nextToken(now)
		tok.ExpiresAt = now.Add(ttl)
		if err := s.CreateSession(ctx, sess, tok); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		return sess
	}
	index := prefix + "u:{" + store.SubjectTag("alice") + "}"
	for range 3 {
		login(200 * time.Millisecond)
	}
	if n := inspect.ZCard(ctx, index).Val(); n != 3 {
		t.Fatalf("index holds %d entries, want 3", n)
	}
	time.Sleep(300 * time.Millisecond)
	last := login(400 * time.Millisecond)
	members := inspect.ZRange(ctx, index, 0, -1).Val()
	if len(members) != 1 || members[0] != last.ID {
		t.Errorf("after the others expired, the index holds %v, want only %s", members, last.ID)
	}
	time.Sleep(500 * time.Millisecond)
	if keys := scanKeys(t, inspect, prefix); len(keys) != 0 {
		t.Errorf("after every session expired, keys are left: %q", keys)
	}
}
