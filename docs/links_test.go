// Package docs holds the project's documentation pages; its test keeps the
// links between them (and from every other markdown file of the repository)
// alive.
package docs

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, seen from this package's folder.
const root = ".."

// readmeLimit is the size README.md must stay under: a front page, with the
// rest in docs/.
const readmeLimit = 15000

// pages are what README.md's documentation list must link, relative to the
// repository root.
var pages = []string{
	"docs/configuration.md",
	"docs/demo.md",
	"docs/operations.md",
	"docs/alerting.md",
	"docs/testing.md",
	"docs/cost.md",
	"docs/CI.md",
	"docs/DESIGN.md",
	"BENCHMARKS.md",
	"examples/README.md",
	"alerting/README.md",
}

// TestLinksResolve follows every relative link and image of every markdown
// file in the repository: the file must exist, and an #anchor must name a
// heading of the .md file it points into (GitHub's anchors).
func TestLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if len(files) == 0 {
		t.Fatal("git ls-files found no markdown files")
	}
	docs := map[string]*document{}
	load := func(rel string) *document {
		if d, ok := docs[rel]; ok {
			return d
		}
		d, err := parse(rel)
		if err != nil {
			d = nil
		}
		docs[rel] = d
		return d
	}
	checked := 0
	for _, rel := range files {
		d := load(rel)
		if d == nil {
			t.Errorf("%s: cannot read", rel)
			continue
		}
		for _, l := range d.links {
			checked++
			if msg := resolve(rel, l.target, load); msg != "" {
				t.Errorf("%s:%d: link (%s): %s", rel, l.line, l.target, msg)
			}
		}
	}
	t.Logf("%d links in %d markdown files", checked, len(files))
}

// TestReadmeIsAFrontPage keeps README.md short, its first commands near the
// top, and a link to every documentation page.
func TestReadmeIsAFrontPage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= readmeLimit {
		t.Errorf("README.md is %d bytes; keep it under %d and move detail into docs/", len(data), readmeLimit)
	}
	lines := strings.Split(string(data), "\n")
	head := strings.Join(lines[:min(40, len(lines))], "\n")
	for _, cmd := range []string{"make demo", "make test"} {
		if !strings.Contains(head, cmd) {
			t.Errorf("README.md: %q is not within the first 40 lines", cmd)
		}
	}
	d, err := parse("README.md")
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range d.links {
		p, _, _ := strings.Cut(l.target, "#")
		linked[path.Clean(p)] = true
	}
	for _, p := range pages {
		if !linked[p] {
			t.Errorf("README.md does not link %s", p)
		}
	}
}

// TestSlug pins GitHub's anchor rules on headings this repository has.
func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Is Prometheus itself up?":                              "is-prometheus-itself-up",
		"Alerting: from a rule to a person":                     "alerting-from-a-rule-to-a-person",
		"The local profile (emulator)":                          "the-local-profile-emulator",
		"With `networkMode=private`":                            "with-networkmodeprivate",
		"4b. Configuration change to live, in place":            "4b-configuration-change-to-live-in-place",
		"CI: plan previews on merge requests, reviewed applies": "ci-plan-previews-on-merge-requests-reviewed-applies",
		"snake_case and [a link](x.md) — dash":                  "snake_case-and-a-link--dash",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

type link struct {
	line   int
	target string
}

type document struct {
	links   []link
	anchors map[string]bool
}

// markdownFiles lists the repository's markdown files, relative to root:
// tracked ones and new ones not ignored, without those deleted in the
// working tree.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			continue
		}
		files = append(files, f)
	}
	return files
}

var (
	// linkRE matches [text](target) and ![alt](target), with an optional
	// title after the target; code spans are blanked out first.
	linkRE    = regexp.MustCompile(`!?\[[^\[\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	codeRE    = regexp.MustCompile("(`+)[^`]*?(`+)")
	headingRE = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$`)
	schemeRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// parse reads a markdown file (relative to root) into its links and the
// anchors of its headings, skipping fenced code blocks.
func parse(rel string) (*document, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	d := &document{anchors: map[string]bool{}}
	counts := map[string]int{}
	fence := ""
	for i, line := range strings.Split(string(data), "\n") {
		// A fence may be indented (a list item) or quoted (> ```).
		bare := strings.TrimLeft(line, " \t>")
		if fence != "" {
			if strings.HasPrefix(bare, fence) && strings.Trim(bare, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if f := fenceOf(bare); f != "" {
			fence = f
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			s := slug(m[2])
			a := s
			if n := counts[s]; n > 0 {
				a = fmt.Sprintf("%s-%d", s, n)
			}
			counts[s]++
			d.anchors[a] = true
		}
		for _, m := range linkRE.FindAllStringSubmatch(codeRE.ReplaceAllString(line, "code"), -1) {
			d.links = append(d.links, link{line: i + 1, target: m[1]})
		}
	}
	return d, nil
}

// fenceOf returns the fence a line opens (``` or ~~~, three or more), or "".
func fenceOf(line string) string {
	for _, c := range []string{"`", "~"} {
		if strings.HasPrefix(line, c+c+c) {
			n := len(line) - len(strings.TrimLeft(line, c))
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// slug is GitHub's anchor for a heading: its text as rendered (links become
// their text), lowercase, without characters other than letters, digits,
// spaces, hyphens and underscores, spaces turned into hyphens.
func slug(heading string) string {
	heading = linkRE.ReplaceAllStringFunc(heading, func(m string) string {
		return m[strings.Index(m, "[")+1 : strings.Index(m, "]")]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// resolve checks one link target of the file from (relative to root) and
// returns what is wrong with it, or "".
func resolve(from, target string, load func(string) *document) string {
	if target == "" {
		return "empty target"
	}
	if schemeRE.MatchString(target) || strings.HasPrefix(target, "//") {
		return "" // http(s), mailto and other URLs are not checked
	}
	p, anchor, _ := strings.Cut(target, "#")
	p, err := url.PathUnescape(p)
	if err != nil {
		return fmt.Sprintf("bad escape: %v", err)
	}
	file := from
	if p != "" {
		if strings.HasPrefix(p, "/") {
			file = path.Clean(strings.TrimPrefix(p, "/"))
		} else {
			file = path.Join(path.Dir(from), p)
		}
		if file == ".." || strings.HasPrefix(file, "../") {
			return "points outside the repository"
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			return fmt.Sprintf("%s does not exist", file)
		}
	}
	if anchor == "" || !strings.HasSuffix(file, ".md") {
		return ""
	}
	d := load(file)
	if d == nil {
		return fmt.Sprintf("cannot read %s", file)
	}
	if !d.anchors[anchor] {
		return fmt.Sprintf("%s has no heading with anchor #%s", file, anchor)
	}
	return ""
}
