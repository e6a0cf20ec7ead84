package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/stacks"
)

// One emulator and one local Fargate runner for the package; tests reset
// the emulator between them. jsii is closed once at the end (TestMain):
// every synth shares one provider load.
var (
	sharedEmu  *emulator.Emulator
	emuErr     error
	runner     *rig.Fargate
	synthMu    sync.Mutex // jsii apps are built one at a time
	skipReason string
)

func TestMain(m *testing.M) {
	if os.Getenv("PROMAWS_SKIP_E2E") == "1" {
		skipReason = "PROMAWS_SKIP_E2E=1"
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Minute)
	sharedEmu, emuErr = emulator.Start(ctx, emulator.Options{})
	var runnerDir string
	if emuErr == nil {
		if runnerDir, emuErr = os.MkdirTemp("", "e2e-fargate-"); emuErr == nil {
			runner, emuErr = rig.NewFargate(ctx, sharedEmu, runnerDir)
		}
	}
	code := m.Run()
	if runnerDir != "" {
		os.RemoveAll(runnerDir)
	}
	if sharedEmu != nil {
		sharedEmu.Stop()
	}
	cancel()
	jsii.Close()
	os.Exit(code)
}

// harness is one test's view of the emulator.
type harness struct {
	ctx context.Context
	emu *emulator.Emulator
	aws aws.Config
	dir string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if emuErr != nil {
		t.Fatalf("emulator: %v", emuErr)
	}
	if err := sharedEmu.Reset(); err != nil {
		t.Fatalf("emulator reset: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)
	cfg, err := sharedEmu.AWSConfig(ctx, "eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{ctx: ctx, emu: sharedEmu, aws: cfg, dir: t.TempDir()}
}

// deployment is one synthesized main stack and its Terraform working dir.
type deployment struct {
	h        *harness
	name     string
	env      map[string]string
	settings *config.Settings
	root     string // holds cdktf.out and the local state file
	tf       *tfexec.Terraform
}

// deploy synthesizes the local-profile stack for env (PROMAWS_* settings).
func (h *harness) deploy(t *testing.T, name string, env map[string]string) *deployment {
	t.Helper()
	d := &deployment{h: h, name: name, root: filepath.Join(h.dir, name)}
	if err := os.MkdirAll(d.root, 0o755); err != nil {
		t.Fatal(err)
	}
	d.resynth(t, env)
	return d
}

// resynth rebuilds the stack with env merged over the previous settings;
// the state file stays where it was, as it would for a user.
func (d *deployment) resynth(t *testing.T, env map[string]string) {
	t.Helper()
	merged := map[string]string{
		"PROMAWS_ENDPOINT":         d.h.emu.Endpoint(),
		"PROMAWS_REFRESH_INTERVAL": "5s",
		"PROMAWS_SCRAPE_INTERVAL":  "5s",
	}
	for k, v := range d.env {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	d.env = merged
	s, err := config.Load(nil, merged)
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	d.settings = s
	synthMu.Lock()
	defer synthMu.Unlock()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(filepath.Join(d.root, "cdktf.out"))})
	if _, _, err := stacks.NewApp(app, s); err != nil {
		t.Fatal(err)
	}
	app.Synth()
	if d.tf == nil {
		tf, err := tfenv.New(d.h.ctx, d.stackDir(s.StackName()), d.h.emu.Env(s.Region))
		if err != nil {
			t.Fatal(err)
		}
		d.tf = tf
	}
}

func (d *deployment) stackDir(stack string) string {
	return filepath.Join(d.root, "cdktf.out", "stacks", stack)
}

func (d *deployment) apply(t *testing.T) {
	t.Helper()
	if err := d.tf.Init(d.h.ctx, tfexec.Upgrade(false)); err != nil {
		t.Fatalf("terraform init: %v", err)
	}
	if err := d.tf.Apply(d.h.ctx); err != nil {
		t.Fatalf("terraform apply: %v", err)
	}
}

func (d *deployment) destroy(t *testing.T) {
	t.Helper()
	if err := d.tf.Destroy(d.h.ctx); err != nil {
		t.Fatalf("terraform destroy: %v", err)
	}
}

// assertCleanPlan runs plan with -detailed-exitcode; any change is drift.
func (d *deployment) assertCleanPlan(t *testing.T) {
	t.Helper()
	changed, err := d.tf.Plan(d.h.ctx)
	if err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	if changed {
		out, _ := d.tf.ShowPlanFileRaw(d.h.ctx, "")
		t.Fatalf("plan after apply is not clean:\n%s", out)
	}
}

// planText is the human-readable plan a reviewer reads.
func (d *deployment) planText(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.tfplan")
	if _, err := d.tf.Plan(d.h.ctx, tfexec.Out(file)); err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	text, err := d.tf.ShowPlanFileRaw(d.h.ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// planJSON is `terraform show -json` of a fresh plan, as CI would record it.
func (d *deployment) planJSON(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.tfplan")
	if _, err := d.tf.Plan(d.h.ctx, tfexec.Out(file)); err != nil {
		t.Fatalf("terraform plan: %v", err)
	}
	plan, err := d.tf.ShowPlanFile(d.h.ctx, file)
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
	outs, err := d.tf.Output(d.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range outs {
		var s string
		if json.Unmarshal(v.Value, &s) == nil {
			m[k] = s
		}
	}
	return m
}

// groupInstances lists the in-service instances of the node group.
func (d *deployment) groupInstances(t *testing.T) []string {
	t.Helper()
	out, err := autoscaling.NewFromConfig(d.h.aws).DescribeAutoScalingGroups(d.h.ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{d.settings.Name("node")},
	})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("node group: %v", err)
	}
	var ids []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
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
	stopped := run([]ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("stopped-node")}, {Key: aws.String(d.settings.DiscoveryTagKey), Value: aws.String(d.settings.DiscoveryTagValue)}})
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
	outs, err := d.tf.Output(d.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var l []string
	if err := json.Unmarshal(outs[name].Value, &l); err != nil {
		t.Fatalf("output %s: %v", name, err)
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
	task, err := runner.RunPrometheus(h.ctx, s, o)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(task.Stop) }
	t.Cleanup(stop)
	return &prometheus{ctx: h.ctx, api: task.API, task: task, Stop: stop}
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

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := tools.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
