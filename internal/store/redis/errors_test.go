package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/store"
)

// replyErr is an error reply from Redis, as go-redis reports it.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

var _ goredis.Error = replyErr("")

func TestFail_ClassifiesUnavailable(t *testing.T) {
	dialRefused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", dialRefused, true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"eof", io.EOF, true},
		{"unexpected eof", io.ErrUnexpectedEOF, true},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"dns failure", &net.DNSError{Err: "no such host", Name: "redis", IsNotFound: true}, true},
		{"context deadline", context.DeadlineExceeded, true},
		{"wrapped context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"client closed", goredis.ErrClosed, true},
		{"pool timeout", goredis.ErrPoolTimeout, true},
		{"pool exhausted", goredis.ErrPoolExhausted, true},
		{"LOADING", replyErr("LOADING Redis is loading the dataset in memory"), true},
		{"READONLY", replyErr("READONLY You can't write against a read only replica."), true},
		{"READONLY from a script on Redis 7", replyErr("READONLY You can't write against a read only replica. script: 82cd, on @user_script:1."), true},
		{"READONLY from a script on Redis 6", replyErr("ERR Error running script (call to f_82cd): @user_script:1: @user_script: 1: -READONLY You can't write against a read only replica."), true},
		{"CLUSTERDOWN", replyErr("CLUSTERDOWN The cluster is down"), true},
		{"TRYAGAIN", replyErr("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{"MOVED left after redirects", replyErr("MOVED 3999 127.0.0.1:6381"), true},
		{"ASK left after redirects", replyErr("ASK 3999 127.0.0.1:6381"), true},
		{"MASTERDOWN", replyErr("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), true},
		{"NOREPLICAS", replyErr("NOREPLICAS Not enough good replicas to write."), true},
		{"BUSY", replyErr("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), true},
		{"MISCONF", replyErr("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), true},
		{"OOM", replyErr("OOM command not allowed when used memory > 'maxmemory'."), true},
		{"NOAUTH", replyErr("NOAUTH Authentication required."), true},
		{"WRONGPASS", replyErr("WRONGPASS invalid username-password pair or user is disabled."), true},
		{"NOPERM", replyErr("NOPERM User authsvc has no permissions to run the 'evalsha' command"), true},
		{"NOPERM from a script", replyErr("NOPERM No permissions to access a key script: 82cd, on @user_script:1."), true},
		{"ERR-prefixed LOADING", replyErr("ERR LOADING Redis is loading"), true},
		{"no sentinel knows the master", fmt.Errorf("redis: all sentinels specified in configuration are unreachable: %w", errors.Join(goredis.Nil, goredis.Nil)), true},

		{"canceled by the caller", context.Canceled, false},
		{"dial canceled by the caller", &net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled}, false},
		{"BUSYKEY is not BUSY", replyErr("BUSYKEY Target key name already exists."), false},
		{"WRONGTYPE", replyErr("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"script bug", replyErr("ERR Error running script (call to f_82cd): @user_script:3: Script attempted to access nonexistent global variable 'x'"), false},
		{"unknown command", replyErr("ERR unknown command 'EVALSHA'"), false},
		{"NOSCRIPT", goredis.ErrNoScript, false},
		{"plain error", errors.New("redis: unexpected reply"), false},
	}
	s := &Store{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.fail("op", tt.err)
			if got := errors.Is(err, store.ErrUnavailable); got != tt.want {
				t.Errorf("errors.Is(fail(%v), ErrUnavailable) = %v, want %v", tt.err, got, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("fail(%v) = %v, which no longer wraps the cause", tt.err, err)
			}
		})
	}
}
