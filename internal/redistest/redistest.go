// Package redistest starts private redis-server processes for tests, the way
// net/http/httptest starts private HTTP servers.
//
// Every server listens on a free loopback port (never the machine's Redis on
// 6379), keeps its files in a t.TempDir() directory, persists nothing unless
// asked to, and is killed when the test ends. A missing redis-server binary
// fails the test with an install hint; it never skips it, so a CI machine
// without Redis cannot pass by testing nothing.
//
//	srv := redistest.Start(t)
//	opt, _ := goredis.ParseURL(srv.URL())
//	client := goredis.NewClient(opt)
//
// StartCluster starts a three-master Redis Cluster and StartSentinel a
// master, a replica and three sentinels, from the same pieces: processes
// launched on ports from freePort, made ready by waitReady, killed by PID.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/launch"
)

// binary is the name of the Redis server executable looked up on PATH.
const binary = "redis-server"

// notFoundMessage is the single line a test fails with when binary is not on
// PATH.
const notFoundMessage = "redis-server not found: install it with `apt-get install redis-server`"

const (
	// readyTimeout bounds the wait for a started server to answer PING.
	readyTimeout = 5 * time.Second
	// stopTimeout bounds the wait for a server to exit after a signal.
	stopTimeout = 5 * time.Second
	// startAttempts is how often Start picks a new port when the last one
	// was taken between picking and binding.
	startAttempts = 5
	// logFile is the name, inside the server's directory, of the file that
	// collects the server's output.
	logFile = "redis.log"
)

// Fsync is an appendfsync policy for the append-only file.
type Fsync string

// The appendfsync policies WithAOF accepts.
const (
	// FsyncAlways fsyncs the AOF after every write: an acknowledged write
	// survives Stop (a kill) and Restart.
	FsyncAlways Fsync = "always"
	// FsyncEverySec fsyncs the AOF once a second: a kill may lose the last
	// second of writes.
	FsyncEverySec Fsync = "everysec"
)

// config is what the options set.
type config struct {
	aof   bool
	fsync Fsync
	extra []string
	port  int // WithPort: this port, never another

	// Set by StartCluster and StartSentinel only.
	busPort  bool   // pick a cluster bus port together with the port
	confText string // contents of a config file passed as first argument
	sentinel bool   // run as a sentinel (--sentinel) with only confText's settings
}

// Option configures a server started by Start.
type Option func(*config)

// WithAOF turns the append-only file on with the given appendfsync policy,
// so data written before Stop or Restart is there after Restart.
func WithAOF(fsync Fsync) Option {
	return func(c *config) {
		c.aof = true
		c.fsync = fsync
	}
}

// WithArgs appends command-line arguments to redis-server, in its
// "--name value" form, for example WithArgs("--maxmemory", "10mb"). They come
// after the defaults, so they override them. Do not pass --port, --bind or
// --dir: Server owns those.
func WithArgs(args ...string) Option {
	return func(c *config) {
		c.extra = append(c.extra, args...)
	}
}

// WithPort starts the server on port instead of a free one picked by Start,
// for example where a test told a client about an address before any server
// listened there. Start fails when the port is taken.
func WithPort(port int) Option {
	return func(c *config) {
		c.port = port
	}
}

// Server is a redis-server process owned by one test. Its methods may be
// called from the test goroutine only (they may call tb.Fatalf), except Addr,
// URL, Port and Dir, which are safe anywhere.
type Server struct {
	tb      testing.TB
	bin     string
	dir     string
	port    int
	busPort int      // cluster bus port, 0 when not in a cluster
	conf    string   // config file passed first, "" for none
	mode    []string // "--sentinel" for a sentinel
	args    []string // everything but the above and --port

	mu   sync.Mutex
	proc *process // nil while stopped
}

// Start starts a redis-server on a free loopback port in a fresh temporary
// directory, waits until it answers PING, and registers its termination with
// tb.Cleanup. By default nothing is persisted (--save "" --appendonly no).
// It fails the test, never skips it, when redis-server is not on PATH or does
// not come up.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, newConfig(opts))
}

// newConfig applies opts to a zero config.
func newConfig(opts []Option) config {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// addrs returns the host:port of every server.
func addrs(servers []*Server) []string {
	a := make([]string, len(servers))
	for i, s := range servers {
		a[i] = s.Addr()
	}
	return a
}

// waitUntil polls check until it returns nil, or fails the test after
// timeout naming what it waited for and check's last error.
func waitUntil(tb testing.TB, timeout time.Duration, what string, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: %s not ready after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start starts a server configured by cfg; see Start.
func start(tb testing.TB, cfg config) *Server {
	tb.Helper()
	bin := lookBinary(tb)
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	if cfg.sentinel {
		s.mode = []string{"--sentinel"}
		s.args = baseArgs(s.dir)
	} else {
		s.args = serverArgs(s.dir, cfg)
	}
	if cfg.confText != "" {
		s.conf = filepath.Join(s.dir, "redis.conf")
		if err := os.WriteFile(s.conf, []byte(cfg.confText), 0o600); err != nil {
			tb.Fatalf("redistest: write config: %v", err)
		}
	}
	tb.Cleanup(s.Stop)

	attempts := startAttempts
	if cfg.port != 0 {
		attempts = 1
	}
	var lastErr error
	for range attempts {
		var err error
		if s.port, s.busPort, err = pickPorts(cfg); err != nil {
			tb.Fatalf("redistest: pick a free port: %v", err)
		}
		proc, err := s.launchAndWait()
		if err == nil {
			s.setProc(proc)
			return s
		}
		if !errors.Is(err, errPortInUse) {
			tb.Fatalf("redistest: start redis-server: %v", err)
		}
		lastErr = err
	}
	tb.Fatalf("redistest: start redis-server after %d attempts: %v", attempts, lastErr)
	return nil
}

// pickPorts returns the port (and, for a cluster node, the bus port) of a
// new server.
func pickPorts(cfg config) (port, busPort int, err error) {
	port = cfg.port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return 0, 0, err
		}
	}
	if cfg.busPort {
		// Not port+10000, the default, which may be taken or past 65535.
		for busPort == 0 || busPort == port {
			if busPort, err = freePort(); err != nil {
				return 0, 0, err
			}
		}
	}
	return port, busPort, nil
}

