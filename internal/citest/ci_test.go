// Package citest checks the CI pipelines against the repository: every
// `make` target a job runs exists in the Makefile (pipelines hold no logic
// of their own, docs/CI.md), third-party GitHub actions are pinned by
// commit, the review gates the docs promise are in place, and GitLab's own
// schema accepts .gitlab-ci.yml (gitlab-ci-local, offline).
package citest

import (
	"fmt"
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

// gitlabJob is a job of .gitlab-ci.yml with its extends resolved as GitLab
// does: a deep merge of hashes, the job's own keys last; arrays replace.
func gitlabJob(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	j, ok := doc[name].(map[string]any)
	if !ok {
		t.Fatalf(".gitlab-ci.yml has no job %q", name)
	}
	merged := map[string]any{}
	var parents []string
	switch e := j["extends"].(type) {
	case string:
		parents = []string{e}
	case []any:
		for _, p := range e {
			parents = append(parents, asString(p))
		}
	}
	for _, p := range parents {
		deepMerge(merged, gitlabJob(t, doc, p))
	}
	deepMerge(merged, j)
	delete(merged, "extends")
	return merged
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
			cp := map[string]any{}
			deepMerge(cp, sm)
			dst[k] = cp
			continue
		}
		dst[k] = v
	}
}

// needs are a job's needs, by name.
func needs(job map[string]any) []string {
	var out []string
	list, _ := job["needs"].([]any)
	for _, n := range list {
		if m, ok := n.(map[string]any); ok {
			out = append(out, asString(m["job"]))
			continue
		}
		out = append(out, asString(n))
	}
	return out
}

func jobScript(job map[string]any) string {
	var lines []string
	scripts(map[string]any{"script": job["script"]}, false, &lines)
	return strings.Join(lines, "\n")
}

// TestGitLabPipelineGates: merge requests plan every environment and feed
// GitLab's widget privately; the default branch promotes dev -> verify ->
// a prod plan kept as an artifact -> a manual, protected apply of exactly
// that plan -> verify, one apply at a time per environment.
func TestGitLabPipelineGates(t *testing.T) {
	doc := load(t, ".gitlab-ci.yml")
	for _, name := range []string{"plan:dev", "plan:prod", "deploy:dev:plan", "deploy:prod:plan"} {
		job := gitlabJob(t, doc, name)
		art, _ := job["artifacts"].(map[string]any)
		if art["access"] != "developer" || art["public"] != nil {
			t.Errorf("%s: artifacts must be access: developer (plan files can hold sensitive values; the deprecated public key is refused by GitLab's schema)", name)
		}
		if reports, _ := art["reports"].(map[string]any); reports["terraform"] == nil {
			t.Errorf("%s must publish artifacts:reports:terraform for the widget", name)
		}
		if !strings.Contains(jobScript(job), "make synth plan-out") {
			t.Errorf("%s must save its plan (make synth plan-out): %s", name, jobScript(job))
		}
	}
	env := func(job map[string]any) string {
		v, _ := job["variables"].(map[string]any)
		return asString(v["PROMAWS_ENVIRONMENT"])
	}
	// The promotion, in order: each job needs the one before it.
	order := []struct{ job, env, script, after string }{
		{"deploy:dev:plan", "dev", "make synth plan-out", ""},
		{"deploy:dev", "dev", "make apply-plan", "deploy:dev:plan"},
		{"verify:dev", "dev", "make verify", "deploy:dev"},
		{"deploy:prod:plan", "prod", "make synth plan-out", "verify:dev"},
		{"deploy:prod", "prod", "make apply-plan", "deploy:prod:plan"},
		{"verify:prod", "prod", "make verify", "deploy:prod"},
	}
	for _, o := range order {
		job := gitlabJob(t, doc, o.job)
		if env(job) != o.env {
			t.Errorf("%s: PROMAWS_ENVIRONMENT %q, want %s", o.job, env(job), o.env)
		}
		if !strings.Contains(jobScript(job), o.script) {
			t.Errorf("%s must run %s: %s", o.job, o.script, jobScript(job))
		}
		if o.after != "" && !slices.Contains(needs(job), o.after) {
			t.Errorf("%s must need %s (the promotion's order), needs %v", o.job, o.after, needs(job))
		}
		if rg := asString(job["resource_group"]); rg != "terraform-$PROMAWS_ENVIRONMENT" {
			t.Errorf("%s: resource_group %q: one apply at a time per environment", o.job, rg)
		}
		rules, _ := job["rules"].([]any)
		onDefault := false
		for _, r := range rules {
			m, _ := r.(map[string]any)
			onDefault = onDefault || strings.Contains(asString(m["if"]), "$CI_DEFAULT_BRANCH") && strings.Contains(asString(m["if"]), "PROTECTED")
		}
		if !onDefault {
			t.Errorf("%s must run on the protected default branch only", o.job)
		}
	}
	if n := needs(gitlabJob(t, doc, "deploy:prod")); len(n) != 1 || n[0] != "deploy:prod:plan" {
		t.Errorf("deploy:prod must apply exactly the artifact of deploy:prod:plan, needs %v", n)
	}
	prod := gitlabJob(t, doc, "deploy:prod")
	manual := false
	for _, r := range prod["rules"].([]any) {
		m, _ := r.(map[string]any)
		manual = manual || m["when"] == "manual"
	}
	if !manual {
		t.Error("deploy:prod must be manual (a person approves the plan)")
	}
	if e, _ := prod["environment"].(map[string]any); e["name"] != "prod" {
		t.Error("deploy:prod must deploy to the environment prod (protect it to require approval)")
	}
}

