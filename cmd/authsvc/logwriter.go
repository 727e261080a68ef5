package main

import (
	"io"
	"sync"
	"time"
)

// batchWriter batches log records: each Write appends to a buffer, and the
// buffer goes to out every interval, when it passes maxBatch bytes, and on
// Close. Two log lines a request (the access line and the audit event) are
// then a fraction of a write(2) each instead of two syscalls, which the
// benchmark profile showed as a visible share of /refresh. The price is that
// a crash can lose the last interval of log lines; LOG_FLUSH_INTERVAL=0
// writes every record at once.
type batchWriter struct {
	out      io.Writer
	mu       sync.Mutex
	buf      []byte
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// maxBatch is the buffer size at which a Write flushes at once.
const maxBatch = 64 << 10

// newBatchWriter starts a batchWriter that flushes to out every interval.
func newBatchWriter(out io.Writer, interval time.Duration) *batchWriter {
	w := &batchWriter{out: out, buf: make([]byte, 0, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(interval)
	return w
}

// Write buffers p. It never fails: a log line that cannot be written has
// nowhere better to go.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, p...)
	if len(w.buf) >= maxBatch {
		w.flushLocked()
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *batchWriter) flushLocked() {
	if len(w.buf) > 0 {
		_, _ = w.out.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// Flush writes out what is buffered.
func (w *batchWriter) Flush() {
	w.mu.Lock()
	w.flushLocked()
	w.mu.Unlock()
}

func (w *batchWriter) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Close stops the background flushes and writes out what is left. Writes
// after Close are flushed only when the buffer fills; callers close it last.
func (w *batchWriter) Close() error {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
	w.Flush()
	return nil
}

// WriteNow buffers p and writes out the buffer at once, so p and every line
// before it are in out when it returns.
func (w *batchWriter) WriteNow(p []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, p...)
	w.flushLocked()
	w.mu.Unlock()
	return len(p), nil
}

// immediate writes through a batchWriter's WriteNow: for the lines that
// must not wait for the next flush (audit events).
type immediate struct{ b *batchWriter }

func (i immediate) Write(p []byte) (int, error) { return i.b.WriteNow(p) }
