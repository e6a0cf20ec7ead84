// Package config holds the one typed settings value that drives both the
// infrastructure and the generated Prometheus configuration, its defaults,
// how it is loaded (cdktf context, environment) and how it is validated.
//
// Nothing in this package touches jsii, so it loads and validates in
// microseconds and is tested without a synth.
package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

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

	// FlowLogs records the VPC's traffic in CloudWatch Logs.
	FlowLogs bool
	// NetworkMode is NetworkPublic or NetworkPrivate; NatGateways,
	// PrivateSubnetCidrs and VpcEndpoints shape the private one.
	NetworkMode        string
	NatGateways        string
	PrivateSubnetCidrs []string
	VpcEndpoints       []string
	// PullThroughCache pulls the images not already in private ECR through
	// ECR pull-through cache rules; always on with NatNone (ImageCache).
	PullThroughCache bool

	// NodeCount is how many EC2 nodes run node_exporter (0 is allowed).
	NodeCount int
	// NodeInstanceType is the EC2 type of the nodes.
	NodeInstanceType string
	// NodeExporterDownloadBase is the nodes' release mirror (https:// or
	// s3://bucket/prefix); empty means GitHub's releases.
	NodeExporterDownloadBase string
	// NodeAmiID overrides the AMI; empty means the latest Amazon Linux 2023
	// from the public SSM parameter.
	NodeAmiID string
	// NodeExporterPort is the port node_exporter listens on.
	NodeExporterPort int
	// DiscoveryTagKey and DiscoveryTagValue mark the instances Prometheus
	// scrapes.
	DiscoveryTagKey   string
	DiscoveryTagValue string
	// DiscoveryRegions are regions discovered besides Region (which is
	// always discovered); see DiscoveredRegions.
	DiscoveryRegions []string
	// ScrapeAddress is ScrapePrivate or ScrapePublic: which IP of the nodes
	// in the other discovery regions Prometheus scrapes.
	ScrapeAddress string
	// ECSDiscovery adds the ecs job: ECS tasks that opt in by tag.
	ECSDiscovery bool
	// ECSClusters are the clusters discovered, names (in Region) or ARNs;
	// empty means every cluster of the discovered regions.
	ECSClusters []string
	// ECSScrapePorts are the ports the task may connect out to (within
	// VpcCidr) to scrape ECS tasks.
	ECSScrapePorts []string
	// SSHKeyName enables SSH with this EC2 key pair; empty disables SSH.
	SSHKeyName string
	// SSHCidrs may reach port 22 when SSH is enabled.
	SSHCidrs []string

	// AdminCidrs may reach Prometheus on its web port.
	AdminCidrs []string
	// AllowWorldOpenAdmin is the explicit opt-in that permits 0.0.0.0/0 or
	// ::/0 in AdminCidrs.
	AllowWorldOpenAdmin bool
	// AllowPlainHTTPAdmin is the explicit opt-in that lets AdminCidrs
	// outside VpcCidr reach the task over plain HTTP (no load balancer):
	// only private ranges (PrivateRange), a network reached over a VPN.
	AllowPlainHTTPAdmin bool
	// AllowUnknownRegions accepts region names this version's list
	// (Regions) does not know yet, when they have a region's shape.
	AllowUnknownRegions bool

	// TLSCertificateArn puts Prometheus behind an HTTPS Application Load
	// Balancer with this ACM certificate; empty means no load balancer
	// (unless TLSDomain is set).
	TLSCertificateArn string
	// TLSDomain and TLSZoneID: a certificate for TLSDomain is created in ACM,
	// validated in the Route 53 zone, and the domain points at the load
	// balancer. Mutually exclusive with TLSCertificateArn.
	TLSDomain string
	TLSZoneID string

	// KmsKeyArn is a customer-managed KMS key for the log groups, the
	// basic-auth secret and the nodes' volumes; empty means AWS-managed keys.
	KmsKeyArn string
	// KmsKeyAllowsAps says the key policy of KmsKeyArn lets
	// aps.amazonaws.com use the key: with storageMode=amp the workspace's
	// alert manager publishes to the topic encrypted with it.
	KmsKeyAllowsAps bool

	// Alarms watches Prometheus itself: alarms and a health check rule that
	// notify an SNS topic when the task is not running or fails its checks.
	Alarms bool
	// AlarmEmail is subscribed to the created alarm topic; empty = none.
	AlarmEmail string
	// AlarmTopicArn is an existing topic to notify instead of creating one.
	AlarmTopicArn string

	// BasicAuth puts Prometheus's own basic auth (web config) in front of the
	// UI and API; the password is generated by Secrets Manager.
	BasicAuth bool
	// BasicAuthUser is the user name.
	BasicAuthUser string
	// BasicAuthPasswordVersion: bump it to rotate the password.
	BasicAuthPasswordVersion int

	// SSO is single sign-on at the HTTPS load balancer: SSOOff (basic auth
	// or nothing, as BasicAuth says), SSOCognito or SSOOIDC.
	SSO string
	// SSOSessionTimeout is the load balancer's session lifetime, seconds.
	SSOSessionTimeout int
	// CognitoUserPoolID is an existing user pool (empty = one is created);
	// CognitoDomain the pool's hosted UI domain prefix (created with a
	// created pool; the given pool's own otherwise).
	CognitoUserPoolID string
	CognitoDomain     string
	// OIDC* describe your OpenID Connect provider; the client secret is
	// read from the Secrets Manager secret OIDCClientSecretArn.
	OIDCIssuer                string
	OIDCAuthorizationEndpoint string
	OIDCTokenEndpoint         string
	OIDCUserInfoEndpoint      string
	OIDCClientID              string
	OIDCClientSecretArn       string
	OIDCScope                 string
	// MachineSecurityGroupIDs may reach Prometheus's and the Alertmanager's
	// ports on the task directly (the machine path behind SSO).
	MachineSecurityGroupIDs []string

	// PrometheusImage is the container image the task runs.
	PrometheusImage string
	// PrometheusPort is Prometheus's web port.
	PrometheusPort int
	// TaskCPU and TaskMemory size the Fargate task, as Fargate spells them.
	TaskCPU    int
	TaskMemory int
	// ExpectedTargets is how many node_exporter targets the task is sized
	// for (the synth-time check); 0 means NodeCount.
	ExpectedTargets int
	// LogRetentionDays keeps the task's CloudWatch logs this long.
	LogRetentionDays int
	// ScrapeInterval and RefreshInterval are Prometheus durations: how often
	// targets are scraped and how often EC2 is asked for the node list.
	ScrapeInterval  string
	RefreshInterval string
	// Retention is how long samples are kept: by the local TSDB (efs,
	// ephemeral), or by the AMP workspace in whole days (amp; see
	// TSDBRetention and WorkspaceRetentionDays); empty means
	// DefaultRetention.
	Retention string

	// StorageMode is where the samples live: StorageEphemeral,
	// StorageEFS or StorageAMP.
	StorageMode string
	// ContainerInsights turns CloudWatch Container Insights on for the
	// cluster; without it the running-task alarm reads AWS/ECS's free
	// CPUUtilization (replicas 1 only).
	ContainerInsights bool
	// EFSThroughputMode is the file system's throughput mode (StorageEFS):
	// EFSElastic, EFSBursting or EFSProvisioned, with EFSProvisionedMibps.
	EFSThroughputMode   string
	EFSProvisionedMibps int
	// Replicas is how many Prometheus tasks scrape the same targets; more
	// than one is allowed only with StorageAMP.
	Replicas int
	// AlertmanagerURLs are the Alertmanagers Prometheus sends alerts to;
	// empty means no alerting section. See Alertmanagers.
	AlertmanagerURLs []string
	// AlertmanagerImage and AlertmanagerPort are the bundled Alertmanager's
	// (AlertDeliveryBundled).
	AlertmanagerImage string
	AlertmanagerPort  int
	// ConfigSyncImage runs the task's config-sync sidecar (an AWS CLI v2
	// image), which keeps the generated files equal to their parameters.
	ConfigSyncImage string
	// RequireImageDigests refuses task images not pinned by digest.
	RequireImageDigests bool
	// Grafana runs Grafana OSS in the task, with the dashboards/ JSON and
	// its data source provisioned; GrafanaImage and GrafanaPort are its.
	Grafana      bool
	GrafanaImage string
	GrafanaPort  int
	// AlertGroupWait, AlertGroupInterval and AlertRepeatInterval time the
	// delivery (Alertmanager durations), bundled or AMP's.
	AlertGroupWait      string
	AlertGroupInterval  string
	AlertRepeatInterval string

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

	// CIPlatform (gitlab or github; empty: none) makes make bootstrap create
	// the pipelines' OpenID Connect provider and, per CIEnvironments, a plan
	// role and a deploy role trusting only CIProject's pipelines.
	CIPlatform string
	// CIProject is the GitLab project path or the GitHub owner/repo.
	CIProject string
	// CIGitLabURL is the GitLab instance (self-managed); default gitlab.com.
	CIGitLabURL string
	// CIOidcProviderArn reuses an existing OIDC provider of the platform.
	CIOidcProviderArn string
	// CIBranch is the protected branch GitLab's deploy roles admit.
	CIBranch string
	// CIEnvironments get CI roles.
	CIEnvironments []string

	// Endpoint, when set, points the AWS provider and Prometheus's EC2
	// discovery at an AWS-compatible emulator (the local profile).
	Endpoint string
}

