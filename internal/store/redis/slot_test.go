package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/store"
)

// keySlot is the Redis Cluster hash slot of key, as the harness computes it.
var keySlot = redistest.KeySlot

func TestKeySlot_MatchesRedisCluster(t *testing.T) {
	t.Parallel()
	// A cluster-enabled node computes slots without any being assigned. Its
	// bus port is set explicitly: port+10000 may not exist.
	bus, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	busPort := bus.Addr().(*net.TCPAddr).Port
	bus.Close()
	srv := redistest.Start(t, redistest.WithArgs(
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-port", strconv.Itoa(busPort)))
	c := mustInspector(t, srv)

	keys := []string{
		"foo", "bar", "hello", "123456789", "",
		"{user1000}.following", "{user1000}.followers",
		"foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{}", "{", "}{a}",
		"authsvc:s:{" + rand.Text() + "}", "authsvc:deny:{" + rand.Text() + "}", "authsvc:fail:{alice|192.0.2.1}",
	}
	for _, k := range keys {
		want, err := c.ClusterKeySlot(context.Background(), k).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", k, err)
		}
		if got := keySlot(k); int64(got) != want {
			t.Errorf("keySlot(%q) = %d, Redis says %d", k, got, want)
		}
	}
}

func TestStore_EachOperationTouchesOneSlot(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	inspect := mustInspector(t, srv)
	mon := startMonitor(t, srv.Addr())

	prefix := newPrefix()
	s := mustStore(t, srv, prefix)
	sess, first := mustFamily(t, s)
	now := first.IssuedAt
	next := nextToken(now)
	rotateTo := func(presented string, next store.Token, grace time.Duration) op {
		return op{"Rotate", func(ctx context.Context, s store.Store) error {
			_, err := s.Rotate(ctx, store.RotateRequest{SessionID: sess.ID, Presented: presented, Next: next, Now: now, Grace: grace})
			return err
		}}
	}
	ops := []op{
		rotateTo(first.ID, next, time.Minute),
		rotateTo(first.ID, nextToken(now), time.Minute), // retry inside grace
		rotateTo(first.ID, nextToken(now), 0),           // reuse
	}
	ops = append(ops, opsOn(sess, first)...)

	for i, o := range ops {
		t.Run(fmt.Sprintf("%d %s", i, o.name), func(t *testing.T) {
			cmds := mon.record(t, inspect, func() {
				_ = o.call(context.Background(), s) // the outcome does not matter here
			})
			slots, fromScript := touchedSlots(t, inspect, prefix, cmds)
			if len(slots) > 1 {
				t.Errorf("one operation touches %d slots: %v", len(slots), slots)
			}
			if len(slots) == 0 && o.name != "Ping" {
				t.Errorf("saw no key touched; MONITOR output: %v", cmds)
			}
			if o.name == "Rotate" && !fromScript {
				t.Errorf("saw no command run inside the script; MONITOR output: %v", cmds)
			}
		})
	}

	// The check itself: a script writing a key it was not given, in another
	// slot, is caught (a client-side hook would see only KEYS).
	t.Run("detects an undeclared key in another slot", func(t *testing.T) {
		cmds := mon.record(t, inspect, func() {
			err := inspect.Eval(context.Background(),
				"redis.call('SET', KEYS[1], 1, 'PX', 60000) redis.call('SET', ARGV[1], 1, 'PX', 60000) return 1",
				[]string{prefix + "{a}"}, prefix+"{b}").Err()
			if err != nil {
				t.Fatalf("EVAL: %v", err)
			}
		})
		if slots, _ := touchedSlots(t, inspect, prefix, cmds); len(slots) != 2 {
			t.Errorf("touched slots = %v, want 2 of them", slots)
		}
	})
}

// touchedSlots groups the keys cmds touched by slot, checking each carries
// prefix, and reports whether any command ran inside a script.
func touchedSlots(tb testing.TB, c *goredis.Client, prefix string, cmds []monitoredCmd) (map[int][]string, bool) {
	tb.Helper()
	slots := map[int][]string{}
	fromScript := false
	for _, cmd := range cmds {
		fromScript = fromScript || cmd.fromScript
		for _, k := range commandKeys(tb, c, cmd.args) {
			if !strings.HasPrefix(k, prefix) {
				tb.Errorf("%s touches %q, outside prefix %q", cmd.args[0], k, prefix)
			}
			slots[keySlot(k)] = append(slots[keySlot(k)], k)
		}
	}
	return slots, fromScript
}

// monitor reads a MONITOR stream: every command the server executes,
// including those run inside scripts.
type monitor struct {
	lines chan string
	n     int
}

// monitoredCmd is one command seen by MONITOR.
type monitoredCmd struct {
	args       []string
	fromScript bool
}

// startMonitor opens a MONITOR connection to addr for the rest of the test.
func startMonitor(tb testing.TB, addr string) *monitor {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		tb.Fatalf("MONITOR: %v", err)
	}
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		tb.Fatalf("MONITOR answered %q, %v", line, err)
	}
	m := &monitor{lines: make(chan string, 1024)}
	go func() {
		defer close(m.lines)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			m.lines <- strings.TrimSuffix(strings.TrimPrefix(line, "+"), "\r\n")
		}
	}()
	return m
}

