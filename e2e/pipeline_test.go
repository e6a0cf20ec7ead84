package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// TestGitLabJobsRunLocally runs the merge-request pipeline's jobs that need
// no AWS account, plan:dev and what it waits for (unit, lint, synth), with
// gitlab-ci-local (GitLab's job semantics: stages, needs, variables,
// extends, before_script with the OIDC token file, artifacts) in the shell,
// against the emulator, in a copy of the repository: the YAML does what the
// docs say, not only what its schema allows.
func TestGitLabJobsRunLocally(t *testing.T) {
	h := newHarness(t)
	repo := copyRepository(t)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "checkout"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dir := filepath.Join(tools.Bin(), "..", "gitlab-ci-local", "node_modules")
	node, script := filepath.Join(dir, ".bin", "node"), filepath.Join(dir, "gitlab-ci-local", "dist", "index.js")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("gitlab-ci-local is not installed (%v): run make tools", err)
	}
	vars := []string{
		"CI_PIPELINE_SOURCE=merge_request_event",
		// The job's own AWS wiring runs (the token file, the role variable);
		// the local profile's provider signs with the emulator's keys.
		"AWS_PLAN_ROLE_ARN_DEV=arn:aws:iam::123456789012:role/prometheus-aws-dev-ci-plan",
		// The local profile's provider takes the endpoint from
		// AWS_ENDPOINT_URL, as Terraform runs against the emulator do.
		"PROMAWS_ENDPOINT=" + h.emu.Endpoint(), "AWS_ENDPOINT_URL=" + h.emu.Endpoint(), "AWS_CA_BUNDLE=" + h.emu.CAFile,
		// Filled caches: nothing in the namespace can download.
		"TOOLS_BIN=" + tools.Bin(), "GOPROXY=off", "GOTOOLCHAIN=local",
		"GOFLAGS=-mod=readonly",
		// The unit job's commands run whole (make tools, make unit: every
		// package's tests built, in the loopback-only namespace) with one
		// test selected (make unit's UNIT_FLAGS): make test runs every
		// unit test itself, and running them all a second time here was
		// the e2e package's largest single cost (issue 29).
		"UNIT_FLAGS=-run=TestDefaultsAreValid",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		vars = append(vars, k+"="+strings.TrimSpace(string(out)))
	}
	args := []string{script, "--force-shell-executor", "--needs", "plan:dev"}
	var names []string
	for _, v := range vars {
		args = append(args, "--variable", v)
		name, _, _ := strings.Cut(v, "=")
		names = append(names, name)
	}
	cmd := exec.CommandContext(h.ctx, node, args...)
	cmd.Dir = repo
	cmd.Env = append(h.emu.Env("eu-central-1"), "HOME="+repo, "GCL_IGNORE_PREDEFINED_VARS="+strings.Join(names, ","),
		"TF_CLI_CONFIG_FILE="+filepath.Join(tools.Bin(), "..", "terraformrc"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gitlab-ci-local plan:dev: %v\n%s", err, tail(string(out), 80))
	}
	for _, job := range []string{"unit", "lint", "synth", "plan:dev"} {
		if !regexp.MustCompile(`(?m)^\s*PASS\s+` + regexp.QuoteMeta(job) + `\s*$`).Match(out) {
			t.Errorf("job %s did not pass:\n%s", job, tail(string(out), 60))
		}
	}
	// The unit job ran make unit with the one test selected: it passed in
	// the config package, and no package failed to build.
	if !regexp.MustCompile(`(?m)unit\s+>\s+ok\s+github.com/prometheus-aws/prometheus-aws/config\s+[0-9.]+s\s*$`).Match(out) {
		t.Errorf("the unit job must run make unit's go test (the config package's test passing):\n%s", tail(string(out), 60))
	}
	// The artifact the apply job would download: the saved plan.
	plans, _ := filepath.Glob(filepath.Join(repo, ".gitlab-ci-local", "artifacts", "*", "cdktf.out", "stacks", "prometheus-aws-dev", "tfplan"))
	if len(plans) != 1 {
		t.Errorf("plan:dev must keep its saved plan as an artifact, found %v", plans)
	}
	if !strings.Contains(string(out), "Terraform plan preview") {
		t.Errorf("plan:dev must print the plan preview:\n%s", tail(string(out), 40))
	}
}
