package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Fetch limits and refresh timing.
const (
	// maxDocument bounds a metadata or JWKS body.
	maxDocument = 1 << 20
	// unknownKIDInterval is the least time between two fetches caused by
	// unknown key ids.
	unknownKIDInterval = 10 * time.Second
	// minRefresh and maxRefresh clamp the JWKS max-age; defaultRefresh is
	// used when the JWKS says nothing (or no-store/no-cache).
	maxRefresh     = 24 * time.Hour
	defaultRefresh = 5 * time.Minute
	// retryRefresh is the pause after a failed background fetch.
	retryRefresh = 10 * time.Second
	// fetchTimeout bounds one metadata or JWKS fetch.
	fetchTimeout = 10 * time.Second
	// minRSABits is the smallest RSA key accepted, as in authsvc.
	minRSABits = 2048
)

// minRefresh is the shortest time a JWKS is used before it is fetched
// again, whatever its max-age says (a variable for the tests).
var minRefresh = 30 * time.Second

// metadata are the fields of the issuer's RFC 8414 document the Verifier
// uses.
type metadata struct {
	Issuer                 string `json:"issuer"`
	JWKSURI                string `json:"jwks_uri"`
	RevocationFeedEndpoint string `json:"revocation_feed_endpoint"`
}

// metadataURL returns the RFC 8414 §3.1 address of issuer's metadata: the
// well-known segment goes between the host and any path.
func metadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("verifier: Issuer %q is not an http(s) URL; set JWKSURL (and Feed.URL)", issuer)
	}
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// discover fetches the issuer's metadata and checks that it names the same
// issuer (RFC 8414 §3.3).
func discover(ctx context.Context, client *http.Client, issuer string) (metadata, error) {
	u, err := metadataURL(issuer)
	if err != nil {
		return metadata{}, err
	}
	body, _, err := get(ctx, client, u, nil)
	if err != nil {
		return metadata{}, fmt.Errorf("verifier: fetch the issuer's metadata: %w", err)
	}
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return metadata{}, fmt.Errorf("verifier: the issuer's metadata is not JSON: %w", err)
	}
	if md.Issuer != issuer {
		return metadata{}, fmt.Errorf("verifier: the metadata at %s names issuer %q, want %q", u, md.Issuer, issuer)
	}
	return md, nil
}

// get fetches u with ctx (bounded by fetchTimeout unless ctx is shorter),
// with the headers in hdr, and returns the body (at most maxDocument bytes)
// of a 200 answer and its headers.
func get(ctx context.Context, client *http.Client, u string, hdr http.Header) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if len(body) > maxDocument {
		return nil, nil, fmt.Errorf("GET %s: body larger than %d bytes", u, maxDocument)
	}
	return body, resp.Header, nil
}

// jwksSource fetches the JWKS into set and keeps it fresh.
type jwksSource struct {
	url    string
	client *http.Client
	now    func() time.Time
	set    *atomic.Pointer[keySet]

	// fetches counts every fetch (tests read it through FetchCount).
	fetches atomic.Int64
	// next is when the background refresh fetches again (unix nanos).
	next atomic.Int64
	// mu serialises the fetches caused by unknown key ids; lastUnknown is
	// when the last of them ran.
	mu          sync.Mutex
	lastUnknown time.Time
}

// fetch fetches the JWKS and, when it parses, replaces the key set and
// schedules the next refresh by its Cache-Control.
func (j *jwksSource) fetch(ctx context.Context) error {
	j.fetches.Add(1)
	body, hdr, err := get(ctx, j.client, j.url, nil)
	if err != nil {
		return fmt.Errorf("verifier: fetch the JWKS: %w", err)
	}
	ks, err := parseJWKS(body)
	if err != nil {
		return fmt.Errorf("verifier: JWKS at %s: %w", j.url, err)
	}
	j.set.Store(&ks)
	j.next.Store(j.now().Add(refreshAfter(hdr.Get("Cache-Control"))).UnixNano())
	return nil
}

// refreshAfter returns how long a JWKS may be used by its Cache-Control
// header (RFC 9111 §5.2.2): max-age, clamped to [minRefresh, maxRefresh];
// defaultRefresh when there is none. no-store and no-cache mean "check
// again soon": minRefresh.
func refreshAfter(cc string) time.Duration {
	d := time.Duration(-1)
	for _, part := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return minRefresh
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				d = time.Duration(min(n, int64(maxRefresh/time.Second))) * time.Second
			}
		}
	}
	if d < 0 {
		return defaultRefresh
	}
	return min(max(d, minRefresh), maxRefresh)
}

// run refreshes the JWKS when it is due, until ctx is done. A failed fetch
// keeps the keys in use and is tried again after retryRefresh.
func (j *jwksSource) run(ctx context.Context) {
	for {
		wait := max(time.Unix(0, j.next.Load()).Sub(j.now()), 0)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if time.Unix(0, j.next.Load()).After(j.now()) {
			continue // an unknown kid fetched meanwhile
		}
		if err := j.fetch(ctx); err != nil {
			j.next.Store(j.now().Add(retryRefresh).UnixNano())
		}
	}
}

// refetchFor fetches the JWKS for an unknown kid, unless a fetch for an
// unknown kid ran in the last unknownKIDInterval. It reports whether kid is
// known afterwards.
func (j *jwksSource) refetchFor(ctx context.Context, kid string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := (*j.set.Load())[kid]; ok {
		return true // another request fetched it meanwhile
	}
	now := j.now()
	if !j.lastUnknown.IsZero() && now.Sub(j.lastUnknown) < unknownKIDInterval {
		return false
	}
	j.lastUnknown = now
	if err := j.fetch(ctx); err != nil {
		return false
	}
	_, ok := (*j.set.Load())[kid]
	return ok
}

// parseJWKS reads the signing keys of a JWKS: RSA of at least 2048 bits
// (RS256), EC P-256 (ES256) and Ed25519 (EdDSA), each pinned to its
// algorithm. Keys for encryption, private keys, keys whose alg does not fit
// their type, and keys without kid are left out.
func parseJWKS(body []byte) (keySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("not a JWK set: %w", err)
	}
	ks := keySet{}
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			continue // a key this package cannot use is not an error
		}
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		alg, ok := algOf(k.Key)
		if !ok || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		ks[k.KeyID] = key{alg: alg, key: k.Key}
	}
	if len(raw.Keys) > 0 && len(ks) == 0 {
		return nil, errors.New("no usable signing key")
	}
	return ks, nil
}

// algOf returns the one algorithm a public key may verify.
func algOf(k any) (string, bool) {
	switch p := k.(type) {
	case *rsa.PublicKey:
		return "RS256", p.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return "ES256", p.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return "EdDSA", len(p) == ed25519.PublicKeySize
	}
	return "", false
}
