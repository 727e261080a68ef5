// Command authsvc-bench is authsvc's load benchmark. It starts a private
// redis-server, authsvc (one process per signing algorithm, production
// settings) and the floor program (bench/floor, the least work a token
// service can do), drives them with closed-loop HTTP/1.1 keep-alive
// clients, and prints, per case, requests/s, latency quantiles, errors, and
// the server's CPU time and peak RSS, with the ratios authsvc/floor measured
// side by side in the same run. Results are also written as JSON.
//
// `make bench` builds everything and runs it; see docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	authsvcBin, floorBin, redisBin string
	gooauth2Bin                    string
	duration, warmup               time.Duration
	runs, concurrency, floodConc   int
	cases                          *regexp.Regexp
	algs                           []string
	cpuProfileDir                  string
	refreshTotal                   int64
	outDir                         string
	authsvcEnv                     []string
	bcryptCost                     int
	keep                           bool
	label                          string
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("authsvc-bench", flag.ContinueOnError)
	c := &config{}
	var cases, algs, env string
	fs.StringVar(&c.authsvcBin, "authsvc", "bin/authsvc", "authsvc binary")
	fs.StringVar(&c.floorBin, "floor", "", "floor binary (empty: authsvc only, no ratios)")
	fs.StringVar(&c.gooauth2Bin, "gooauth2", "", "go-oauth2 reference server binary (bench/gooauth2; empty: no comparison)")
	fs.StringVar(&c.redisBin, "redis-server", "redis-server", "redis-server binary")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured time per case and run")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "unmeasured load before each measurement")
	fs.IntVar(&c.runs, "runs", 3, "runs of every case; the table shows medians")
	fs.IntVar(&c.concurrency, "c", 32, "concurrent connections (closed-loop clients)")
	fs.IntVar(&c.floodConc, "flood-c", 32, "login-flood connections beside the -c refresh clients")
	fs.StringVar(&cases, "cases", "", "regexp selecting cases by name, e.g. 'HS256' or '^refresh/' (empty: all)")
	fs.StringVar(&algs, "algs", "HS256,ES256,EdDSA,RS256", "signing algorithms, comma-separated")
	fs.StringVar(&c.cpuProfileDir, "cpuprofile", "", "directory for authsvc CPU profiles, one per case (first run)")
	fs.Int64Var(&c.refreshTotal, "refresh-total", 0, "also run the memory check: this many HS256 refreshes, then RSS and Redis keys (0: off)")
	fs.StringVar(&c.outDir, "out", "bench-results", "directory for the JSON results")
	fs.StringVar(&env, "authsvc-env", "", "extra authsvc environment, comma-separated K=V")
	fs.IntVar(&c.bcryptCost, "bcrypt-cost", 10, "the floor's -bcrypt-cost for /token/bcrypt")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (logs, keys, redis files)")
	fs.StringVar(&c.label, "label", "", "a label stored with the results, e.g. the git revision")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if c.cases, err = regexp.Compile(cases); err != nil {
		return nil, fmt.Errorf("-cases: %w", err)
	}
	for _, a := range strings.Split(algs, ",") {
		switch a = strings.TrimSpace(a); a {
		case "HS256", "ES256", "EdDSA", "RS256":
			c.algs = append(c.algs, a)
		case "":
		default:
			return nil, fmt.Errorf("-algs: unknown algorithm %q", a)
		}
	}
	for _, kv := range strings.Split(env, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			if !strings.Contains(kv, "=") {
				return nil, fmt.Errorf("-authsvc-env: %q is not K=V", kv)
			}
			c.authsvcEnv = append(c.authsvcEnv, kv)
		}
	}
	if c.runs < 1 || c.concurrency < 1 || c.floodConc < 1 || c.duration <= 0 {
		return nil, errors.New("-runs, -c, -flood-c and -duration must be positive")
	}
	return c, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "authsvc-bench:", err)
		os.Exit(1)
	}
}

