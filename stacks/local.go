package stacks

import (
	"github.com/aws/jsii-runtime-go"
	provider "github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// NoEndpointProxy is the local profile's provider proxy: a closed loopback
// port. The emulator's endpoint reaches the provider from the environment
// (AWS_ENDPOINT_URL: emulator.Env, which the harness and the demo give every
// Terraform run); a run without it would send its calls to AWS, and through
// this proxy they fail on the machine instead. Calls to loopback (the emulator)
// never take a proxy.
const NoEndpointProxy = "http://127.0.0.1:9"

// localProvider points the provider at the emulator (the local profile):
// static test credentials, no metadata lookups, path-style S3, few retries.
//
// Named tweak, the endpoint from AWS_ENDPOINT_URL rather than an endpoints
// block: provider 5.100 validates that block (303 attributes) in every walk
// of every command at a cost that grows with the square of its size,
// whatever is set in it; it was half of the provider's CPU in make test
// (an apply of the default stack 17.3 CPU-s with it, 8.7 without:
// docs/DESIGN.md, The local profile). AWS_ENDPOINT_URL reaches every
// service; a call it does not reach fails at NoEndpointProxy.
func localProvider(cfg *provider.AwsProviderConfig) {
	cfg.AccessKey = jsii.String("test")
	cfg.SecretKey = jsii.String("test")
	cfg.SkipCredentialsValidation = jsii.Bool(true)
	cfg.SkipMetadataApiCheck = jsii.String("true")
	cfg.SkipRequestingAccountId = jsii.Bool(false) // the emulator's STS answers
	cfg.S3UsePathStyle = jsii.Bool(true)
	cfg.HttpProxy = jsii.String(NoEndpointProxy)
	cfg.HttpsProxy = jsii.String(NoEndpointProxy)
	cfg.NoProxy = jsii.String("127.0.0.1,localhost,::1")
	// A call the emulator cannot answer fails fast: the default 25
	// retries would take most of an hour to say so.
	cfg.MaxRetries = jsii.Number(2)
}

// configSyncEndpoint is the SSM endpoint the config-sync sidecar's script
// calls: the emulator's in the local profile, where the local runner's AWS
// CLI (Debian's 2.9, internal/fargate's named exception) predates
// AWS_ENDPOINT_URL; the region's ("") on AWS.
func configSyncEndpoint(s *config.Settings) string {
	if s.Local() {
		return s.Endpoint
	}
	return ""
}

// emulatorGaps makes a plan after apply come out clean against moto. Each
// entry names the gap; none of this is written for real AWS (the local
// profile only), so the AWS stack keeps full drift detection.
func (m *Main) emulatorGaps() {
	// moto does not store availability_zone_rebalancing, so the provider's
	// default "DISABLED" shows as a change on every plan; nor
	// health_check_grace_period_seconds (set with a load balancer).
	m.Prometheus.Service.AddOverride(jsii.String("lifecycle.ignore_changes"), jsii.Strings("availability_zone_rebalancing", "health_check_grace_period_seconds"))
	// moto reports the launch template's own tags back as a phantom
	// tag_specifications block, so every plan would cut a new version.
	m.Nodes.LaunchTemplate.AddOverride(jsii.String("lifecycle.ignore_changes"), jsii.Strings("tag_specifications"))
	// moto has no PutBackupPolicy and no DeleteFileSystemPolicy for EFS
	// (destroy would fail): the daily backup and the TLS-only file system
	// policy are AWS-only resources (stacks/TestStorageModes checks both
	// are there for AWS).
	// moto has no AMP alert manager definitions (CreateAlertManagerDefinition):
	// the definition is an AWS-only resource; its content is checked at
	// synth (stacks/TestAlertDelivery) and by amtool (amconfig). The rule
	// groups namespace is created, as on AWS.
	if m.AMPAlerting != nil {
		m.AMPAlerting.AlertManager.AddOverride(jsii.String("count"), jsii.Number(0))
	}
	if m.EFS != nil {
		m.EFS.Policy.AddOverride(jsii.String("count"), jsii.Number(0))
		if m.EFS.Backup != nil {
			m.EFS.Backup.AddOverride(jsii.String("count"), jsii.Number(0))
		}
	}
}

// emulatorGaps of the bootstrap stack, local profile only.
func (b *Bootstrap) emulatorGaps() {
	// moto evaluates a bucket policy's Deny statements without their
	// Condition, so the TLS-only deny (aws:SecureTransport = false) denies
	// every request, TLS or not, and Terraform could not read its state. The
	// policy is not created against the emulator; the AWS profile keeps it
	// (stacks/TestStateBucketIsProtected; its content:
	// constructs/TestStateBucket).
	b.State.Policy.AddOverride(jsii.String("count"), jsii.Number(0))
}

// make verify (verify/) against the emulator reports "skipped", in the
// local profile only, where the emulator lacks what a check reads:
//   - storage with storageMode=amp: the emulator ingests no remote write
//     (the local overlay drops it unless a test runs a receiver);
//   - alert path with storageMode=amp: no AMP alert manager definition
//     (left out above).
// ECS in the emulator runs no tasks; the harness answers its task calls
// from the local runner (internal/harness/ecsview.go), so verify's service
// and container checks read ECS as on AWS.
