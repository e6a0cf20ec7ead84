package constructs

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// AWSProviderConstraint is the AWS provider version these constructs need.
// The prebuilt bindings were generated for 5.84.0 and write that exact
// version; the basic auth password needs 5.88 (write-only
// secret_string_wo), and the AMP workspace's retention 5.100
// (aws_prometheus_workspace_configuration is new in 5.100.0, provider
// CHANGELOG); every later 5.x is accepted, so both a registry install and
// a local mirror (5.100.0 here) resolve.
const AWSProviderConstraint = "~> 5.100"

// RequireAWSProvider sets stack's AWS provider constraint to
// AWSProviderConstraint. Call it on every stack that uses these
// constructs.
func RequireAWSProvider(stack cdktf.TerraformStack) {
	stack.AddOverride(jsii.String("terraform.required_providers.aws.version"), jsii.String(AWSProviderConstraint))
}