// In is a copy of the settings under another environment's name: the
// stack name, resource names and state key that environment has (not its
// context.environments overrides).
func (s *Settings) In(environment string) *Settings {
	c := *s
	c.Environment = environment
	return &c
}

// Storage modes (StorageMode).
const (
	// StorageEphemeral keeps the TSDB on the task's own storage: lost when
	// the task is replaced.
	StorageEphemeral = "ephemeral"
	// StorageEFS keeps the TSDB on an encrypted EFS file system: it
	// survives task replacement; one writer at a time.
	StorageEFS = "efs"
	// StorageAMP remote-writes every sample to an Amazon Managed Service for
	// Prometheus workspace; the local TSDB is a short buffer.
	StorageAMP = "amp"
)

// StorageModes lists the valid StorageMode values.
var StorageModes = []string{StorageEphemeral, StorageEFS, StorageAMP}

// EFS throughput modes (EFSThroughputMode): Amazon EFS User Guide,
// "Throughput modes" (https://docs.aws.amazon.com/efs/latest/ug/performance.html#throughput-modes).
const (
	// EFSElastic scales with the workload and bills every GB read and
	// written.
	EFSElastic = "elastic"
	// EFSBursting bills no I/O: a baseline of 50 KiB/s per GiB stored,
	// bursts to 100 MiB/s while credits last.
	EFSBursting = "bursting"
	// EFSProvisioned bills EFSProvisionedMibps every hour.
	EFSProvisioned = "provisioned"
)

