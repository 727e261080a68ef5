package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer that counts its writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) snapshot() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBatchWriter_BatchesAndFlushesOnClose(t *testing.T) {
	out := &lockedBuffer{}
	w := newBatchWriter(out, time.Hour) // no tick during the test
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { w.Write([]byte(strings.Repeat("x", i%7) + "line\n")) })
	}
	wg.Wait()
	if s, n := out.snapshot(); s != "" || n != 0 {
		t.Fatalf("wrote %d times before Close: %q", n, s)
	}
	w.Close()
	s, n := out.snapshot()
	if n != 1 || strings.Count(s, "line\n") != 100 {
		t.Fatalf("after Close: %d writes, %d lines", n, strings.Count(s, "line\n"))
	}
}

func TestBatchWriter_FlushesWhenFull(t *testing.T) {
	out := &lockedBuffer{}
	w := newBatchWriter(out, time.Hour)
	defer w.Close()
	line := []byte(strings.Repeat("y", 1023) + "\n")
	for range maxBatch / len(line) {
		w.Write(line)
	}
	if s, n := out.snapshot(); n != 1 || len(s) != maxBatch {
		t.Fatalf("a full buffer was not written at once: %d writes, %d bytes", n, len(s))
	}
}

func TestBatchWriter_FlushesOnTick(t *testing.T) {
	out := &lockedBuffer{}
	w := newBatchWriter(out, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("tick\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s, _ := out.snapshot(); s == "tick\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the ticker never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBatchWriter_ImmediateWritesTheBatchBeforeIt(t *testing.T) {
	out := &lockedBuffer{}
	w := newBatchWriter(out, time.Hour)
	defer w.Close()
	w.Write([]byte("request 1\n"))
	w.Write([]byte("request 2\n"))
	immediate{w}.Write([]byte("audit\n"))
	if s, n := out.snapshot(); n != 1 || s != "request 1\nrequest 2\naudit\n" {
		t.Fatalf("after an immediate line: %d writes, %q", n, s)
	}
	w.Write([]byte("request 3\n"))
	if _, n := out.snapshot(); n != 1 {
		t.Fatal("a batched line after the immediate one was written at once")
	}
}

// gatedWriter is an io.Writer whose first Write blocks until release is
// closed, after telling entered.
type gatedWriter struct {
	lockedBuffer
	first            sync.Once
	entered, release chan struct{}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.first.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.lockedBuffer.Write(p)
}

// TestBatchWriter_ConcurrentImmediateLinesShareAWrite checks the group
// commit: lines written at once while another write is under way go out
// together in the next write, and none of their writers returns before its
// line is out.
func TestBatchWriter_ConcurrentImmediateLinesShareAWrite(t *testing.T) {
	out := &gatedWriter{entered: make(chan struct{}), release: make(chan struct{})}
	w := newBatchWriter(out, time.Hour)
	defer w.Close()
	released := make(chan struct{})
	release := sync.OnceFunc(func() { close(released); close(out.release) })
	defer release() // before Close, should the test fail early
	first := make(chan struct{})
	go func() {
		defer close(first)
		immediate{w}.Write([]byte("first\n"))
	}()
	<-out.entered // the first line's write is under way, and held

	const n = 10
	var returned sync.WaitGroup
	var early atomic.Int32
	for i := range n {
		returned.Go(func() {
			immediate{w}.Write(fmt.Appendf(nil, "line %d\n", i))
			select {
			case <-released:
			default:
				early.Add(1)
			}
		})
	}
	// Wait until every line is buffered behind the held write. A writer
	// that held the lock while writing would never let them in.
	want := n * len("line 0\n")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		buffered := -1
		if w.mu.TryLock() {
			buffered = len(w.buf)
			w.mu.Unlock()
		}
		if buffered == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes buffered behind the held write, want %d", buffered, want)
		}
	}
	release()
	<-first
	returned.Wait()

	if e := early.Load(); e != 0 {
		t.Errorf("%d writers returned before their line was written", e)
	}
	s, writes := out.snapshot()
	if writes != 2 {
		t.Errorf("%d writes, want 2: the held one and one for the %d lines behind it", writes, n)
	}
	if !strings.HasPrefix(s, "first\n") || strings.Count(s, "\n") != n+1 {
		t.Errorf("written %q", s)
	}
	for i := range n {
		if !strings.Contains(s, fmt.Sprintf("line %d\n", i)) {
			t.Errorf("line %d is missing", i)
		}
	}
}

// BenchmarkAuditLine is the cost of writing one audit event (a refresh's)
// through the batch writer into a pipe, as a container's stderr is: batched
// with the request lines (the old way) or written out at once (now).
func BenchmarkAuditLine(b *testing.B) {
	for _, tc := range []struct {
		name string
		now  bool
	}{{"batched", false}, {"immediate", true}} {
		b.Run(tc.name, func(b *testing.B) {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			go io.Copy(io.Discard, r)
			bw := newBatchWriter(w, 100*time.Millisecond)
			var out io.Writer = bw
			if tc.now {
				out = immediate{bw}
			}
			log := slog.New(slog.NewJSONHandler(out, nil))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "audit", slog.String("event", "refresh"),
					slog.String("grant_type", "refresh_token"), slog.String("sub", "alice"), slog.String("addr", "192.0.2.1"),
					slog.String("request_id", "5f2c9a1b3d4e-123456"), slog.String("session", "A5orIB84RoTEZMOkL9AxBA"))
			}
			b.StopTimer()
			bw.Close()
			w.Close()
			r.Close()
		})
	}
}
