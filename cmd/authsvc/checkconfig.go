package main

import (
	"fmt"
	"io"

	"github.com/authsvc/authsvc/internal/tlscert"
)

// checkConfig validates the configuration the way start-up does — the
// environment, the secret files, the keys and key set, the credentials
// file, the DPoP and user-authenticator settings and the TLS files — in
// start-up's order and with its functions, without listening and without
// touching the store. It prints one line per problem on stderr, the same
// lines start-up prints, and returns errConfig when there is any; warnings
// are logged as start-up logs them. On success it prints one line on stdout.
func checkConfig(stdout, stderr io.Writer) error {
	cfg, err := loadValidConfig(stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	if _, _, errs := buildKeysAndCredentials(cfg, log, nil); len(errs) > 0 {
		return printProblems(stderr, errs...)
	}
	if cfg.Store == "redis" {
		// What openStore would refuse, by the same function: the client
		// connects lazily, so building and closing it dials nothing.
		client, err := redisClient(cfg)
		if err != nil {
			return printProblems(stderr, err)
		}
		_ = client.Close()
	}
	if _, err := dpopConfig(cfg); err != nil {
		return printProblems(stderr, err)
	}
	authn, err := newAuthenticator(cfg) // builds a client; calls nothing
	if err != nil {
		return printProblems(stderr, err)
	}
	if authn != nil {
		authn.Close()
	}
	if cfg.TLSCertFile != "" {
		if _, err := tlscert.New(cfg.TLSCertFile, cfg.TLSKeyFile, log); err != nil {
			return printProblems(stderr, err)
		}
	}
	_, err = fmt.Fprintln(stdout, "authsvc: configuration OK")
	return err
}