// EFSThroughputModes lists the valid EFSThroughputMode values.
var EFSThroughputModes = []string{EFSElastic, EFSBursting, EFSProvisioned}

// EFS's range of provisioned throughput, MiB/s (EFS API reference,
// CreateFileSystem, ProvisionedThroughputInMibps: 1 to 3414, the upper
// limit depending on the region).
const (
	MinEFSProvisionedMibps = 1
	MaxEFSProvisionedMibps = 3414
)

// Default retentions (Retention empty).
const (
	DefaultRetention = defaults.Retention
	// AMPRetention is the task's local TSDB with storageMode amp and your
	// own Alertmanagers (AlertDeliveryExternal): the task evaluates the
	// rules, which need the recent samples; the workspace holds the
	// history.
	AMPRetention = defaults.AMPRetention
)

// AMP's range of a workspace's retention, in days: at least 1 (the API's
// minimum), at most 1095, three years (Amazon Managed Service for
// Prometheus User Guide, "Configure your workspace":
// https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-workspace-configuration.html).
// A workspace left unconfigured keeps 150 days.
const (
	MinWorkspaceRetentionDays = 1
	MaxWorkspaceRetentionDays = 1095
)

// AgentMode reports whether Prometheus runs in agent mode (--agent): with
// storageMode amp and the workspace's alert delivery, the task only scrapes
// and remote-writes (no local TSDB, no rules, no query API); the
// workspace's ruler evaluates the rules. With alertmanagerUrls the task
// evaluates the rules itself and keeps a server's TSDB (AMPRetention).
func (s *Settings) AgentMode() bool {
	return s.StorageMode == StorageAMP && s.AlertDelivery() == AlertDeliveryAMP
}

// TSDBRetention is the local TSDB's retention Prometheus runs with: ""
// in agent mode (no TSDB), AMPRetention with storageMode amp otherwise
// (the workspace keeps Retention), else Retention or DefaultRetention.
func (s *Settings) TSDBRetention() string {
	switch {
	case s.AgentMode():
		return ""
	case s.StorageMode == StorageAMP:
		return AMPRetention
	case s.Retention != "":
		return s.Retention
	default:
		return DefaultRetention
	}
}

// WorkspaceRetentionDays is how many days the AMP workspace keeps samples
// (storageMode amp): Retention, or DefaultRetention, in whole days; 0
// without a workspace. Validation holds it to AMP's range.
func (s *Settings) WorkspaceRetentionDays() int {
	if s.StorageMode != StorageAMP {
		return 0
	}
	r := s.Retention
	if r == "" {
		r = DefaultRetention
	}
	d, ok := ParseDuration(r)
	if !ok {
		return 0
	}
	return int(d / (24 * time.Hour))
}

