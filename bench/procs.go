package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/launch"
)

// proc is a child process the benchmark started; it is stopped by its PID.
type proc struct {
	*launch.Process
	name string
}

// startProc runs bin with args and env, its output going to logPath.
func startProc(name, bin string, args, env []string, logPath string) (*proc, error) {
	p, err := launch.Start(launch.Spec{Name: name, Path: bin, Args: args, Env: env, LogPath: logPath})
	if err != nil {
		return nil, err
	}
	return &proc{Process: p, name: name}, nil
}

func (p *proc) pid() int { return p.Pid() }

func (p *proc) exited() bool { return p.Exited() }

// stop sends SIGTERM to the process's PID and waits; after 10 s it sends
// SIGKILL to the same PID.
func (p *proc) stop() { p.Stop(syscall.SIGTERM, 10*time.Second) }

// tail returns the end of the process's log, for error messages.
func (p *proc) tail() string { return p.Tail(30) }

// waitReady polls ready until it succeeds, the process exits, or 20 s pass.
func (p *proc) waitReady(ctx context.Context, ready func() bool) error {
	return p.WaitReady(ctx, 20*time.Second, func() error {
		if !ready() {
			return errors.New("not ready")
		}
		return nil
	})
}

// httpReady reports whether GET url answers 200.
func httpReady(url string) func() bool {
	return func() bool {
		status, _, err := get(url, time.Second)
		return err == nil && status == 200
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) { return launch.FreeAddr() }

// redisServer is the benchmark's private redis-server: a free loopback
// port, no persistence, its files in dir.
type redisServer struct {
	*proc
	addr   string
	client *goredis.Client
}

func startRedis(ctx context.Context, bin, dir string) (*redisServer, error) {
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("redis-server not found (install it with 'apt-get install redis-server'): %w", err)
	}
	var lastErr error
	for range 5 { // the free port can be taken between the check and the start
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		p, err := startProc("redis-server", bin, []string{
			"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--protected-mode", "yes",
		}, []string{"PATH=" + os.Getenv("PATH")}, filepath.Join(dir, "redis.log"))
		if err != nil {
			return nil, err
		}
		client := goredis.NewClient(&goredis.Options{Addr: addr})
		lastErr = p.waitReady(ctx, func() bool { return client.Ping(ctx).Err() == nil })
		if lastErr == nil {
			return &redisServer{proc: p, addr: addr, client: client}, nil
		}
		client.Close()
		p.stop()
	}
	return nil, lastErr
}

func (r *redisServer) stop() {
	r.client.Close()
	r.proc.stop()
}

// keyCensus counts the keys matching pattern and those without a TTL.
type keyCensus struct {
	Keys       int64 `json:"keys"`
	WithoutTTL int64 `json:"keys_without_ttl"`
}

func (r *redisServer) census(ctx context.Context, pattern string) (keyCensus, error) {
	var c keyCensus
	iter := r.client.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		c.Keys++
		ttl, err := r.client.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			return c, err
		}
		if ttl == -1 { // go-redis returns the reply -1 as -1 ns
			c.WithoutTTL++
		}
	}
	return c, iter.Err()
}

// usedMemory returns Redis's used_memory in bytes.
func (r *redisServer) usedMemory(ctx context.Context) (int64, error) {
	info, err := r.client.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("INFO memory has no used_memory")
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the user plus system CPU time the process has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing parenthesis.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// memKiB returns a "Vm…:" field of /proc/PID/status in KiB (VmRSS, VmHWM).
func memKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKiB(b, field)
}

func parseStatusKiB(b []byte, field string) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// resetPeakRSS sets the process's VmHWM back to its current RSS (Linux 4.0+),
// so that the next reading is the peak of one case alone. It reports whether
// that worked.
func resetPeakRSS(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// selfCPU returns the CPU time this benchmark process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
