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
// .gitlab-ci.yml, offline) on pipeline in a throw-away git repository.
func gitlabCILocal(t *testing.T, pipeline []byte) (string, error) {
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
	for _, args := range [][]string{{"init", "-q"}, {"add", ".gitlab-ci.yml"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pipeline"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	cmd := exec.Command(node, script, "--list")
	cmd.Dir = repo
	// Only what it needs: no CI_* of an outer pipeline, no proxy settings.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + repo}
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
	out, err := gitlabCILocal(t, pipeline)
	if err != nil || !strings.Contains(out, "json schema validated") {
		t.Fatalf("gitlab-ci-local --list refuses .gitlab-ci.yml: %v\n%s", err, out)
	}
	for _, job := range []string{"unit", "lint", "synth", "plan"} {
		if !strings.Contains(out, "\n"+job+" ") {
			t.Errorf("job %s not listed:\n%s", job, out)
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
