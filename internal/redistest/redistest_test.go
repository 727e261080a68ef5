package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// mustClient returns a client of srv that is closed when the test ends.
func mustClient(tb testing.TB, srv *Server) *goredis.Client {
	tb.Helper()
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		tb.Fatalf("parse %q: %v", srv.URL(), err)
	}
	opt.MaxRetries = -1
	c := goredis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestStart_ServesOnPrivateLoopbackPort(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatalf("Addr %q: %v", srv.Addr(), err)
	}
	if host != "127.0.0.1" {
		t.Errorf("host = %q, want 127.0.0.1", host)
	}
	if port == "6379" || srv.Port() == 6379 {
		t.Errorf("server took the default Redis port")
	}
	if want := "redis://" + srv.Addr() + "/0"; srv.URL() != want {
		t.Errorf("URL = %q, want %q", srv.URL(), want)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir(), "redis.log")); err != nil {
		t.Errorf("server log not in Dir: %v", err)
	}

	ctx := context.Background()
	c := mustClient(t, srv)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

func TestStart_TwoServersAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	ctx := context.Background()
	if err := mustClient(t, a).Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := mustClient(t, b).Get(ctx, "k").Err(); !errors.Is(err, goredis.Nil) {
		t.Fatalf("GET on the other server: %v, want redis.Nil", err)
	}
}

func TestStart_Config(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want map[string]string
	}{
		{
			name: "default persists nothing",
			want: map[string]string{"save": "", "appendonly": "no", "bind": "127.0.0.1"},
		},
		{
			name: "aof always",
			opts: []Option{WithAOF(FsyncAlways)},
			want: map[string]string{"save": "", "appendonly": "yes", "appendfsync": "always"},
		},
		{
			name: "aof everysec",
			opts: []Option{WithAOF(FsyncEverySec)},
			want: map[string]string{"appendonly": "yes", "appendfsync": "everysec"},
		},
		{
			name: "extra args override defaults",
			opts: []Option{WithArgs("--maxmemory", "10mb", "--save", "3600 1")},
			want: map[string]string{"maxmemory": "10485760", "save": "3600 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustClient(t, Start(t, tt.opts...))
			for name, want := range tt.want {
				got, err := c.ConfigGet(context.Background(), name).Result()
				if err != nil {
					t.Fatalf("CONFIG GET %s: %v", name, err)
				}
				if got[name] != want {
					t.Errorf("%s = %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

func TestRestart_KeepsPortAndDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []Option
		wantKept bool
	}{
		{name: "without aof data is lost", wantKept: false},
		{name: "aof always survives a kill", opts: []Option{WithAOF(FsyncAlways)}, wantKept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, tt.opts...)
			addr, dir := srv.Addr(), srv.Dir()
			ctx := context.Background()
			c := mustClient(t, srv)
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			srv.Restart()
			if srv.Addr() != addr || srv.Dir() != dir {
				t.Fatalf("restarted on %s in %s, want %s in %s", srv.Addr(), srv.Dir(), addr, dir)
			}
			got, err := c.Get(ctx, "k").Result()
			switch {
			case tt.wantKept && (err != nil || got != "v"):
				t.Fatalf("after restart GET = %q, %v; want v", got, err)
			case !tt.wantKept && !errors.Is(err, goredis.Nil):
				t.Fatalf("after restart GET = %q, %v; want redis.Nil", got, err)
			}
		})
	}
}

func TestShutdown_FlushesAOF(t *testing.T) {
	t.Parallel()
	srv := Start(t, WithAOF(FsyncEverySec))
	ctx := context.Background()
	c := mustClient(t, srv)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	srv.Shutdown()
	srv.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("after shutdown and restart GET = %q, %v; want v", got, err)
	}
}

func TestStop_RefusesConnections(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	srv.Stop()
	srv.Stop() // idempotent
	conn, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s after Stop succeeded", srv.Addr())
	}
}

// fatalTB records Fatalf and ends the goroutine as testing.T does.
type fatalTB struct {
	*testing.T
	mu     sync.Mutex
	fatals []string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

// Not parallel: it changes PATH.
func TestStart_MissingBinaryFailsWithInstallHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tb := &fatalTB{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(tb)
		t.Errorf("Start returned without redis-server on PATH")
	}()
	<-done
	want := []string{"redis-server not found: install it with `apt-get install redis-server`"}
	if len(tb.fatals) != 1 || tb.fatals[0] != want[0] {
		t.Fatalf("Fatalf calls = %q, want %q", tb.fatals, want)
	}
}

// Not parallel: it replaces freePort.
func TestStart_RetriesWhenPortIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	orig := freePort
	t.Cleanup(func() { freePort = orig })
	calls := 0
	freePort = func() (int, error) {
		calls++
		if calls == 1 {
			return busyPort, nil
		}
		return orig()
	}

	srv := Start(t)
	if srv.Port() == busyPort {
		t.Fatalf("server claims the busy port %d", busyPort)
	}
	if calls < 2 {
		t.Fatalf("freePort called %d times, want a retry", calls)
	}
	if err := mustClient(t, srv).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
}
