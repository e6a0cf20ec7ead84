package citest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// gitlabCILocal runs gitlab-ci-local --list (GitLab's own JSON schema for
// .gitlab-ci.yml, offline) on pipeline in a throw-away git repository;
// vars are predefined variables to set (NAME=value), as GitLab would for
// another kind of pipeline.
func gitlabCILocal(t *testing.T, pipeline []byte, vars ...string) (string, error) {
	t.Helper()
	dir := filepath.Join(tools.Bin(), "..", "gitlab-ci-local", "node_modules")
	node, script := filepath.Join(dir, ".bin", "node"), filepath.Join(dir, "gitlab-ci-local", "dist", "index.js")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("gitlab-ci-local is not installed (%v): run make tools", err)
	}
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, ".gitlab-ci.yml"), pipeline, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", ".gitlab-ci.yml"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pipeline"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	args := []string{script, "--list"}
	var names []string
	for _, v := range vars {
		args = append(args, "--variable", v)
		name, _, _ := strings.Cut(v, "=")
		names = append(names, name)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = repo
	// Only what it needs: no CI_* of an outer pipeline, no proxy settings.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + repo, "GCL_IGNORE_PREDEFINED_VARS=" + strings.Join(names, ",")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// GitLab's schema (what GitLab itself applies) accepts the pipeline; the
// deprecated artifacts:public that it once used is refused.
func TestGitLabSchemaAcceptsThePipeline(t *testing.T) {
	pipeline, err := os.ReadFile(filepath.Join(root, ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind string
		vars []string
		jobs []string
	}{
		{"merge request", []string{"CI_PIPELINE_SOURCE=merge_request_event"}, []string{"unit", "lint", "synth", "plan:dev", "plan:prod", "plan-note", "destroy-check"}},
		{"protected default branch", []string{"CI_COMMIT_REF_PROTECTED=true"}, []string{"unit", "lint", "synth", "deploy:dev:plan", "deploy:dev", "verify:dev", "deploy:prod:plan", "deploy:prod", "verify:prod"}},
	} {
		out, err := gitlabCILocal(t, pipeline, c.vars...)
		if err != nil || !strings.Contains(out, "json schema validated") {
			t.Fatalf("gitlab-ci-local --list refuses .gitlab-ci.yml: %v\n%s", err, out)
		}
		for _, job := range c.jobs {
			if !strings.Contains(out, "\n"+job+" ") {
				t.Errorf("%s pipeline: job %s not listed:\n%s", c.kind, job, out)
			}
		}
		if c.kind == "merge request" && strings.Contains(out, "deploy:") {
			t.Errorf("a merge request must deploy nothing:\n%s", out)
		}
	}
	old := strings.Replace(string(pipeline), "access: developer", "public: false", 1)
	if old == string(pipeline) {
		t.Fatal("the pipeline has no artifacts:access to turn back into public")
	}
	if out, err := gitlabCILocal(t, []byte(old)); err == nil || !strings.Contains(out, "'public' property is not expected") {
		t.Errorf("the schema must refuse artifacts:public: %v\n%s", err, out)
	}
}
