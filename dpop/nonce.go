package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Nonces makes and checks server nonces (RFC 9449 §8) without state: a
// nonce is a time step and a MAC of it, so every replica that holds the same
// key accepts every other's nonces, and nothing is stored. A nonce made in
// step n is accepted during steps n−1 (a replica whose clock is a little
// behind), n and n+1, so it stays good for at least one whole step. It is
// safe for concurrent use.
type Nonces struct {
	key  []byte
	step time.Duration
	now  func() time.Time
}

// nonceMACBytes is the length of a nonce's MAC (128 bits).
const nonceMACBytes = 16

// nonceBytes is the length of a decoded nonce: the step and the MAC.
const nonceBytes = 8 + nonceMACBytes

// NewNonces returns Nonces keyed with key (at least 32 random bytes, the
// same on every replica) whose nonces change every step (at least a
// second). now is the clock; nil means time.Now.
func NewNonces(key []byte, step time.Duration, now func() time.Time) (*Nonces, error) {
	if len(key) < 32 {
		return nil, errors.New("dpop: nonce key shorter than 32 bytes")
	}
	if step < time.Second {
		return nil, errors.New("dpop: nonce step shorter than a second")
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{key: append([]byte(nil), key...), step: step, now: now}, nil
}

// index returns the number of the step t is in.
func (n *Nonces) index(t time.Time) uint64 {
	return uint64(t.UnixNano() / int64(n.step)) //nolint:gosec // times after 1970: never negative
}

// make returns the nonce of step i.
func (n *Nonces) make(i uint64) string {
	b := make([]byte, 8, nonceBytes)
	binary.BigEndian.PutUint64(b, i)
	m := hmac.New(sha256.New, n.key)
	m.Write(b)
	b = m.Sum(b)[:nonceBytes]
	return base64.RawURLEncoding.EncodeToString(b)
}

// Current returns the nonce to hand out now, for the DPoP-Nonce header.
func (n *Nonces) Current() string {
	return n.make(n.index(n.now()))
}

// Valid reports whether nonce was made by Nonces with the same key in the
// previous, the current or the next step.
func (n *Nonces) Valid(nonce string) bool {
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceBytes {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceBytes {
		return false
	}
	i, cur := binary.BigEndian.Uint64(b), n.index(n.now())
	if i+1 < cur || i > cur+1 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(n.make(i)), []byte(nonce)) == 1
}
