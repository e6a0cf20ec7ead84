package e2e

import (
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// TestPromotion runs the pipelines' own commands, in the promotion's order,
// in a copy of the repository against the emulator: make bootstrap (state
// bucket, the CI OIDC provider and deploy roles), then for dev make synth
// plan-out, make apply-plan and make verify (the task run as Fargate runs
// it), then prod's plan into a file, make apply-plan of exactly that file
// and make verify; both environments side by side at the end. A verify
// before the task runs fails, as a pipeline must stop there.
func TestPromotion(t *testing.T) {
	h := newHarness(t)
	root := t // the tasks run until the whole test ends, not one step
	repo := copyRepository(t)
	inRepo, env := makeInRepo(h, repo, "AUTO_APPROVE=1", "PROMAWS_STATE_BUCKET=promotion-tfstate",
		"PROMAWS_CI_PLATFORM=gitlab", "PROMAWS_CI_PROJECT=ops/prometheus-aws",
		"PROMAWS_REFRESH_INTERVAL=5s", "PROMAWS_SCRAPE_INTERVAL=5s", "PROMAWS_NODE_COUNT=1")
	runMake := func(t *testing.T, environment string, args ...string) (string, int) {
		t.Helper()
		return inRepo(t, []string{"PROMAWS_ENVIRONMENT=" + environment}, args...)
	}
	mustMake := func(t *testing.T, environment string, args ...string) string {
		t.Helper()
		out, code := runMake(t, environment, args...)
		if code != 0 {
			t.Fatalf("PROMAWS_ENVIRONMENT=%s make %s: exit %d\n%s", environment, strings.Join(args, " "), code, tail(out, 60))
		}
		return out
	}
	settingsOf := func(t *testing.T, environment string) *config.Settings {
		t.Helper()
		vars := map[string]string{}
		for _, kv := range append(env, "PROMAWS_ENVIRONMENT="+environment) {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PROMAWS_") {
				vars[k] = v
			}
		}
		ctx, err := config.LoadContext(repo)
		if err != nil {
			t.Fatal(err)
		}
		s, err := config.Load(ctx, vars)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	verify := func(t *testing.T, environment string, p *prometheus, flags string) (string, int) {
		t.Helper()
		if p != nil {
			flags += " --prometheus-url " + p.api.BaseURL + " --alertmanager-url " + p.task.AlertmanagerURL
		}
		return runMake(t, environment, "verify", "VERIFY_FLAGS="+flags)
	}

	step(t, "make bootstrap creates the state bucket and the CI roles", func(t *testing.T) {
		mustMake(t, "dev", "bootstrap")
		c := iam.NewFromConfig(h.aws)
		providers, err := c.ListOpenIDConnectProviders(h.ctx, &iam.ListOpenIDConnectProvidersInput{})
		if err != nil || len(providers.OpenIDConnectProviderList) != 1 {
			t.Errorf("one OIDC provider: %v %v", providers, err)
		}
		for _, role := range []string{"prometheus-aws-dev-ci-plan", "prometheus-aws-dev-ci-deploy", "prometheus-aws-prod-ci-plan", "prometheus-aws-prod-ci-deploy"} {
			r, err := c.GetRole(h.ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			if err != nil {
				t.Errorf("role %s: %v", role, err)
				continue
			}
			// IAM returns the document URL-encoded.
			if doc, _ := url.QueryUnescape(aws.ToString(r.Role.AssumeRolePolicyDocument)); !strings.Contains(doc, `"project_path:ops/prometheus-aws:ref_type:branch:ref:`) {
				t.Errorf("role %s must trust only ops/prometheus-aws's pipelines: %s", role, doc)
			}
		}
	})

	var dev *prometheus
	step(t, "dev: plan, apply exactly that plan, verify", func(t *testing.T) {
		mustMake(t, "dev", "synth", "plan-out")
		mustMake(t, "dev", "apply-plan")
		// Before the service's task runs, verify fails: the pipeline stops.
		// (make reports any failed recipe as 2; verify's own status, 1, is in its message.)
		out, code := verify(t, "dev", nil, "")
		if code == 0 || !strings.Contains(out, "FAIL  service steady") || !strings.Contains(out, "verify] Error 1") {
			t.Fatalf("verify of dev without a running task: exit %d, want verify's 1 naming the service\n%s", code, out)
		}
		dev = h.startPrometheus(root, settingsOf(t, "dev"))
		if out, code := verify(t, "dev", dev, "--wait 3m"); code != 0 || !strings.Contains(out, "prometheus-aws-dev: verified") {
			t.Fatalf("make verify of dev: exit %d\n%s", code, out)
		}
	})

	step(t, "prod: plan into a file once dev is verified, apply that file, verify", func(t *testing.T) {
		mustMake(t, "prod", "synth", "plan-out")
		plan := filepath.Join(repo, "cdktf.out", "stacks", "prometheus-aws-prod", "tfplan")
		before, err := os.ReadFile(plan)
		if err != nil {
			t.Fatalf("prod's saved plan: %v", err)
		}
		mustMake(t, "prod", "apply-plan")
		if after, _ := os.ReadFile(plan); string(after) != string(before) {
			t.Error("make apply-plan must apply the saved plan as it was, not a new one")
		}
		prod := h.startPrometheus(root, settingsOf(t, "prod"))
		if out, code := verify(t, "prod", prod, "--wait 3m"); code != 0 || !strings.Contains(out, "prometheus-aws-prod: verified") {
			t.Fatalf("make verify of prod: exit %d\n%s", code, out)
		} else {
			t.Logf("make verify of prod:\n%s", out)
		}
		// Side by side: dev is still verified with prod beside it.
		if out, code := verify(t, "dev", dev, ""); code != 0 {
			t.Fatalf("dev after prod's apply: exit %d\n%s", code, out)
		}
	})
}

// copyRepository copies the files git knows of (tracked and new) into a
// temporary folder, so make runs there as in a pipeline's checkout, with
// its own cdktf.out and state files, and builds the programs make would
// build (from this module's build cache: the copy is not a git repository,
// so make sees nothing newer than them).
func copyRepository(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(src, filepath.Join(dst, rel), st.Mode()); err != nil {
			t.Fatal(err)
		}
	}
	for bin, pkg := range map[string]string{"prometheus-aws": ".", "verify": "./cmd/verify", "planpreview": "./cmd/planpreview"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dst, "bin", bin), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return dst
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// makeInRepo runs make in a copy of the repository (copyRepository)
// against the emulator, as a person or a pipeline would: the emulator's
// credentials and endpoint, make tools' binaries, the Go caches, and
// settings. The function returns make's output and exit code, and fails
// the test only when make cannot run; env is the environment it gives make.
func makeInRepo(h *harness, repo string, settings ...string) (run func(t *testing.T, extra []string, args ...string) (string, int), env []string) {
	env = append(h.emu.Env("eu-central-1"),
		"HOME="+os.Getenv("HOME"), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local",
		"TOOLS_BIN="+tools.Bin(), "PROMAWS_ENDPOINT="+h.emu.Endpoint())
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "PROMAWS_TOOLS_BIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, settings...)
	run = func(t *testing.T, extra []string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(h.ctx, "make", append([]string{"--no-print-directory"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(append([]string{}, env...), extra...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatalf("make %s: %v", strings.Join(args, " "), err)
		}
		return string(out), 0
	}
	return run, env
}
