package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// applyPlanStack is the stack the repository copy's default settings make.
const applyPlanStack = "prometheus-aws-dev"

// TestApplyPlanRefusesADestroyingPlan runs docs/CI.md's promise with the
// real make targets in a copy of the repository against the emulator:
// make apply-plan applies a saved plan that only creates, refuses one that
// replaces something (a new task memory replaces the task definition)
// without ALLOW_DESTROY=1, naming that variable and applying nothing
// (state serial and the service's revision unchanged), and applies that
// same saved plan with ALLOW_DESTROY=1.
func TestApplyPlanRefusesADestroyingPlan(t *testing.T) {
	h := newHarness(t)
	repo := copyRepository(t)
	runMake, _ := makeInRepo(h, repo, "PROMAWS_NODE_COUNT=0")
	mustMake := func(t *testing.T, extra []string, args ...string) string {
		t.Helper()
		out, code := runMake(t, extra, args...)
		if code != 0 {
			t.Fatalf("%s make %s: exit %d\n%s", strings.Join(extra, " "), strings.Join(args, " "), code, tail(out, 60))
		}
		return out
	}
	// The local profile keeps the state beside cdktf.json.
	state := filepath.Join(repo, "terraform."+applyPlanStack+".tfstate")
	serial := func(t *testing.T) int {
		t.Helper()
		data, err := os.ReadFile(state)
		if err != nil {
			t.Fatalf("the stack's state: %v", err)
		}
		var s struct{ Serial int }
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", state, err)
		}
		return s.Serial
	}
	revision := func(t *testing.T) (string, int) {
		t.Helper()
		svcs, err := ecs.NewFromConfig(h.aws).DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(applyPlanStack),
			Services: []string{applyPlanStack + "-prometheus"}})
		if err != nil || len(svcs.Services) != 1 {
			t.Fatalf("the Prometheus service: %v", err)
		}
		def := aws.ToString(svcs.Services[0].TaskDefinition)
		td, err := ecs.NewFromConfig(h.aws).DescribeTaskDefinition(h.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(def)})
		if err != nil {
			t.Fatalf("task definition %s: %v", def, err)
		}
		memory, err := strconv.Atoi(aws.ToString(td.TaskDefinition.Memory))
		if err != nil {
			t.Fatalf("task definition %s memory: %v", def, err)
		}
		return def, memory
	}

	step(t, "a plan that only creates is applied", func(t *testing.T) {
		mustMake(t, nil, "synth", "plan-out")
		mustMake(t, nil, "apply-plan")
	})
	before := serial(t)
	beforeDef, _ := revision(t)

	step(t, "a plan that replaces something is refused without ALLOW_DESTROY=1, and nothing is applied", func(t *testing.T) {
		mustMake(t, []string{"PROMAWS_TASK_MEMORY=2048"}, "synth", "plan-out")
		out, code := runMake(t, nil, "apply-plan")
		if code == 0 {
			t.Fatalf("make apply-plan of a plan that replaces the task definition must fail without ALLOW_DESTROY=1; it exited 0:\n%s", tail(out, 40))
		}
		t.Logf("make apply-plan refused it (exit %d):\n%s", code, tail(strings.TrimSpace(out), 4))
		for _, want := range []string{"aws_ecs_task_definition.", "ALLOW_DESTROY=1", "not applied"} {
			if !strings.Contains(out, want) {
				t.Errorf("make apply-plan's refusal must say %q:\n%s", want, tail(out, 40))
			}
		}
		if now := serial(t); now != before {
			t.Errorf("state serial %d -> %d: the refused plan was applied", before, now)
		}
		if def, _ := revision(t); def != beforeDef {
			t.Errorf("the service runs %s, before %s: the refused plan was applied", def, beforeDef)
		}
	})

	step(t, "with ALLOW_DESTROY=1 the same saved plan is applied", func(t *testing.T) {
		mustMake(t, []string{"ALLOW_DESTROY=1"}, "apply-plan")
		if now := serial(t); now <= before {
			t.Errorf("state serial %d -> %d: nothing was applied", before, now)
		}
		if def, memory := revision(t); def == beforeDef || memory != 2048 {
			t.Errorf("the service must run a new revision with 2048 MiB: %s (%d MiB), before %s", def, memory, beforeDef)
		}
	})
}
