// Package citest checks the CI pipelines against the repository: every
// `make` target a job runs exists in the Makefile (pipelines hold no logic
// of their own, docs/CI.md), third-party GitHub actions are pinned by
// commit, the review gates the docs promise are in place, and GitLab's own
// schema accepts .gitlab-ci.yml (gitlab-ci-local, offline).
package citest

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const root = "../.."

// makeTargets are the targets the Makefile defines.
func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	rule := regexp.MustCompile(`(?m)^([A-Za-z0-9_./$()-]+(?:\s+[A-Za-z0-9_./-]+)*)\s*:([^=]|$)`)
	for _, m := range rule.FindAllStringSubmatch(string(data), -1) {
		for _, name := range strings.Fields(m[1]) {
			targets[name] = true
		}
	}
	return targets
}

// makeCalls returns the targets of every `make ...` command in a shell
// line: words after make up to a shell operator, without options and
// variable assignments.
func makeCalls(line string) []string {
	var targets []string
	words := strings.Fields(line)
	for i := 0; i < len(words); i++ {
		if words[i] != "make" || (i > 0 && !isCommandStart(words[i-1])) {
			continue
		}
		for _, w := range words[i+1:] {
			if w == "then" || w == "do" || strings.ContainsAny(w[:1], ";|&)") {
				break
			}
			word, _, end := strings.Cut(w, ";") // "make x;"
			word = strings.TrimRight(word, ")")
			if !strings.HasPrefix(word, "-") && !strings.Contains(word, "=") && word != "" {
				targets = append(targets, word)
			}
			if end || word != w {
				break
			}
		}
	}
	return targets
}

func isCommandStart(prev string) bool {
	return strings.HasSuffix(prev, ";") || prev == "&&" || prev == "||" || prev == "then" || prev == "do" || prev == "if" || prev == "!" || strings.Contains(prev, "=")
}

// scripts collects the shell lines of a parsed pipeline document: every
// string under script/before_script/after_script (GitLab) or run (GitHub).
func scripts(node any, inScript bool, out *[]string) {
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			scripts(child, inScript || k == "script" || k == "before_script" || k == "after_script" || k == "run", out)
		}
	case []any:
		for _, child := range v {
			scripts(child, inScript, out)
		}
	case string:
		if inScript {
			*out = append(*out, strings.Split(v, "\n")...)
		}
	}
}

func load(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func pipelines(t *testing.T) []string {
	t.Helper()
	files := []string{".gitlab-ci.yml"}
	gh, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gh {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	return files
}

func TestPipelinesRunOnlyExistingMakeTargets(t *testing.T) {
	targets := makeTargets(t)
	for _, want := range []string{"synth", "plan-out", "plan-preview", "apply-plan", "unit", "lint"} {
		if !targets[want] {
			t.Fatalf("Makefile parse found no %q target; the parser is broken (found %v)", want, slices.Sorted(maps.Keys(targets)))
		}
	}
	for _, file := range pipelines(t) {
		var lines []string
		scripts(load(t, file), false, &lines)
		calls := 0
		for _, line := range lines {
			for _, target := range makeCalls(line) {
				calls++
				if !targets[target] {
					t.Errorf("%s runs `make %s`, which the Makefile does not define (line: %s)", file, target, strings.TrimSpace(line))
				}
			}
		}
		if calls == 0 {
			t.Errorf("%s runs no make target: pipelines must call the Makefile, not carry their own logic", file)
		}
	}
}

func TestMakeCalls(t *testing.T) {
	got := makeCalls(`make synth plan-out PLAN_STACKS=x && ALLOW_DESTROY=1 make apply-plan; echo make me`)
	if strings.Join(got, " ") != "synth plan-out apply-plan" {
		t.Errorf("got %v", got)
	}
}

// TestGitLabPipelineGates: the merge-request plan feeds GitLab's widget
// privately, and apply is manual, protected and on the default branch only.
func TestGitLabPipelineGates(t *testing.T) {
	doc := load(t, ".gitlab-ci.yml")
	job := func(name string) map[string]any {
		j, ok := doc[name].(map[string]any)
		if !ok {
			t.Fatalf(".gitlab-ci.yml has no job %q", name)
		}
		return j
	}
	art, _ := job("plan")["artifacts"].(map[string]any)
	if art["access"] != "developer" || art["public"] != nil {
		t.Error("plan artifacts must be access: developer (plan files can hold sensitive values; the deprecated public key is refused by GitLab's schema)")
	}
	if reports, _ := art["reports"].(map[string]any); reports["terraform"] == nil {
		t.Error("plan job must publish artifacts:reports:terraform for the merge-request widget")
	}
	apply := job("apply")
	rules, _ := apply["rules"].([]any)
	manualOnDefault := false
	for _, r := range rules {
		m, _ := r.(map[string]any)
		if strings.Contains(asString(m["if"]), "$CI_DEFAULT_BRANCH") && m["when"] == "manual" {
			manualOnDefault = true
		}
	}
	if !manualOnDefault {
		t.Error("apply must be a manual job on the default branch")
	}
	if env, _ := apply["environment"].(map[string]any); env["name"] == nil {
		t.Error("apply must deploy to an environment (protect it to require approval)")
	}
}

func TestGitHubActionsArePinnedByCommit(t *testing.T) {
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	for _, file := range pipelines(t)[1:] {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*(?:-\s*)?uses:\s*(\S+)`).FindAllStringSubmatch(string(data), -1) {
			if strings.HasPrefix(m[1], "./") {
				continue
			}
			if !pinned.MatchString(m[1]) {
				t.Errorf("%s: %s is not pinned to a full commit SHA", file, m[1])
			}
		}
	}
}

func asString(v any) string { s, _ := v.(string); return s }
