package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// skipReason, when set, skips every test. jsii is closed once at the end
// (TestMain): every synth shares one provider load. admit runs the tests
// -parallel at a time, longest first.
var (
	skipReason string
	admit      *admission
)

func TestMain(m *testing.M) {
	if os.Getenv("PROMAWS_SKIP_E2E") == "1" {
		skipReason = "PROMAWS_SKIP_E2E=1"
	}
	flag.Parse()
	admit = newAdmission()
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// harness is one test's emulator and, once it runs a task, its local
// Fargate runner. Every test has its own, so the tests run side by side
// (t.Parallel; go test -parallel sets how many at once).
type harness struct {
	ctx    context.Context
	emu    *emulator.Emulator
	aws    aws.Config
	dir    string
	runner *rig.Fargate
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	tk := admit.register(t.Name())
	t.Parallel()
	queued := time.Now()
	admit.wait(tk)
	// The test's elapsed time includes this wait; its own starts here.
	t.Logf("admitted after %.0fs in the queue (longest first: e2e/admission_test.go)", time.Since(queued).Seconds())
	t.Cleanup(admit.release) // registered first: runs after the test's own cleanups
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)
	emu, err := emulator.Start(ctx, emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(emu.Stop)
	cfg, err := emu.AWSConfig(ctx, "eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{ctx: ctx, emu: emu, aws: cfg, dir: t.TempDir()}
}

// deployment is one synthesized main stack and its Terraform working
// folder (internal/harness), with the test's failure handling.
type deployment struct {
	*rig.Deployment
	h *harness
}

// deploy synthesizes the local-profile stack for env (PROMAWS_* settings),
// with short discovery and scrape intervals.
func (h *harness) deploy(t *testing.T, name string, env map[string]string) *deployment {
	t.Helper()
	merged := map[string]string{"PROMAWS_REFRESH_INTERVAL": "5s", "PROMAWS_SCRAPE_INTERVAL": "5s"}
	for k, v := range env {
		merged[k] = v
	}
	d, err := rig.NewDeployment(h.ctx, h.emu, rig.DeploymentOptions{Root: filepath.Join(h.dir, name), Env: merged,
		DropLockChecksums: true})
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{Deployment: d, h: h}
}

// resynth rebuilds the stack with env merged over the previous settings.
func (d *deployment) resynth(t *testing.T, env map[string]string) {
	t.Helper()
	if err := d.Resynth(d.h.ctx, env); err != nil {
		t.Fatal(err)
	}
}

func (d *deployment) stackDir(stack string) string {
	return filepath.Join(d.Root, "cdktf.out", "stacks", stack)
}

func (d *deployment) apply(t *testing.T) {
	t.Helper()
	if err := d.Apply(d.h.ctx); err != nil {
		t.Fatal(err)
	}
}

func (d *deployment) destroy(t *testing.T) {
	t.Helper()
	if err := d.Destroy(d.h.ctx); err != nil {
		t.Fatal(err)
	}
}

// assertCleanPlan runs plan with -detailed-exitcode; any change is drift.
func (d *deployment) assertCleanPlan(t *testing.T) {
	t.Helper()
	changed, err := d.TF.Plan(d.h.ctx)
	if err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	if changed {
		out, _ := d.TF.ShowPlanFileRaw(d.h.ctx, "")
		t.Fatalf("plan after apply is not clean:\n%s", out)
	}
}

// planText is the human-readable plan a reviewer reads.
func (d *deployment) planText(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.tfplan")
	if _, err := d.TF.Plan(d.h.ctx, tfexec.Out(file)); err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	text, err := d.TF.ShowPlanFileRaw(d.h.ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// planJSON is `terraform show -json` of a fresh plan, as CI would record it.
func (d *deployment) planJSON(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.tfplan")
	if _, err := d.TF.Plan(d.h.ctx, tfexec.Out(file)); err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	plan, err := d.TF.ShowPlanFile(d.h.ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (d *deployment) outputs(t *testing.T) map[string]string {
	t.Helper()
	outs, err := d.Outputs(d.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range outs {
		if s, ok := v.(string); ok {
			m[k] = s
		}
	}
	return m
}

// groupInstances lists the in-service instances of the node group.
func (d *deployment) groupInstances(t *testing.T) []string {
	t.Helper()
	ids, err := d.GroupInstances(d.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (h *harness) instance(t *testing.T, id string) ec2types.Instance {
	t.Helper()
	out, err := ec2.NewFromConfig(h.aws).DescribeInstances(h.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || countInstances(out) != 1 {
		t.Fatalf("instance %s: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// createNoiseInstances starts two instances Prometheus must ignore: one
// without the discovery tag, and one tagged but stopped.
func (h *harness) createNoiseInstances(t *testing.T, d *deployment) []string {
	t.Helper()
	c := ec2.NewFromConfig(h.aws)
	subnet := d.outputsList(t, "subnet_ids")[0]
	run := func(tags []ec2types.Tag) string {
		out, err := c.RunInstances(h.ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}},
		})
		if err != nil {
			t.Fatalf("run instance: %v", err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	untagged := run([]ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("not-monitored")}})
	stopped := run([]ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("stopped-node")}, {Key: aws.String(d.Settings.DiscoveryTagKey), Value: aws.String(d.Settings.DiscoveryTagValue)}})
	if _, err := c.StopInstances(h.ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatalf("stop instance: %v", err)
	}
	return []string{untagged, stopped}
}

func (h *harness) terminate(t *testing.T, ids []string) {
	t.Helper()
	if _, err := ec2.NewFromConfig(h.aws).TerminateInstances(h.ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		t.Fatalf("terminate: %v", err)
	}
}

func (d *deployment) outputsList(t *testing.T, name string) []string {
	t.Helper()
	outs, err := d.Outputs(d.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var l []string
	list, _ := outs[name].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			l = append(l, s)
		}
	}
	if len(l) == 0 {
		t.Fatalf("output %s: %v, want a list of strings", name, outs[name])
	}
	return l
}

// prometheus is the stack's Prometheus task, run from the task definition
// the emulator holds by the local Fargate runner, as Fargate would run it,
// plus the node_exporter every target points at.
type prometheus struct {
	ctx  context.Context
	api  *promapi.Client
	task *rig.PrometheusTask
	// h and s are the harness and the settings the task runs from (the
	// service it belongs to).
	h *harness
	s *config.Settings
	// diagnose, when set, adds to a failure's message.
	diagnose func() string
	// Stop stops the task (SIGTERM, then SIGKILL after its stopTimeout) and
	// its node_exporter (also done at cleanup).
	Stop func()
}

func (p *prometheus) logTail() string { return p.task.LogTail(40) }

// startPrometheus runs one task of the stack's Prometheus service.
func (h *harness) startPrometheus(t *testing.T, s *config.Settings) *prometheus {
	t.Helper()
	return h.startPrometheusWith(t, s, rig.TaskOptions{})
}

// startPrometheusWith is startPrometheus with options (a remote-write
// receiver, ...).
func (h *harness) startPrometheusWith(t *testing.T, s *config.Settings, o rig.TaskOptions) *prometheus {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	task, err := h.fargate(t).RunPrometheus(h.ctx, s, o)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(task.Stop) }
	t.Cleanup(stop)
	return &prometheus{ctx: h.ctx, api: task.API, task: task, h: h, s: s, Stop: stop}
}

// fargate is the harness's local Fargate runner, made at first use.
func (h *harness) fargate(t *testing.T) *rig.Fargate {
	t.Helper()
	if h.runner == nil {
		r, err := rig.NewFargate(h.ctx, h.emu, filepath.Join(h.dir, "fargate"))
		if err != nil {
			t.Fatal(err)
		}
		h.runner = r
	}
	return h.runner
}

// waitHealthy waits until ECS would report the task HEALTHY: its container
// health check (the first probe runs one interval after the start).
func (p *prometheus) waitHealthy(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	if err := p.task.Task.WaitHealth(ctx, "HEALTHY"); err != nil {
		t.Fatalf("%v\nprometheus log:\n%s", err, p.logTail())
	}
}
