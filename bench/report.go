package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// runResult is one measurement of one case on one server.
type runResult struct {
	latency
	Seconds          float64            `json:"seconds"`
	Parts            map[string]latency `json:"parts,omitempty"` // mixed: per operation; flood: per client group
	ServerCPUSeconds float64            `json:"server_cpu_s"`
	ServerCores      float64            `json:"server_cores"`          // server CPU time ÷ wall time
	CPUPerReqUs      float64            `json:"server_cpu_us_per_req"` // over all measured requests
	RedisCores       float64            `json:"redis_cores"`
	LoadgenCores     float64            `json:"loadgen_cores"`
	PeakRSSMiB       float64            `json:"server_peak_rss_mib"` // VmHWM during the case
	RSSMiB           float64            `json:"server_rss_mib"`      // VmRSS at its end
	// StoreOpsPerReq is authsvc's store operations (each one Redis round
	// trip) per measured request, from its /metrics; 0 for other servers.
	StoreOpsPerReq float64 `json:"store_ops_per_req,omitempty"`
	// AuthnCallsPerReq is the user authenticator's calls per request in
	// the measured interval (password-authenticator: 1 is the promise).
	AuthnCallsPerReq float64 `json:"authenticator_calls_per_req,omitempty"`
}

// caseResult is every run of one case on one server and their medians.
type caseResult struct {
	Name     string      `json:"name"`
	Server   string      `json:"server"` // authsvc, floor or gooauth2
	Kind     string      `json:"kind"`
	Alg      string      `json:"alg"`
	Endpoint string      `json:"endpoint,omitempty"` // the floor's endpoint
	Median   runResult   `json:"median"`
	Runs     []runResult `json:"runs"`
}

// memoryResult is the long-run memory check.
type memoryResult struct {
	Refreshes          int64            `json:"refreshes"`
	Seconds            float64          `json:"seconds"`
	RPS                float64          `json:"rps"`
	Errors             map[string]int64 `json:"errors,omitempty"`
	RSSMiB             float64          `json:"authsvc_rss_mib"`
	PeakRSSMiB         float64          `json:"authsvc_peak_rss_mib"`
	LifetimePeakRSSMiB float64          `json:"authsvc_lifetime_peak_rss_mib"`
	Keys               keyCensus        `json:"authsvc_keys"`
	RedisUsedMiB       float64          `json:"redis_used_memory_mib"`
}

// comparison is authsvc against the floor on one case.
type comparison struct {
	Case         string  `json:"case"`
	FloorPath    string  `json:"floor_endpoint"`
	AuthsvcRPS   float64 `json:"authsvc_rps"`
	FloorRPS     float64 `json:"floor_rps"`
	RPSRatio     float64 `json:"rps_ratio"`
	AuthsvcP99Ms float64 `json:"authsvc_p99_ms"`
	FloorP99Ms   float64 `json:"floor_p99_ms"`
	P99Ratio     float64 `json:"p99_ratio"`
	AuthsvcCPUUs float64 `json:"authsvc_cpu_us_per_req"`
	FloorCPUUs   float64 `json:"floor_cpu_us_per_req"`
	CPURatio     float64 `json:"cpu_ratio"`
	Targets      bool    `json:"targets_apply"`
}

// refComparison is authsvc against the go-oauth2 reference server on one
// case, both doing the whole work of a token service.
type refComparison struct {
	Case          string  `json:"case"`
	AuthsvcRPS    float64 `json:"authsvc_rps"`
	GoOAuth2RPS   float64 `json:"gooauth2_rps"`
	RPSRatio      float64 `json:"rps_ratio"`
	Target        float64 `json:"target_rps_ratio,omitempty"` // 0: none
	AuthsvcP50Ms  float64 `json:"authsvc_p50_ms"`
	GoOAuth2P50Ms float64 `json:"gooauth2_p50_ms"`
	AuthsvcP99Ms  float64 `json:"authsvc_p99_ms"`
	GoOAuth2P99Ms float64 `json:"gooauth2_p99_ms"`
	AuthsvcCPUUs  float64 `json:"authsvc_cpu_us_per_req"`
	GoOAuth2CPUUs float64 `json:"gooauth2_cpu_us_per_req"`
}

// gooauth2Targets are the req/s ratios authsvc aims for against go-oauth2.
var gooauth2Targets = map[string]float64{kindClientCreds: 1.15, kindRefresh: 2.5}

