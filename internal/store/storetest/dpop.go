package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store"
)

// ---- DPoP-bound sessions (RFC 9449 §5) -------------------------------------

// Thumbprints of two DPoP keys; the store treats them as opaque strings.
const (
	keyA = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	keyB = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// rotateDPoP presents presented with a proof by jkt ("" for none).
func rotateDPoP(h *Harness, id, presented string, next store.Token, grace time.Duration, jkt string, required bool) (store.RotateResult, error) {
	return h.Store.Rotate(context.Background(), store.RotateRequest{
		SessionID: id, Presented: presented, Next: next, Now: h.Clock.Now(), Grace: grace,
		JKT: jkt, ProofRequired: required,
	})
}

func testDPoPBoundSession(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := newSession(h), newToken(h, liveTTL)
	s.JKT = keyA
	first.AccessJKT = keyA
	mustCreate(t, h, s, first)
	checkSession(t, h, s, first)

	// A missing proof or another key's changes nothing, whatever the
	// client rule says.
	for _, tt := range []struct {
		jkt      string
		required bool
	}{{"", false}, {"", true}, {keyB, false}, {keyB, true}} {
		res, err := rotateDPoP(h, s.ID, first.ID, newToken(h, liveTTL), 0, tt.jkt, tt.required)
		checkRotateErr(t, res, err, store.ErrKeyMismatch)
	}
	checkSession(t, h, s, first)

	h.Clock.Advance(time.Second)
	next := newToken(h, liveTTL)
	next.AccessJKT = keyA
	res, err := rotateDPoP(h, s.ID, first.ID, next, grace, keyA, true)
	if err != nil {
		t.Fatalf("Rotate with the session's key: %v", err)
	}
	checkResult(t, res, s, next, false)

	// A retry inside the grace window needs the key too; with it, the
	// stored successor (and its access-token binding) comes back.
	res, err = rotateDPoP(h, s.ID, first.ID, newToken(h, liveTTL), grace, keyB, false)
	checkRotateErr(t, res, err, store.ErrKeyMismatch)
	res, err = rotateDPoP(h, s.ID, first.ID, newToken(h, liveTTL), grace, keyA, false)
	if err != nil {
		t.Fatalf("retry with the session's key: %v", err)
	}
	checkResult(t, res, s, next, true)
}

func testDPoPProofRequired(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := mustNewFamily(t, h)

	res, err := rotateDPoP(h, s.ID, first.ID, newToken(h, liveTTL), 0, "", true)
	checkRotateErr(t, res, err, store.ErrProofRequired)
	checkSession(t, h, s, first)

	// A proof on an unbound session binds the access token, not the
	// session: the next rotation may come without one.
	next := newToken(h, liveTTL)
	next.AccessJKT = keyA
	res, err = rotateDPoP(h, s.ID, first.ID, next, 0, keyA, true)
	if err != nil {
		t.Fatalf("Rotate with a proof: %v", err)
	}
	checkResult(t, res, s, next, false)
	checkSession(t, h, s, next)
	mustRotate(t, h, s, next.ID, newToken(h, liveTTL), 0)
}

func testDPoPReuseWins(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := newSession(h), newToken(h, liveTTL)
	s.JKT = keyA
	mustCreate(t, h, s, first)
	next := newToken(h, liveTTL)
	if _, err := rotateDPoP(h, s.ID, first.ID, next, 0, keyA, false); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	// The rotated-away token without the key is still a reuse: the session
	// ends (RFC 9700 §4.14.2 before RFC 9449).
	res, err := rotateDPoP(h, s.ID, first.ID, newToken(h, liveTTL), 0, "", true)
	checkRotateErr(t, res, err, store.ErrReused)
	checkSessionGone(t, h, s.ID)
}

func testDPoPBoundLogoutAll(t *testing.T, newHarness harnessFunc) {
	h := newHarness(t)
	s, first := newSession(h), newToken(h, liveTTL)
	s.JKT = keyA
	mustCreate(t, h, s, first)
	other := newSessionOf(h, s.Subject, "client-"+newID())
	otherFirst := newToken(h, liveTTL)
	mustCreate(t, h, other, otherFirst)

	logoutAll := func(presented, jkt string) ([]string, error) {
		_, ended, err := h.Store.LogoutAll(context.Background(), store.LogoutAllRequest{
			SessionID: s.ID, Presented: presented, Now: h.Clock.Now(), JKT: jkt,
		})
		return ended, err
	}
	for _, jkt := range []string{"", keyB} {
		if _, err := logoutAll(first.ID, jkt); !errors.Is(err, store.ErrKeyMismatch) {
			t.Fatalf("LogoutAll with key %q: %v, want ErrKeyMismatch", jkt, err)
		}
	}
	// Nothing ended.
	checkSession(t, h, s, first)
	checkSession(t, h, other, otherFirst)

	ended, err := logoutAll(first.ID, keyA)
	if err != nil {
		t.Fatalf("LogoutAll with the session's key: %v", err)
	}
	if len(ended) != 2 {
		t.Errorf("LogoutAll ended %d sessions, want 2", len(ended))
	}
	checkSessionGone(t, h, s.ID)
	checkSessionGone(t, h, other.ID)
}
