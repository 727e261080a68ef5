package issuer

import (
	"cmp"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWKSMaxAge is the longest max-age the JWKS is served with. A verifier may
// keep the document that long, so a next key must be in the key set at
// least that long before it signs (twice that is recommended: see
// [Issuer.ShortLeads]).
const JWKSMaxAge = 300 * time.Second

// Errors of a key set. Every error of [Issuer.NewKeySet] wraps one of them.
var (
	// ErrNoActiveKey: no key of the set has an active_from at or before now.
	ErrNoActiveKey = errors.New("no key is active now")
	// ErrKeyMismatch: a key does not suit the configured algorithm (wrong
	// type or curve, RSA under 2048 bits, an inconsistent key).
	ErrKeyMismatch = errors.New("key does not suit the algorithm")
	// ErrKeySet: the set itself is malformed (empty, a missing or repeated
	// active_from, the same key twice) or cannot be used with the
	// configured algorithm (HS256).
	ErrKeySet = errors.New("invalid key set")
)

// ScheduledKey is one entry of a key set (JWT_KEYS_FILE): a private key and
// the moment it starts signing.
type ScheduledKey struct {
	// PrivateKey signs from ActiveFrom on, until the next key's ActiveFrom.
	PrivateKey crypto.Signer
	// ActiveFrom is when the key starts signing; required.
	ActiveFrom time.Time
	// Name says where the key came from (its file), for error messages.
	// It must not hold key material.
	Name string
}

// KeyState is where a key stands in its life at a given moment.
type KeyState string

// The states of a key. Next, signing and previous keys are published in the
// JWKS and accepted; retired keys are neither.
const (
	StateNext     KeyState = "next"
	StateSigning  KeyState = "signing"
	StatePrevious KeyState = "previous"
	StateRetired  KeyState = "retired"
)

// KeyInfo describes one access-token key at a moment, without key material.
type KeyInfo struct {
	// KID is the key's kid: its RFC 7638 thumbprint, or for an HMAC key a
	// keyed label.
	KID string
	// Algorithm is the JWS algorithm the key is used with.
	Algorithm string
	// ActiveFrom is when the key started or starts signing; the Unix epoch
	// for keys without a schedule (SECRET_KEY, JWT_PRIVATE_KEY_FILE and the
	// previous keys of the simple form).
	ActiveFrom time.Time
	// State is the key's state at the moment asked about.
	State KeyState
}

// alwaysActive is the ActiveFrom of keys without a schedule.
var alwaysActive = time.Unix(0, 0).UTC()

// keyEntry is one key of a keySet.
type keyEntry struct {
	kid        string
	activeFrom time.Time
	// end is when the key stops signing (the next entry's activeFrom);
	// zero for the last scheduled entry and for verify-only entries.
	end time.Time
	// verifyOnly marks a key that never signs but is always published and
	// accepted (SECRET_KEY_PREVIOUS, JWT_PREVIOUS_PUBLIC_KEY_FILES).
	verifyOnly bool
	signKey    any            // nil when verifyOnly
	verifyKey  any            // stored as an interface once, so lookups do not allocate
	header     map[string]any // the JWS header it signs with, shared and read-only
	signer     signer         // header segment and bound method; zero when verifyOnly
	jwk        *jwk           // nil for HMAC keys
}

// KeySet is an immutable set of access-token keys (or refresh-token keys)
// with their schedule. Which key signs, which are published and which are
// accepted at a moment t is a pure function of the set and t: no timer runs,
// every replica with the same file switches at the same instant by its own
// clock. Build one with [Issuer.NewKeySet] and install it with
// [Issuer.SetKeySet].
type KeySet struct {
	alg string
	// entries: the scheduled keys sorted by activeFrom, then the
	// verify-only keys.
	entries []keyEntry
	// retention is how long a key stays published after it stopped signing
	// (ACCESS_TOKEN_TTL + CLOCK_SKEW).
	retention time.Duration
	// phases are the JWKS documents between the moments the published set
	// or the signing key changes, in time order.
	phases []jwksPhase
}

// jwksPhase is the JWKS document valid from start until the next phase.
type jwksPhase struct {
	start time.Time
	doc   []byte
}

// String describes ks without key material.
func (ks *KeySet) String() string {
	return fmt.Sprintf("issuer.KeySet{Algorithm: %q, keys: %d}", ks.alg, len(ks.entries))
}

// GoString is like String, for %#v.
func (ks *KeySet) GoString() string { return ks.String() }

// signingAt returns the entry that signs at now: the scheduled entry with
// the latest activeFrom not after now.
func (ks *KeySet) signingAt(now time.Time) (*keyEntry, bool) {
	for n := len(ks.entries) - 1; n >= 0; n-- {
		e := &ks.entries[n]
		if !e.verifyOnly && !e.activeFrom.After(now) {
			return e, true
		}
	}
	return nil, false
}

// lookup returns the verification key named kid if that key is published
// (and so accepted) at now.
func (ks *KeySet) lookup(kid string, now time.Time) (any, bool) {
	for n := range ks.entries {
		e := &ks.entries[n]
		if e.kid == kid {
			return e.verifyKey, ks.state(e, now) != StateRetired
		}
	}
	return nil, false
}

// state is the state of e at now.
func (ks *KeySet) state(e *keyEntry, now time.Time) KeyState {
	switch {
	case e.verifyOnly:
		return StatePrevious
	case now.Before(e.activeFrom):
		return StateNext
	case e.end.IsZero() || now.Before(e.end):
		return StateSigning
	case now.Before(e.end.Add(ks.retention)):
		return StatePrevious
	}
	return StateRetired
}

// Keys describes every key of the set at now: the scheduled keys in the
// order they sign, then the verify-only keys.
func (ks *KeySet) Keys(now time.Time) []KeyInfo {
	out := make([]KeyInfo, 0, len(ks.entries))
	for n := range ks.entries {
		e := &ks.entries[n]
		out = append(out, KeyInfo{KID: e.kid, Algorithm: ks.alg, ActiveFrom: e.activeFrom, State: ks.state(e, now)})
	}
	return out
}

// Published is the number of keys the JWKS publishes at now (0 for HMAC
// keys, which are never published).
func (ks *KeySet) Published(now time.Time) int {
	n := 0
	for i := range ks.entries {
		if e := &ks.entries[i]; e.jwk != nil && ks.state(e, now) != StateRetired {
			n++
		}
	}
	return n
}

// ShortLeads returns the next keys that start signing less than 2 ×
// JWKSMaxAge after now: a verifier that fetched the JWKS before the key was
// added may not have it yet when it starts signing.
func (ks *KeySet) ShortLeads(now time.Time) []KeyInfo {
	var out []KeyInfo
	for _, k := range ks.Keys(now) {
		if k.State == StateNext && k.ActiveFrom.Sub(now) < 2*JWKSMaxAge {
			out = append(out, k)
		}
	}
	return out
}

// jwks returns the JWKS document at now and how long a cache may keep it:
// until the next moment the document or the signing key changes, at most
// JWKSMaxAge, at least one second.
func (ks *KeySet) jwks(now time.Time) ([]byte, time.Duration) {
	// The last phase that has started; phases[0] starts at the zero time.
	n, found := slices.BinarySearchFunc(ks.phases, now, func(p jwksPhase, t time.Time) int { return p.start.Compare(t) })
	if !found {
		n--
	}
	maxAge := JWKSMaxAge
	if n+1 < len(ks.phases) {
		if d := ks.phases[n+1].start.Sub(now); d < maxAge {
			maxAge = max(d.Truncate(time.Second), time.Second)
		}
	}
	return ks.phases[n].doc, maxAge
}

// buildPhases computes the JWKS document of every interval between the
// moments the set changes: a key starting to sign and a key retiring.
func (ks *KeySet) buildPhases() error {
	moments := []time.Time{{}}
	for _, e := range ks.entries {
		if e.verifyOnly {
			continue
		}
		moments = append(moments, e.activeFrom)
		if !e.end.IsZero() {
			moments = append(moments, e.end.Add(ks.retention))
		}
	}
	slices.SortFunc(moments, time.Time.Compare)
	moments = slices.CompactFunc(moments, time.Time.Equal)
	ks.phases = make([]jwksPhase, 0, len(moments))
	for _, m := range moments {
		doc, err := marshalJWKS(ks.publishedJWKs(m))
		if err != nil {
			return fmt.Errorf("build JWKS: %w", err)
		}
		ks.phases = append(ks.phases, jwksPhase{start: m, doc: doc})
	}
	return nil
}

// publishedJWKs returns the JWKs published at now: the signing key first,
// then the next keys, then the previous ones.
func (ks *KeySet) publishedJWKs(now time.Time) []jwk {
	rank := map[KeyState]int{StateSigning: 0, StateNext: 1, StatePrevious: 2}
	var pub []*keyEntry
	for n := range ks.entries {
		e := &ks.entries[n]
		if e.jwk != nil && ks.state(e, now) != StateRetired {
			pub = append(pub, e)
		}
	}
	slices.SortStableFunc(pub, func(a, b *keyEntry) int {
		return cmp.Compare(rank[ks.state(a, now)], rank[ks.state(b, now)])
	})
	out := make([]jwk, 0, len(pub))
	for _, e := range pub {
		out = append(out, *e.jwk)
	}
	return out
}

// newAsymmetricEntry checks priv against alg and builds its entry.
func newAsymmetricEntry(alg string, priv crypto.Signer, typ string) (keyEntry, error) {
	key, pub, err := signingKey(alg, priv)
	if err != nil {
		return keyEntry{}, fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	k, err := newJWK(alg, pub)
	if err != nil {
		return keyEntry{}, fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	e := keyEntry{
		kid: k.Kid, signKey: key, verifyKey: pub, jwk: &k,
		header: map[string]any{"alg": alg, "typ": typ, "kid": k.Kid},
	}
	if e.signer, err = newSigner(e.header, jwt.GetSigningMethod(alg), key); err != nil {
		return keyEntry{}, fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	return e, nil
}

// newScheduledSet builds and validates the key set of a JWT_KEYS_FILE for
// alg at now, reporting every problem at once.
func newScheduledSet(alg string, keys []ScheduledKey, verifyOnly []keyEntry, retention time.Duration, now time.Time) (*KeySet, error) {
	var problems []error
	if alg == algHS256 {
		return nil, fmt.Errorf("%w: a key set needs RS256, ES256 or EdDSA, not HS256", ErrKeySet)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: it lists no keys", ErrKeySet)
	}
	entries := make([]keyEntry, 0, len(keys)+len(verifyOnly))
	for n, k := range keys {
		name := k.Name
		if name == "" {
			name = fmt.Sprintf("key %d", n+1)
		}
		e, err := newAsymmetricEntry(alg, k.PrivateKey, typAccess)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if k.ActiveFrom.IsZero() {
			problems = append(problems, fmt.Errorf("%s: %w: active_from is required", name, ErrKeySet))
			continue
		}
		e.activeFrom = k.ActiveFrom.UTC()
		if j := slices.IndexFunc(entries, func(o keyEntry) bool { return o.kid == e.kid }); j >= 0 {
			problems = append(problems, fmt.Errorf("%s: %w: the same key is listed twice", name, ErrKeySet))
			continue
		}
		if slices.ContainsFunc(entries, func(o keyEntry) bool { return o.activeFrom.Equal(e.activeFrom) }) {
			problems = append(problems, fmt.Errorf("%s: %w: another key has the same active_from", name, ErrKeySet))
			continue
		}
		entries = append(entries, e)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	slices.SortFunc(entries, func(a, b keyEntry) int { return a.activeFrom.Compare(b.activeFrom) })
	for n := range len(entries) - 1 {
		entries[n].end = entries[n+1].activeFrom
	}
	for _, v := range verifyOnly {
		if !slices.ContainsFunc(entries, func(o keyEntry) bool { return o.kid == v.kid }) {
			entries = append(entries, v)
		}
	}
	ks := &KeySet{alg: alg, entries: entries, retention: retention}
	if _, ok := ks.signingAt(now); !ok {
		return nil, fmt.Errorf("%w: the earliest active_from is %s, after now", ErrNoActiveKey,
			entries[0].activeFrom.Format(time.RFC3339))
	}
	if err := ks.buildPhases(); err != nil {
		return nil, err
	}
	return ks, nil
}

// newStaticSet builds a set whose first key always signs and whose other
// keys are always accepted: HMAC keys, and the simple asymmetric form.
func newStaticSet(alg string, signer keyEntry, verifyOnly []keyEntry) (*KeySet, error) {
	signer.activeFrom = alwaysActive
	entries := []keyEntry{signer}
	for _, v := range verifyOnly {
		if !slices.ContainsFunc(entries, func(o keyEntry) bool { return o.kid == v.kid }) {
			entries = append(entries, v)
		}
	}
	ks := &KeySet{alg: alg, entries: entries}
	if err := ks.buildPhases(); err != nil {
		return nil, err
	}
	return ks, nil
}

// verifyOnlyEntry builds the entry of a previous public key.
func verifyOnlyEntry(alg string, pub crypto.PublicKey) (keyEntry, error) {
	p, err := verificationKey(alg, pub)
	if err != nil {
		return keyEntry{}, fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	k, err := newJWK(alg, p)
	if err != nil {
		return keyEntry{}, fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	return keyEntry{kid: k.Kid, verifyKey: p, jwk: &k, verifyOnly: true, activeFrom: alwaysActive}, nil
}

// hmacEntries builds the entries of HMAC keys: current signs, previous only
// verify. The keys are copies.
func hmacEntries(current []byte, previous [][]byte, typ string) (keyEntry, []keyEntry) {
	mk := func(k []byte) keyEntry {
		kid := hmacKID(k)
		key := any(slices.Clone(k))
		e := keyEntry{kid: kid, signKey: key, verifyKey: key, activeFrom: alwaysActive,
			header: map[string]any{"alg": algHS256, "typ": typ, "kid": kid}}
		// A map of strings and a []byte key: newSigner cannot fail here.
		e.signer, _ = newSigner(e.header, jwt.SigningMethodHS256, key)
		return e
	}
	prev := make([]keyEntry, 0, len(previous))
	for _, p := range previous {
		e := mk(p)
		e.verifyOnly = true
		prev = append(prev, e)
	}
	return mk(current), prev
}
