// Command authsvc is a small, strict OAuth 2.0 token service: it issues
// short-lived access JWTs and rotating refresh JWTs, and keeps refresh-token
// families in Redis so that rotation is atomic and reuse is detected.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is the build's version, stamped by the linker
// (-ldflags "-X main.version=…"; see the Makefile and Dockerfile).
var version = "dev"

// defaultGCPercent is authsvc's GOGC unless the environment sets one. Its
// live heap is small (a few MiB: keys, credentials, connection buffers) and
// nearly every allocation dies with its request, so collecting at 4× the
// live heap instead of 2× halves the collector's share of the CPU on the
// token path for a few MiB of memory (docs/performance.md).
const defaultGCPercent = 400

// defaultMemoryLimit is authsvc's soft memory limit (GOMEMLIMIT) unless the
// environment sets one. Each argon2id check allocates a 19 MiB block; with
// GOGC at 400 alone, a burst of logins let the heap grow past 200 MiB before
// a collection. Near the limit the collector runs sooner instead — cheaply,
// since those blocks hold no pointers.
const defaultMemoryLimit = 128 << 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errConfig) {
			fmt.Fprintln(os.Stderr, "authsvc:", err)
		}
		os.Exit(1)
	}
}
