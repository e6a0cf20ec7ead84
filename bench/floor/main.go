// Command floor is the provider-load floor of the synth benchmark: the
// smallest cdktf Go app that loads the AWS provider bindings, with the
// provider and one resource (a VPC). cmd/bench times it next to
// bin/prometheus-aws, so the difference is what this project's constructs
// cost. Output goes to CDKTF_OUTDIR (default cdktf.out).
package main

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func newStack(scope constructs.Construct, id string) cdktf.TerraformStack {
	stack := cdktf.NewTerraformStack(scope, &id)
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("eu-central-1")})
	vpc.NewVpc(stack, jsii.String("vpc"), &vpc.VpcConfig{CidrBlock: jsii.String("10.0.0.0/16")})
	return stack
}

func main() {
	// Without Close the jsii runtime leaves a temp folder per run.
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	newStack(app, "floor")
	app.Synth()
}
