package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The third-party DPoP client: panva's dpop package from npm, run with node
// from e2e/testdata/dpop-client. It shares no code with authsvc, so the
// proofs it makes check authsvc against someone else's reading of RFC 9449.

// dpopClientDir holds the client's package.json (dpop pinned), its lock file
// and client.mjs; node_modules there is git-ignored.
const dpopClientDir = "testdata/dpop-client"

// dpopClientVersion is the pinned version of the dpop package.
const dpopClientVersion = "2.1.2"

var (
	npmOnce sync.Once
	npmErr  error
)

// thirdPartyDPoP makes sure node can run the client, installing the pinned
// package with npm ci on first use. Without node or npm the test fails
// (never skips) with the line that says what to install.
func thirdPartyDPoP(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s not found: the DPoP tests run panva's dpop client with Node.js 20 or later; install it (e.g. apt-get install nodejs npm)", tool)
		}
	}
	npmOnce.Do(func() {
		pkg, err := os.ReadFile(filepath.Join(dpopClientDir, "node_modules", "dpop", "package.json"))
		var meta struct{ Version string }
		if err == nil && json.Unmarshal(pkg, &meta) == nil && meta.Version == dpopClientVersion {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dpopClientDir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = &npmError{err: err, out: string(out)}
		}
	})
	if npmErr != nil {
		tb.Fatalf("installing the dpop npm package in e2e/%s: %v", dpopClientDir, npmErr)
	}
}

type npmError struct {
	err error
	out string
}

func (e *npmError) Error() string { return "npm ci: " + e.err.Error() + "\n" + e.out }

// nodeKey is a key pair made by the third-party client.
type nodeKey struct {
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"` // the private JWK
	JKT string          `json:"jkt"` // its RFC 7638 thumbprint, computed in JavaScript
}

// runNode runs client.mjs with args and stdin and returns its output.
func runNode(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	thirdPartyDPoP(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"client.mjs"}, args...)...)
	cmd.Dir = dpopClientDir
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("node client.mjs %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// nodeKeygen makes a key pair for alg (ES256, PS256 or RS256).
func nodeKeygen(tb testing.TB, alg string) nodeKey {
	tb.Helper()
	var k nodeKey
	if err := json.Unmarshal(runNode(tb, nil, "keygen", alg), &k); err != nil {
		tb.Fatal(err)
	}
	return k
}

// nodeProof makes a proof with k for a request with method to u; nonce and
// accessToken are optional.
func nodeProof(tb testing.TB, k nodeKey, method, u, nonce, accessToken string) string {
	tb.Helper()
	req, err := json.Marshal(map[string]any{
		"alg": k.Alg, "jwk": k.JWK, "htm": method, "htu": u, "nonce": nonce, "accessToken": accessToken,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(runNode(tb, req, "proof")))
}

// dpopPost posts form fields to u with every proof as its own DPoP header
// and, when clientID is set, HTTP Basic client authentication.
func dpopPost(tb testing.TB, u, clientID, secret string, form url.Values, proofs ...string) *response {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}
