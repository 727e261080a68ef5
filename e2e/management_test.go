package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// TestE2E_ManagementListener runs the binary with MANAGEMENT_ADDR: /metrics
// is served there and no longer on the public listener, /healthz and
// /readyz answer on both, and the management listener serves no token
// route. The metrics count the public listener's requests.
func TestE2E_ManagementListener(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	mgmtAddr := freeAddr(t)
	env["MANAGEMENT_ADDR"] = mgmtAddr
	svc := startAuthsvc(t, env)
	mgmt := "http://" + mgmtAddr

	login(t, svc.URL)
	wantError(t, postForm(t, svc.URL+"/token", "grant_type", "password", "username", "alice", "password", "wrong"), 400, "invalid_grant")

	if r := call(t, http.MethodGet, svc.URL+"/metrics", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404", r.Status)
	}
	for _, base := range []string{svc.URL, mgmt} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if r := call(t, http.MethodGet, base+path, "", ""); r.Status != http.StatusOK {
				t.Errorf("%s%s = %d, want 200", base, path, r.Status)
			}
		}
	}
	for _, path := range []string{"/token", "/refresh", "/revoke", "/introspect"} {
		if r := postForm(t, mgmt+path, "grant_type", "password"); r.Status != http.StatusNotFound {
			t.Errorf("management POST %s = %d, want 404", path, r.Status)
		}
	}
	if r := call(t, http.MethodGet, mgmt+"/.well-known/jwks.json", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("management jwks = %d, want 404", r.Status)
	}

	m := scrapeMetrics(t, mgmt)
	if m[`authsvc_http_requests_total{method="POST",route="/token",status="200"}`] != 1 ||
		m[`authsvc_http_requests_total{method="POST",route="/token",status="400"}`] != 1 {
		t.Errorf("management /metrics does not count the public requests: %v", m)
	}
	if !strings.Contains(svc.logs.String(), `"msg":"management listener"`) {
		t.Errorf("no start-up line for the management listener")
	}
}

// TestE2E_ManagementAddrProblems checks the start-up errors of
// MANAGEMENT_ADDR: malformed, equal to HTTP_ADDR or ADMIN_ADDR, or already
// taken.
func TestE2E_ManagementAddrProblems(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	for _, tc := range []struct{ addr, want string }{
		{"not-an-address", "MANAGEMENT_ADDR: must be host:port or :port"},
		{httpAddr, "MANAGEMENT_ADDR: must differ from HTTP_ADDR"},
		{adminAddr, "MANAGEMENT_ADDR: must differ from ADMIN_ADDR"},
		{taken.Addr().String(), "MANAGEMENT_ADDR: listen tcp " + taken.Addr().String()},
	} {
		env := baseEnv(t, "redis://127.0.0.1:1/0")
		env["HTTP_ADDR"] = httpAddr
		env["ADMIN_ADDR"] = adminAddr
		env["MANAGEMENT_ADDR"] = tc.addr
		_, stderr, code := runBinary(t, env)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("MANAGEMENT_ADDR=%s: exit %d, want non-zero and %q in:\n%s", tc.addr, code, tc.want, stderr)
		}
	}
}
