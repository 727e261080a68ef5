package main

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/credential"
)

// TestConfigs_CredentialFilesParse keeps the shipped credential files valid.
func TestConfigs_CredentialFilesParse(t *testing.T) {
	for _, f := range []string{"../../configs/dev-credentials.yaml", "../../configs/credentials.example.yaml"} {
		if _, _, err := credential.Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestConfigs_EnvExampleListsEveryVariable keeps configs/authsvc.env.example
// and docs/configuration.md in step with the Config struct.
func TestConfigs_EnvExampleListsEveryVariable(t *testing.T) {
	var names []string
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		if tag := typ.Field(i).Tag.Get("envconfig"); tag != "" {
			names = append(names, tag)
		}
	}
	f, err := os.Open("../../configs/authsvc.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inExample := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			inExample[name] = true
		}
	}
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !inExample[n] {
			t.Errorf("configs/authsvc.env.example lacks %s", n)
		}
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/configuration.md does not document %s", n)
		}
	}
	for n := range inExample {
		found := false
		for _, m := range names {
			found = found || m == n
		}
		if !found {
			t.Errorf("configs/authsvc.env.example names %s, which authsvc does not read", n)
		}
	}
}
