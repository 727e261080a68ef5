package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/authsvc/authsvc/internal/auth"
	"github.com/authsvc/authsvc/internal/credential"
	"github.com/authsvc/authsvc/internal/reload"
)

// configPollInterval is how often the reloadable files are checked for a
// change; a change is in force within this plus the reload itself, well
// inside the promised 5 seconds.
const configPollInterval = time.Second

// credentialChecks are run on every credentials file, at start-up and on
// each reload, after it parsed: each returns one problem per line (never a
// secret or a hash). Checks that belong to the configuration as a whole
// (such as refusing the demo hashes outside STORE=memory) add themselves
// here so a reload cannot bring in what start-up refuses.
var credentialChecks = []func(cfg *Config, set *credential.Set) []string{checkClientLifetimes, refuseDemoHashes}

// refuseDemoHashes refuses, unless STORE=memory, a credentials file with a
// hash of configs/dev-credentials.yaml: their passwords are in the README.
func refuseDemoHashes(cfg *Config, set *credential.Set) []string {
	if cfg.Store == "memory" {
		return nil
	}
	var problems []string
	for _, e := range set.DemoEntries() {
		problems = append(problems, e+" has a hash of the demo credentials (configs/dev-credentials.yaml), whose passwords are public; "+
			"outside STORE=memory give it a hash of your own (authsvc hash-password)")
	}
	return problems
}

// credentialsSource is CREDENTIALS_FILE as a reloadable source: a new Set
// parsed and checked whole (its slow hashes under gate), then swapped into
// svc.
func credentialsSource(cfg *Config, svc *auth.Service, log *slog.Logger, gate *credential.Gate) reload.Source {
	path := cfg.CredentialsFile
	return reload.Source{
		Name:  "CREDENTIALS_FILE",
		Files: func() []string { return []string{path} },
		Prepare: func() (func(), []string) {
			set, warnings, err := credential.Load(path, credential.WithGate(gate))
			if err != nil {
				return nil, problemLines(err)
			}
			var problems []string
			for _, check := range credentialChecks {
				problems = append(problems, check(cfg, set)...)
			}
			if len(problems) > 0 {
				return nil, problems
			}
			return func() {
				for _, w := range warnings {
					log.Warn("weak credential hash", "detail", w)
				}
				svc.SetCredentials(set)
			}, nil
		},
	}
}

// problemLines splits an error that joins several problems (errors.Join,
// possibly wrapped once with the file's name) into one line per problem.
func problemLines(err error) []string {
	var joined interface {
		error
		Unwrap() []error
	}
	if !errors.As(err, &joined) {
		return []string{err.Error()}
	}
	prefix := ""
	if msg, inner := err.Error(), joined.Error(); len(msg) > len(inner) && strings.HasSuffix(msg, inner) {
		prefix = msg[:len(msg)-len(inner)]
	}
	var lines []string
	for _, e := range joined.Unwrap() {
		lines = append(lines, prefix+e.Error())
	}
	return lines
}

// watchConfig reloads on SIGHUP and when a watched file changes, until ctx
// is done or the returned stop is called.
func watchConfig(ctx context.Context, r *reload.Reloader, log *slog.Logger) (stop func()) {
	return onChange(ctx, func(ctx context.Context) { r.Watch(ctx, configPollInterval) }, func() {
		log.Info("SIGHUP: reloading the configuration files")
		_ = r.Reload("SIGHUP") // a refusal is logged and counted
	})
}

// onChange runs watch, which polls files until its context ends, and calls
// reload on every SIGHUP, until ctx is done or the returned stop is called.
func onChange(ctx context.Context, watch func(context.Context), reload func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go watch(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload()
			}
		}
	}()
	return func() { signal.Stop(hup); cancel() }
}

// publishedKeys counts the keys of a JWKS document (0 with HS256).
func publishedKeys(jwks []byte) int {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(jwks, &doc) != nil {
		return 0
	}
	return len(doc.Keys)
}
