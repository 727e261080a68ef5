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
//
// Writes to out are group commits: one caller at a time writes out the whole
// buffer, outside the lock, and the lines appended meanwhile go out together
// in the next write. Concurrent audit events then share a write(2), each
// caller returning only once its own line is out.
type batchWriter struct {
	out io.Writer
	mu  sync.Mutex
	buf []byte
	// spare is the buffer last written out, reused for the next batch.
	spare []byte
	// appended and written count the bytes ever appended and ever written
	// out; writing is set while one caller writes out (outside mu), and
	// wrote is signalled when it is done.
	appended, written int64
	writing           bool
	wrote             sync.Cond
	stop              chan struct{}
	done              chan struct{}
	stopOnce          sync.Once
}

// maxBatch is the buffer size at which a Write flushes at once.
const maxBatch = 64 << 10

// newBatchWriter starts a batchWriter that flushes to out every interval.
func newBatchWriter(out io.Writer, interval time.Duration) *batchWriter {
	w := &batchWriter{out: out, buf: make([]byte, 0, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	w.wrote.L = &w.mu
	go w.loop(interval)
	return w
}

// Write buffers p. It never fails: a log line that cannot be written has
// nowhere better to go.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.appendLocked(p)
	if len(w.buf) >= maxBatch {
		w.flushLocked()
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *batchWriter) appendLocked(p []byte) {
	w.buf = append(w.buf, p...)
	w.appended += int64(len(p))
}

// flushLocked returns once every byte appended so far is written out: by
// this caller, or by the one writing out now or next. It is called with mu
// held, which it releases while writing or waiting.
func (w *batchWriter) flushLocked() {
	mark := w.appended
	for w.written < mark {
		if w.writing {
			w.wrote.Wait()
			continue
		}
		w.writing = true
		batch, end := w.buf, w.appended
		w.buf = w.spare[:0]
		w.mu.Unlock()
		_, _ = w.out.Write(batch)
		w.mu.Lock()
		w.spare, w.written, w.writing = batch[:0], end, false
		w.wrote.Broadcast()
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
	w.appendLocked(p)
	w.flushLocked()
	w.mu.Unlock()
	return len(p), nil
}

// immediate writes through a batchWriter's WriteNow: for the lines that
// must not wait for the next flush (audit events).
type immediate struct{ b *batchWriter }

func (i immediate) Write(p []byte) (int, error) { return i.b.WriteNow(p) }
