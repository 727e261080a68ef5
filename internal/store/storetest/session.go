package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/authsvc/authsvc/internal/store"
)

// ---- reading a family (introspection) --------------------------------------

func testSessionRead(t *testing.T, newHarness harnessFunc) {
	tests := []struct {
		name string
		// story acts on a new family and returns the token Session must
		// report as current, or nil when the family must be gone.
		story func(t *testing.T, h *Harness, s store.Session, first store.Token) *store.Token
	}{
		{name: "new family", story: func(_ *testing.T, _ *Harness, _ store.Session, first store.Token) *store.Token {
			return &first
		}},
		{name: "after a rotation", story: func(t *testing.T, h *Harness, s store.Session, first store.Token) *store.Token {
			chain := mustRotateChain(t, h, s, first, 2, 0)
			return &chain[2]
		}},
		{name: "after a retry inside grace", story: func(t *testing.T, h *Harness, s store.Session, first store.Token) *store.Token {
			chain := mustRotateChain(t, h, s, first, 1, grace)
			if _, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), grace); err != nil {
				t.Fatalf("retry inside grace: %v", err)
			}
			return &chain[1]
		}},
		{name: "after a reuse", story: func(t *testing.T, h *Harness, s store.Session, first store.Token) *store.Token {
			mustRotateChain(t, h, s, first, 1, 0)
			res, err := rotate(h, s.ID, first.ID, newToken(h, liveTTL), 0)
			checkRotateErr(t, res, err, store.ErrReused)
			return nil
		}},
		{name: "after revocation", story: func(t *testing.T, h *Harness, s store.Session, _ store.Token) *store.Token {
			if err := h.Store.RevokeSession(context.Background(), s.ID); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s, first := mustNewFamily(t, h)
			other, otherFirst := mustNewFamily(t, h)
			want := tt.story(t, h, s, first)
			if want == nil {
				checkSessionGone(t, h, s.ID)
			} else {
				checkSession(t, h, s, *want)
				// Reading changed nothing: the current token still rotates.
				mustRotate(t, h, s, want.ID, newToken(h, liveTTL), 0)
			}
			// A neighbouring family is untouched.
			checkSession(t, h, other, otherFirst)
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		checkSessionGone(t, newHarness(t), newID())
	})
	t.Run("expired with its current token", func(t *testing.T) {
		h := newHarness(t)
		s, first := newSession(h), newToken(h, shortTTL)
		mustCreate(t, h, s, first)
		checkSession(t, h, s, first)
		h.waitUntil(first.ExpiresAt)
		checkSessionGone(t, h, s.ID)
	})
}

// checkSession checks that Session reports s with current as its token.
func checkSession(tb testing.TB, h *Harness, s store.Session, current store.Token) {
	tb.Helper()
	got, tok, err := h.Store.Session(context.Background(), s.ID)
	if err != nil {
		tb.Fatalf("Session: %v", err)
	}
	if d := sessionDiff(got, s); d != "" {
		tb.Errorf("Session differs: %s", d)
	}
	if d := tokenDiff(tok, current); d != "" {
		tb.Errorf("Session's current token differs: %s", d)
	}
}

// checkSessionGone checks that Session reports the family id as not found.
func checkSessionGone(tb testing.TB, h *Harness, id string) {
	tb.Helper()
	got, tok, err := h.Store.Session(context.Background(), id)
	if !errors.Is(err, store.ErrNotFound) {
		tb.Fatalf("Session error = %v, want ErrNotFound", err)
	}
	if got != (store.Session{}) || tok != (store.Token{}) {
		tb.Errorf("Session failed but returned a record: %+v %+v", got, tok)
	}
}
