// Package e2e produces real plans of this project's main stack against the
// moto emulator and runs planpreview on them. With -record it also rewrites
// the fixtures the fast unit tests of planpreview read
// (planpreview/testdata/<scenario>/{plan.json,cdk.tf.json}):
//
//	scripts/netns.sh go test ./planpreview/e2e -count=1 -record
//	go test ./planpreview -update      # then refresh the golden outputs
//
// -record-only=<scenario>[,...] records those alone (a new scenario) and
// checks the others as a run without -record does, so the emulator's
// random ids do not churn every plan.json.
//
// Like ../../e2e it runs inside a loopback-only network namespace (make test
// does that) and fails elsewhere; PROMAWS_SKIP_E2E=1 skips it. Its path
// contains /e2e, so make unit leaves it out.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/planpreview"
)

var (
	record     = flag.Bool("record", false, "rewrite planpreview/testdata/<scenario>/{plan.json,cdk.tf.json} from this run")
	recordOnly = flag.String("record-only", "", "rewrite the fixtures of these scenarios (comma-separated) alone")
)

// recording reports whether this run rewrites scenario's fixtures.
func recording(scenario string) bool {
	if *recordOnly != "" {
		return slices.Contains(strings.Split(*recordOnly, ","), scenario)
	}
	return *record
}

