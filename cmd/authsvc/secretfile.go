package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// secretVars are the variables that hold a secret. Each can instead be given
// as NAME_FILE, the path of a file holding the value (Kubernetes and Docker
// secrets are files). Adding a secret variable is one line here.
var secretVars = []string{
	"SECRET_KEY",
	"SECRET_KEY_PREVIOUS",
	"REFRESH_SECRET_KEY",
	"REFRESH_SECRET_KEY_PREVIOUS",
	"REDIS_URL",
	"REDIS_PASSWORD",
	"USER_AUTHENTICATOR_TOKEN",
}

// fileSuffix turns a variable's name into its file variable's name.
const fileSuffix = "_FILE"

// maxSecretFileBytes bounds what a NAME_FILE read takes: a key list or a
// URL is a few hundred bytes, never megabytes.
const maxSecretFileBytes = 64 << 10

// loadSecretFiles sets, for every secret variable given as NAME_FILE, the
// Config field named NAME from that file: its content with one trailing
// newline removed. It returns one error per problem — NAME and NAME_FILE both
// set, a file that cannot be read — each naming the variables and the path,
// never the content. An empty variable counts as unset.
func loadSecretFiles(c *Config, lookup func(string) (string, bool)) []error {
	var errs []error
	for _, name := range secretVars {
		path, _ := lookup(name + fileSuffix)
		if path == "" {
			continue
		}
		if v, _ := lookup(name); v != "" {
			errs = append(errs, fmt.Errorf("%s and %s%s are both set: set only one", name, name, fileSuffix))
			continue
		}
		value, err := readSecretFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", name, fileSuffix, err))
			// The field keeps its default; Validate's complaint about
			// it would only repeat this one.
			c.fileFailed = append(c.fileFailed, name)
			continue
		}
		if err := setConfigField(c, name, value); err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", name, fileSuffix, err))
		}
	}
	return errs
}

// readSecretFile reads a secret file, dropping one trailing newline ("\n"
// or "\r\n"), as `echo value > file` and most editors leave one.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s", path)
	}
	if len(data) > maxSecretFileBytes {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxSecretFileBytes)
	}
	s := string(data)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s, _ = strings.CutSuffix(t, "\r")
	}
	return s, nil
}

// setConfigField decodes value into the Config field whose envconfig tag is
// name, the way envconfig would have decoded the variable itself.
func setConfigField(c *Config, name, value string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("envconfig") != name {
			continue
		}
		f := v.Field(i)
		if d, ok := f.Addr().Interface().(envconfig.Decoder); ok {
			return d.Decode(value)
		}
		if f.Kind() == reflect.String {
			f.SetString(value)
			return nil
		}
		return fmt.Errorf("%s cannot be read from a file", name)
	}
	return fmt.Errorf("%s is not a configuration variable", name)
}
