package stacks

import (
	"github.com/aws/jsii-runtime-go"

	"github.com/prometheus-aws/prometheus-aws/config"
)

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