// caseSpec is one case to run: a kind against one algorithm.
type caseSpec struct{ kind, alg string }

func (c caseSpec) name() string { return c.kind + "/" + c.alg }

// plan lists the selected cases in running order.
func plan(cfg *config) []caseSpec {
	var out []caseSpec
	add := func(kind, alg string) {
		if c := (caseSpec{kind, alg}); cfg.cases.MatchString(c.name()) {
			out = append(out, c)
		}
	}
	for _, alg := range cfg.algs {
		// The password grant last: its argon2id memory would stay in the
		// RSS of the cases after it.
		for _, kind := range []string{kindClientCreds, kindRefresh, kindRefreshDPoP, kindRevoke, kindPassword} {
			add(kind, alg)
		}
	}
	// Beside the file user: the same grant checked by a user authenticator.
	add(kindPasswordAuthn, "HS256")
	add(kindMixed, "HS256")
	add(kindFlood, "HS256")
	if cfg.refreshTotal > 0 {
		add(kindMemory, "HS256")
	}
	return out
}

func run(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	cases := plan(cfg)
	if len(cases) == 0 {
		return errors.New("no case matches -cases")
	}
	b, err := newBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.close()

	if b.hashes, err = measureHashes(ctx, b.creds.userHash, runtime.GOMAXPROCS(0), cfg.bcryptCost); err != nil {
		return fmt.Errorf("timing the password hashes: %w", err)
	}
	logf("one argon2id check %.1f ms alone, %.1f ms with all %d cores hashing; one bcrypt-%d check %.1f ms alone, %.1f ms with all cores hashing",
		b.hashes.Argon2idMs, b.hashes.Argon2idAllCoresMs, b.hashes.Cores,
		cfg.bcryptCost, b.hashes.BcryptMs, b.hashes.BcryptAllCoresMs)

	// Every run, and the memory check, starts with fresh server processes,
	// so that one case's peak RSS is not what an earlier case left behind
	// (the Go runtime returns freed memory to the OS only gradually).
	for r := 1; r <= cfg.runs; r++ {
		if err := b.restartServers(ctx, cases, false); err != nil {
			return err
		}
		for _, c := range cases {
			if c.kind == kindMemory {
				continue
			}
			if err := b.runCase(ctx, c, r); err != nil {
				return fmt.Errorf("%s run %d: %w", c.name(), r, err)
			}
		}
	}
	for _, c := range cases {
		if c.kind == kindMemory {
			if err := b.restartServers(ctx, []caseSpec{c}, true); err != nil {
				return err
			}
			if err := b.memoryCheck(ctx, c); err != nil {
				return fmt.Errorf("%s: %w", c.name(), err)
			}
		}
	}
	if b.census, err = b.redis.censusAll(ctx); err != nil {
		return fmt.Errorf("redis key census: %w", err)
	}
	rep := b.report()
	rep.print(os.Stdout)
	path, err := rep.write(cfg.outDir)
	if err != nil {
		return err
	}
	fmt.Printf("\nresults: %s\n", path)
	if cfg.keep {
		fmt.Printf("work directory (logs, keys): %s\n", b.dir)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench holds everything one benchmark run started.
type bench struct {
	cfg     *config
	started time.Time
	dir     string
	redis   *redisServer
	creds   *credentials
	servers map[string]*server // by "authsvc/HS256", "floor/HS256"
	keys    map[string]string  // PEM files by algorithm
	hashes  hashTimes
	results []*caseResult
	memory  *memoryResult
	census  map[string]keyCensus
	// authn is the user authenticator every authsvc process is pointed at.
	authn *authenticator
}

func newBench(ctx context.Context, cfg *config) (*bench, error) {
	dir, err := os.MkdirTemp("", "authsvc-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, started: time.Now(), dir: dir, servers: map[string]*server{}, keys: map[string]string{}}
	if b.redis, err = startRedis(ctx, cfg.redisBin, dir); err != nil {
		b.close()
		return nil, err
	}
	if b.creds, err = writeCredentials(dir); err != nil {
		b.close()
		return nil, err
	}
	if b.authn, err = startAuthenticator(); err != nil {
		b.close()
		return nil, err
	}
	logf("redis-server pid %d on %s; work directory %s", b.redis.pid(), b.redis.addr, dir)
	return b, nil
}

// close stops every process the benchmark started, by PID, and removes the
// work directory unless -keep.
func (b *bench) close() {
	for _, s := range b.servers {
		s.p.stop()
	}
	if b.redis != nil {
		b.redis.stop()
	}
	b.authn.stop()
	if !b.cfg.keep {
		os.RemoveAll(b.dir)
	}
}

// server is one running authsvc or floor process.
type server struct {
	kind  string // "authsvc" or "floor"
	alg   string
	addr  string
	pprof string // authsvc's PPROF_ADDR, when profiling
	p     *proc
	api   *api
}

// restartServers stops every running server (by PID) and starts authsvc,
// and unless authsvcOnly the floor, for each algorithm the cases use.
func (b *bench) restartServers(ctx context.Context, cases []caseSpec, authsvcOnly bool) error {
	for name, s := range b.servers {
		s.p.stop()
		delete(b.servers, name)
	}
	for _, c := range cases {
		if _, ok := b.servers["authsvc/"+c.alg]; !ok {
			s, err := b.startAuthsvc(ctx, c.alg)
			if err != nil {
				return err
			}
			b.servers["authsvc/"+c.alg] = s
		}
		if _, ok := b.servers["gooauth2/"+c.alg]; !ok && b.gooauth2Runs(c) && !authsvcOnly {
			s, err := b.startGooauth2(ctx, c.alg)
			if err != nil {
				return err
			}
			b.servers["gooauth2/"+c.alg] = s
		}
		if _, ok := b.servers["floor/"+c.alg]; !ok && b.cfg.floorBin != "" && !authsvcOnly {
			s, err := b.startFloor(ctx, c.alg)
			if err != nil {
				return err
			}
			b.servers["floor/"+c.alg] = s
		}
	}
	return nil
}

// startAuthsvc runs authsvc as in production: Redis store, JSON logs at
// info level (to a file in the work directory), brute-force limit at its
// default, per-address rate limit off.
func (b *bench) startAuthsvc(ctx context.Context, alg string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HTTP_ADDR=" + addr,
		"SECRET_KEY=" + randomKey(),
		"REFRESH_SECRET_KEY=" + randomKey(),
		"JWT_ALGORITHM=" + alg,
		"JWT_ISSUER=" + benchIssuer,
		"JWT_AUDIENCE=api.bench.test",
		"CREDENTIALS_FILE=" + b.creds.path,
		"STORE=redis",
		"REDIS_URL=redis://" + b.redis.addr + "/0",
		"LOG_LEVEL=info",
		"LOG_FORMAT=json",
		"RATE_LIMIT_PER_ADDRESS=0",
		// File users never reach it; the password-authenticator case's user
		// is not in the file.
		"USER_AUTHENTICATOR_URL=" + b.authn.url,
	}
	key, ok := b.keys[alg]
	if !ok {
		if key, err = writeKey(b.dir, alg); err != nil {
			return nil, err
		}
		b.keys[alg] = key
	}
	if key != "" {
		env = append(env, "JWT_PRIVATE_KEY_FILE="+key)
	}
	s := &server{kind: "authsvc", alg: alg, addr: addr, api: authsvcAPI(b.creds.clientSecret)}
	if b.cfg.cpuProfileDir != "" {
		if s.pprof, err = freeAddr(); err != nil {
			return nil, err
		}
		env = append(env, "PPROF_ADDR="+s.pprof)
	}
	env = append(env, b.cfg.authsvcEnv...)
	return s, b.launch(ctx, s, b.cfg.authsvcBin, nil, env, "/readyz")
}

// launch starts s's process and waits until GET readyPath answers 200.
func (b *bench) launch(ctx context.Context, s *server, bin string, args, env []string, readyPath string) error {
	var err error
	name := s.kind + " " + s.alg
	if s.p, err = startProc(name, bin, args, env, filepath.Join(b.dir, s.kind+"-"+s.alg+".log")); err != nil {
		return err
	}
	if err := s.p.waitReady(ctx, httpReady("http://"+s.addr+readyPath)); err != nil {
		s.p.stop()
		return err
	}
	logf("%s pid %d on %s", name, s.p.pid(), s.addr)
	return nil
}

// startFloor runs the floor program for alg on the same Redis.
func (b *bench) startFloor(ctx context.Context, alg string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{kind: "floor", alg: alg, addr: addr, api: floorAPI()}
	args := []string{"-addr", addr, "-redis", b.redis.addr, "-alg", alg, "-bcrypt-cost", fmt.Sprint(b.cfg.bcryptCost)}
	return s, b.launch(ctx, s, b.cfg.floorBin, args, []string{"PATH=" + os.Getenv("PATH")}, "/healthz")
}

// gooauth2Runs reports whether case c is also measured against go-oauth2.
func (b *bench) gooauth2Runs(c caseSpec) bool {
	return b.cfg.gooauth2Bin != "" && c.alg == "HS256" && gooauth2Kinds[c.kind]
}

// startGooauth2 runs the go-oauth2 reference server on the same Redis, with
// the same user (the same argon2id hash), client and HS256 key length as
// authsvc.
func (b *bench) startGooauth2(ctx context.Context, alg string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{kind: "gooauth2", alg: alg, addr: addr, api: gooauth2API(b.creds.clientSecret)}
	args := []string{"-addr", addr, "-redis", b.redis.addr, "-secret", randomKey(),
		"-client-id", benchClient, "-client-secret", b.creds.clientSecret, "-user", benchUser, "-password-hash", b.creds.userHash}
	return s, b.launch(ctx, s, b.cfg.gooauth2Bin, args, []string{"PATH=" + os.Getenv("PATH")}, "/healthz")
}

// groups builds the workers of one case kind against a.
func (b *bench) groups(kind string, a *api) []*group {
	one := func(ops []string, setup func(*worker) error, step func(*worker) (int, int, error)) []*group {
		return []*group{{name: "all", n: b.cfg.concurrency, ops: ops, setup: setup, step: step}}
	}
	switch kind {
	case kindPassword:
		return one([]string{kind}, noSetup, simpleStep(a.password))
	case kindPasswordAuthn:
		return one([]string{kind}, noSetup, simpleStep(a.passwordAuthn))
	case kindClientCreds:
		return one([]string{kind}, noSetup, simpleStep(a.issue))
	case kindRefresh, kindFloodSolo, kindMemory:
		return one([]string{kindRefresh}, startSession(a), refreshStep(a, 0))
	case kindRefreshDPoP:
		return one([]string{kind}, startDPoPSession(a), refreshDPoPStep(a))
	case kindRevoke:
		return one([]string{kind}, fillRevokePool(a), revokeStep(a))
	case kindMixed:
		return one(mixOps, startSession(a), mixedStep(a))
	case kindFlood:
		return []*group{
			{name: "refresh", n: b.cfg.concurrency, ops: []string{kindRefresh}, setup: startSession(a), step: refreshStep(a, 0)},
			{name: "login-flood", n: b.cfg.floodConc, ops: []string{kindPassword}, setup: noSetup, step: simpleStep(a.password)},
		}
	}
	panic("unknown case kind " + kind)
}

// runCase runs one case once against authsvc and, where there is one, its
// floor counterpart. The flood case first measures /refresh alone.
func (b *bench) runCase(ctx context.Context, c caseSpec, run int) error {
	targets := []string{"authsvc"}
	if _, ok := floorOf[c.kind]; ok && b.cfg.floorBin != "" {
		targets = append(targets, "floor")
	}
	if b.gooauth2Runs(c) {
		targets = append(targets, "gooauth2")
	}
	kinds := []string{c.kind}
	if c.kind == kindFlood {
		kinds = []string{kindFloodSolo, kindFlood}
	}
	for _, t := range targets {
		srv := b.servers[t+"/"+c.alg]
		for _, kind := range kinds {
			profile := ""
			if t == "authsvc" && run == 1 && b.cfg.cpuProfileDir != "" {
				profile = filepath.Join(b.cfg.cpuProfileDir, kind+"-"+c.alg+".pprof")
			}
			res, err := b.measure(ctx, srv, b.groups(kind, srv.api), loadOptions{
				addr: srv.addr, warmup: b.cfg.warmup, duration: b.cfg.duration,
			}, profile)
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			if kind == kindPasswordAuthn {
				logf("run %d  %s: %.3f authenticator calls per grant (requests in flight at the window's edges blur the third decimal)",
					run, kind, res.AuthnCallsPerReq)
			}
			cr := b.result(kind+"/"+c.alg, t, kind, c.alg)
			cr.Runs = append(cr.Runs, res)
			logf("run %d  %-36s %-7s %9.0f req/s  p99 %7.2f ms  errors %d  cpu %5.0f µs/req",
				run, kind+"/"+c.alg, t, res.RPS, res.P99Ms, errorCount(res.Errors), res.CPUPerReqUs)
		}
	}
	return nil
}

// result returns the record of a case on a server, creating it.
func (b *bench) result(name, server, kind, alg string) *caseResult {
	for _, r := range b.results {
		if r.Name == name && r.Server == server {
			return r
		}
	}
	r := &caseResult{Name: name, Server: server, Kind: kind, Alg: alg}
	if server == "floor" {
		r.Endpoint = floorOf[kind]
	}
	b.results = append(b.results, r)
	return r
}

// usage is the CPU time of the server, of Redis and of this process at one
// moment.
type usage struct{ server, redis, self time.Duration }

func (b *bench) usage(pid int) (usage, error) {
	server, err := cpuTime(pid)
	if err != nil {
		return usage{}, err
	}
	redis, err := cpuTime(b.redis.pid())
	if err != nil {
		return usage{}, err
	}
	return usage{server: server, redis: redis, self: selfCPU()}, nil
}

// measure runs the groups against srv and reads the server's CPU time and
// memory, Redis's CPU time and this process's own around the measured
// interval. With profile set it asks authsvc for a CPU profile of it.
func (b *bench) measure(ctx context.Context, srv *server, groups []*group, opt loadOptions, profile string) (runResult, error) {
	var (
		res            runResult
		u0, u1         usage
		err0, err1     error
		hwmKiB, rssKiB int64
		ops0, ops1     int64
		profileDone    chan error
		calls0, calls1 int64
	)
	pid := srv.p.pid()
	opt.window = window{
		begin: func() {
			calls0 = b.authn.calls.Load()
			resetPeakRSS(pid)
			u0, err0 = b.usage(pid)
			if srv.kind == "authsvc" && err0 == nil {
				ops0, err0 = storeOps(srv.addr)
			}
			if profile != "" && srv.pprof != "" {
				profileDone = make(chan error, 1)
				go func() { profileDone <- fetchProfile(srv.pprof, opt.duration, profile) }()
			}
		},
		end: func() {
			calls1 = b.authn.calls.Load()
			u1, err1 = b.usage(pid)
			if srv.kind == "authsvc" && err1 == nil {
				ops1, err1 = storeOps(srv.addr)
			}
			if err1 == nil {
				hwmKiB, err1 = memKiB(pid, "VmHWM")
			}
			if err1 == nil {
				rssKiB, err1 = memKiB(pid, "VmRSS")
			}
		},
	}
	measured, err := runLoad(ctx, groups, opt)
	if err != nil {
		return res, err
	}
	if profileDone != nil {
		if err := <-profileDone; err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		logf("cpu profile written to %s", profile)
	}
	if srv.p.exited() {
		return res, fmt.Errorf("%s exited during the case:\n%s", srv.p.name, srv.p.tail())
	}
	if err := errors.Join(err0, err1); err != nil {
		return res, fmt.Errorf("reading /proc: %w", err)
	}
	sec := measured.Seconds()
	res.Seconds = sec
	res.latency = summarize(groups[0], -1, sec)
	var requests int64
	for _, g := range groups {
		requests += summarize(g, -1, sec).Requests
	}
	if calls := calls1 - calls0; calls > 0 && requests > 0 {
		res.AuthnCallsPerReq = float64(calls) / float64(requests)
	}
	switch {
	case len(groups) > 1: // the flood: one part per group
		res.Parts = map[string]latency{}
		for _, g := range groups {
			res.Parts[g.name] = summarize(g, -1, sec)
		}
	case len(groups[0].ops) > 1: // the mix: one part per operation
		res.Parts = map[string]latency{}
		for i, op := range groups[0].ops {
			res.Parts[op] = summarize(groups[0], i, sec)
		}
	}
	res.ServerCPUSeconds = (u1.server - u0.server).Seconds()
	res.ServerCores = res.ServerCPUSeconds / sec
	if requests > 0 {
		res.CPUPerReqUs = res.ServerCPUSeconds * 1e6 / float64(requests)
		res.StoreOpsPerReq = float64(ops1-ops0) / float64(requests)
	}
	res.RedisCores = (u1.redis - u0.redis).Seconds() / sec
	res.LoadgenCores = (u1.self - u0.self).Seconds() / sec
	res.PeakRSSMiB = float64(hwmKiB) / 1024
	res.RSSMiB = float64(rssKiB) / 1024
	return res, nil
}

// fetchProfile asks authsvc's PPROF_ADDR for a CPU profile of d (whole
// seconds, at least one) and writes it to path.
func fetchProfile(pprofAddr string, d time.Duration, path string) error {
	sec := max(1, int(d/time.Second))
	status, body, err := get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, sec), d+30*time.Second)
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("pprof answered %d: %.200s", status, body)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}

