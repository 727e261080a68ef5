package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/dpop"
	"github.com/authsvc/authsvc/internal/launch"
	"github.com/authsvc/authsvc/internal/redistest"
)

// startNetHTTPExample builds and runs examples/nethttp, the verifier-protected
// example resource server, against svc (HS256 with testSecret, following
// svc's revocation feed as the intro client). It returns its base URL.
func startNetHTTPExample(t *testing.T, svc *proc) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nethttp")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/authsvc/authsvc/examples/nethttp").CombinedOutput(); err != nil {
		t.Fatalf("building examples/nethttp: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &syncBuffer{}
	p, err := launch.Start(launch.Spec{Name: "nethttp", Path: bin, Output: logs, Env: []string{
		"PATH=" + os.Getenv("PATH"), "LISTEN=" + addr, "PUBLIC_URL=" + base,
		"AUTHSVC_ISSUER=" + testIssuer, "AUTHSVC_AUDIENCE=" + testAudience, "SECRET_KEY=" + testSecret,
		"FEED_URL=" + svc.URL + "/revocations", "FEED_CLIENT_ID=intro", "FEED_CLIENT_SECRET=" + introSecret,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(syscall.SIGTERM, 5*time.Second) })
	err = p.WaitReady(context.Background(), 15*time.Second, func() error {
		resp, err := http.Get(base + "/hello")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("/hello without a token: %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("examples/nethttp did not start: %v\n%s", err, logs.String())
	}
	return base
}

// getWith sends GET u with the Authorization header and each DPoP proof.
func getWith(t *testing.T, u, authorization string, proofs ...string) *response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// TestE2E_DPoP_ExampleResourceServer: the verifier-protected example
// accepts a DPoP-bound token from authsvc only as "Authorization: DPoP"
// with a proof for that request — made by the third-party client and by our
// own code — and refuses it as Bearer, without a proof, with a proof for
// another request or key, and a proof twice.
func TestE2E_DPoP_ExampleResourceServer(t *testing.T) {
	rds := redistest.Start(t)
	svc := startAuthsvc(t, dpopEnv(t, rds.URL()))
	api := startNetHTTPExample(t, svc)
	reports := api + "/reports"

	k := nodeKeygen(t, "ES256")
	tok := wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin,
		nodeProof(t, k, "POST", testIssuer+"/token", "", "")), k.JKT).str("access_token")

	proof := nodeProof(t, k, "GET", reports, "", tok)
	if r := getWith(t, reports, "DPoP "+tok, proof); r.Status != http.StatusOK {
		t.Fatalf("DPoP request with the third-party proof: %d %s", r.Status, r.Body)
	}
	wantChallenge := func(name string, r *response, challenge string) {
		t.Helper()
		if r.Status != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), challenge) {
			t.Errorf("%s: %d %q, want 401 %s…", name, r.Status, r.Header.Get("WWW-Authenticate"), challenge)
		}
	}
	wantChallenge("the same proof again", getWith(t, reports, "DPoP "+tok, proof), `DPoP error="invalid_dpop_proof"`)
	wantChallenge("as a Bearer token", getWith(t, reports, "Bearer "+tok), `Bearer error="invalid_token"`)
	wantChallenge("without a proof", getWith(t, reports, "DPoP "+tok), `DPoP error="invalid_dpop_proof"`)
	wantChallenge("a proof for another path", getWith(t, reports, "DPoP "+tok, nodeProof(t, k, "GET", api+"/hello", "", tok)), `DPoP error="invalid_dpop_proof"`)
	wantChallenge("a proof for POST", getWith(t, reports, "DPoP "+tok, nodeProof(t, k, "POST", reports, "", tok)), `DPoP error="invalid_dpop_proof"`)
	other := nodeKeygen(t, "ES256")
	wantChallenge("a proof by another key", getWith(t, reports, "DPoP "+tok, nodeProof(t, other, "GET", reports, "", tok)), `DPoP error="invalid_dpop_proof"`)

	// Our own client code, end to end: its own session and key.
	signer := ownSigner(t, "ES256")
	own := wantDPoPTokens(t, dpopPost(t, svc.URL+"/token", "mobile", mobileSecret, aliceLogin, ownProof(t, signer, "/token")), signer.JKT()).str("access_token")
	p, err := signer.Proof(http.MethodGet, reports, dpop.ProofOptions{AccessToken: own})
	if err != nil {
		t.Fatal(err)
	}
	if r := getWith(t, reports, "DPoP "+own, p); r.Status != http.StatusOK {
		t.Fatalf("DPoP request with our own proof: %d %s", r.Status, r.Body)
	}
}
