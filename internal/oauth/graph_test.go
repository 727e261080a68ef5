package oauth_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportGraph_SeamsStayClosed keeps the seams this package and
// internal/audit closed: the HTTP layer takes its input limits from here,
// not from the credentials; the domain takes the address key from here,
// not from the limiter; the metrics take audit events from internal/audit,
// not from the domain.
func TestImportGraph_SeamsStayClosed(t *testing.T) {
	const mod = "github.com/authsvc/authsvc/internal/"
	forbidden := map[string][]string{
		"handler": {mod + "credential", mod + "limiter"},
		"auth":    {mod + "limiter"},
		"metrics": {mod + "auth"},
	}
	for pkg, bad := range forbidden {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					if path == b {
						t.Errorf("%s imports %s", f, path)
					}
				}
			}
		}
	}
}