// record runs fn between two ECHO markers sent by c and returns the commands
// the server ran in between.
func (m *monitor) record(tb testing.TB, c *goredis.Client, fn func()) []monitoredCmd {
	tb.Helper()
	m.n++
	begin, end := fmt.Sprintf("begin-%d-%s", m.n, rand.Text()), fmt.Sprintf("end-%d-%s", m.n, rand.Text())
	ctx := context.Background()
	if err := c.Echo(ctx, begin).Err(); err != nil {
		tb.Fatalf("ECHO: %v", err)
	}
	fn()
	if err := c.Echo(ctx, end).Err(); err != nil {
		tb.Fatalf("ECHO: %v", err)
	}
	var cmds []monitoredCmd
	inside := false
	timeout := time.After(5 * time.Second)
	for {
		select {
		case line, ok := <-m.lines:
			if !ok {
				tb.Fatalf("MONITOR connection closed")
			}
			cmd, err := parseMonitorLine(line)
			if err != nil {
				tb.Fatalf("MONITOR line %q: %v", line, err)
			}
			isEcho := strings.EqualFold(cmd.args[0], "echo") && len(cmd.args) == 2
			switch {
			case isEcho && cmd.args[1] == begin:
				inside = true
			case isEcho && cmd.args[1] == end:
				return cmds
			case inside:
				cmds = append(cmds, cmd)
			}
		case <-timeout:
			tb.Fatalf("MONITOR did not show the end marker")
		}
	}
}

// parseMonitorLine parses `1700000000.123456 [0 127.0.0.1:5000] "SET" "k" "v"`
// (or `[0 lua]` for a command run by a script) into the command's arguments.
func parseMonitorLine(line string) (monitoredCmd, error) {
	i := strings.Index(line, "] ")
	if i < 0 {
		return monitoredCmd{}, fmt.Errorf("no client field")
	}
	cmd := monitoredCmd{fromScript: strings.HasSuffix(line[:i], " lua")}
	rest := line[i+2:]
	for len(rest) > 0 {
		if rest[0] != '"' {
			return monitoredCmd{}, fmt.Errorf("argument does not start with a quote at %q", rest)
		}
		arg, n, err := unquoteRepr(rest)
		if err != nil {
			return monitoredCmd{}, err
		}
		cmd.args = append(cmd.args, arg)
		rest = strings.TrimPrefix(rest[n:], " ")
	}
	if len(cmd.args) == 0 {
		return monitoredCmd{}, fmt.Errorf("no command")
	}
	return cmd, nil
}

// unquoteRepr decodes one string quoted by Redis's sdscatrepr at the start
// of s and returns it with the number of bytes it took.
func unquoteRepr(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("dangling escape")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'x':
				if i+2 >= len(s) {
					return "", 0, fmt.Errorf("short \\x escape")
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return "", 0, err
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// commandKeys asks the server which arguments of a command are keys.
func commandKeys(tb testing.TB, c *goredis.Client, args []string) []string {
	tb.Helper()
	q := []any{"COMMAND", "GETKEYS"}
	for _, a := range args {
		q = append(q, a)
	}
	keys, err := c.Do(context.Background(), q...).StringSlice()
	if err != nil {
		// Commands without keys (PING, ECHO, HELLO, CLIENT …) are refused.
		return nil
	}
	return keys
}

func TestParseMonitorLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line       string
		want       []string
		fromScript bool
	}{
		{line: `1.2 [0 127.0.0.1:5000] "SET" "k" "v"`, want: []string{"SET", "k", "v"}},
		{line: `1.2 [0 lua] "HGET" "a{b}" "cur"`, want: []string{"HGET", "a{b}", "cur"}, fromScript: true},
		{line: `1.2 [0 unix:/tmp/s] "echo" "a\"b\\c\n\x01"`, want: []string{"echo", "a\"b\\c\n\x01"}},
		{line: `1.2 [0 127.0.0.1:5000] "get" ""`, want: []string{"get", ""}},
	}
	for _, tt := range tests {
		got, err := parseMonitorLine(tt.line)
		if err != nil {
			t.Errorf("parse %q: %v", tt.line, err)
			continue
		}
		if fmt.Sprint(got.args) != fmt.Sprint(tt.want) || len(got.args) != len(tt.want) || got.fromScript != tt.fromScript {
			t.Errorf("parse %q = %q (script %v), want %q (script %v)", tt.line, got.args, got.fromScript, tt.want, tt.fromScript)
		}
	}
}