// Addr returns the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port returns the server's TCP port.
func (s *Server) Port() int {
	return s.port
}

// URL returns a redis:// URL for database 0 of the server, the form
// goredis.ParseURL and REDIS_URL take.
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Dir returns the server's working directory, where it keeps its AOF and log.
func (s *Server) Dir() string {
	return s.dir
}

// Stop kills the server (SIGKILL, like a crash) and waits for it to exit.
// Writes not yet fsynced are lost; with WithAOF(FsyncAlways) none are.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.kill(syscall.SIGKILL)
	s.proc = nil
}

// Shutdown stops the server gracefully (SIGTERM, which flushes the AOF) and
// waits for it to exit, killing it if it takes longer than a few seconds.
// Shutting down a stopped server does nothing.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.kill(syscall.SIGTERM)
	s.proc = nil
}

// Restart stops the server if it runs (as Stop does) and starts it again on
// the same port with the same directory and arguments, so an AOF written
// before is loaded again. It returns when the server answers PING.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	var err error
	// The port was ours a moment ago; another process may grab it in
	// between, or the kernel may hold it briefly. Retry, then give up.
	for range startAttempts {
		var proc *process
		proc, err = s.launchAndWait()
		if err == nil {
			s.setProc(proc)
			return
		}
		if !errors.Is(err, errPortInUse) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart redis-server on %s: %v", s.Addr(), err)
}

// setProc records a running process.
func (s *Server) setProc(p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc = p
}

// launchAndWait starts the process on s.port and waits until it is ready.
func (s *Server) launchAndWait() (*process, error) {
	var args []string
	if s.conf != "" {
		args = append(args, s.conf) // redis-server takes its config file first
	}
	args = append(args, s.mode...)
	args = append(args, "--port", strconv.Itoa(s.port))
	if s.busPort != 0 {
		args = append(args, "--cluster-port", strconv.Itoa(s.busPort))
	}
	args = append(args, s.args...)
	proc, err := startProcess(s.bin, s.dir, args)
	if err != nil {
		return nil, err
	}
	if err := waitReady(s.Addr(), proc, readyTimeout); err != nil {
		proc.kill(syscall.SIGKILL)
		return nil, err
	}
	return proc, nil
}

// lookBinary finds redis-server or fails the test with the install hint.
func lookBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath(binary)
	if err != nil {
		tb.Fatalf("%s", notFoundMessage)
	}
	return bin
}

// baseArgs returns the arguments every process gets, server or sentinel:
// loopback only, in the foreground, files in dir, output to the log file.
func baseArgs(dir string) []string {
	return []string{
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--daemonize", "no",
		"--dir", dir,
		"--logfile", "",
	}
}

// serverArgs returns the redis-server arguments for cfg, without --port.
func serverArgs(dir string, cfg config) []string {
	args := append(baseArgs(dir), "--save", "", "--appendonly", "no")
	if cfg.aof {
		fsync := cfg.fsync
		if fsync == "" {
			fsync = FsyncAlways
		}
		args = append(args, "--appendonly", "yes", "--appendfsync", string(fsync))
	}
	return append(args, cfg.extra...)
}

// freePort returns a loopback TCP port that was free a moment ago. It is a
// variable so the package's tests can simulate a port taken in between.
var freePort = launch.FreePort

// errPortInUse means redis-server could not bind its port.
var errPortInUse = errors.New("port in use")

// process is one running redis-server.
type process struct {
	*launch.Process
}

// startProcess starts bin in dir with args, its output appended to dir/redis.log.
func startProcess(bin, dir string, args []string) (*process, error) {
	p, err := launch.Start(launch.Spec{
		Name: binary, Path: bin, Args: args, Dir: dir,
		Env:     []string{"PATH=" + os.Getenv("PATH")},
		LogPath: filepath.Join(dir, logFile),
	})
	if err != nil {
		return nil, err
	}
	return &process{p}, nil
}

// kill sends sig and waits for the process to exit, escalating to SIGKILL
// after stopTimeout.
func (p *process) kill(sig syscall.Signal) {
	_, _ = p.Stop(sig, stopTimeout)
}

// waitReady waits until the server at addr answers PING, or fails when the
// process exits or timeout passes. A server still loading its AOF answers
// LOADING and is waited for.
func waitReady(addr string, p *process, timeout time.Duration) error {
	err := p.WaitReady(context.Background(), timeout, func() error {
		_, err := ping(addr)
		return err
	})
	if errors.Is(err, launch.ErrExited) && strings.Contains(p.Tail(10), "Address already in use") {
		return fmt.Errorf("%w: %s", errPortInUse, addr)
	}
	return err
}

// ping sends one inline PING and reports whether the server is serving.
func ping(addr string) (bool, error) {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return false, err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false, err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return false, err
	}
	// Any answer but LOADING means it serves: PONG, or an error such as
	// NOAUTH (a password is set) or MASTERDOWN (a replica told not to serve
	// stale data) that the test asked for.
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "-LOADING") {
		return false, fmt.Errorf("PING answered %q", line)
	}
	return true, nil
}
