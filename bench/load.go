package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authsvc/authsvc/dpop"
)

// worker is one closed-loop client: it sends a request, waits for the
// answer, and sends the next, on its own keep-alive connection.
type worker struct {
	id  int
	c   *client
	rng *rand.Rand

	// needSetup asks the engine to run the group's setup (untimed) before
	// the next step, e.g. to log in again after a chain of refresh tokens
	// broke.
	needSetup bool
	// refresh is the worker's current refresh token, for chains.
	refresh string
	// dpop is the worker's DPoP key, for the DPoP cases.
	dpop *dpop.Signer
	// pool holds tokens issued in setup, used round-robin by steps.
	pool []string
	next int

	rec []opRecord // by op index
}

// opRecord is what one worker saw of one operation.
type opRecord struct {
	lat      []int64 // nanoseconds
	statuses map[int]int64
	failed   int64 // transport errors
}

// group is a set of workers running the same steps.
type group struct {
	name string
	n    int
	ops  []string // labels of the operations step may perform
	// setup prepares a worker before the load starts, and again whenever
	// a step set needSetup; it is never timed.
	setup func(w *worker) error
	// step performs one timed request and returns the op index and the
	// HTTP status (0 with an error when the connection failed).
	step func(w *worker) (op int, status int, err error)

	workers []*worker
}

// window is what happens around the measured interval: the engine calls
// begin when it starts and end when it stops.
type window struct {
	begin func()
	end   func()
}

// loadOptions says how long to warm up and measure, or how many requests
// of the first group to measure (then duration is an upper bound).
type loadOptions struct {
	addr        string
	warmup      time.Duration
	duration    time.Duration
	maxRequests int64
	window      window
}

// runLoad runs every group's workers at once: setup, warm-up, then the
// measured interval. A request counts when its answer arrives inside the
// interval, as in wrk: throughput is completions per second, and a slow
// request started during the warm-up is not lost. It returns the measured
// length of the interval.
func runLoad(ctx context.Context, groups []*group, opt loadOptions) (time.Duration, error) {
	var setupWG sync.WaitGroup
	setupErrs := make(chan error, 1)
	id := 0
	for _, g := range groups {
		g.workers = nil
		for range g.n {
			w := &worker{id: id, c: newClient(opt.addr), rng: rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano()))),
				rec: make([]opRecord, len(g.ops))}
			for i := range w.rec {
				w.rec[i].statuses = map[int]int64{}
			}
			id++
			g.workers = append(g.workers, w)
			setupWG.Add(1)
			go func() {
				defer setupWG.Done()
				if err := g.setup(w); err != nil {
					select {
					case setupErrs <- err:
					default:
					}
				}
			}()
		}
	}
	setupWG.Wait()
	select {
	case err := <-setupErrs:
		closeAll(groups)
		return 0, err
	default:
	}

	var (
		phase    atomic.Int32 // 0 warm-up, 1 measuring, 2 stopped
		counted  atomic.Int64 // measured requests of the first group
		reached  = make(chan struct{})
		reachOne sync.Once
		wg       sync.WaitGroup
	)
	for gi, g := range groups {
		for _, w := range g.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					p := phase.Load()
					if p == 2 || ctx.Err() != nil {
						return
					}
					if w.needSetup {
						w.needSetup = false
						if err := g.setup(w); err != nil {
							w.needSetup = true
							time.Sleep(10 * time.Millisecond)
						}
						continue
					}
					start := time.Now()
					op, status, err := g.step(w)
					d := time.Since(start)
					if phase.Load() != 1 {
						continue
					}
					r := &w.rec[op]
					if err != nil || status == 0 {
						r.failed++
						continue
					}
					r.lat = append(r.lat, int64(d))
					r.statuses[status]++
					if gi == 0 && opt.maxRequests > 0 && counted.Add(1) >= opt.maxRequests {
						reachOne.Do(func() { close(reached) })
					}
				}
			}()
		}
	}

	var measured time.Duration
	stopWarmup := time.NewTimer(opt.warmup)
	select {
	case <-stopWarmup.C:
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		if opt.window.begin != nil {
			opt.window.begin()
		}
		t0 := time.Now()
		phase.Store(1)
		timer := time.NewTimer(opt.duration)
		select {
		case <-timer.C:
		case <-reached:
		case <-ctx.Done():
		}
		phase.Store(2)
		measured = time.Since(t0)
		if opt.window.end != nil {
			opt.window.end()
		}
	}
	phase.Store(2)
	wg.Wait()
	closeAll(groups)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return measured, nil
}

func closeAll(groups []*group) {
	for _, g := range groups {
		for _, w := range g.workers {
			w.c.drop()
		}
	}
}

// latency summarises one set of requests.
type latency struct {
	Requests int64            `json:"requests"`
	RPS      float64          `json:"rps"`
	P50Ms    float64          `json:"p50_ms"`
	P99Ms    float64          `json:"p99_ms"`
	P999Ms   float64          `json:"p99_9_ms"`
	MaxMs    float64          `json:"max_ms"`
	Errors   map[string]int64 `json:"errors,omitempty"` // non-2xx by status, "transport" for failed connections
}

// summarize merges the records of op (every op when op < 0) over g's workers.
func summarize(g *group, op int, seconds float64) latency {
	var lat []int64
	errs := map[string]int64{}
	for _, w := range g.workers {
		for i, r := range w.rec {
			if op >= 0 && i != op {
				continue
			}
			lat = append(lat, r.lat...)
			for s, n := range r.statuses {
				if s < 200 || s > 299 {
					errs[strconv.Itoa(s)] += n
				}
			}
			if r.failed > 0 {
				errs["transport"] += r.failed
			}
		}
	}
	slices.Sort(lat)
	l := latency{Requests: int64(len(lat)), P50Ms: quantileMs(lat, 0.50), P99Ms: quantileMs(lat, 0.99),
		P999Ms: quantileMs(lat, 0.999), MaxMs: quantileMs(lat, 1)}
	if seconds > 0 {
		l.RPS = float64(len(lat)) / seconds
	}
	if len(errs) > 0 {
		l.Errors = errs
	}
	return l
}

// quantileMs returns the q-quantile of sorted nanosecond samples in
// milliseconds (nearest rank), 0 for none.
func quantileMs(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / 1e6
}

// errSetup wraps a failure to prepare a worker.
var errSetup = errors.New("setup")