var skipReason string

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("PROMAWS_SKIP_E2E") == "1" {
		skipReason = "PROMAWS_SKIP_E2E=1"
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// fixtureEndpoint replaces the emulator's random port in recorded plans, so
// fixtures do not change with every recording.
const fixtureEndpoint = "https://127.0.0.1:5000"

// TestPlansOfTheMainStack walks the scenarios a reviewer meets, in order,
// on one deployment: create from scratch, no-op, an in-place change of the
// Prometheus configuration, a new task size (a new task definition: ECS
// restarts Prometheus), a replacement (new subnet ranges), a destroy.
func TestPlansOfTheMainStack(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	emu, err := emulator.Start(ctx, emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	defer emu.Stop()
	base := map[string]string{"PROMAWS_NODE_COUNT": "1"}
	d, err := harness.NewDeployment(ctx, emu, harness.DeploymentOptions{Root: t.TempDir(), Env: base, DropLockChecksums: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &workspace{t: t, ctx: ctx, d: d}
	if err := d.Init(ctx); err != nil {
		t.Fatal(err)
	}
	create := w.plan("create")
	if c := create.Counts; c.Create == 0 || c.Update+c.Replace+c.Delete != 0 {
		t.Fatalf("create plan: want only creates, got %+v", c)
	}
	if n := w.resourceCount(); create.Counts.Create != n {
		t.Errorf("create plan creates %d resources, cdk.tf.json has %d", create.Counts.Create, n)
	}
	for _, c := range create.Changes {
		if c.Guessed {
			t.Errorf("%s: construct path not found in cdk.tf.json", c.Address)
		}
	}
	if err := d.Apply(ctx); err != nil {
		t.Fatal(err)
	}

	if noop := w.plan("noop"); noop.Counts.Changes() != 0 {
		t.Fatalf("plan after apply: want no changes, got %+v", noop.Counts)
	}

	w.synth(with(base, "PROMAWS_SCRAPE_INTERVAL", "15s"))
	update := w.plan("update-config")
	// The parameter changes in place, and nothing else: the task
	// definition names it, not its value, and the config-sync sidecar
	// carries the change into the running task.
	for _, c := range update.Changes {
		if c.Action != planpreview.Update || c.Type != "aws_ssm_parameter" || c.Group != "prometheus" {
			t.Errorf("config change: %s: %s in construct %s, want only in-place parameter updates in prometheus", c.Address, c.Action, c.Group)
		}
	}
	if update.Effect != planpreview.ReloadsInPlace || update.Counts != (planpreview.Counts{Update: 1}) {
		t.Errorf("config change: want one parameter updated, reloading in place; got %+v %s", update.Counts, update.Effect)
	}
	if len(update.Configs) != 1 || !strings.Contains(update.Configs[0].Diff, "\n-  scrape_interval: 30s\n") || !strings.Contains(update.Configs[0].Diff, "\n+  scrape_interval: 15s\n") {
		t.Errorf("config change: want the scrape_interval lines in the YAML diff, got %+v", update.Configs)
	}

	w.synth(with(base, "PROMAWS_TASK_MEMORY", "2048"))
	restart := w.plan("task-memory")
	// The task size is in the task definition: a new revision, which the
	// service then runs, so ECS replaces the running task.
	var revised, rolled bool
	for _, c := range restart.Changes {
		switch {
		case c.Type == "aws_ecs_task_definition" && c.Action == planpreview.Replace && slices.Contains(c.Attributes, "memory"):
			revised = true
		case c.Type == "aws_ecs_service" && c.Action == planpreview.Update && slices.Contains(c.Attributes, "task_definition"):
			rolled = true
		default:
			t.Errorf("task memory: unexpected %s: %s (%v)", c.Address, c.Action, c.Attributes)
		}
	}
	if !revised || !rolled || restart.Effect != planpreview.Restarts {
		t.Errorf("task memory: want the task definition replaced for its memory and the service moved to it, restarting Prometheus; got %+v %s %v",
			restart.Counts, restart.Effect, restart.Changes)
	}

	w.synth(with(base, "PROMAWS_SUBNET_CIDRS", "10.0.10.0/24,10.0.11.0/24"))
	replace := w.plan("replace")
	if replace.Counts.Replace == 0 || replace.Counts.Delete != 0 {
		t.Errorf("new subnet ranges: want replacements, got %+v", replace.Counts)
	}
	for _, c := range replace.Changes {
		if c.Type == "aws_subnet" && (c.Action != planpreview.Replace || !strings.Contains(c.Why, "cidr_block")) {
			t.Errorf("%s: want a replacement because of cidr_block, got %s (%s)", c.Address, c.Action, c.Why)
		}
	}

	w.synth(base)
	destroy := w.plan("destroy", "-destroy")
	if c := destroy.Counts; c.Delete != create.Counts.Create || c.Create+c.Update+c.Replace != 0 {
		t.Errorf("destroy plan: want %d deletes only, got %+v", create.Counts.Create, c)
	}
	// Not applied: the plan is what the scenario shows, and the test's
	// emulator goes with it.
}

type workspace struct {
	t   *testing.T
	ctx context.Context
	d   *harness.Deployment
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range m {
		if key != k {
			out[key] = val
		}
	}
	return out
}

// synth writes the local-profile main stack for exactly env (PROMAWS_*
// settings) into the deployment's cdktf.out, as make synth would.
func (w *workspace) synth(env map[string]string) {
	w.t.Helper()
	w.d.Env = map[string]string{} // not merged over the previous scenario
	if err := w.d.Resynth(w.ctx, env); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workspace) dir() string { return w.d.StackDir() }

// terraform runs the terraform CLI in the stack folder and returns stdout.
func (w *workspace) terraform(args ...string) []byte {
	w.t.Helper()
	bin, err := tools.Find("terraform")
	if err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.CommandContext(w.ctx, bin, args...)
	env, err := tfenv.Environ(append(w.d.Emulator.Env(w.d.Settings.Region), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"))
	if err != nil {
		w.t.Fatal(err)
	}
	cmd.Dir, cmd.Env = w.dir(), env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, stderr.String(), out)
	}
	return out
}

// plan makes a saved plan, reads it back as JSON (as make plan-out does)
// and summarises it; with -record it stores the JSON as a fixture.
func (w *workspace) plan(scenario string, extra ...string) *planpreview.Stack {
	w.t.Helper()
	w.terraform(append([]string{"plan", "-input=false", "-out=tfplan"}, extra...)...)
	raw := w.terraform("show", "-json", "tfplan")
	planFile := filepath.Join(w.dir(), "plan.json")
	if err := os.WriteFile(planFile, raw, 0o644); err != nil {
		w.t.Fatal(err)
	}
	s, err := planpreview.Load(planFile)
	if err != nil {
		w.t.Fatalf("%s: %v", scenario, err)
	}
	if s.Name != w.d.Settings.StackName() {
		w.t.Errorf("%s: stack name %q, want %q (from cdk.tf.json)", scenario, s.Name, w.d.Settings.StackName())
	}
	var md bytes.Buffer
	if err := planpreview.WriteMarkdown(&md, []*planpreview.Stack{s}); err != nil {
		w.t.Fatal(err)
	}
	w.t.Logf("%s:\n%s", scenario, md.String())
	if recording(scenario) {
		w.recordFixture(scenario, raw)
	} else {
		w.assertFixtureCurrent(scenario)
	}
	return s
}

// assertFixtureCurrent fails when the recorded cdk.tf.json of scenario is
// not what the stack synthesizes today: the unit tests of planpreview
// would be reading plans of an older stack.
func (w *workspace) assertFixtureCurrent(scenario string) {
	w.t.Helper()
	synth, err := os.ReadFile(filepath.Join(w.dir(), "cdk.tf.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	recorded, err := os.ReadFile(filepath.Join("..", "testdata", scenario, "cdk.tf.json"))
	if err != nil {
		w.t.Fatalf("%s: no recorded fixture: %v", scenario, err)
	}
	// Byte for byte, once the emulator's port and this run's temp folder
	// (normalize) are replaced as in the recording.
	if !bytes.Equal(w.normalize(synth), recorded) {
		w.t.Errorf("planpreview/testdata/%s/cdk.tf.json differs from what the stack synthesizes now: re-record the fixtures "+
			"(scripts/netns.sh go test ./planpreview/e2e -count=1 -record; go test ./planpreview -update)", scenario)
	}
}

// normalize replaces the emulator port and this run's temp folder, which
// differ on every run.
func (w *workspace) normalize(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte(w.d.Emulator.Endpoint()), []byte(fixtureEndpoint))
	return bytes.ReplaceAll(data, []byte(w.d.Root), []byte("/tmp/planpreview"))
}

// recordFixture stores plan.json and cdk.tf.json with the emulator port and
// this run's temp folder replaced, and refuses anything secret-looking.
func (w *workspace) recordFixture(scenario string, plan []byte) {
	w.t.Helper()
	synth, err := os.ReadFile(filepath.Join(w.dir(), "cdk.tf.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join("..", "testdata", scenario)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plan.json": plan, "cdk.tf.json": synth} {
		data = w.normalize(data)
		if name == "plan.json" {
			data = indent(w.t, data)
		}
		if err := scanFixture(data); err != nil {
			w.t.Fatalf("%s/%s: %v", scenario, name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	w.t.Logf("recorded %s", dir)
}

// indent makes recorded plans diffable in review; it checks the JSON is a
// plan tfjson understands.
func indent(t *testing.T, data []byte) []byte {
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("recorded plan: %v", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", " "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// secretLike are values a fixture must never hold: cloud keys other than
// the emulator's static "test" credentials, private keys, home folders.
var secretLike = regexp.MustCompile(`AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|"(password|secret_string)": "[^"]+"|/home/|/root/`)

func scanFixture(data []byte) error {
	if m := secretLike.Find(data); m != nil {
		return &fixtureError{string(m)}
	}
	return nil
}

type fixtureError struct{ match string }

func (e *fixtureError) Error() string {
	return "refusing to record a fixture containing " + e.match + " (a secret or a path of this machine); find where it comes from"
}

func (w *workspace) resourceCount() int {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir(), "cdk.tf.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	var doc struct {
		Resource map[string]map[string]struct {
			Count *float64 `json:"count"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		w.t.Fatal(err)
	}
	// The local profile turns some AWS-only resources off with count = 0.
	n := 0
	for _, byName := range doc.Resource {
		for _, r := range byName {
			if r.Count == nil || *r.Count != 0 {
				n++
			}
		}
	}
	return n
}
