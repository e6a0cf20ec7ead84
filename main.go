// Command prometheus-aws synthesizes the Terraform JSON of the deployment:
// settings (cdktf.json context, PROMAWS_* environment) -> validation ->
// constructs -> cdktf.out/stacks/<stack>/cdk.tf.json.
//
// Run it through `make synth` (fast, runs the compiled program) or
// `cdktf synth` / `cdktf deploy` (the CLI runs the same program).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/stacks"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "settings" {
		config.WriteReference(os.Stdout) // for ./help; needs no jsii
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "stack" {
		os.Exit(stackName(os.Args[2:])) // for scripts/terraform-stack.sh; needs no jsii
	}
	settings, err := settingsOrExplain(".", config.OSEnv(), os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	os.Exit(synth(settings))
}

// settingsOrExplain loads and validates the settings before the jsii
// runtime starts, so bad input writes nothing; problems go to w.
func settingsOrExplain(dir string, env map[string]string, w io.Writer) (*config.Settings, error) {
	ctx, err := config.LoadContext(dir)
	if err != nil {
		fmt.Fprintln(w, "prometheus-aws:", err)
		return nil, err
	}
	settings, err := config.Load(ctx, env)
	if err == nil {
		// What the settings generate must fit where it goes (SSM).
		_, err = stacks.PrometheusConfig(settings)
	}
	if err != nil {
		fmt.Fprintf(w, "prometheus-aws: invalid settings (nothing was synthesized):\n%v\nSee ./help for every setting.\n", err)
		return nil, err
	}
	for _, n := range settings.Notes() {
		fmt.Fprintln(w, "prometheus-aws: note:", n)
	}
	for _, n := range settings.Warnings() {
		fmt.Fprintln(w, "prometheus-aws: warning:", n)
	}
	return settings, nil
}

// stackName prints the name of the main stack the settings synthesize
// (or, with "bootstrap", of the state stack): which folder of cdktf.out
// Terraform commands run in when several environments were synthesized.
func stackName(args []string) int {
	s, err := settingsOrExplain(".", config.OSEnv(), io.Discard)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prometheus-aws: invalid settings (run make synth to see why):", err)
		return 2
	}
	if len(args) > 0 && args[0] == "bootstrap" {
		if !s.RemoteState() {
			fmt.Fprintln(os.Stderr, "prometheus-aws: no bootstrap stack without a state bucket: set stateBucket (PROMAWS_STATE_BUCKET)")
			return 2
		}
		fmt.Println(s.BootstrapStackName())
		return 0
	}
	fmt.Println(s.StackName())
	return 0
}

// lockFromMirror writes each stack folder's provider lock file from the
// filesystem mirror of the Terraform CLI configuration in effect, when it
// names one and the folder has no lock yet: the first `cdktf deploy` then
// installs from the mirror alone (tfenv.LockFromMirror says why cdktf
// would ask the registry). With no mirror configured nothing is written.
func lockFromMirror(outdir string, main *stacks.Main, s *config.Settings) error {
	mirror := tfenv.ConfiguredMirror(config.OSEnv())
	if mirror == "" {
		return nil
	}
	names := []string{*main.Stack.Node().Id()}
	if s.RemoteState() {
		names = append(names, s.BootstrapStackName())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range names {
		if _, err := tfenv.LockFromMirror(ctx, filepath.Join(outdir, "stacks", name), mirror); err != nil {
			return fmt.Errorf("stacks synthesized, but the provider lock file could not be written from the mirror %s that your Terraform CLI configuration names (cdktf deploy would ask the public registry instead): %w", mirror, err)
		}
	}
	return nil
}

// synth writes every stack of the settings to cdktf.out (or CDKTF_OUTDIR).
func synth(settings *config.Settings) int {
	// Without Close the jsii runtime leaves a temp folder per run.
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	main, _, err := stacks.NewApp(app, settings)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prometheus-aws:", err)
		return 1
	}
	app.Synth()
	if err := lockFromMirror(*app.Outdir(), main, settings); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus-aws:", err)
		return 1
	}
	profile := "AWS"
	if settings.Local() {
		profile = "local profile, endpoint " + settings.Endpoint
	}
	backend := "local file terraform." + settings.StackName() + ".tfstate (set stateBucket for S3)"
	if settings.RemoteState() {
		backend = "s3://" + settings.StateBucket + "/" + settings.StateKey() + " (bootstrap stack " + settings.BootstrapStackName() + ")"
	}
	fmt.Fprintf(os.Stderr, "prometheus-aws: synthesized stack %s (%s, region %s, %d nodes); state: %s\n",
		*main.Stack.Node().Id(), profile, settings.Region, settings.NodeCount, backend)
	return 0
}
