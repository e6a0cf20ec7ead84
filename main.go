// Command prometheus-aws synthesizes the Terraform JSON of the deployment:
// settings (cdktf.json context, PROMAWS_* environment) -> validation ->
// constructs -> cdktf.out/stacks/<stack>/cdk.tf.json.
//
// Run it through `make synth` (fast, runs the compiled program) or
// `cdktf synth` / `cdktf deploy` (the CLI runs the same program).
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/stacks"
)

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) > 1 && os.Args[1] == "settings" {
		config.WriteReference(os.Stdout) // for ./help; needs no jsii
		return 0
	}
	ctx, err := config.LoadContext(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "prometheus-aws:", err)
		return 2
	}
	// Validate before the jsii runtime starts: bad input writes nothing.
	settings, err := config.Load(ctx, config.OSEnv())
	if err != nil {
		fmt.Fprintf(os.Stderr, "prometheus-aws: invalid settings (nothing was synthesized):\n%v\nSee ./help for every setting.\n", err)
		return 2
	}

	// Without Close the jsii runtime leaves a temp folder per run.
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	main, _, err := stacks.NewApp(app, settings)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prometheus-aws:", err)
		return 1
	}
	app.Synth()
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
