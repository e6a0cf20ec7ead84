package harness

// This file is the one way the demo, make bench and both e2e packages put
// the main stack on the emulator: synthesize it with the local profile,
// terraform init, apply, plan and destroy it, and read what it made.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/stacks"
	"github.com/prometheus-aws/prometheus-aws/verify"
)

// Synth writes the synthesis of settings s into outdir (cdktf.out).
type Synth func(ctx context.Context, s *config.Settings, outdir string, env map[string]string) error

// jsiiMu keeps synths one at a time: a process has one jsii runtime, and
// its apps must not be built concurrently.
var jsiiMu sync.Mutex

// SynthInProcess synthesizes with this process's jsii runtime, so every
// synth after the first skips the ~4 s provider load; the caller closes jsii
// (jsii.Close) before it exits. The tests' way.
func SynthInProcess(_ context.Context, s *config.Settings, outdir string, _ map[string]string) error {
	jsiiMu.Lock()
	defer jsiiMu.Unlock()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(outdir)})
	if _, _, err := stacks.NewApp(app, s); err != nil {
		return err
	}
	app.Synth()
	return nil
}

// SynthProgram runs the compiled synth program (make build's
// bin/prometheus-aws) in dir with env as its only PROMAWS_* variables and
// none of the caller's AWS_* or CDKTF_*, as make synth does: the demo's way,
// and what make bench times. The program reads cdktf.json in dir itself.
func SynthProgram(app, dir string) Synth {
	return func(ctx context.Context, _ *config.Settings, outdir string, env map[string]string) error {
		cmd := exec.CommandContext(ctx, app)
		cmd.Dir = dir
		cmd.Env = []string{"CDKTF_OUTDIR=" + outdir}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PROMAWS_") && !strings.HasPrefix(kv, "CDKTF_") && !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		path := app
		if !filepath.IsAbs(app) {
			path = filepath.Join(dir, app)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("synth program: %w (run make build)", err)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("synth (%s): %v\n%s", app, err, out)
		}
		return nil
	}
}

// DeploymentOptions place a Deployment.
type DeploymentOptions struct {
	// Root holds cdktf.out and the stack's local state file
	// (terraform.<stack>.tfstate). Required.
	Root string
	// Env are the PROMAWS_* settings; PROMAWS_ENDPOINT is always the
	// emulator's.
	Env map[string]string
	// Context is cdktf.json's context (nil: none).
	Context map[string]any
	// Synth synthesizes; default SynthInProcess.
	Synth Synth
	// DropLockChecksums removes the provider checksums from the stack's
	// lock file after every init (tfenv.DropLockChecksums), so Terraform
	// does not hash the 707 MB AWS provider again at each command (0.4 s
	// of CPU; make test runs some 180 commands in its deployments).
	// Default false: Terraform checks the provider as a user's does; the
	// tests set it, the demo and make bench do not.
	DropLockChecksums bool
}

// Deployment is the main stack synthesized with the local profile for one
// emulator, and Terraform in its stack folder.
type Deployment struct {
	Emulator *emulator.Emulator
	Root     string
	// Env are the settings variables of the last synth.
	Env map[string]string
	// Settings are the settings of the last synth.
	Settings *config.Settings
	TF       *tfexec.Terraform
	context  map[string]any
	synth    Synth
	// dropLockChecksums is DeploymentOptions.DropLockChecksums.
	dropLockChecksums bool
	// initFor is the stack's terraform block (backend, providers) at the
	// last init: Apply inits again only when it changed.
	initFor string
}

