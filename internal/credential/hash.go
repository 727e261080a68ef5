package credential

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/oauth"
)

// ErrInvalidHash is the error (tested with errors.Is) for a stored hash that
// cannot be parsed or whose parameters are outside the accepted limits. Its
// messages describe the problem, never the hash itself.
var ErrInvalidHash = errors.New("credential: invalid hash")

// Parameters Hash writes: OWASP Password Storage Cheat Sheet, argon2id
// m=19 MiB, t=2, p=1.
const (
	argonMemory  = 19456
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Limits on hashes read from a file, so that a hostile or mistaken file cannot
// make every login allocate gigabytes or burn CPU for minutes.
const (
	maxArgonMemory  = 1 << 20 // KiB, 1 GiB
	maxArgonTime    = 10
	maxArgonThreads = 16
	minArgonSaltLen = 8 // RFC 9106 §3.1
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 128
	maxBcryptCost   = 16 // about 5 s per verification on current hardware

	// bcryptMaxPassword is the number of password bytes bcrypt reads.
	bcryptMaxPassword = 72
)

// Recommended minimums; a weaker hash is a Parse warning.
const (
	recommendedBcryptCost = 12
	recommendedSaltLen    = 16
)

// owaspArgon2id lists the argon2id settings (memory in KiB, passes) of the
// OWASP Password Storage Cheat Sheet, all with one lane. A hash is strong
// enough when its memory and passes both reach those of one row.
var owaspArgon2id = [...]struct{ memory, time uint32 }{
	{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5},
}

// Fast client-secret hash: HMAC-SHA256 keyed by a random salt.
const (
	secretBytes        = 32 // 256 bits
	fastSaltLen        = 16
	minFastSaltLen     = 16
	maxFastSaltLen     = 64
	minFastSecretBytes = 32 // shorter secrets could be guessable; never matched
)

const (
	prefixArgon2id = "$argon2id$"
	prefixSHA256   = "$sha256$"
)

// b64 is the unpadded standard base64 of PHC strings.
var b64 = base64.RawStdEncoding.Strict()

type hashKind int

const (
	kindBcrypt hashKind = iota + 1
	kindArgon2id
	kindSHA256
)

func (k hashKind) String() string {
	switch k {
	case kindBcrypt:
		return "bcrypt"
	case kindArgon2id:
		return "argon2id"
	case kindSHA256:
		return "sha256"
	}
	return "unknown"
}

// hashParams is the algorithm and cost settings of a hash, without its salt
// and digest. It is comparable, so hashes can be grouped by it.
type hashParams struct {
	kind    hashKind
	cost    int    // bcrypt
	memory  uint32 // argon2id, KiB
	time    uint32 // argon2id
	threads uint8  // argon2id
	saltLen int    // argon2id, sha256
	keyLen  int    // argon2id, sha256
}

func (p hashParams) String() string {
	switch p.kind {
	case kindBcrypt:
		return fmt.Sprintf("bcrypt cost %d", p.cost)
	case kindArgon2id:
		return fmt.Sprintf("argon2id m=%d KiB, t=%d, p=%d", p.memory, p.time, p.threads)
	}
	return p.kind.String()
}

// weakness returns why a hash with these settings is weaker than
// recommended, or "" when it is not.
func (p hashParams) weakness() string {
	switch p.kind {
	case kindBcrypt:
		if p.cost < recommendedBcryptCost {
			return fmt.Sprintf("bcrypt cost %d is below the recommended %d", p.cost, recommendedBcryptCost)
		}
	case kindArgon2id:
		strong := false
		for _, row := range owaspArgon2id {
			if p.memory >= row.memory && p.time >= row.time {
				strong = true
				break
			}
		}
		if !strong {
			return fmt.Sprintf("argon2id m=%d KiB, t=%d is below every OWASP recommendation (e.g. m=19456 KiB, t=2)", p.memory, p.time)
		}
		if p.saltLen < recommendedSaltLen {
			return fmt.Sprintf("argon2id salt of %d bytes is shorter than the recommended %d", p.saltLen, recommendedSaltLen)
		}
	}
	return ""
}

// parsedHash is a stored hash, parsed once so that authentication does not
// parse it again. It never prints its salt or digest.
type parsedHash struct {
	hashParams
	bcrypt []byte // bcrypt: the encoded hash, as x/crypto/bcrypt reads it
	salt   []byte // argon2id, sha256
	key    []byte // argon2id, sha256
}

// String describes the hash without revealing it.
func (h *parsedHash) String() string { return h.hashParams.String() + " hash" }

// GoString describes the hash without revealing it.
func (h *parsedHash) GoString() string { return h.String() }

// hashError is an ErrInvalidHash with a description of the problem.
type hashError struct{ detail string }

func (e *hashError) Error() string        { return ErrInvalidHash.Error() + ": " + e.detail }
func (e *hashError) Is(target error) bool { return target == ErrInvalidHash }

func invalidHash(format string, args ...any) error {
	return &hashError{detail: fmt.Sprintf(format, args...)}
}

// hashProblem returns the description of a parse error for file messages.
func hashProblem(err error) string {
	var he *hashError
	if errors.As(err, &he) {
		return he.detail
	}
	return "invalid hash"
}

// parseHash parses a bcrypt, argon2id or sha256 hash and checks it against
// the limits. Its errors never contain the hash.
func parseHash(encoded string) (*parsedHash, error) {
	switch {
	case strings.HasPrefix(encoded, "$2"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, prefixArgon2id):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, prefixSHA256):
		return parseSHA256(encoded)
	case strings.HasPrefix(encoded, "$argon2i$"), strings.HasPrefix(encoded, "$argon2d$"):
		return nil, invalidHash("only the argon2id variant of argon2 is supported")
	case encoded == "":
		return nil, invalidHash("empty")
	}
	return nil, invalidHash("unrecognised format (want bcrypt, argon2id or sha256)")
}

