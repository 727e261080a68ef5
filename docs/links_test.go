// Package docs holds the project's documentation. Its one test keeps the
// Markdown files of the whole repository free of broken links.
package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// skipDirs are folders whose Markdown is not ours to check.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "bin": true, "bench-results": true, "testdata": true}

var (
	// linkRE matches inline links and images: [text](target) and ![alt](target).
	linkRE = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// refRE matches reference definitions: [label]: target.
	refRE     = regexp.MustCompile(`^\s*\[[^\]]+\]:\s+(\S+)`)
	codeRE    = regexp.MustCompile("`[^`]*`")
	headingRE = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

// TestMarkdownLinks checks every relative link in every Markdown file of the
// repository: the file it names exists inside the repository, and an anchor
// names a heading of that file.
func TestMarkdownLinks(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found only %d Markdown files below %s", len(files), root)
	}
	anchors := map[string]map[string]bool{}
	for _, f := range files {
		links, err := readLinks(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, l := range links {
			if problem := checkLink(root, f, l.target, anchors); problem != "" {
				t.Errorf("%s:%d: link %q: %s", rel, l.line, l.target, problem)
			}
		}
	}
}

type link struct {
	target string
	line   int
}

// readLinks returns the link targets of a Markdown file, outside code.
func readLinks(path string) ([]link, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []link
	inFence := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		line = codeRE.ReplaceAllString(line, "")
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			out = append(out, link{m[1], n})
		}
		if m := refRE.FindStringSubmatch(line); m != nil {
			out = append(out, link{m[1], n})
		}
	}
	return out, sc.Err()
}

// checkLink returns what is wrong with target as written in file, or "".
func checkLink(root, file, target string, anchors map[string]map[string]bool) string {
	if i := strings.Index(target, ":"); i > 0 && !strings.ContainsAny(target[:i], "/#.") {
		return "" // a URL with a scheme (https:, mailto:): not checked offline
	}
	path, anchor, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		if strings.HasPrefix(path, "/") {
			return "absolute paths break outside the repository's web view; use a relative path"
		}
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
		if rel, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(rel, "..") {
			return "points outside the repository"
		}
		if _, err := os.Stat(dest); err != nil {
			return "no such file"
		}
	}
	if anchor == "" || !strings.EqualFold(filepath.Ext(dest), ".md") {
		return ""
	}
	if anchors[dest] == nil {
		a, err := headingAnchors(dest)
		if err != nil {
			return err.Error()
		}
		anchors[dest] = a
	}
	if !anchors[dest][anchor] {
		return "no heading with that anchor"
	}
	return ""
}

// headingAnchors returns the anchors a Markdown renderer gives the headings
// of a file (GitHub's rule: lower case, punctuation dropped, spaces to
// hyphens, repeats numbered).
func headingAnchors(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		a := slug(m[1])
		if n := seen[a]; n > 0 {
			out[a+"-"+itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out, nil
}

func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestSlug pins the anchor rule against headings of the kind the docs use.
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Two commands":                    "two-commands",
		"POST /token":                     "post-token",
		"`REFRESH_REUSE_GRACE` in detail": "refresh_reuse_grace-in-detail",
		"Keys without downtime (RS256)":   "keys-without-downtime-rs256",
		"Redis: Sentinel & Cluster":       "redis-sentinel--cluster",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
