package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/verifier"
)

// jwksWatch is an http.RoundTripper that records every JWKS fetch: when it
// happened and the max-age it was given.
type jwksWatch struct {
	mu      sync.Mutex
	at      []time.Time
	maxAges []string
}

func (w *jwksWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/jwks.json") {
		w.mu.Lock()
		w.at = append(w.at, time.Now())
		w.maxAges = append(w.maxAges, resp.Header.Get("Cache-Control"))
		w.mu.Unlock()
	}
	return resp, err
}

// TestE2E_KeySwitchUnderLoad runs two replicas on one Redis with a key set
// whose next key starts signing seconds into the run, while clients log in,
// refresh and introspect on both, and a resource server verifies every
// access token with the verifier package (it caches the JWKS as
// Cache-Control says and refetches on an unknown kid at most once per
// 10 s). Across the switch there must be no verification failure and no
// 5xx, and no JWKS fetch after the switch: the next key was known ahead.
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
	watch := &jwksWatch{}
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuer: testIssuer, Audience: testAudience, JWKSURL: replicas[0].URL + "/.well-known/jwks.json",
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: watch},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

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
		if _, err := v.Verify(context.Background(), tok); err != nil {
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
	watch.mu.Lock()
	fetchedAt, maxAges := watch.at, watch.maxAges
	watch.mu.Unlock()
	afterSwitch := 0
	for _, at := range fetchedAt {
		if !at.Before(switchAt) {
			afterSwitch++
		}
	}
	t.Logf("key switch under load: %d requests, %d tokens verified (%d by the old key, %d by the new), "+
		"%d verification failures, %d 5xx, %d other errors, %d inactive at /introspect; JWKS fetched %d times (%q), %d of them after the switch",
		requests.Load(), verified.Load(), count(kidA), count(kidB), verifyFailures.Load(), fiveXX.Load(),
		otherErrors.Load(), inactive.Load(), len(fetchedAt), maxAges, afterSwitch)
	if verifyFailures.Load() != 0 || fiveXX.Load() != 0 || otherErrors.Load() != 0 || inactive.Load() != 0 {
		t.Errorf("failures across the switch: %v", failures)
	}
	// The next key was published before it signed: the verifier never had
	// to go looking for a kid (its background refresh waits at least 30 s,
	// longer than the run after the switch).
	if afterSwitch != 0 {
		t.Errorf("%d JWKS fetches after the switch: the next key was not known ahead", afterSwitch)
	}
	if count(kidA) == 0 || count(kidB) == 0 {
		t.Errorf("the run did not cover the switch: %d tokens of the old key, %d of the new", count(kidA), count(kidB))
	}
}