// parseBcrypt accepts "$2a$", "$2b$" and "$2y$" hashes: the same algorithm,
// labelled differently by different implementations.
func parseBcrypt(encoded string) (*parsedHash, error) {
	const size = 60 // "$2b$" + 2-digit cost + "$" + 22 salt + 31 hash characters
	if len(encoded) != size || encoded[3] != '$' || encoded[6] != '$' ||
		!strings.ContainsRune("aby", rune(encoded[2])) {
		return nil, invalidHash("malformed bcrypt hash (want $2a$, $2b$ or $2y$, 60 characters)")
	}
	if !isDigit(encoded[4]) || !isDigit(encoded[5]) {
		return nil, invalidHash("malformed bcrypt cost")
	}
	cost := int(encoded[4]-'0')*10 + int(encoded[5]-'0')
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, invalidHash("bcrypt cost %d is not between %d and %d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if cost > maxBcryptCost {
		return nil, invalidHash("bcrypt cost %d is above the limit of %d", cost, maxBcryptCost)
	}
	for i := 7; i < size; i++ {
		if !isBcryptBase64(encoded[i]) {
			return nil, invalidHash("malformed bcrypt salt or digest")
		}
	}
	return &parsedHash{
		hashParams: hashParams{kind: kindBcrypt, cost: cost},
		bcrypt:     []byte(encoded),
	}, nil
}

