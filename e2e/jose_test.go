package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/redistest"
)

// joseScript verifies argv[1] as a resource server would, with python-jose
// (the reference resource-server verifier, docs/api.md), and prints "ok" or the error class.
const joseScript = `
import sys
from jose import jwt
try:
    jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], audience=sys.argv[3], issuer=sys.argv[4])
    print("ok")
except Exception as e:
    print("rejected", type(e).__name__)
`

// TestE2E_PythonJoseAcceptsAccessRejectsRefresh runs the reference
// resource-server snippet against tokens from a running authsvc.
func TestE2E_PythonJoseAcceptsAccessRejectsRefresh(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import jose").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python-jose not found: install it with `apt-get install python3-jose`")
		}
		t.Skip("python-jose not installed (apt-get install python3-jose); CI runs this test")
	}
	rds := redistest.Start(t)
	svc := startAuthsvc(t, baseEnv(t, rds.URL()))
	r := login(t, svc.URL)
	verify := func(tok string) string {
		out, err := exec.Command(py, "-c", joseScript, tok, testSecret, testAudience, testIssuer).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := verify(r.str("access_token")); got != "ok" {
		t.Fatalf("python-jose rejected the access token: %s", got)
	}
	if got := verify(r.str("refresh_token")); got == "ok" {
		t.Fatal("python-jose accepted the refresh token as an access token")
	}
}
