package handler_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/authsvc/authsvc/internal/handler"
)

// openAPIPath is the OpenAPI description of the service.
const openAPIPath = "../../api/openapi.yaml"

// operationMethods are the keys of an OpenAPI path item that are operations.
var operationMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// mustLoadOpenAPI parses api/openapi.yaml into generic YAML values.
func mustLoadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("%s: openapi = %q, want 3.x", openAPIPath, v)
	}
	return doc
}

// operations returns every "METHOD path" of the document with its
// operation object.
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("no paths")
	}
	ops := map[string]map[string]any{}
	for path, item := range paths {
		path = strings.NewReplacer("{sub}", ":sub", "{session_id}", ":sid").Replace(path)
		for key, op := range item.(map[string]any) {
			if slices.Contains(operationMethods, key) {
				ops[strings.ToUpper(key)+" "+path] = op.(map[string]any)
			}
		}
	}
	return ops
}

// TestOpenAPI_MatchesRouter keeps api/openapi.yaml true: every operation it
// describes is a route of the server, and every route is described.
func TestOpenAPI_MatchesRouter(t *testing.T) {
	ops := operations(t, mustLoadOpenAPI(t))
	e := handler.New(handler.Deps{Metrics: http.NotFoundHandler(), Issuer: "https://auth.test"})
	admin := handler.NewAdmin(handler.AdminDeps{})
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		routes[r.Method+" "+r.Path] = true
		if strings.HasPrefix(r.Path, "/admin") {
			t.Errorf("the public listener serves the admin route %s %s", r.Method, r.Path)
		}
	}
	for _, r := range admin.Routes() {
		routes[r.Method+" "+r.Path] = true
		if !strings.HasPrefix(r.Path, "/admin/") {
			t.Errorf("the admin listener serves %s %s, which is not an admin route", r.Method, r.Path)
		}
	}
	for op := range ops {
		if !routes[op] {
			t.Errorf("%s describes %s, which the router does not serve", openAPIPath, op)
		}
	}
	for r := range routes {
		if _, ok := ops[r]; !ok {
			t.Errorf("the router serves %s, which %s does not describe", r, openAPIPath)
		}
	}
}

// TestOpenAPI_OperationsAreComplete checks what docs/api.md promises of
// every operation: POST bodies as form and JSON, the common errors, and a
// success response.
func TestOpenAPI_OperationsAreComplete(t *testing.T) {
	for name, op := range operations(t, mustLoadOpenAPI(t)) {
		responses, _ := op["responses"].(map[string]any)
		if _, ok := responses["200"]; !ok {
			t.Errorf("%s: no 200 response", name)
		}
		if strings.Contains(name, " /admin/") {
			// The admin API takes no bodies; every route needs an admin
			// client and reads or writes the store.
			for _, status := range []string{"401", "500"} {
				if _, ok := responses[status]; !ok {
					t.Errorf("%s: no %s response", name, status)
				}
			}
			continue
		}
		if !strings.HasPrefix(name, "POST ") {
			continue
		}
		body, _ := op["requestBody"].(map[string]any)
		content, _ := body["content"].(map[string]any)
		for _, mt := range []string{"application/x-www-form-urlencoded", "application/json"} {
			if _, ok := content[mt]; !ok {
				t.Errorf("%s: request body lacks %s", name, mt)
			}
		}
		for _, status := range []string{"400", "401", "413", "415", "429", "500", "503"} {
			if _, ok := responses[status]; !ok {
				t.Errorf("%s: no %s response", name, status)
			}
		}
	}
}

// TestOpenAPI_ReferencesResolve checks every local $ref names something in
// the document.
func TestOpenAPI_ReferencesResolve(t *testing.T) {
	doc := mustLoadOpenAPI(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					checkRef(t, doc, x)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

func checkRef(t *testing.T, doc map[string]any, ref any) {
	t.Helper()
	s, _ := ref.(string)
	path, ok := strings.CutPrefix(s, "#/")
	if !ok {
		t.Errorf("$ref %q is not local", s)
		return
	}
	var cur any = doc
	for _, part := range strings.Split(path, "/") {
		m, _ := cur.(map[string]any)
		if cur, ok = m[part]; !ok {
			t.Errorf("$ref %q does not resolve", s)
			return
		}
	}
}