// boundCheck compares a password grant with cores ÷ one hash check.
type boundCheck struct {
	Case   string  `json:"case"`
	Server string  `json:"server"`
	Hash   string  `json:"hash"`
	RPS    float64 `json:"rps"`
	Bound  float64 `json:"bound_rps"`
	Ratio  float64 `json:"ratio"`
	// AllCoresBound is cores ÷ one check timed with every core checking at
	// once; AllCoresRatio is RPS against it. Shown beside the target, not
	// judged: how much the cores slow each other varies with the host.
	AllCoresBound float64 `json:"all_cores_bound_rps"`
	AllCoresRatio float64 `json:"all_cores_ratio"`
	// HashMs ÷ CPUMsPerReq is the share of the server's CPU time spent in
	// the hash itself: what Ratio would be if the server had every core to
	// itself, so it holds on a busy machine too.
	HashMs        float64 `json:"hash_ms"`
	CPUMsPerReq   float64 `json:"cpu_ms_per_req"`
	CPUEfficiency float64 `json:"cpu_efficiency"`
}

// floodResult is /refresh alone against /refresh during a login flood.
type floodResult struct {
	SoloRPS       float64   `json:"solo_rps"`
	UnderFloodRPS float64   `json:"under_flood_rps"`
	LoginRPS      float64   `json:"login_rps"`
	Ratio         float64   `json:"ratio"` // median of the runs' ratios
	RunRatios     []float64 `json:"run_ratios"`
	SoloP99Ms     float64   `json:"solo_p99_ms"`
	FloodP99Ms    float64   `json:"under_flood_p99_ms"`
}

// dpopComparison is /refresh with a DPoP proof beside /refresh without,
// for one algorithm, in the same run.
type dpopComparison struct {
	Alg               string  `json:"alg"`
	RefreshRPS        float64 `json:"refresh_rps"`
	DPoPRPS           float64 `json:"dpop_rps"`
	RPSRatio          float64 `json:"rps_ratio"`
	RefreshP99Ms      float64 `json:"refresh_p99_ms"`
	DPoPP99Ms         float64 `json:"dpop_p99_ms"`
	RefreshCPUUs      float64 `json:"refresh_cpu_us_per_req"`
	DPoPCPUUs         float64 `json:"dpop_cpu_us_per_req"`
	RefreshStoreOps   float64 `json:"refresh_store_ops_per_req"`
	DPoPStoreOps      float64 `json:"dpop_store_ops_per_req"`
	ExtraStoreOpsOK   bool    `json:"at_most_one_more_round_trip"`
	RefreshRedisCores float64 `json:"refresh_redis_cores"`
	DPoPRedisCores    float64 `json:"dpop_redis_cores"`
}

// report is everything one benchmark run found; it is written as JSON.
type report struct {
	Time        time.Time            `json:"time"`
	Label       string               `json:"label,omitempty"`
	Settings    map[string]any       `json:"settings"`
	Machine     map[string]any       `json:"machine"`
	Hashes      hashTimes            `json:"hashes"`
	Cases       []*caseResult        `json:"cases"`
	Comparisons []comparison         `json:"comparisons"`
	GoOAuth2    []refComparison      `json:"gooauth2_comparisons,omitempty"`
	Bounds      []boundCheck         `json:"password_bounds"`
	Flood       *floodResult         `json:"refresh_under_login_flood,omitempty"`
	DPoP        []dpopComparison     `json:"dpop_refresh,omitempty"`
	Memory      *memoryResult        `json:"memory_check,omitempty"`
	RedisKeys   map[string]keyCensus `json:"redis_keys"`
}