// TestGitHubPromotion: main applies dev and verifies it, plans prod into an
// artifact, and applies exactly that plan behind the prod environment's
// reviewers, then verifies; one apply at a time per environment.
func TestGitHubPromotion(t *testing.T) {
	doc := load(t, ".github/workflows/terraform.yml")
	jobs, _ := doc["jobs"].(map[string]any)
	job := func(name string) map[string]any {
		j, ok := jobs[name].(map[string]any)
		if !ok {
			t.Fatalf("the workflow has no job %q", name)
		}
		return j
	}
	runs := func(j map[string]any) string {
		var lines []string
		steps, _ := j["steps"].([]any)
		for _, s := range steps {
			m, _ := s.(map[string]any)
			lines = append(lines, asString(m["run"]))
		}
		return strings.Join(lines, "\n")
	}
	for _, c := range []struct {
		name, env, needs, envName string
		run                       []string
	}{
		{"deploy-dev", "dev", "test", "dev", []string{"make synth plan-out", "make apply-plan", "make verify"}},
		{"plan-prod", "prod", "deploy-dev", "prod-plan", []string{"make synth plan-out"}},
		{"deploy-prod", "prod", "plan-prod", "prod", []string{"make apply-plan", "make verify"}},
	} {
		j := job(c.name)
		if asString(j["needs"]) != c.needs {
			t.Errorf("%s must need %s (the promotion's order), needs %v", c.name, c.needs, j["needs"])
		}
		if asString(j["environment"]) != c.envName {
			t.Errorf("%s: environment %v, want %s", c.name, j["environment"], c.envName)
		}
		e, _ := j["env"].(map[string]any)
		if asString(e["PROMAWS_ENVIRONMENT"]) != c.env {
			t.Errorf("%s: PROMAWS_ENVIRONMENT %v, want %s", c.name, e["PROMAWS_ENVIRONMENT"], c.env)
		}
		last := -1
		for _, r := range c.run {
			i := strings.Index(runs(j), r)
			if i < 0 || i < last {
				t.Errorf("%s must run %s, in that order: %s", c.name, strings.Join(c.run, ", "), runs(j))
			}
			last = i
		}
		cc, _ := j["concurrency"].(map[string]any)
		if asString(cc["group"]) != "terraform-"+c.env || cc["cancel-in-progress"] != false {
			t.Errorf("%s: concurrency %v: one apply at a time per environment, never cancelled", c.name, j["concurrency"])
		}
	}
	if !strings.Contains(fmt.Sprint(job("deploy-prod")["steps"]), "name:plan-prod") {
		t.Error("deploy-prod must download the plan-prod artifact and apply exactly it")
	}
}

// TestNoAccessKeys: CI reaches AWS through OIDC roles only; no pipeline
// and no documented recipe carries a long-lived access key.
func TestNoAccessKeys(t *testing.T) {
	files := append(pipelines(t), "README.md", "docs/CI.md", "docs/operations.md")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws_access_key_id", "AKIA"} {
			if strings.Contains(string(data), key) {
				t.Errorf("%s mentions %s: CI and the recipes use OIDC roles, never access keys", f, key)
			}
		}
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
