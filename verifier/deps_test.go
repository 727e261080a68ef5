package verifier_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package importable on its own: the standard
// library, golang-jwt, golang.org/x and go-jose only, and nothing of
// authsvc's internal packages; Echo only in echoverifier.
func TestDependencies(t *testing.T) {
	// github.com/authsvc/authsvc/dpop is the DPoP proof check authsvc itself
	// uses, a public package of this module with the same dependencies.
	allowed := []string{"github.com/golang-jwt/jwt/v5", "golang.org/x/", "github.com/go-jose/go-jose/v4",
		"github.com/authsvc/authsvc/verifier", "github.com/authsvc/authsvc/dpop"}
	for pkg, extra := range map[string][]string{
		"github.com/authsvc/authsvc/verifier":              nil,
		"github.com/authsvc/authsvc/verifier/echoverifier": {"github.com/labstack/", "github.com/mattn/", "github.com/valyala/"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
	next:
		for _, dep := range strings.Fields(string(out)) {
			if !strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
				continue // the standard library
			}
			for _, a := range append(allowed, extra...) {
				if strings.HasPrefix(dep, a) {
					continue next
				}
			}
			t.Errorf("%s depends on %s", pkg, dep)
		}
	}
}