func (b *bench) report() *report {
	r := &report{
		Time:  b.started,
		Label: b.cfg.label,
		Settings: map[string]any{
			"duration": b.cfg.duration.String(), "warmup": b.cfg.warmup.String(), "runs": b.cfg.runs,
			"concurrency": b.cfg.concurrency, "flood_concurrency": b.cfg.floodConc, "algs": b.cfg.algs,
			"cases": b.cfg.cases.String(), "refresh_total": b.cfg.refreshTotal, "floor": b.cfg.floorBin != "",
			"gooauth2":          b.cfg.gooauth2Bin != "",
			"authsvc_env_extra": len(b.cfg.authsvcEnv),
		},
		Machine:   machine(),
		Hashes:    b.hashes,
		Cases:     b.results,
		Memory:    b.memory,
		RedisKeys: b.census,
	}
	for _, c := range b.results {
		c.Median = medianRun(c.Runs)
	}
	find := func(name, server string) *caseResult {
		for _, c := range b.results {
			if c.Name == name && c.Server == server {
				return c
			}
		}
		return nil
	}
	for _, c := range b.results {
		if c.Server != "authsvc" {
			continue
		}
		if f := find(c.Name, "floor"); f != nil {
			a, fm := c.Median, f.Median
			r.Comparisons = append(r.Comparisons, comparison{
				Case: c.Name, FloorPath: f.Endpoint, AuthsvcRPS: a.RPS, FloorRPS: fm.RPS, RPSRatio: ratio(a.RPS, fm.RPS),
				AuthsvcP99Ms: a.P99Ms, FloorP99Ms: fm.P99Ms, P99Ratio: ratio(a.P99Ms, fm.P99Ms),
				AuthsvcCPUUs: a.CPUPerReqUs, FloorCPUUs: fm.CPUPerReqUs, CPURatio: ratio(a.CPUPerReqUs, fm.CPUPerReqUs),
				Targets: c.Kind != kindPassword,
			})
		}
		if g := find(c.Name, "gooauth2"); g != nil {
			a, gm := c.Median, g.Median
			r.GoOAuth2 = append(r.GoOAuth2, refComparison{
				Case: c.Name, AuthsvcRPS: a.RPS, GoOAuth2RPS: gm.RPS, RPSRatio: ratio(a.RPS, gm.RPS), Target: gooauth2Targets[c.Kind],
				AuthsvcP50Ms: a.P50Ms, GoOAuth2P50Ms: gm.P50Ms, AuthsvcP99Ms: a.P99Ms, GoOAuth2P99Ms: gm.P99Ms,
				AuthsvcCPUUs: a.CPUPerReqUs, GoOAuth2CPUUs: gm.CPUPerReqUs,
			})
		}
	}
	for _, c := range b.results {
		if c.Kind != kindPassword {
			continue
		}
		bc := boundCheck{Case: c.Name, Server: c.Server, RPS: c.Median.RPS, CPUMsPerReq: c.Median.CPUPerReqUs / 1000}
		if c.Server != "floor" { // authsvc and go-oauth2 check the same argon2id hash
			bc.Hash, bc.Bound, bc.HashMs = "argon2id m=19MiB t=2 p=1", b.hashes.Argon2Max, b.hashes.Argon2idMs
			bc.AllCoresBound = b.hashes.Argon2AllCoresMax
		} else {
			bc.Hash, bc.Bound, bc.HashMs = fmt.Sprintf("bcrypt cost %d", b.hashes.BcryptCost), b.hashes.BcryptMax, b.hashes.BcryptMs
			bc.AllCoresBound = b.hashes.BcryptAllCoresMax
		}
		bc.Ratio = ratio(bc.RPS, bc.Bound)
		bc.AllCoresRatio = ratio(bc.RPS, bc.AllCoresBound)
		bc.CPUEfficiency = ratio(bc.HashMs, bc.CPUMsPerReq)
		r.Bounds = append(r.Bounds, bc)
	}
	for _, c := range b.results {
		if c.Kind != kindRefreshDPoP || c.Server != "authsvc" {
			continue
		}
		plain := find(kindRefresh+"/"+c.Alg, "authsvc")
		if plain == nil {
			continue
		}
		p, d := plain.Median, c.Median
		r.DPoP = append(r.DPoP, dpopComparison{
			Alg: c.Alg, RefreshRPS: p.RPS, DPoPRPS: d.RPS, RPSRatio: ratio(d.RPS, p.RPS),
			RefreshP99Ms: p.P99Ms, DPoPP99Ms: d.P99Ms, RefreshCPUUs: p.CPUPerReqUs, DPoPCPUUs: d.CPUPerReqUs,
			RefreshStoreOps: p.StoreOpsPerReq, DPoPStoreOps: d.StoreOpsPerReq,
			// Re-logins after a broken chain add a little; more than one
			// whole operation per request is a regression.
			ExtraStoreOpsOK:   d.StoreOpsPerReq-p.StoreOpsPerReq <= 1.05,
			RefreshRedisCores: p.RedisCores, DPoPRedisCores: d.RedisCores,
		})
	}
	solo, flood := find(kindFloodSolo+"/HS256", "authsvc"), find(kindFlood+"/HS256", "authsvc")
	if solo != nil && flood != nil {
		f := &floodResult{SoloRPS: solo.Median.RPS, UnderFloodRPS: flood.Median.RPS,
			LoginRPS: flood.Median.Parts["login-flood"].RPS, SoloP99Ms: solo.Median.P99Ms, FloodP99Ms: flood.Median.P99Ms}
		for i := range min(len(solo.Runs), len(flood.Runs)) {
			f.RunRatios = append(f.RunRatios, ratio(flood.Runs[i].RPS, solo.Runs[i].RPS))
		}
		f.Ratio = median(f.RunRatios)
		r.Flood = f
	}
	return r
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianOf returns the median of one field over rs.
func medianOf[T any](rs []T, field func(T) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = field(r)
	}
	return median(xs)
}

