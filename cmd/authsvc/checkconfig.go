package main

import (
	"fmt"
	"io"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/tlscert"
)

// checkConfig validates the configuration the way start-up does — the
// environment, the secret files, the keys, the credentials file and the TLS
// files — without listening and without touching the store. It prints one
// line per problem on stderr, the same lines start-up prints, and returns
// errConfig when there is any; warnings are logged as start-up logs them.
// On success it prints one line on stdout.
func checkConfig(stdout, stderr io.Writer) error {
	problems := func(errs ...error) error {
		for _, e := range errs {
			fmt.Fprintln(stderr, "authsvc:", e)
		}
		return errConfig
	}
	cfg, err := loadConfig()
	if err != nil {
		return problems(err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return problems(errs...)
	}
	log := newLogger(stderr, cfg)
	if _, _, errs := buildKeysAndCredentials(cfg, log); len(errs) > 0 {
		return problems(errs...)
	}
	if cfg.Store == "redis" && len(cfg.RedisClusterAddrs) == 0 && len(cfg.RedisSentinelAddrs) == 0 {
		// What openStore would refuse; parsing dials nothing.
		if _, err := goredis.ParseURL(cfg.RedisURL.Reveal()); err != nil {
			return problems(errRedisURL)
		}
	}
	if cfg.TLSCertFile != "" {
		if _, err := tlscert.New(cfg.TLSCertFile, cfg.TLSKeyFile, log); err != nil {
			return problems(err)
		}
	}
	_, err = fmt.Fprintln(stdout, "authsvc: configuration OK")
	return err
}
