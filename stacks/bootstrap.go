package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
)

// Bootstrap is the stack that creates the state bucket. Its own state stays
// local (terraform.<project>-state.tfstate beside cdktf.json): it cannot be
// stored in a bucket it has yet to create. Commit nothing of it; back the
// file up, or migrate it into the bucket once the bucket exists.
type Bootstrap struct {
	Stack cdktf.TerraformStack
	State *pconstructs.StateBucket
	// CI is the pipelines' OIDC provider and roles (nil without ciPlatform).
	CI *pconstructs.CIRoles
}

// NewBootstrap builds the state stack for s.StateBucket.
func NewBootstrap(scope constructs.Construct, s *config.Settings) *Bootstrap {
	name := s.BootstrapStackName()
	stack := newStack(scope, name, s, stateRegion(s))
	cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{Path: jsii.String(localStatePath(name))})
	b := &Bootstrap{Stack: stack}
	b.State = pconstructs.NewStateBucket(stack, "state", &pconstructs.StateBucketProps{
		BucketName:     s.StateBucket,
		NoncurrentDays: s.StateNoncurrentDays,
		AllowDestroy:   s.StateBucketAllowDestroy,
		LockTableName:  s.StateLockTable,
	})
	if s.CIPlatform != "" {
		b.CI = newCIRoles(stack, s)
	}
	if s.Local() {
		b.emulatorGaps()
	}
	output(stack, "state_bucket", b.State.Bucket.Bucket())
	return b
}

// newCIRoles gives each of ciEnvironments a plan and a deploy role, and
// prints their ARNs (the pipelines' CI/CD variables, docs/CI.md).
func newCIRoles(stack cdktf.TerraformStack, s *config.Settings) *pconstructs.CIRoles {
	var envs []pconstructs.CIEnvironment
	for _, e := range s.CIEnvironments {
		in := s.In(e)
		envs = append(envs, pconstructs.CIEnvironment{Name: e, Stack: in.StackName(), StateKey: in.StateKey()})
	}
	ci := pconstructs.NewCIRoles(stack, "ci", &pconstructs.CIRolesProps{
		Platform: s.CIPlatform, Project: s.CIProject, GitLabURL: s.CIGitLabURL, ProviderArn: s.CIOidcProviderArn,
		Branch: s.CIBranch, Environments: envs, StateBucket: s.StateBucket, LockTable: s.StateLockTable, KmsKeyArn: s.KmsKeyArn,
	})
	output(stack, "ci_oidc_provider_arn", ci.ProviderArn)
	for _, e := range s.CIEnvironments {
		output(stack, "ci_plan_role_arn_"+e, ci.Plan[e].Arn())
		output(stack, "ci_deploy_role_arn_"+e, ci.Deploy[e].Arn())
	}
	return ci
}

func stateRegion(s *config.Settings) string {
	if s.StateRegion != "" {
		return s.StateRegion
	}
	return s.Region
}

// newBackend points the main stack at its state: the S3 bucket when one is
// configured, else a local file beside cdktf.json.
func newBackend(stack cdktf.TerraformStack, s *config.Settings) {
	if !s.RemoteState() {
		cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{Path: jsii.String(localStatePath(s.StackName()))})
		return
	}
	cfg := &cdktf.S3BackendConfig{
		Bucket:  jsii.String(s.StateBucket),
		Key:     jsii.String(s.StateKey()),
		Region:  jsii.String(stateRegion(s)),
		Encrypt: jsii.Bool(true),
	}
	if s.StateLockTable != "" {
		cfg.DynamodbTable = jsii.String(s.StateLockTable)
	}
	if s.Local() {
		e := jsii.String(s.Endpoint)
		cfg.Endpoints = &cdktf.S3BackendEndpointConfig{S3: e, Sts: e, Iam: e, Dynamodb: e}
		cfg.UsePathStyle = jsii.Bool(true)
		cfg.AccessKey = jsii.String("test")
		cfg.SecretKey = jsii.String("test")
		cfg.SkipCredentialsValidation = jsii.Bool(true)
		cfg.SkipMetadataApiCheck = jsii.Bool(true)
		cfg.SkipRequestingAccountId = jsii.Bool(true)
	}
	cdktf.NewS3Backend(stack, cfg)
	if s.StateLockTable == "" {
		// Terraform's S3-native lock (a .tflock object beside the state);
		// cdktf 0.20's S3BackendConfig predates the field. Terraform < 1.10
		// does not know it, hence the DynamoDB opt-in for those versions.
		stack.AddOverride(jsii.String("terraform.backend.s3.use_lockfile"), jsii.Bool(true))
	}
}

// requiredTerraform is the Terraform version the stacks need: 1.11 brought
// write-only attributes (the basic auth password), 1.10 ephemeral
// resources (the OIDC client secret, read for a provisioner) and S3-native
// locking; the DynamoDB opt-in exists for older versions.
func requiredTerraform(s *config.Settings) string {
	switch {
	case s.BasicAuth:
		return ">= 1.11"
	case s.SSO == config.SSOOIDC, s.RemoteState() && s.StateLockTable == "":
		return ">= 1.10"
	}
	return ">= 1.5"
}

// newStack creates a stack with the version constraints and the AWS
// provider for region (every stack of this app needs both).
func newStack(scope constructs.Construct, name string, s *config.Settings, region string) cdktf.TerraformStack {
	stack := cdktf.NewTerraformStack(scope, jsii.String(name))
	stack.AddOverride(jsii.String("terraform.required_version"), jsii.String(requiredTerraform(s)))
	pconstructs.RequireAWSProvider(stack)
	newProvider(stack, s, region)
	return stack
}

// localStatePath is a local backend's state file, relative to the stack's
// folder cdktf.out/stacks/<stack>/: the project root. cdktf.out is
// disposable build output and must never hold state.
func localStatePath(stack string) string {
	return "../../../terraform." + stack + ".tfstate"
}
