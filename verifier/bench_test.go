package verifier_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify compares Verify of a token whose key is known with a bare
// golang-jwt parse of the same token with the same key (MapClaims, the
// algorithm pinned, exp checked): the price of the package's strictness,
// claims and revocation check over the signature check every verifier
// pays. It fails if Verify fetched anything (docs/performance.md).
//
// The machine the team measures on is small and shared, so wall-clock ns/op
// swing by tens of percent between runs. The two are therefore measured in
// one loop, in alternating batches, by the CPU time of the benchmark's own
// thread: each reports its cpu-ns/op and their ratio (verifier/golang-jwt).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "HS256"} {
		f := newFake(b, alg)
		cfg := f.config()
		cfg.Now = nil
		v := mustVerifier(b, cfg)
		f.clock.Set(time.Now()) // tokens issued now by the wall clock
		tok := f.token(b, "bench-jti", "read write")
		key := any(f.cfg.Secret)
		if alg != "HS256" {
			key = f.cfg.PrivateKey.Public()
		}
		parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}))
		keyfunc := func(*jwt.Token) (any, error) { return key, nil }
		ctx := context.Background()
		verify := func() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
		bare := func() {
			if _, err := parser.ParseWithClaims(tok, jwt.MapClaims{}, keyfunc); err != nil {
				b.Fatal(err)
			}
		}
		before := f.jwksFetches.Load()
		b.Run(alg, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			const batch = 64
			var tVerify, tBare time.Duration
			n := 0
			for b.Loop() {
				// One benchmark iteration is one call of each.
				if n%batch == 0 {
					t0 := threadCPU()
					for range batch {
						verify()
					}
					t1 := threadCPU()
					for range batch {
						bare()
					}
					tVerify += t1 - t0
					tBare += threadCPU() - t1
				}
				n++
			}
			runs := float64((n + batch - 1) / batch * batch)
			b.ReportMetric(float64(tVerify)/runs, "verifier-cpu-ns/op")
			b.ReportMetric(float64(tBare)/runs, "golang-jwt-cpu-ns/op")
			if tBare > 0 {
				b.ReportMetric(float64(tVerify)/float64(tBare), "ratio")
			}
		})
		if n := f.jwksFetches.Load() - before; n != 0 {
			b.Fatalf("Verify fetched the JWKS %d times", n)
		}
	}
}

// threadCPU returns the CPU time used so far by the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