// Local reports whether the settings select the local (emulator) profile.
func (s *Settings) Local() bool { return s.Endpoint != "" }

// Name builds a resource name "<project>-<environment>-<suffix>".
func (s *Settings) Name(suffix string) string {
	return s.Project + "-" + s.Environment + "-" + suffix
}

// RemoteState reports whether the main stack uses the S3 backend.
func (s *Settings) RemoteState() bool { return s.StateBucket != "" }

// TLS reports whether Prometheus sits behind the HTTPS load balancer.
func (s *Settings) TLS() bool { return s.TLSCertificateArn != "" || s.TLSDomain != "" }

// The values of sso.
const (
	SSOOff     = "off"
	SSOCognito = "cognito"
	SSOOIDC    = "oidc"
)

// SSOModes are the values sso accepts.
var SSOModes = []string{SSOOff, SSOCognito, SSOOIDC}

// SingleSignOn reports whether the load balancer authenticates people.
func (s *Settings) SingleSignOn() bool { return s.SSO == SSOCognito || s.SSO == SSOOIDC }

// CognitoDomainPrefix is the Cognito hosted UI domain prefix: cognitoDomain,
// or for a created pool the stack's name and "-login", without the words
// Cognito reserves (aws, amazon, cognito: prometheus-aws-dev becomes
// prometheus-dev-login).
func (s *Settings) CognitoDomainPrefix() string {
	if s.CognitoDomain != "" {
		return s.CognitoDomain
	}
	name := strings.NewReplacer("amazon", "", "cognito", "", "aws", "").Replace(s.StackName() + "-login")
	for strings.Contains(name, "--") {
		name = strings.ReplaceAll(name, "--", "-")
	}
	return strings.Trim(name, "-")
}

// StateKey is the main stack's object key in the state bucket: one per
// project and environment, so environments never share state.
func (s *Settings) StateKey() string {
	return s.Project + "/" + s.Environment + "/terraform.tfstate"
}

// BootstrapStackName names the stack that creates the state bucket.
func (s *Settings) BootstrapStackName() string { return s.Project + "-state" }

// StackName is the name of the main stack and of its output folder.
func (s *Settings) StackName() string { return s.Project + "-" + s.Environment }

// How alerts reach people (AlertDelivery).
const (
	// AlertDeliveryExternal: Prometheus sends to alertmanagerUrls, the
	// user's own Alertmanagers; the stack delivers nothing itself.
	AlertDeliveryExternal = "external"
	// AlertDeliveryBundled: an Alertmanager in the task, routed to the
	// alarm topic (storageMode efs or ephemeral: one task).
	AlertDeliveryBundled = "bundled"
	// AlertDeliveryAMP: the workspace's ruler evaluates the rules and its
	// alert manager sends to the alarm topic (storageMode amp), so HA
	// replicas do not each send the same alert.
	AlertDeliveryAMP = "amp"
)

// AlertDelivery is how alerts reach people: the user's Alertmanagers when
// alertmanagerUrls names any (never both, so nothing is notified twice),
// else the AMP workspace's alert manager with storageMode amp, else the
// bundled Alertmanager.
func (s *Settings) AlertDelivery() string {
	switch {
	case len(s.AlertmanagerURLs) > 0:
		return AlertDeliveryExternal
	case s.StorageMode == StorageAMP:
		return AlertDeliveryAMP
	}
	return AlertDeliveryBundled
}

// Network modes and NAT layouts (networkMode, natGateways).
const (
	NetworkPublic  = "public"
	NetworkPrivate = "private"
	NatSingle      = "single"
	NatPerZone     = "perZone"
	// NatNone leaves the private subnets without a route to the internet:
	// AWS APIs through the VPC endpoints, images through the pull-through
	// cache.
	NatNone = "none"
)

// VpcEndpointNames are the endpoints vpcEndpoints may name: the AWS APIs
// the stack calls (s3 is a gateway endpoint, the rest interface endpoints;
// aps is the AMP workspace's API, created with storageMode=amp only), and
// for a VPC without any internet ecr (ecr.api and ecr.dkr, image pulls from
// ECR) and ssmmessages and ec2messages (Session Manager).
var VpcEndpointNames = []string{"ec2", "logs", "ssm", "secretsmanager", "sts", "sns", "aps", "s3", "ecr", "ssmmessages", "ec2messages"}

// DefaultVpcEndpoints are the ones for the APIs the stack calls. Not sts:
// nothing in the task calls STS (credentials come from the ECS agent's
// endpoint; the Alertmanager's SNS notifier and Prometheus's SigV4 call it
// only with a role ARN, which the stack never sets), and an interface
// endpoint costs about $8.8 a month per zone for nothing. It stays
// available for a user's own role_arn.
const DefaultVpcEndpoints = "ec2,logs,ssm,secretsmanager,sns,aps,s3"

