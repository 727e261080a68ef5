package main

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := []byte("4242 (auth svc (x)) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 75 0 0 20 0 9 0 123 456 789\n")
	got, err := parseStatCPU(line)
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("parseStatCPU = %v, %v; want 3.25s", got, err)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Fatal("parseStatCPU accepted garbage")
	}
}

func TestParseStatusKiB(t *testing.T) {
	status := []byte("Name:\tauthsvc\nVmPeak:\t 1000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\n")
	for field, want := range map[string]int64{"VmHWM": 40960, "VmRSS": 30720} {
		if got, err := parseStatusKiB(status, field); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := parseStatusKiB(status, "VmSwap"); err == nil {
		t.Error("missing field: no error")
	}
}

func TestJSONField(t *testing.T) {
	body := []byte(`{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r.s.t"}`)
	if got := jsonField(body, "refresh_token"); got != "r.s.t" {
		t.Errorf("refresh_token = %q", got)
	}
	if got := jsonField(body, "scope"); got != "" {
		t.Errorf("absent field = %q", got)
	}
}

func TestQuantileMs(t *testing.T) {
	var ns []int64
	for i := int64(1); i <= 1000; i++ {
		ns = append(ns, i*int64(time.Millisecond))
	}
	for q, want := range map[float64]float64{0.5: 500, 0.99: 990, 0.999: 999, 1: 1000} {
		if got := quantileMs(ns, q); got != want {
			t.Errorf("q%v = %v, want %v", q, got, want)
		}
	}
	if got := quantileMs(nil, 0.5); got != 0 {
		t.Errorf("no samples: %v", got)
	}
}

func TestMedianRun_SumsErrors(t *testing.T) {
	runs := []runResult{
		{latency: latency{RPS: 10, P99Ms: 3, Errors: map[string]int64{"503": 1}}},
		{latency: latency{RPS: 30, P99Ms: 1}},
		{latency: latency{RPS: 20, P99Ms: 2, Errors: map[string]int64{"503": 2, "transport": 1}}},
	}
	m := medianRun(runs)
	if m.RPS != 20 || m.P99Ms != 2 || m.Errors["503"] != 3 || m.Errors["transport"] != 1 {
		t.Fatalf("median = %+v", m)
	}
}

func TestPlan_FiltersByName(t *testing.T) {
	cfg := &config{cases: regexp.MustCompile(`^refresh/|mixed`), algs: []string{"HS256", "ES256"}}
	var got []string
	for _, c := range plan(cfg) {
		got = append(got, c.name())
	}
	want := []string{"refresh/HS256", "refresh/ES256", "mixed/HS256"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
}

func TestMixShares(t *testing.T) {
	// Of all requests: refresh 90 %, revoke 1 %, login 9 % (the chosen
	// ones plus one after every revoke).
	total := 1 + mixShareRevoke // per request made while holding a session
	refresh, revoke := mixShareRefresh/total, mixShareRevoke/total
	login := (1 - mixShareRefresh - mixShareRevoke + mixShareRevoke) / total
	for name, got := range map[string][2]float64{"refresh": {refresh, 0.90}, "revoke": {revoke, 0.01}, "login": {login, 0.09}} {
		if d := got[0] - got[1]; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s share = %v, want %v", name, got[0], got[1])
		}
	}
}