// memoryCheck refreshes -refresh-total times on HS256, then reads authsvc's
// RSS and counts the Redis keys and those without a TTL.
func (b *bench) memoryCheck(ctx context.Context, c caseSpec) error {
	srv := b.servers["authsvc/"+c.alg]
	logf("memory check: %d refreshes on %s", b.cfg.refreshTotal, c.name())
	res, err := b.measure(ctx, srv, b.groups(kindMemory, srv.api), loadOptions{
		addr: srv.addr, warmup: 0, duration: 24 * time.Hour, maxRequests: b.cfg.refreshTotal,
	}, "")
	if err != nil {
		return err
	}
	m := &memoryResult{Refreshes: res.Requests, Seconds: res.Seconds, RPS: res.RPS, Errors: res.Errors,
		PeakRSSMiB: res.PeakRSSMiB, RSSMiB: res.RSSMiB}
	if hwm, err := memKiB(srv.p.pid(), "VmHWM"); err == nil {
		m.LifetimePeakRSSMiB = float64(hwm) / 1024
	}
	if m.Keys, err = b.redis.census(ctx, "authsvc:*"); err != nil {
		return err
	}
	used, err := b.redis.usedMemory(ctx)
	if err != nil {
		return err
	}
	m.RedisUsedMiB = float64(used) / (1 << 20)
	b.memory = m
	return nil
}

// censusAll counts authsvc's keys and all keys, with those lacking a TTL.
func (r *redisServer) censusAll(ctx context.Context) (map[string]keyCensus, error) {
	out := map[string]keyCensus{}
	for _, pattern := range []string{"authsvc:*", "*"} {
		c, err := r.census(ctx, pattern)
		if err != nil {
			return nil, err
		}
		out[pattern] = c
	}
	return out, nil
}

func errorCount(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