func parseArgon2id(encoded string) (*parsedHash, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 {
		return nil, invalidHash("malformed argon2id hash (want $argon2id$v=19$m=…,t=…,p=…$salt$key)")
	}
	if parts[2] != "v=19" {
		if strings.HasPrefix(parts[2], "v=") {
			return nil, invalidHash("unsupported argon2id version (want v=19)")
		}
		return nil, invalidHash("malformed argon2id version")
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, invalidHash("malformed argon2id parameters (want m=…,t=…,p=…)")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(fields[i], name)
		if !ok || digits == "" || len(digits) > 10 || strings.TrimLeft(digits, "0123456789") != "" {
			return nil, invalidHash("malformed argon2id parameters (want m=…,t=…,p=…)")
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return nil, invalidHash("malformed argon2id parameters (want m=…,t=…,p=…)")
		}
		vals[i] = v
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case t < 1 || p < 1:
		return nil, invalidHash("argon2id t and p must be at least 1")
	case m < 8*p:
		return nil, invalidHash("argon2id m must be at least 8×p KiB")
	case m > maxArgonMemory:
		return nil, invalidHash("argon2id m=%d KiB is above the limit of %d KiB", m, maxArgonMemory)
	case t > maxArgonTime:
		return nil, invalidHash("argon2id t=%d is above the limit of %d", t, maxArgonTime)
	case p > maxArgonThreads:
		return nil, invalidHash("argon2id p=%d is above the limit of %d", p, maxArgonThreads)
	}
	salt, ok := decodeB64(parts[4])
	if !ok {
		return nil, invalidHash("malformed argon2id salt (want unpadded standard base64)")
	}
	if len(salt) < minArgonSaltLen || len(salt) > maxArgonSaltLen {
		return nil, invalidHash("argon2id salt of %d bytes is not between %d and %d", len(salt), minArgonSaltLen, maxArgonSaltLen)
	}
	key, ok := decodeB64(parts[5])
	if !ok {
		return nil, invalidHash("malformed argon2id digest (want unpadded standard base64)")
	}
	if len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return nil, invalidHash("argon2id digest of %d bytes is not between %d and %d", len(key), minArgonKeyLen, maxArgonKeyLen)
	}
	return &parsedHash{
		hashParams: hashParams{
			kind: kindArgon2id, memory: uint32(m), time: uint32(t), threads: uint8(p),
			saltLen: len(salt), keyLen: len(key),
		},
		salt: salt,
		key:  key,
	}, nil
}

func parseSHA256(encoded string) (*parsedHash, error) {
	parts := strings.Split(encoded, "$")
	// "", "sha256", salt, mac
	if len(parts) != 4 {
		return nil, invalidHash("malformed sha256 hash (want $sha256$salt$digest)")
	}
	salt, ok := decodeB64(parts[2])
	if !ok {
		return nil, invalidHash("malformed sha256 salt (want unpadded standard base64)")
	}
	if len(salt) < minFastSaltLen || len(salt) > maxFastSaltLen {
		return nil, invalidHash("sha256 salt of %d bytes is not between %d and %d", len(salt), minFastSaltLen, maxFastSaltLen)
	}
	key, ok := decodeB64(parts[3])
	if !ok || len(key) != sha256.Size {
		return nil, invalidHash("malformed sha256 digest (want %d bytes in unpadded standard base64)", sha256.Size)
	}
	return &parsedHash{
		hashParams: hashParams{kind: kindSHA256, saltLen: len(salt), keyLen: len(key)},
		salt:       salt,
		key:        key,
	}, nil
}

// decodeB64 decodes unpadded standard base64, refusing every character
// outside its alphabet (the decoder itself skips line breaks).
func decodeB64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '/' {
			return nil, false
		}
	}
	b, err := b64.DecodeString(s)
	return b, err == nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isBcryptBase64(c byte) bool { return isAlnum(c) || c == '.' || c == '/' }

// verify reports whether password matches h, in time that depends on the
// hash settings and not on the password. bcrypt and argon2id run under
// gate (gate.go; nil: ungated): they wait for a slot while ctx allows, and
// return the gate's error, having verified nothing, when it does not. A
// password over 72 bytes never matches a bcrypt hash, but still costs a
// full bcrypt computation, so the refusal is not faster.
func (h *parsedHash) verify(ctx context.Context, password []byte, gate *Gate) (bool, error) {
	switch h.kind {
	case kindSHA256:
		mac := hmac.New(sha256.New, h.salt)
		mac.Write(password)
		match := hmac.Equal(mac.Sum(nil), h.key)
		return match && len(password) >= minFastSecretBytes, nil

	case kindArgon2id:
		release, err := gate.acquire(ctx)
		if err != nil {
			return false, err
		}
		defer release()
		got := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(h.keyLen)) //nolint:gosec // keyLen is bounded by the parser (hash.go limits)
		return subtle.ConstantTimeCompare(got, h.key) == 1, nil

	case kindBcrypt:
		release, err := gate.acquire(ctx)
		if err != nil {
			return false, err
		}
		defer release()
		tooLong := len(password) > bcryptMaxPassword
		if tooLong {
			password = password[:bcryptMaxPassword]
		}
		err = bcrypt.CompareHashAndPassword(h.bcrypt, password)
		switch {
		case err == nil:
			return !tooLong, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, fmt.Errorf("%w: bcrypt rejected the hash", ErrInvalidHash)
	}
	return false, ErrInvalidHash
}