// NewDeployment synthesizes the stack; Apply runs terraform init first.
func NewDeployment(ctx context.Context, emu *emulator.Emulator, o DeploymentOptions) (*Deployment, error) {
	if o.Root == "" {
		return nil, fmt.Errorf("harness: DeploymentOptions.Root is required")
	}
	if o.Synth == nil {
		o.Synth = SynthInProcess
	}
	if err := os.MkdirAll(o.Root, 0o755); err != nil {
		return nil, err
	}
	d := &Deployment{Emulator: emu, Root: o.Root, Env: map[string]string{}, context: o.Context, synth: o.Synth,
		dropLockChecksums: o.DropLockChecksums}
	if err := d.Resynth(ctx, o.Env); err != nil {
		return nil, err
	}
	if err := d.terraform(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// terraform makes d.TF for the stack's folder.
func (d *Deployment) terraform(ctx context.Context) error {
	tf, err := tfenv.New(ctx, d.StackDir(), d.Emulator.Env(d.Settings.Region))
	if err != nil {
		return fmt.Errorf("terraform: %w (run make tools)", err)
	}
	d.TF = tf
	return nil
}

// Resynth synthesizes again with env merged over the previous settings;
// the state file stays where it is, as it would for a user.
func (d *Deployment) Resynth(ctx context.Context, env map[string]string) error {
	s, merged, err := d.load(env)
	if err != nil {
		return err
	}
	if err := d.synth(ctx, s, filepath.Join(d.Root, "cdktf.out"), merged); err != nil {
		return err
	}
	d.Env, d.Settings = merged, s
	return nil
}

// SynthTo synthesizes env merged over the current settings into outdir,
// a folder of Root (the stack's local backend finds the state file two
// levels above its own folder, so it shares the deployment's state), and
// returns Terraform there, initialised. The current synth stays as it is.
func (d *Deployment) SynthTo(ctx context.Context, outdir string, env map[string]string) (*tfexec.Terraform, error) {
	s, merged, err := d.load(env)
	if err != nil {
		return nil, err
	}
	if err := d.synth(ctx, s, outdir, merged); err != nil {
		return nil, err
	}
	tf, err := tfenv.New(ctx, filepath.Join(outdir, "stacks", s.StackName()), d.Emulator.Env(s.Region))
	if err != nil {
		return nil, err
	}
	return tf, d.init(ctx, tf)
}

func (d *Deployment) load(env map[string]string) (*config.Settings, map[string]string, error) {
	merged := map[string]string{}
	for k, v := range d.Env {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	merged["PROMAWS_ENDPOINT"] = d.Emulator.Endpoint()
	s, err := config.Load(d.context, merged)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid settings:\n%w", err)
	}
	return s, merged, nil
}

// StackDir is the main stack's folder in cdktf.out.
func (d *Deployment) StackDir() string {
	return filepath.Join(d.Root, "cdktf.out", "stacks", d.Settings.StackName())
}

// StateFile is the stack's local state (the local profile's backend).
func (d *Deployment) StateFile() string {
	return filepath.Join(d.Root, "terraform."+d.Settings.StackName()+".tfstate")
}

// Init runs terraform init.
func (d *Deployment) Init(ctx context.Context) error {
	block, err := d.terraformBlock()
	if err != nil {
		return err
	}
	if err := d.init(ctx, d.TF); err != nil {
		return err
	}
	d.initFor = block
	return nil
}

// init runs terraform init in tf's folder, then drops the lock file's
// checksums when the options say so.
func (d *Deployment) init(ctx context.Context, tf *tfexec.Terraform) error {
	if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		return fmt.Errorf("terraform init in %s: %w", tf.WorkingDir(), err)
	}
	if d.dropLockChecksums {
		return tfenv.DropLockChecksums(tf.WorkingDir())
	}
	return nil
}

// terraformBlock is the terraform block of the synthesized stack.
func (d *Deployment) terraformBlock() (string, error) {
	data, err := os.ReadFile(filepath.Join(d.StackDir(), "cdk.tf.json"))
	if err != nil {
		return "", err
	}
	var doc struct {
		Terraform json.RawMessage `json:"terraform"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", d.StackDir(), err)
	}
	return string(doc.Terraform), nil
}

// Apply runs terraform apply of the current synth, after terraform init
// when the stack's backend or providers changed since the last one (an
// init costs a second of CPU, and make test applies some 20 times).
func (d *Deployment) Apply(ctx context.Context) error {
	block, err := d.terraformBlock()
	if err != nil {
		return err
	}
	if block != d.initFor {
		if err := d.Init(ctx); err != nil {
			return err
		}
	}
	if err := d.TF.Apply(ctx); err != nil {
		return fmt.Errorf("terraform apply: %w", err)
	}
	return nil
}

// Destroy runs terraform destroy.
func (d *Deployment) Destroy(ctx context.Context) error {
	if err := d.TF.Destroy(ctx); err != nil {
		return fmt.Errorf("terraform destroy: %w", err)
	}
	return nil
}

// State is the stack's Terraform state as verify reads it (terraform
// state pull: no provider is started, where terraform show spends about
// 2 s of CPU on the AWS provider's schema); nil when nothing is applied.
func (d *Deployment) State(ctx context.Context) (*verify.State, error) {
	return verify.ReadState(ctx, d.TF)
}

// Outputs are the stack's outputs, JSON-decoded.
func (d *Deployment) Outputs(ctx context.Context) (map[string]any, error) {
	outs, err := d.TF.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform output: %w", err)
	}
	m := map[string]any{}
	for k, v := range outs {
		var val any
		if err := json.Unmarshal(v.Value, &val); err != nil {
			return nil, fmt.Errorf("output %s: %w", k, err)
		}
		m[k] = val
	}
	return m, nil
}

// AWSConfig is an SDK configuration for the stack's region on the
// emulator.
func (d *Deployment) AWSConfig(ctx context.Context) (aws.Config, error) {
	return d.Emulator.AWSConfig(ctx, d.Settings.Region)
}

// GroupInstances are the ids of the node group's instances, sorted.
func (d *Deployment) GroupInstances(ctx context.Context) ([]string, error) {
	cfg, err := d.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	name := d.Settings.Name("node")
	out, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{name},
	})
	if err != nil {
		return nil, fmt.Errorf("node group %s: %w", name, err)
	}
	if len(out.AutoScalingGroups) != 1 {
		return nil, fmt.Errorf("node group %s: found %d groups, want 1", name, len(out.AutoScalingGroups))
	}
	var ids []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	sort.Strings(ids)
	return ids, nil
}
