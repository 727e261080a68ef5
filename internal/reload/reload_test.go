package reload_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/reload"
)

// fakeSource is a source whose Prepare reports problems while broken is
// set, and whose commit counts itself.
type fakeSource struct {
	name      string
	broken    []string
	prepared  int
	committed int
}

func (f *fakeSource) source() reload.Source {
	return reload.Source{
		Name: f.name,
		Prepare: func() (func(), []string) {
			f.prepared++
			if len(f.broken) > 0 {
				return nil, f.broken
			}
			return func() { f.committed++ }, nil
		},
	}
}

func TestReload_AllOrNothing(t *testing.T) {
	tests := []struct {
		name         string
		brokenA      []string
		brokenB      []string
		wantCommits  int
		wantProblems []string
	}{
		{name: "every source fine", wantCommits: 1},
		{name: "one source broken", brokenB: []string{"line 3: no such scope"}, wantProblems: []string{"b: line 3: no such scope"}},
		{name: "both broken", brokenA: []string{"p1", "p2"}, brokenB: []string{"p3"}, wantProblems: []string{"a: p1", "a: p2", "b: p3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeSource{name: "a", broken: tt.brokenA}
			b := &fakeSource{name: "b", broken: tt.brokenB}
			var results []bool
			r := reload.New(nil, func(ok bool) { results = append(results, ok) }, a.source())
			r.Add(b.source())
			err := r.Reload("test")
			if a.prepared != 1 || b.prepared != 1 {
				t.Errorf("prepared a=%d b=%d times, want once each", a.prepared, b.prepared)
			}
			if a.committed != tt.wantCommits || b.committed != tt.wantCommits {
				t.Errorf("committed a=%d b=%d, want %d each", a.committed, b.committed, tt.wantCommits)
			}
			if tt.wantProblems == nil {
				if err != nil {
					t.Fatalf("Reload: %v", err)
				}
				if !slices.Equal(results, []bool{true}) {
					t.Errorf("results = %v, want [true]", results)
				}
				return
			}
			var re *reload.Error
			if !errors.As(err, &re) || !errors.Is(err, reload.ErrRefused) {
				t.Fatalf("Reload error = %v, want a *reload.Error matching ErrRefused", err)
			}
			if !slices.Equal(re.Problems, tt.wantProblems) {
				t.Errorf("problems = %q, want %q", re.Problems, tt.wantProblems)
			}
			if !slices.Equal(results, []bool{false}) {
				t.Errorf("results = %v, want [false]", results)
			}
		})
	}
}

// watched starts Watch on a source reading path and returns the number of
// reloads so far.
func watched(t *testing.T, path string) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	r := reload.New(nil, nil, reload.Source{
		Name:  "file",
		Files: func() []string { return []string{path} },
		Prepare: func() (func(), []string) {
			return func() { n.Add(1) }, nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Watch(ctx, 10*time.Millisecond); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(30 * time.Millisecond) // let Watch take its first look
	return &n
}

// waitReloads waits up to 2 s for n to reach want.
func waitReloads(t *testing.T, n *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("reloads = %d, want %d", n.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWatch_NoticesEveryWayAFileIsReplaced(t *testing.T) {
	tests := []struct {
		name string
		// setup creates the file and returns the path to watch and a
		// function that replaces its content with s.
		setup func(t *testing.T, dir string) (string, func(s string))
	}{
		{name: "written in place", setup: func(t *testing.T, dir string) (string, func(string)) {
			p := filepath.Join(dir, "creds.yaml")
			mustWrite(t, p, "v1")
			return p, func(s string) { mustWrite(t, p, s) }
		}},
		{name: "editor writes a temporary file and renames it over", setup: func(t *testing.T, dir string) (string, func(string)) {
			p := filepath.Join(dir, "creds.yaml")
			mustWrite(t, p, "v1")
			return p, func(s string) {
				tmp := filepath.Join(dir, ".creds.yaml.swp")
				mustWrite(t, tmp, s)
				if err := os.Rename(tmp, p); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "Kubernetes Secret volume swaps its ..data symlink", setup: func(t *testing.T, dir string) (string, func(string)) {
			// dir/creds.yaml -> ..data/creds.yaml, ..data -> ..v1
			if err := os.Mkdir(filepath.Join(dir, "..v1"), 0o700); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, filepath.Join(dir, "..v1", "creds.yaml"), "v1")
			if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..data", "creds.yaml"), filepath.Join(dir, "creds.yaml")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "creds.yaml"), func(s string) {
				if err := os.Mkdir(filepath.Join(dir, "..v2"), 0o700); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, filepath.Join(dir, "..v2", "creds.yaml"), s)
				if err := os.Symlink("..v2", filepath.Join(dir, "..data_tmp")); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
					t.Fatal(err)
				}
				if err := os.RemoveAll(filepath.Join(dir, "..v1")); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, replace := tt.setup(t, t.TempDir())
			n := watched(t, path)
			replace("v2: a longer content")
			waitReloads(t, n, 1)
		})
	}
}

func TestWatch_SameContentDoesNotReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.yaml")
	mustWrite(t, path, "v1")
	n := watched(t, path)
	// Rewritten with the same bytes (a new mtime, same content): no reload.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, "v1")
	time.Sleep(100 * time.Millisecond)
	if got := n.Load(); got != 0 {
		t.Fatalf("reloads = %d after rewriting the same content, want 0", got)
	}
	// A real change afterwards is still noticed.
	mustWrite(t, path, "v2")
	waitReloads(t, n, 1)
}
