package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// TestE2E_PprofOptIn checks that PPROF_ADDR serves the profiler on a
// listener of its own, never on the token endpoints' listener.
func TestE2E_PprofOptIn(t *testing.T) {
	rds := redistest.Start(t)
	env := baseEnv(t, rds.URL())
	pprofAddr := freeAddr(t)
	env["PPROF_ADDR"] = pprofAddr
	svc := startAuthsvc(t, env)
	if r := call(t, http.MethodGet, "http://"+pprofAddr+"/debug/pprof/cmdline", "", ""); r.Status != http.StatusOK {
		t.Fatalf("pprof listener: GET /debug/pprof/cmdline = %d", r.Status)
	}
	if r := call(t, http.MethodGet, svc.URL+"/debug/pprof/cmdline", "", ""); r.Status != http.StatusNotFound {
		t.Fatalf("service listener: GET /debug/pprof/cmdline = %d, want 404", r.Status)
	}
}

// TestE2E_PprofLoopbackOnly checks that a non-loopback PPROF_ADDR is a
// start-up error naming the variable.
func TestE2E_PprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "10.1.2.3:6060", "6060"} {
		cmd := exec.Command(binPath)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + freeAddr(t), "PPROF_ADDR=" + addr}
		for k, v := range baseEnv(t, "redis://"+freeAddr(t)+"/0") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "PPROF_ADDR: must be a loopback") {
			t.Errorf("PPROF_ADDR=%s: err %v, output:\n%s", addr, err, out)
		}
	}
}