// Hash returns the argon2id hash of password in PHC form with the OWASP
// settings (m=19456 KiB, t=2, p=1), a random 16-byte salt and a 32-byte key:
// the format the credentials file takes. An empty password or one over
// oauth.MaxPasswordLen bytes is an error.
func Hash(password []byte) (string, error) {
	if len(password) == 0 {
		return "", errors.New("credential: hash password: password is empty")
	}
	if len(password) > oauth.MaxPasswordLen {
		return "", fmt.Errorf("credential: hash password: password is longer than %d bytes", oauth.MaxPasswordLen)
	}
	return newHash(hashParams{
		kind: kindArgon2id, memory: argonMemory, time: argonTime, threads: argonThreads,
		saltLen: argonSaltLen, keyLen: argonKeyLen,
	}, password)
}

// Verify reports whether password matches the encoded hash: bcrypt ($2a$,
// $2b$, $2y$), argon2id in PHC form, or the sha256 client-secret hash, each
// within the limits described in the package documentation. The comparison
// is constant-time. A password over 72 bytes never matches a bcrypt hash,
// and a secret under 32 bytes never matches a sha256 hash. The error, which
// wraps ErrInvalidHash, is only for a hash that cannot be parsed or is out
// of limits; a wrong password is (false, nil). With WithGate, bcrypt and
// argon2id wait for the gate.
func Verify(encoded string, password []byte, opts ...Option) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	return h.verify(context.Background(), password, newOptions(opts).gate)
}

// GenerateClientSecret returns a new client secret of 256 random bits,
// base64url-encoded without padding (43 characters), and its hash for the
// client_secret_hash field: the fast "$sha256$<salt>$<digest>" form, HMAC-SHA256
// keyed by a random 16-byte salt. A slow hash would buy nothing against a
// secret nobody can guess, and would cost CPU on every client authentication.
func GenerateClientSecret() (secret string, hash string, err error) {
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("credential: generate client secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(raw)
	hash, err = newHash(hashParams{kind: kindSHA256, saltLen: fastSaltLen, keyLen: sha256.Size}, []byte(secret))
	if err != nil {
		return "", "", err
	}
	return secret, hash, nil
}

// newHash hashes password with the given settings and a fresh random salt.
func newHash(p hashParams, password []byte) (string, error) {
	switch p.kind {
	case kindBcrypt:
		b, err := bcrypt.GenerateFromPassword(password, p.cost)
		if err != nil {
			return "", fmt.Errorf("credential: bcrypt: %w", err)
		}
		return string(b), nil
	case kindArgon2id:
		salt := make([]byte, p.saltLen)
		if _, err := rand.Read(salt); err != nil {
			return "", fmt.Errorf("credential: salt: %w", err)
		}
		key := argon2.IDKey(password, salt, p.time, p.memory, p.threads, uint32(p.keyLen)) //nolint:gosec // keyLen is a fixed setting of at most 64 bytes
		return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", prefixArgon2id, argon2.Version,
			p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
	case kindSHA256:
		salt := make([]byte, p.saltLen)
		if _, err := rand.Read(salt); err != nil {
			return "", fmt.Errorf("credential: salt: %w", err)
		}
		mac := hmac.New(sha256.New, salt)
		mac.Write(password)
		return prefixSHA256 + b64.EncodeToString(salt) + "$" + b64.EncodeToString(mac.Sum(nil)), nil
	}
	return "", fmt.Errorf("credential: cannot hash with %v", p.kind)
}

// dummyHash returns a real hash of a random password with the settings p,
// for verifying attempts on unknown names. Its encoded form is returned for
// tests.
func dummyHash(p hashParams) (*parsedHash, string, error) {
	password := make([]byte, 32)
	if _, err := rand.Read(password); err != nil {
		return nil, "", fmt.Errorf("credential: dummy password: %w", err)
	}
	// A printable password, valid for every algorithm (bcrypt reads 72 bytes).
	encoded, err := newHash(p, []byte(base64.RawURLEncoding.EncodeToString(password)))
	if err != nil {
		return nil, "", err
	}
	h, err := parseHash(encoded)
	if err != nil {
		return nil, "", fmt.Errorf("credential: dummy hash: %w", err)
	}
	return h, encoded, nil
}
