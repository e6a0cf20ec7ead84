package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// TestCdktfDeployDiffDestroy runs the README's cdktf workflow against the
// emulator on a machine that reaches only the provider mirror: the first
// `cdktf deploy` works (the app writes the lock file from the mirror;
// cdktf-cli 0.20.11 would otherwise run `terraform providers lock`, which
// asks the public registry), `cdktf diff` then finds nothing to change,
// and `cdktf destroy` leaves no VPC and an empty state.
func TestCdktfDeployDiffDestroy(t *testing.T) {
	h := newHarness(t)
	cli, err := tools.Find("cdktf")
	if err != nil {
		t.Fatalf("%v (make test installs it with make tools-bench)", err)
	}
	// The project as a user has it: cdktf.json naming the app (built once,
	// as `go run .` would), the state file beside it.
	project := filepath.Join(h.dir, "project")
	app := filepath.Join(h.dir, "prometheus-aws")
	build := exec.CommandContext(h.ctx, "go", "build", "-o", app, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cdktfJSON, _ := json.Marshal(map[string]any{
		"language": "go", "app": app, "projectId": "prometheus-aws-e2e", "sendCrashReports": "false",
		"terraformProviders": []string{}, "terraformModules": []string{}, "context": map[string]any{},
	})
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "cdktf.json"), cdktfJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := tfenv.Environ(append(h.emu.Env("eu-central-1"), "CHECKPOINT_DISABLE=1",
		"CDKTF_HOME="+filepath.Join(h.dir, "cdktf-home"), "CDKTF_DISABLE_PLUGIN_CACHE_ENV=1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"PROMAWS_ENDPOINT="+h.emu.Endpoint(), "PROMAWS_NODE_COUNT=1", "PROMAWS_STORAGE_MODE=ephemeral"))
	if err != nil {
		t.Fatal(err)
	}
	const stack = "prometheus-aws-dev"
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(h.ctx, cli, args...)
		cmd.Dir, cmd.Env = project, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cdktf %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// The CLI's terraform init must find the plugin cache filled: the
	// tests beside this one init at the same time.
	if err := tfenv.WarmPluginCache(h.ctx, json.RawMessage(`{"aws": {"source": "hashicorp/aws", "version": "`+constructs.AWSProviderConstraint+`"}}`)); err != nil {
		t.Fatal(err)
	}
	run("deploy", "--auto-approve", stack)
	if _, err := os.Stat(filepath.Join(project, "cdktf.out", "stacks", stack, tfenv.LockFile)); err != nil {
		t.Errorf("no lock file in the stack folder after deploy: %v", err)
	}
	if out := run("diff", stack); !strings.Contains(out, "No changes") {
		t.Errorf("cdktf diff right after deploy must find nothing to change:\n%s", out)
	}
	vpcs := func() int {
		out, err := ec2.NewFromConfig(h.aws).DescribeVpcs(h.ctx, &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range out.Vpcs {
			if v.IsDefault == nil || !*v.IsDefault {
				n++
			}
		}
		return n
	}
	if vpcs() != 1 {
		t.Fatalf("deploy created %d VPCs, want 1", vpcs())
	}
	run("destroy", "--auto-approve", stack)
	if n := vpcs(); n != 0 {
		t.Errorf("destroy left %d VPCs", n)
	}
	state, err := os.ReadFile(filepath.Join(project, "terraform."+stack+".tfstate"))
	if err != nil {
		t.Fatalf("the state file stays beside cdktf.json: %v", err)
	}
	var st struct{ Resources []any }
	if err := json.Unmarshal(state, &st); err != nil || len(st.Resources) != 0 {
		t.Errorf("state after destroy: %d resources (%v)", len(st.Resources), err)
	}
}
