// Command verify checks a deployment once it is applied (make verify): one
// line per check, passed, warned, failed (with the reason and the fix) or
// skipped (with why and how to enable it). Exit status 0 when nothing
// failed, 1 when a check failed, 2 when verify could not start (settings,
// no stack folder, no Terraform state, no AWS credentials).
//
// It reads the settings as make synth does (cdktf.json, PROMAWS_*), the
// stack's Terraform state from its folder (cdktf.out/stacks/<stack>, where
// make deploy, make apply-plan or the pipeline applied it), and uses the
// caller's AWS credentials and Prometheus's and the Alertmanager's APIs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/verify"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	wait := fs.Duration("wait", 0, "retry failed checks until they pass or this long has passed (a fresh deployment: 10m)")
	asJSON := fs.Bool("json", false, "print the results as JSON (for pipelines)")
	roundtrip := fs.Bool("alert-roundtrip", false, "send a test alert and wait until it arrives through the topic in a temporary queue (created and deleted); every subscriber of the topic gets it")
	roundtripTimeout := fs.Duration("roundtrip-timeout", 3*time.Minute, "how long --alert-roundtrip waits for the test alert")
	promURL := fs.String("prometheus-url", "", "reach Prometheus here (e.g. http://127.0.0.1:9090 through a tunnel) instead of the load balancer or the task's address")
	amURL := fs.String("alertmanager-url", "", "reach the Alertmanager here, with its /alertmanager prefix")
	dir := fs.String("stack-dir", "", "the stack's Terraform folder (default cdktf.out/stacks/<stack>)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	t, err := target(ctx, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		return 2
	}
	verify.Reach(ctx, t, verify.ReachOptions{PrometheusURL: *promURL, AlertmanagerURL: *amURL})
	results := verify.Run(ctx, t, verify.Options{Wait: *wait, AlertRoundtrip: *roundtrip, RoundtripTimeout: *roundtripTimeout, Progress: os.Stderr})
	if *asJSON {
		data, _ := verify.JSON(t.Settings.StackName(), results)
		fmt.Println(string(data))
	} else {
		verify.Print(os.Stdout, t.Settings.StackName(), results)
	}
	if verify.Failed(results) {
		return 1
	}
	return 0
}

// target loads the settings, the stack's state and the AWS configuration.
func target(ctx context.Context, dir string) (*verify.Target, error) {
	cdktf, err := config.LoadContext(".")
	if err != nil {
		return nil, err
	}
	s, err := config.Load(cdktf, config.OSEnv())
	if err != nil {
		return nil, fmt.Errorf("invalid settings:\n%w", err)
	}
	if dir == "" {
		dir = filepath.Join("cdktf.out", "stacks", s.StackName())
	}
	state, err := readState(ctx, dir)
	if err != nil {
		return nil, err
	}
	cfg, err := awsConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	return &verify.Target{Settings: s, State: state, AWS: cfg}, nil
}

// readState is the stack's state (`terraform state pull`, verify.ParseState) in its folder, after an init
// when the folder has none (a fresh checkout of the pipeline's artifact).
func readState(ctx context.Context, dir string) (*verify.State, error) {
	if _, err := os.Stat(filepath.Join(dir, "cdk.tf.json")); err != nil {
		return nil, fmt.Errorf("%s/cdk.tf.json not found: run make synth (with the same settings as the deployment), or give --stack-dir", dir)
	}
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, errors.New("terraform not found in PATH: install Terraform >= 1.11")
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform")); err != nil {
		if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
			return nil, fmt.Errorf("terraform init in %s: %w", dir, err)
		}
	}
	state, err := verify.ReadState(ctx, tf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if state == nil || len(state.Values.RootModule.Resources) == 0 {
		return nil, fmt.Errorf("the state of %s is empty: apply the stack first (make deploy)", dir)
	}
	return state, nil
}

// awsConfig is the caller's AWS configuration for the stack's region; in
// the local profile, the emulator's endpoint and static test keys.
func awsConfig(ctx context.Context, s *config.Settings) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(s.Region)}
	if s.Local() {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if s.Local() {
		cfg.BaseEndpoint = aws.String(s.Endpoint)
	} else if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return cfg, fmt.Errorf("no AWS credentials (%v): verify uses yours, as make deploy does", err)
	}
	return cfg, nil
}
