package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/redistest"
)

// jwksCache is what a typical resource server runs: it keeps the JWKS as
// long as its Cache-Control max-age says, and on a kid it does not know it
// fetches again, at most once per 10 seconds.
type jwksCache struct {
	url string
	hc  *http.Client

	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey
	expires   time.Time
	lastFetch time.Time
	fetches   int
	maxAges   []int // the max-age of every fetch
	unknown   int   // fetches caused by an unknown kid
}

// unknownKIDInterval is the shortest time between two fetches caused by an
// unknown kid.
const unknownKIDInterval = 10 * time.Second

// keyfunc is the jwt.Keyfunc of the cache.
func (c *jwksCache) keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.After(c.expires) {
		if err := c.fetch(now); err != nil {
			return nil, err
		}
	}
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	if now.Sub(c.lastFetch) >= unknownKIDInterval {
		c.unknown++
		if err := c.fetch(now); err != nil {
			return nil, err
		}
		if k, ok := c.keys[kid]; ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// fetch loads the JWKS; c.mu is held.
func (c *jwksCache) fetch(now time.Time) error {
	c.lastFetch = now
	c.fetches++
	resp, err := c.hc.Get(c.url)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	var doc struct {
		Keys []struct {
			Kty, Crv, Kid, X, Y, Alg string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil {
			return errors.New("fetch JWKS: bad coordinates")
		}
		keys[k.Kid] = &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	}
	c.keys = keys
	maxAge := 0
	for _, d := range strings.Split(resp.Header.Get("Cache-Control"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			maxAge, _ = strconv.Atoi(v)
		}
	}
	c.maxAges = append(c.maxAges, maxAge)
	c.expires = now.Add(time.Duration(maxAge) * time.Second)
	return nil
}

// TestE2E_KeySwitchUnderLoad runs two replicas on one Redis with a key set
// whose next key starts signing seconds into the run, while clients log in,
// refresh and introspect on both, and a resource server verifies every
// access token through a JWKS cache that honours Cache-Control and
// refetches on an unknown kid at most once per 10 s. Across the switch
// there must be no verification failure and no 5xx.
func TestE2E_KeySwitchUnderLoad(t *testing.T) {
	rds := redistest.Start(t)
	kf := newKeyFiles(t)
	a, b := mustES256(t), mustES256(t)
	kf.add(t, "a.pem", a)
	kf.add(t, "b.pem", b)
	kidA, kidB := ecThumbprint(&a.PublicKey), ecThumbprint(&b.PublicKey)
	switchAt := time.Now().Add(10 * time.Second).Truncate(time.Second)
	env := es256Env(t, rds.URL(), kf.schedule(t, "a.pem", time.Now().Add(-time.Hour), "b.pem", switchAt))
	env["LOG_LEVEL"] = "warn"
	replicas := []*proc{startAuthsvc(t, env), startAuthsvc(t, env)}
	if time.Until(switchAt) < 2*time.Second {
		t.Fatalf("the replicas took too long to start: the switch is %s away", time.Until(switchAt))
	}
	for _, r := range replicas {
		if !strings.Contains(r.logs.String(), "a next key starts signing sooner than twice the JWKS max-age") {
			t.Errorf("no warning about the short lead of the next key")
		}
	}

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	cache := &jwksCache{url: replicas[0].URL + "/.well-known/jwks.json", hc: hc}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience), jwt.WithExpirationRequired())

	var (
		requests, fiveXX, otherErrors, verified, verifyFailures, inactive atomic.Int64
		byKID                                                             sync.Map // kid → *atomic.Int64
		mu                                                                sync.Mutex
		failures                                                          []string
	)
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	post := func(u string, kv ...string) (int, map[string]any) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		requests.Add(1)
		resp, err := hc.PostForm(u, v)
		if err != nil {
			otherErrors.Add(1)
			note("POST %s: %v", u, err)
			return 0, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 500 {
			fiveXX.Add(1)
			note("POST %s: %d %v", u, resp.StatusCode, m["error"])
		} else if resp.StatusCode != http.StatusOK {
			otherErrors.Add(1)
			note("POST %s: %d %v", u, resp.StatusCode, m["error"])
		}
		return resp.StatusCode, m
	}
	check := func(tok string) {
		if _, err := parser.Parse(tok, cache.keyfunc); err != nil {
			verifyFailures.Add(1)
			note("verify: %v", err)
			return
		}
		verified.Add(1)
		h, _ := jwtParts(t, tok)
		kid, _ := h["kid"].(string)
		n, _ := byKID.LoadOrStore(kid, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}

	end := switchAt.Add(5 * time.Second)
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := func(i int) string { return replicas[(w+i)%2].URL }
			status, m := post(base(0)+"/token", "grant_type", "password", "username", "alice", "password", alicePassword)
			if status != http.StatusOK {
				return
			}
			rt, _ := m["refresh_token"].(string)
			check(m["access_token"].(string))
			for i := 1; time.Now().Before(end); i++ {
				status, m := post(base(i)+"/refresh", "refresh_token", rt)
				if status != http.StatusOK {
					return
				}
				rt, _ = m["refresh_token"].(string)
				at, _ := m["access_token"].(string)
				check(at)
				if i%4 == 0 {
					// The other replica accepts the token too.
					status, m := post(base(i+1)+"/introspect", "token", at, "client_id", "intro", "client_secret", introSecret)
					if status == http.StatusOK && m["active"] != true {
						inactive.Add(1)
						note("introspect: inactive")
					}
				}
			}
		}()
	}
	wg.Wait()

	count := func(kid string) int64 {
		if n, ok := byKID.Load(kid); ok {
			return n.(*atomic.Int64).Load()
		}
		return 0
	}
	cache.mu.Lock()
	fetches, maxAges, unknown := cache.fetches, cache.maxAges, cache.unknown
	cache.mu.Unlock()
	t.Logf("key switch under load: %d requests, %d tokens verified (%d by the old key, %d by the new), "+
		"%d verification failures, %d 5xx, %d other errors, %d inactive at /introspect; JWKS fetched %d times (max-age %v), %d of them for an unknown kid",
		requests.Load(), verified.Load(), count(kidA), count(kidB), verifyFailures.Load(), fiveXX.Load(),
		otherErrors.Load(), inactive.Load(), fetches, maxAges, unknown)
	if verifyFailures.Load() != 0 || fiveXX.Load() != 0 || otherErrors.Load() != 0 || inactive.Load() != 0 {
		t.Errorf("failures across the switch: %v", failures)
	}
	// The next key was published before it signed: no token ever came
	// with a kid the cache had to go looking for.
	if unknown != 0 {
		t.Errorf("%d JWKS fetches for an unknown kid: the next key was not published ahead", unknown)
	}
	if count(kidA) == 0 || count(kidB) == 0 {
		t.Errorf("the run did not cover the switch: %d tokens of the old key, %d of the new", count(kidA), count(kidB))
	}
}
