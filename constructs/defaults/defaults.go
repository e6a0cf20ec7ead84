// Package defaults holds the value every construct prop takes when it is
// left unset, and the pinned images: one home, which the constructs apply
// (documented on each prop as "Default: ..."), the app's settings table
// shows (config/fields.go reads them from here) and Renovate bumps
// (renovate.json's regex managers point at this file; scripts/install-tools.sh
// derives the Prometheus and Alertmanager releases it builds from it).
//
// A leaf: no jsii, no Terraform, so config can import it without the
// constructs' runtime.
package defaults

// Pinned images. docker/Dockerfile's FROM names PrometheusImage too (a test
// keeps them equal: an image is built from it).
const (
	// PrometheusImage is the official image the task runs.
	PrometheusImage = "prom/prometheus:v3.16.0"
	// AlertmanagerImage is the official image of the bundled Alertmanager.
	AlertmanagerImage = "prom/alertmanager:v0.35.0"
	// ConfigSyncImage is the official AWS CLI v2 image the config-sync
	// sidecar runs its script on.
	ConfigSyncImage = "public.ecr.aws/aws-cli/aws-cli:2.32.2"
	// GrafanaImage is the official Grafana OSS image (grafana=true).
	GrafanaImage = "grafana/grafana:13.1.2"
)

// The Prometheus task.
const (
	// PrometheusPort is Prometheus's web and API port.
	PrometheusPort = 9090
	// AlertmanagerPort is the bundled Alertmanager's web and API port.
	AlertmanagerPort = 9093
	// GrafanaPort is Grafana's web port (grafana=true).
	GrafanaPort = 3000
	// TaskCpu and TaskMemory size the task: 0.5 vCPU, 1 GiB (how many
	// targets it holds: sizing, docs/cost.md, Sizing).
	TaskCpu    = 512
	TaskMemory = 1024
	// LogRetentionDays of the task's log group.
	LogRetentionDays = 30
	// Retention is the TSDB retention with its own storage (task or EFS);
	// AMPRetention with a workspace, which holds the history.
	Retention    = "15d"
	AMPRetention = "1d"
	// DesiredCount is one task (EFS allows one writer).
	DesiredCount = 1
	// BasicAuthUser is the basic auth user name; BasicAuthPasswordVersion
	// the first password's version (a new one rotates it).
	BasicAuthUser            = "admin"
	BasicAuthPasswordVersion = 1
)

// The nodes.
const (
	// NodeCount nodes, kept by an Auto Scaling group.
	NodeCount = 2
	// NodeInstanceType of every node.
	NodeInstanceType = "t3.micro"
	// NodeExporterPort node_exporter listens on and Prometheus scrapes.
	NodeExporterPort = 9100
	// DiscoveryTagKey = DiscoveryTagValue marks an instance for scraping.
	DiscoveryTagKey   = "prometheus:scrape"
	DiscoveryTagValue = "true"
)

// The network.
const (
	// VpcCidr is the VPC's range.
	VpcCidr = "10.0.0.0/16"
	// AzCount is the number of zones with a subnet.
	AzCount = 2
	// FlowLogRetentionDays keeps VPC flow logs this long.
	FlowLogRetentionDays = 30
)