// Private reports networkMode=private.
func (s *Settings) Private() bool { return s.NetworkMode == NetworkPrivate }

// Endpoints are the VPC endpoints the private network gets: vpcEndpoints,
// without aps unless storageMode is amp; none in public mode.
func (s *Settings) Endpoints() []string {
	if !s.Private() {
		return nil
	}
	var out []string
	for _, e := range s.VpcEndpoints {
		if e == "aps" && s.StorageMode != StorageAMP {
			continue
		}
		out = append(out, e)
	}
	if s.NatGateways == NatNone && !slices.Contains(out, "ecr") {
		// Without NAT the images come from ECR alone.
		out = append(out, "ecr")
	}
	return out
}

// TaskImages are the images the task runs, by setting.
func (s *Settings) TaskImages() map[string]string {
	images := map[string]string{"prometheusImage": s.PrometheusImage, "configSyncImage": s.ConfigSyncImage}
	if s.AlertDelivery() == AlertDeliveryBundled {
		images["alertmanagerImage"] = s.AlertmanagerImage
	}
	if s.Grafana {
		images["grafanaImage"] = s.GrafanaImage
	}
	return images
}

// ImageCache reports whether the images not in private ECR are pulled
// through ECR's pull-through cache: pullThroughCache, or natGateways=none
// (nothing else can reach a registry).
func (s *Settings) ImageCache() bool {
	return s.PullThroughCache || s.Private() && s.NatGateways == NatNone
}

// Targets is the fleet the task is sized for: ExpectedTargets, or the
// stack's own nodes when it is 0.
func (s *Settings) Targets() int {
	if s.ExpectedTargets > 0 {
		return s.ExpectedTargets
	}
	return s.NodeCount
}

// Warnings are settings that synthesize but will likely fail in use: a task
// too small for the fleet it is to scrape (sizing.NeedMiB).
func (s *Settings) Warnings() []string {
	var out []string
	targets := s.Targets()
	series := targets * sizing.SeriesPerTarget
	need := sizing.NeedMiB(series)
	if s.TaskMemory >= need {
		return nil
	}
	why := fmt.Sprintf("taskMemory=%d (PROMAWS_TASK_MEMORY) is likely too small for %d targets (%s): their ~%s series need about %d MiB "+
		"(%d series a node_exporter target; the more of %.0f MiB + %.2f KiB a series for a fresh start and %.0f MiB + %.2f KiB a series after two hours, "+
		"measured under the enforced memory limit; ×%g headroom; docs/cost.md, Sizing)",
		s.TaskMemory, targets, s.targetsSource(), thousands(series), need, sizing.SeriesPerTarget, sizing.BaselineMiB, sizing.MiBPerSeries*1024,
		sizing.SoakRSSBaseMiB, sizing.SoakRSSMiBPerSeries*1024, sizing.Headroom)
	if size, ok := sizing.Smallest(need, s.TaskCPU); ok {
		out = append(out, fmt.Sprintf("%s; use %s (PROMAWS_TASK_CPU=%d PROMAWS_TASK_MEMORY=%d).", why, size, size.CPU, size.MemoryMiB))
	} else {
		out = append(out, fmt.Sprintf("%s; no Fargate size holds that (the largest is 16384 CPU and 122880 MiB): split the fleet by tag across deployments, each with its own discoveryTagValue.", why))
	}
	return out
}

// thousands writes n with comma separators (9,600,000).
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// targetsSource says where Targets comes from, for messages.
func (s *Settings) targetsSource() string {
	if s.ExpectedTargets > 0 {
		return "expectedTargets"
	}
	return "nodeCount; set expectedTargets for a fleet of your own"
}

// Notes are what a user should know about valid settings that work but
// may surprise: printed when the stack is synthesized, never an error.
func (s *Settings) Notes() []string {
	var notes []string
	if s.Private() && !s.TLS() && len(s.AdminCidrs) == 0 {
		notes = append(notes, "networkMode=private with neither a load balancer nor adminCidrs: Prometheus has no public address and admits nobody, "+
			"so nobody can open its UI (alerts still reach the alarm topic). To reach it, set adminCidrs to your VPN's (private) ranges with allowPlainHttpAdmin=true, or to vpcCidr and "+
			"forward a port through a node with Session Manager, or serve it behind the load balancer (tlsCertificateArn or tlsDomain); docs/operations.md, Private network.")
	}
	return notes
}