// medianLatency takes each figure's median over the runs; errors are summed.
func medianLatency(ls []latency) latency {
	m := latency{
		Requests: int64(medianOf(ls, func(l latency) float64 { return float64(l.Requests) })),
		RPS:      medianOf(ls, func(l latency) float64 { return l.RPS }),
		P50Ms:    medianOf(ls, func(l latency) float64 { return l.P50Ms }),
		P99Ms:    medianOf(ls, func(l latency) float64 { return l.P99Ms }),
		P999Ms:   medianOf(ls, func(l latency) float64 { return l.P999Ms }),
		MaxMs:    medianOf(ls, func(l latency) float64 { return l.MaxMs }),
	}
	for _, l := range ls {
		for k, v := range l.Errors {
			if m.Errors == nil {
				m.Errors = map[string]int64{}
			}
			m.Errors[k] += v
		}
	}
	return m
}

func medianRun(rs []runResult) runResult {
	ls := make([]latency, len(rs))
	for i, r := range rs {
		ls[i] = r.latency
	}
	m := runResult{
		latency:          medianLatency(ls),
		Seconds:          medianOf(rs, func(r runResult) float64 { return r.Seconds }),
		ServerCPUSeconds: medianOf(rs, func(r runResult) float64 { return r.ServerCPUSeconds }),
		ServerCores:      medianOf(rs, func(r runResult) float64 { return r.ServerCores }),
		CPUPerReqUs:      medianOf(rs, func(r runResult) float64 { return r.CPUPerReqUs }),
		RedisCores:       medianOf(rs, func(r runResult) float64 { return r.RedisCores }),
		LoadgenCores:     medianOf(rs, func(r runResult) float64 { return r.LoadgenCores }),
		PeakRSSMiB:       medianOf(rs, func(r runResult) float64 { return r.PeakRSSMiB }),
		RSSMiB:           medianOf(rs, func(r runResult) float64 { return r.RSSMiB }),
		StoreOpsPerReq:   medianOf(rs, func(r runResult) float64 { return r.StoreOpsPerReq }),
	}
	for _, r := range rs {
		for name := range r.Parts {
			if m.Parts == nil {
				m.Parts = map[string]latency{}
			}
			if _, done := m.Parts[name]; done {
				continue
			}
			var parts []latency
			for _, r2 := range rs {
				parts = append(parts, r2.Parts[name])
			}
			m.Parts[name] = medianLatency(parts)
		}
	}
	return m
}

func machine() map[string]any {
	m := map[string]any{"cpus": runtime.NumCPU(), "gomaxprocs": runtime.GOMAXPROCS(0), "go": runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavg_at_end"] = strings.TrimSpace(string(b))
	}
	return m
}

// write stores the report as dir/<time>.json.
func (r *report) write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, r.Time.Format("20060102-150405")+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// table prints rows as a Markdown table with aligned columns.
func table(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		var sb strings.Builder
		for i, c := range row {
			sb.WriteString("| " + c + strings.Repeat(" ", width[i]-len([]rune(c))) + " ")
		}
		fmt.Fprintln(w, sb.String()+"|")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, row := range rows {
		line(row)
	}
}

