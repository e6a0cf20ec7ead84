// Package config holds the one typed settings value that drives both the
// infrastructure and the generated Prometheus configuration, its defaults,
// how it is loaded (cdktf context, environment) and how it is validated.
//
// Nothing in this package touches jsii, so it loads and validates in
// microseconds and is tested without a synth.
package config

// Settings is the whole user-facing configuration of one deployment.
// Every field is described (with its default) in the Fields table in
// fields.go, which also drives loading and the `help` reference.
type Settings struct {
	// Project prefixes resource names and is the `project` tag.
	Project string
	// Environment names the deployment (dev, prod, ...); it is part of
	// resource names, the stack name and the `environment` tag.
	Environment string
	// Region is the AWS region everything is deployed to and that
	// Prometheus discovers nodes in.
	Region string

	// VpcCidr is the VPC's IPv4 range.
	VpcCidr string
	// AzCount is how many availability zones get a public subnet.
	AzCount int
	// AvailabilityZones pins the zones by name; empty means the first
	// AzCount zones the region reports.
	AvailabilityZones []string
	// SubnetCidrs pins the public subnets' ranges; empty means /24s carved
	// from VpcCidr.
	SubnetCidrs []string

	// NodeCount is how many EC2 nodes run node_exporter (0 is allowed).
	NodeCount int
	// NodeInstanceType is the EC2 type of the nodes.
	NodeInstanceType string
	// NodeAmiID overrides the AMI; empty means the latest Amazon Linux 2023
	// from the public SSM parameter.
	NodeAmiID string
	// NodeExporterPort is the port node_exporter listens on.
	NodeExporterPort int
	// DiscoveryTagKey and DiscoveryTagValue mark the instances Prometheus
	// scrapes.
	DiscoveryTagKey   string
	DiscoveryTagValue string
	// SSHKeyName enables SSH with this EC2 key pair; empty disables SSH.
	SSHKeyName string
	// SSHCidrs may reach port 22 when SSH is enabled.
	SSHCidrs []string

	// AdminCidrs may reach Prometheus on its web port.
	AdminCidrs []string
	// AllowWorldOpenAdmin is the explicit opt-in that permits 0.0.0.0/0 or
	// ::/0 in AdminCidrs.
	AllowWorldOpenAdmin bool

	// PrometheusImage is the container image the task runs.
	PrometheusImage string
	// PrometheusPort is Prometheus's web port.
	PrometheusPort int
	// TaskCPU and TaskMemory size the Fargate task, as Fargate spells them.
	TaskCPU    int
	TaskMemory int
	// LogRetentionDays keeps the task's CloudWatch logs this long.
	LogRetentionDays int
	// ScrapeInterval and RefreshInterval are Prometheus durations: how often
	// targets are scraped and how often EC2 is asked for the node list.
	ScrapeInterval  string
	RefreshInterval string
	// Retention is how long the TSDB keeps samples.
	Retention string

	// StateBucket, when set, keeps the main stack's Terraform state in this
	// S3 bucket (created by the bootstrap stack); empty means local state.
	StateBucket string
	// StateRegion is the bucket's region; empty means Region.
	StateRegion string
	// StateLockTable opts in to DynamoDB locking (Terraform < 1.10); the
	// default is S3-native locking (use_lockfile).
	StateLockTable string
	// StateNoncurrentDays expires old state versions after this many days.
	StateNoncurrentDays int
	// StateBucketAllowDestroy lifts the bootstrap stack's prevent_destroy.
	StateBucketAllowDestroy bool

	// Endpoint, when set, points the AWS provider and Prometheus's EC2
	// discovery at an AWS-compatible emulator (the local profile).
	Endpoint string
}

// Local reports whether the settings select the local (emulator) profile.
func (s *Settings) Local() bool { return s.Endpoint != "" }

// Name builds a resource name "<project>-<environment>-<suffix>".
func (s *Settings) Name(suffix string) string {
	return s.Project + "-" + s.Environment + "-" + suffix
}

// RemoteState reports whether the main stack uses the S3 backend.
func (s *Settings) RemoteState() bool { return s.StateBucket != "" }

// StateKey is the main stack's object key in the state bucket: one per
// project and environment, so environments never share state.
func (s *Settings) StateKey() string {
	return s.Project + "/" + s.Environment + "/terraform.tfstate"
}

// BootstrapStackName names the stack that creates the state bucket.
func (s *Settings) BootstrapStackName() string { return s.Project + "-state" }

// StackName is the name of the main stack and of its output folder.
func (s *Settings) StackName() string { return s.Project + "-" + s.Environment }
