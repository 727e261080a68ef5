// Package launch starts and stops the child processes that the tests and the
// benchmark tool run: redis-server (internal/redistest), the authsvc binary
// (the end-to-end tests in e2e/) and the servers the benchmark compares.
//
// It knows nothing of testing.TB so that the benchmark tool can use it too;
// callers turn its errors into test failures. Processes are stopped by their
// own PID, never by name.
//
//	addr, _ := launch.FreeAddr()
//	p, err := launch.Start(launch.Spec{Name: "authsvc", Path: bin, Env: env, LogPath: logPath})
//	...
//	err = p.WaitReady(ctx, 15*time.Second, func() error { return probe(addr) })
//	defer p.Stop(syscall.SIGTERM, 10*time.Second)
package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// reservedPort is the port of the machine's own Redis, which FreePort never
// returns.
const reservedPort = 6379

// pollInterval is how often WaitReady calls its check.
const pollInterval = 20 * time.Millisecond

// ErrExited is returned by WaitReady when the process exits before it is
// ready.
var ErrExited = errors.New("process exited")

// Spec describes a process to start.
type Spec struct {
	// Name names the process in errors ("redis-server", "authsvc").
	Name string
	// Path is the executable; Args its arguments (without the name).
	Path string
	Args []string
	// Env is the whole environment; nil means none at all, not the
	// parent's (a child never inherits secrets by accident).
	Env []string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// LogPath, when set, is a file that the process's stdout and stderr are
	// appended to; Tail reads it back. Otherwise Output receives both (nil:
	// discarded).
	LogPath string
	Output  io.Writer
}

// Process is a started child process. Its methods are safe for concurrent use.
type Process struct {
	spec Spec
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, valid once done is closed
}

// Start starts the process described by spec. It does not wait for
// anything; see WaitReady.
func Start(spec Spec) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = spec.Dir
	var logFile *os.File
	if spec.LogPath != "" {
		f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", spec.Name, err)
		}
		logFile = f
		cmd.Stdout, cmd.Stderr = f, f
	} else if spec.Output != nil {
		cmd.Stdout, cmd.Stderr = spec.Output, spec.Output
	}
	if err := cmd.Start(); err != nil {
		if logFile != nil {
			_ = logFile.Close()
		}
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{spec: spec, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if logFile != nil {
			_ = logFile.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns the exit status as cmd.Wait reported it (nil for exit 0). It
// is valid only after Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Signal sends sig to the process's PID.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends sig and waits for the process to exit; after grace it sends
// SIGKILL to the same PID and waits again. It returns the exit status and
// whether the kill was needed. Stopping an exited process only returns its
// status.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) (killed bool, exitErr error) {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
			killed = true
		}
	}
	return killed, p.err
}

// WaitReady calls check until it returns nil. It fails with ErrExited
// (wrapping the exit status and the end of the log) when the process exits
// first, and with an error naming check's last error when timeout passes
// or ctx ends.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		last := check()
		if last == nil {
			return nil
		}
		if p.Exited() {
			status := p.err
			if status == nil {
				status = errors.New("exit status 0")
			}
			return fmt.Errorf("%s: %w (%w)%s", p.spec.Name, ErrExited, status, p.tailSuffix())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (last: %w)%s", p.spec.Name, timeout, last, p.tailSuffix())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting until ready: %w", p.spec.Name, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Tail returns the last n lines of the log file, or "" without LogPath.
func (p *Process) Tail(n int) string {
	if p.spec.LogPath == "" {
		return ""
	}
	b, err := os.ReadFile(p.spec.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *Process) tailSuffix() string {
	if t := p.Tail(20); t != "" {
		return "; output:\n" + t
	}
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago (never
// 6379, the machine's own Redis). Another process may take it before the
// caller binds it: callers that can, retry.
func FreePort() (int, error) {
	for {
		l, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, err
		}
		if port != reservedPort {
			return port, nil
		}
	}
}

// FreeAddr returns "127.0.0.1:PORT" for a port from FreePort.
func FreeAddr() (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}
