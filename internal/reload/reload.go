// Package reload re-reads configuration files while authsvc serves: the
// credentials file today, the key set beside it. Each file set is a Source;
// a Reloader reloads every Source together, all or nothing, when asked (a
// signal, the admin API) or when one of their files changes.
//
// The rules, in the manner of Prometheus's and Caddy's config reload:
//
//   - A Source parses its files into a new, immutable value and validates it
//     whole without touching the value in force (Prepare).
//   - Only when every Source prepared without a problem is each new value
//     installed (the commit functions, which swap one atomic.Pointer each).
//     A request reads such a pointer once and uses that snapshot to its end.
//   - A refused reload changes nothing, logs one line per problem and
//     returns them all in an *Error. Problems never quote a secret or a
//     hash: Sources word them so.
//
// # Noticing a change
//
// Watch polls the files' identity (device, inode, size, modification time,
// following symlinks) every interval and, when it changed, their content
// hash; a different hash triggers a reload. Polling rather than inotify
// (fsnotify) was chosen because the ways files are replaced in production
// all change what a stat of the path returns, while each defeats a naive
// inotify watch: an editor's write-to-temporary-and-rename replaces the
// inode being watched, and a Kubernetes Secret volume swaps a `..data`
// symlink two levels above the file, so a watch must be kept on the
// directory and re-armed after every swap. A stat per file per second costs
// nothing measurable and needs no dependency, and it also works on network
// and overlay file systems that send no inotify events.
package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Source is one set of configuration files that can be re-read while
// serving.
type Source struct {
	// Name names the source in log lines and problems ("credentials").
	Name string
	// Files returns the paths Watch polls for this source, e.g. the key-set
	// file and every key file it lists. It is called before every poll, so
	// the list may change with a reload.
	Files func() []string
	// Prepare reads and validates the files into a new value without
	// applying it. With no problems it returns commit, which installs the
	// value (swaps the pointer) and must not fail. Problems are complete
	// sentences naming the file and entry, never a secret or a hash.
	Prepare func() (commit func(), problems []string)
}

// Error is a refused reload: every problem of every source, nothing applied.
type Error struct {
	Problems []string
}

// Error lists the problems on one line.
func (e *Error) Error() string {
	return "configuration reload refused: " + strings.Join(e.Problems, "; ")
}

// ErrRefused is matched by every *Error (errors.Is).
var ErrRefused = errors.New("configuration reload refused")

// Is makes errors.Is(err, ErrRefused) hold for an *Error.
func (e *Error) Is(target error) bool { return target == ErrRefused }

// Reloader reloads its sources together. Create it with New; it is safe for
// concurrent use, and reloads never overlap.
type Reloader struct {
	log      *slog.Logger
	onResult func(ok bool)

	mu      sync.Mutex // serialises reloads and guards sources
	sources []Source
}

// New returns a Reloader that logs to log (nil discards) and reports every
// reload's outcome to onResult (nil ignores it), e.g. a metrics counter.
func New(log *slog.Logger, onResult func(ok bool), sources ...Source) *Reloader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if onResult == nil {
		onResult = func(bool) {}
	}
	return &Reloader{log: log, onResult: onResult, sources: sources}
}

// Add registers another source, for example the key set. Sources added
// after a Watch started are polled from its next round.
func (r *Reloader) Add(s Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sources = append(r.sources, s)
}

// Reload re-reads every source. When all of them prepared without a
// problem, each new value is installed and Reload returns nil; otherwise
// nothing changes, each problem is logged on a line of its own, and the
// *Error returned lists them. reason ("SIGHUP", "admin API", "file
// change") goes into the log lines.
func (r *Reloader) Reload(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var (
		commits  []func()
		problems []string
	)
	for _, s := range r.sources {
		commit, ps := s.Prepare()
		for _, p := range ps {
			problems = append(problems, s.Name+": "+p)
		}
		if len(ps) == 0 && commit != nil {
			commits = append(commits, commit)
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			r.log.Error("configuration reload refused; the previous configuration stays in force",
				"reason", reason, "problem", p)
		}
		r.onResult(false)
		return &Error{Problems: problems}
	}
	for _, c := range commits {
		c()
	}
	r.onResult(true)
	r.log.Info("configuration reloaded", "reason", reason, "sources", len(r.sources))
	return nil
}

// files returns every source's files.
func (r *Reloader) files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.sources {
		if s.Files != nil {
			out = append(out, s.Files()...)
		}
	}
	return out
}

// Watch polls the sources' files every interval until ctx is done, and
// reloads when a file's content changed since the previous round (or since
// Watch started). A file that cannot be read counts as a change too, so a
// deleted file is reported by the reload it triggers; it is looked at again
// every round. Run it in a goroutine of its own.
func (r *Reloader) Watch(ctx context.Context, interval time.Duration) {
	seen := map[string]fingerprint{}
	for _, f := range r.files() {
		seen[f] = look(f, fingerprint{})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed := false
		next := map[string]fingerprint{}
		for _, f := range r.files() {
			old, known := seen[f]
			fp := look(f, old)
			next[f] = fp
			if !known || fp.sum != old.sum || fp.err != old.err {
				changed = true
			}
		}
		seen = next
		if changed {
			_ = r.Reload("file change") // a refusal is logged and counted by Reload
		}
	}
}

// fingerprint identifies a file's content: its identity as stat reports it
// (through symlinks), and the SHA-256 of its bytes.
type fingerprint struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
	sum      [sha256.Size]byte
	err      string // why the file could not be read, "" when it could
}

// look fingerprints path. When its identity equals old's, the content is
// not read again and old's hash is kept.
func look(path string, old fingerprint) fingerprint {
	fi, err := os.Stat(path)
	if err != nil {
		return fingerprint{err: errText(err)}
	}
	fp := fingerprint{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fp.dev, fp.ino = uint64(st.Dev), st.Ino //nolint:unconvert // Dev is int32 on some platforms
	}
	if old.err == "" && fp.dev == old.dev && fp.ino == old.ino && fp.size == old.size && fp.mtime.Equal(old.mtime) && !old.mtime.IsZero() {
		fp.sum = old.sum
		return fp
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fingerprint{err: errText(err)}
	}
	fp.sum = sha256.Sum256(data)
	return fp
}

// errText is the error kind of a failed read, without the path (which is
// the map key already).
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Sprint(pe.Err)
	}
	return err.Error()
}