func f0(x float64) string { return fmt.Sprintf("%.0f", x) }
func f2(x float64) string { return fmt.Sprintf("%.2f", x) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

func errorsText(m map[string]int64) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nauthsvc load benchmark, %s: medians of %v runs of %v (warm-up %v), %v connections, %v CPUs\n\n",
		r.Time.Format("2006-01-02 15:04"), r.Settings["runs"], r.Settings["duration"], r.Settings["warmup"],
		r.Settings["concurrency"], r.Machine["cpus"])
	var rows [][]string
	for _, c := range r.Cases {
		server := c.Server
		if c.Endpoint != "" {
			server += " " + c.Endpoint
		}
		m := c.Median
		rows = append(rows, []string{c.Name, server, f0(m.RPS), f2(m.P50Ms), f2(m.P99Ms), f2(m.P999Ms), errorsText(m.Errors),
			f0(m.CPUPerReqUs), f2(m.ServerCores), f2(m.RedisCores), f2(m.LoadgenCores), fmt.Sprintf("%.1f", m.PeakRSSMiB)})
	}
	table(w, []string{"case", "server", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors (all runs)",
		"CPU µs/req", "server cores", "redis cores", "loadgen cores", "peak RSS MiB"}, rows)

	if len(r.Comparisons) > 0 {
		fmt.Fprintf(w, "\nauthsvc ÷ floor, side by side (targets: req/s ≥ 0.8 × floor, p99 ≤ 2 × floor)\n\n")
		rows = nil
		for _, c := range r.Comparisons {
			rpsV, p99V := "-", "-"
			if c.Targets {
				rpsV, p99V = verdict(c.RPSRatio >= 0.8), verdict(c.P99Ratio <= 2)
			}
			rows = append(rows, []string{c.Case, c.FloorPath, f0(c.AuthsvcRPS), f0(c.FloorRPS), f2(c.RPSRatio), rpsV,
				f2(c.AuthsvcP99Ms), f2(c.FloorP99Ms), f2(c.P99Ratio), p99V,
				f0(c.AuthsvcCPUUs), f0(c.FloorCPUUs), f2(c.CPURatio)})
		}
		table(w, []string{"case", "floor endpoint", "authsvc req/s", "floor req/s", "ratio", "≥ 0.8",
			"authsvc p99 ms", "floor p99 ms", "ratio", "≤ 2", "authsvc CPU µs/req", "floor CPU µs/req", "ratio"}, rows)
		fmt.Fprintln(w, "(password rows: authsvc checks argon2id, the floor bcrypt; compare each with its own hash bound below)")
	}

	if len(r.GoOAuth2) > 0 {
		fmt.Fprintf(w, "\nauthsvc ÷ go-oauth2 v4.5.4 (Redis token store, rotation on, HS256 JWT), side by side\n\n")
		rows = nil
		for _, c := range r.GoOAuth2 {
			target, v := "-", "-"
			if c.Target > 0 {
				target, v = "≥ "+f2(c.Target), verdict(c.RPSRatio >= c.Target)
			}
			rows = append(rows, []string{c.Case, f0(c.AuthsvcRPS), f0(c.GoOAuth2RPS), f2(c.RPSRatio), target, v,
				f2(c.AuthsvcP50Ms), f2(c.GoOAuth2P50Ms), f2(c.AuthsvcP99Ms), f2(c.GoOAuth2P99Ms),
				f0(c.AuthsvcCPUUs), f0(c.GoOAuth2CPUUs)})
		}
		table(w, []string{"case", "authsvc req/s", "go-oauth2 req/s", "ratio", "target", "met",
			"authsvc p50 ms", "go-oauth2 p50 ms", "authsvc p99 ms", "go-oauth2 p99 ms",
			"authsvc CPU µs/req", "go-oauth2 CPU µs/req"}, rows)
		fmt.Fprintln(w, "(both check the same argon2id hash on the password grant; authsvc rotates on /refresh, go-oauth2 on its refresh_token grant)")
	}

	if len(r.Bounds) > 0 {
		fmt.Fprintf(w, "\npassword grant against cores ÷ one hash check (%d cores; argon2id %.1f ms alone, %.1f ms with every core hashing; bcrypt-%d %.1f ms alone, %.1f ms so; target ≥ 0.9 for authsvc against the check alone)\n\n",
			r.Hashes.Cores, r.Hashes.Argon2idMs, r.Hashes.Argon2idAllCoresMs, r.Hashes.BcryptCost, r.Hashes.BcryptMs, r.Hashes.BcryptAllCoresMs)
		rows = nil
		for _, bc := range r.Bounds {
			v := "-"
			if bc.Server == "authsvc" {
				v = verdict(bc.Ratio >= 0.9)
			}
			rows = append(rows, []string{bc.Case, bc.Server, bc.Hash, f0(bc.RPS), f0(bc.Bound), f2(bc.Ratio), v,
				f0(bc.AllCoresBound), f2(bc.AllCoresRatio), f2(bc.CPUMsPerReq), f2(bc.CPUEfficiency)})
		}
		table(w, []string{"case", "server", "hash", "req/s", "bound req/s", "ratio", "≥ 0.9",
			"all-cores bound", "ratio", "server CPU ms/req", "hash ÷ CPU per req"}, rows)
		fmt.Fprintln(w, "(hash ÷ CPU per req: the share of the server's CPU spent hashing, the ratio it would reach with every core to itself)")
	}

	for _, c := range r.Cases {
		if c.Kind != kindMixed {
			continue
		}
		fmt.Fprintf(w, "\n%s by operation\n\n", c.Name)
		rows = nil
		for _, op := range mixOps {
			p := c.Median.Parts[op]
			rows = append(rows, []string{op, fmt.Sprintf("%.1f %%", 100*ratio(float64(p.Requests), float64(c.Median.Requests))),
				f0(p.RPS), f2(p.P50Ms), f2(p.P99Ms), errorsText(p.Errors)})
		}
		table(w, []string{"operation", "share", "req/s", "p50 ms", "p99 ms", "errors"}, rows)
	}

	if len(r.DPoP) > 0 {
		fmt.Fprintf(w, "\n/refresh with a DPoP proof (ES256, a bound session) beside /refresh without, same run (target: at most one store round trip more)\n\n")
		rows = nil
		for _, c := range r.DPoP {
			rows = append(rows, []string{c.Alg, f0(c.RefreshRPS), f0(c.DPoPRPS), f2(c.RPSRatio),
				f2(c.RefreshP99Ms), f2(c.DPoPP99Ms), f0(c.RefreshCPUUs), f0(c.DPoPCPUUs),
				f2(c.RefreshStoreOps), f2(c.DPoPStoreOps), verdict(c.ExtraStoreOpsOK), f2(c.RefreshRedisCores), f2(c.DPoPRedisCores)})
		}
		table(w, []string{"alg", "refresh req/s", "DPoP req/s", "ratio", "refresh p99 ms", "DPoP p99 ms",
			"refresh CPU µs/req", "DPoP CPU µs/req", "refresh store ops/req", "DPoP store ops/req", "≤ +1",
			"refresh redis cores", "DPoP redis cores"}, rows)
		fmt.Fprintln(w, "(the DPoP client signs a fresh ES256 proof per request on the same cores; the server verifies it)")
	}

	if f := r.Flood; f != nil {
		fmt.Fprintf(w, "\n/refresh under a login flood (HS256): alone %.0f req/s (p99 %.2f ms); beside the flood %.0f req/s (p99 %.2f ms), logins %.0f req/s\n",
			f.SoloRPS, f.SoloP99Ms, f.UnderFloodRPS, f.FloodP99Ms, f.LoginRPS)
		fmt.Fprintf(w, "ratio %.2f (median of runs %v; target ≥ 0.5: %s)\n", f.Ratio, fmtRatios(f.RunRatios), verdict(f.Ratio >= 0.5))
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(w, "\nmemory check (a fresh authsvc): %d refreshes in %.0f s (%.0f req/s, errors %s): authsvc RSS after them %.1f MiB (target < 64: %s; peak %.1f, process lifetime peak %.1f); "+
			"authsvc keys in Redis %d, without TTL %d (target 0: %s); Redis used_memory %.1f MiB\n",
			m.Refreshes, m.Seconds, m.RPS, errorsText(m.Errors), m.RSSMiB, verdict(m.RSSMiB < 64), m.PeakRSSMiB, m.LifetimePeakRSSMiB,
			m.Keys.Keys, m.Keys.WithoutTTL, verdict(m.Keys.WithoutTTL == 0), m.RedisUsedMiB)
	}
	if k, ok := r.RedisKeys["authsvc:*"]; ok {
		all := r.RedisKeys["*"]
		fmt.Fprintf(w, "\nRedis at the end: %d authsvc keys, %d without TTL (target 0: %s); %d keys in all, %d without TTL\n",
			k.Keys, k.WithoutTTL, verdict(k.WithoutTTL == 0), all.Keys, all.WithoutTTL)
	}
}

func fmtRatios(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = f2(x)
	}
	return strings.Join(s, ", ")
}
