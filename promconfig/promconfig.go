// Package promconfig generates prometheus.yml from the settings, in pure Go
// (no jsii), so it is the same code for the Fargate task and the local demo
// and unit-tests in milliseconds. The local profile is an overlay on the
// generated configuration (ApplyLocal), never a second configuration.
package promconfig

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// Config is the subset of the Prometheus configuration this product writes.
// Field order is the YAML order: reviewers read it in `terraform plan`.
type Config struct {
	Global        Global         `yaml:"global"`
	Alerting      *Alerting      `yaml:"alerting,omitempty"`
	RuleFiles     []string       `yaml:"rule_files,omitempty"`
	ScrapeConfigs []ScrapeConfig `yaml:"scrape_configs"`
	RemoteWrite   []RemoteWrite  `yaml:"remote_write,omitempty"`
	header        string
}

// RemoteWrite sends every sample to a remote store (the AMP workspace).
type RemoteWrite struct {
	URL         string       `yaml:"url"`
	SigV4       *SigV4       `yaml:"sigv4,omitempty"`
	QueueConfig *QueueConfig `yaml:"queue_config,omitempty"`
}

// SigV4 signs remote-write requests with AWS credentials: on ECS the task
// role's, found through the container credentials endpoint.
type SigV4 struct {
	Region string `yaml:"region"`
}

// QueueConfig tunes the remote-write queue.
type QueueConfig struct {
	Capacity          int `yaml:"capacity"`
	MaxShards         int `yaml:"max_shards"`
	MaxSamplesPerSend int `yaml:"max_samples_per_send"`
	// RetryOnHTTP429 retries a batch the store refuses with 429 (AMP's
	// answer when a workspace's ingestion is throttled); Prometheus's
	// default drops it, samples lost.
	RetryOnHTTP429 bool `yaml:"retry_on_http_429"`
}

// AMPRemoteWriteURL is the workspace's remote-write endpoint.
func AMPRemoteWriteURL(region, workspaceID string) string {
	return "https://aps-workspaces." + region + ".amazonaws.com/workspaces/" + workspaceID + "/api/v1/remote_write"
}

// External labels AMP uses to de-duplicate HA replicas: it keeps one
// replica's samples per cluster and drops the replica label.
const (
	ClusterLabel = "cluster"
	ReplicaLabel = "__replica__"
)

// Global holds the global section.
type Global struct {
	ScrapeInterval     string            `yaml:"scrape_interval"`
	EvaluationInterval string            `yaml:"evaluation_interval"`
	ExternalLabels     map[string]string `yaml:"external_labels,omitempty"`
}

// Alerting is the alerting section: where Prometheus sends its alerts.
type Alerting struct {
	Alertmanagers []AlertmanagerConfig `yaml:"alertmanagers"`
}

// AlertmanagerConfig is one Alertmanager (one per alertmanagerUrls entry, so
// each keeps its own scheme and path).
type AlertmanagerConfig struct {
	Scheme        string         `yaml:"scheme"`
	PathPrefix    string         `yaml:"path_prefix,omitempty"`
	BasicAuth     *BasicAuth     `yaml:"basic_auth,omitempty"`
	StaticConfigs []StaticConfig `yaml:"static_configs"`
}

// ScrapeConfig is one job.
type ScrapeConfig struct {
	JobName        string          `yaml:"job_name"`
	MetricsPath    string          `yaml:"metrics_path,omitempty"`
	BasicAuth      *BasicAuth      `yaml:"basic_auth,omitempty"`
	StaticConfigs  []StaticConfig  `yaml:"static_configs,omitempty"`
	EC2SDConfigs   []EC2SDConfig   `yaml:"ec2_sd_configs,omitempty"`
	AWSSDConfigs   []AWSSDConfig   `yaml:"aws_sd_configs,omitempty"`
	RelabelConfigs []RelabelConfig `yaml:"relabel_configs,omitempty"`
}

// BasicAuth are scrape credentials; the password comes from a file.
type BasicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// StaticConfig lists fixed targets.
type StaticConfig struct {
	Targets []string `yaml:"targets"`
}

// EC2SDConfig is one EC2 service discovery.
type EC2SDConfig struct {
	Region          string   `yaml:"region"`
	Endpoint        string   `yaml:"endpoint,omitempty"`
	Port            int      `yaml:"port"`
	RefreshInterval string   `yaml:"refresh_interval"`
	Filters         []Filter `yaml:"filters"`
}

// AWSSDConfig is one aws_sd_configs entry (Prometheus 3.8+); the product
// writes role ecs only.
type AWSSDConfig struct {
	Role            string   `yaml:"role"`
	Region          string   `yaml:"region"`
	Endpoint        string   `yaml:"endpoint,omitempty"`
	Port            int      `yaml:"port"`
	RefreshInterval string   `yaml:"refresh_interval"`
	Clusters        []string `yaml:"clusters,flow,omitempty"`
}

// Filter is a server-side EC2 DescribeInstances filter.
type Filter struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

// RelabelConfig is one relabel rule.
type RelabelConfig struct {
	SourceLabels []string `yaml:"source_labels,flow,omitempty"`
	Separator    string   `yaml:"separator,omitempty"`
	Regex        string   `yaml:"regex,omitempty"`
	TargetLabel  string   `yaml:"target_label,omitempty"`
	Replacement  string   `yaml:"replacement,omitempty"`
	Action       string   `yaml:"action,omitempty"`
}

// NodeJob is the job name of the EC2 nodes.
const NodeJob = "node"

// SourceSettings are the settings (context keys) the generated configuration
// is built from; the YAML header names them for reviewers.
var SourceSettings = []string{"project", "environment", "region", "discoveryRegions", "scrapeAddress", "scrapeInterval", "refreshInterval",
	"nodeExporterPort", "prometheusPort", "discoveryTagKey", "discoveryTagValue", "ecsDiscovery", "ecsClusters", "basicAuth", "basicAuthUser", "alertmanagerUrls", "alertmanagerPort", "storageMode"}

// Generate builds the configuration for s (validated settings).
func Generate(s *config.Settings) *Config {
	var selfAuth *BasicAuth
	if s.BasicAuth {
		// With basic auth on, Prometheus must authenticate to itself too:
		// as the machine user, whose password is the only one the task
		// holds (the file the entrypoint writes from the secret's
		// machine_password; the human user's never enters the task).
		selfAuth = &BasicAuth{Username: taskcontract.MachineUser, PasswordFile: taskcontract.SelfScrapePasswordFile}
	}
	c := &Config{
		header: Comment(fmt.Sprintf("Generated by prometheus-aws (promconfig) for project %s, environment %s. "+
			"Do not edit: it is built from the settings %s (cdktf.json context or PROMAWS_* variables, see ./help); "+
			"change those and synthesize again.", s.Project, s.Environment, strings.Join(SourceSettings, ", "))),
		Global: Global{
			ScrapeInterval:     s.ScrapeInterval,
			EvaluationInterval: s.ScrapeInterval,
			ExternalLabels:     map[string]string{"project": s.Project, "environment": s.Environment},
		},
		Alerting: alerting(s, selfAuth),
		ScrapeConfigs: []ScrapeConfig{
			{
				JobName:       "prometheus",
				BasicAuth:     selfAuth,
				StaticConfigs: []StaticConfig{{Targets: []string{"localhost:" + strconv.Itoa(s.PrometheusPort)}}},
			},
			nodeScrapeConfig(s),
		},
	}
	if s.ECSDiscovery {
		c.ScrapeConfigs = append(c.ScrapeConfigs, ecsScrapeConfig(s))
	}
	if s.AlertDelivery() == config.AlertDeliveryBundled {
		c.ScrapeConfigs = append(c.ScrapeConfigs, alertmanagerScrapeConfig(s, selfAuth))
	}
	if s.AlertDelivery() != config.AlertDeliveryAMP {
		// With AMP's delivery the workspace's ruler evaluates the rules,
		// once for all replicas.
		c.RuleFiles = []string{taskcontract.RuleFilesGlob}
	}
	if s.StorageMode == config.StorageAMP {
		c.Global.ExternalLabels[ClusterLabel] = s.StackName()
		c.Global.ExternalLabels[ReplicaLabel] = "${" + taskcontract.EnvReplica + "}" // Prometheus 3 expands it; the entrypoint sets it to the task id
		c.RemoteWrite = []RemoteWrite{{
			URL:   AMPRemoteWriteURL(s.Region, taskcontract.WorkspaceIDPlaceholder),
			SigV4: &SigV4{Region: s.Region},
			// AWS's recommended settings for AMP ingestion, and throttled
			// batches retried rather than dropped (e2e TestRemoteWriteFaults).
			QueueConfig: &QueueConfig{Capacity: 2500, MaxShards: 200, MaxSamplesPerSend: 1000, RetryOnHTTP429: true},
		}}
	}
	return c
}

// AlertmanagerJob is the job name of the bundled Alertmanager.
const AlertmanagerJob = "alertmanager"

// alertmanagerScrapeConfig scrapes the bundled Alertmanager on the task's
// loopback, under its route prefix, with Prometheus's own credentials when
// basic auth is on (both share the web config), so its notifications and
// failures are on the dashboards.
func alertmanagerScrapeConfig(s *config.Settings, auth *BasicAuth) ScrapeConfig {
	return ScrapeConfig{
		JobName:       AlertmanagerJob,
		MetricsPath:   taskcontract.AlertmanagerRoutePrefix + "/metrics",
		BasicAuth:     auth,
		StaticConfigs: []StaticConfig{{Targets: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(s.AlertmanagerPort))}}},
	}
}

// nodeScrapeConfig is the node job: one EC2 discovery per region, the
// same filters everywhere, and labels that tell the nodes apart.
func nodeScrapeConfig(s *config.Settings) ScrapeConfig {
	var sds []EC2SDConfig
	for _, region := range s.DiscoveredRegions() {
		sds = append(sds, EC2SDConfig{
			// Always explicit: Fargate has no instance metadata to guess from.
			Region:          region,
			Port:            s.NodeExporterPort,
			RefreshInterval: s.RefreshInterval,
			Filters: []Filter{
				{Name: "tag:" + s.DiscoveryTagKey, Values: []string{s.DiscoveryTagValue}},
				// Terminated instances keep their tags for a while.
				{Name: "instance-state-name", Values: []string{"running"}},
			},
		})
	}
	relabel := []RelabelConfig{
		// The server-side filters already select these; keeping them
		// client-side too means a filter typo, or an emulator that ignores a
		// filter, cannot widen the scrape. Relabel regexes are fully
		// anchored, so the quoted value matches exactly.
		{SourceLabels: []string{"__meta_ec2_instance_state"}, Regex: "running", Action: "keep"},
		{SourceLabels: []string{TagLabel(s.DiscoveryTagKey)}, Regex: regexp.QuoteMeta(s.DiscoveryTagValue), Action: "keep"},
		// Auto Scaling nodes share a Name, so the id keeps each node's
		// series apart: instance = "<Name>/<instance id>" (readable, yet
		// unique; a replaced node is a new instance). The address stays the
		// discovered IP:port (see publicAddress).
		{SourceLabels: []string{"__meta_ec2_tag_Name", "__meta_ec2_instance_id"}, Separator: "/", TargetLabel: "instance"},
		{SourceLabels: []string{"__meta_ec2_instance_id"}, TargetLabel: "instance_id"},
		{SourceLabels: []string{"__meta_ec2_availability_zone"}, TargetLabel: "availability_zone"},
		{SourceLabels: []string{"__meta_ec2_instance_type"}, TargetLabel: "instance_type"},
		{SourceLabels: []string{"__meta_ec2_region"}, TargetLabel: "region"},
	}
	if s.ScrapeAddress == config.ScrapePublic {
		relabel = append(relabel, publicAddress(s.RemoteRegions(), s.NodeExporterPort)...)
	}
	return ScrapeConfig{JobName: NodeJob, EC2SDConfigs: sds, RelabelConfigs: relabel}
}

// publicAddress scrapes the nodes of regions on their public IPv4 address
// (scrapeAddress=public): a node there without one is dropped, visibly, rather
// than scraped on a private IP that no route reaches. Nodes in other regions
// (the deployment's own) keep the private address.
func publicAddress(regions []string, port int) []RelabelConfig {
	quoted := make([]string, len(regions))
	for i, r := range regions {
		quoted[i] = regexp.QuoteMeta(r)
	}
	in := "(?:" + strings.Join(quoted, "|") + ")"
	from := []string{"__meta_ec2_region", "__meta_ec2_public_ip"}
	return []RelabelConfig{
		{SourceLabels: from, Regex: in + ";", Action: "drop"},
		{SourceLabels: from, Regex: in + ";(.+)", TargetLabel: "__address__", Replacement: "$1:" + strconv.Itoa(port)},
	}
}

// alerting sends alerts to every alertmanagerUrls entry, or to the bundled
// Alertmanager on the task's loopback (with Prometheus's own credentials
// when basic auth is on: both share the web config); nil (no section) with
// AMP's delivery, whose ruler sends them.
func alerting(s *config.Settings, auth *BasicAuth) *Alerting {
	switch s.AlertDelivery() {
	case config.AlertDeliveryAMP:
		return nil
	case config.AlertDeliveryBundled:
		return &Alerting{Alertmanagers: []AlertmanagerConfig{{
			Scheme: "http", PathPrefix: taskcontract.AlertmanagerRoutePrefix, BasicAuth: auth,
			StaticConfigs: []StaticConfig{{Targets: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(s.AlertmanagerPort))}}},
		}}}
	}
	ams := s.Alertmanagers()
	a := &Alerting{}
	for _, am := range ams {
		a.Alertmanagers = append(a.Alertmanagers, AlertmanagerConfig{
			Scheme: am.Scheme, PathPrefix: am.PathPrefix,
			StaticConfigs: []StaticConfig{{Targets: []string{am.Target()}}},
		})
	}
	return a
}

// Comment wraps text into YAML comment lines of at most about 80 columns
// (the header of a generated file).
func Comment(text string) string {
	var b strings.Builder
	line := "#"
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > 80 && line != "#" {
			b.WriteString(line + "\n")
			line = "#"
		}
		line += " " + word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// YAML renders the configuration deterministically.
func (c *Config) YAML() ([]byte, error) { return EncodeYAML(c.header, c) }

// EncodeYAML renders v after header (comment lines) as a generated file:
// two-space indents, field order as declared.
func EncodeYAML(header string, v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LocalOptions are the differences of the local (emulator) profile. They
// are addresses on the task's own loopback: the local Fargate runner
// (internal/fargate) forwards each to the emulator or to a test's server,
// as the task's network interface would reach AWS.
type LocalOptions struct {
	// Endpoint is the emulator's URL; it must be loopback. Its certificate
	// is trusted through the image's CA bundle, which the runner replaces.
	Endpoint string
	// TargetAddress (host:port, loopback) receives every node scrape: the
	// emulated instances' private IPs exist nowhere.
	TargetAddress string
	// RemoteWriteBase (scheme://host:port, loopback) replaces the scheme and
	// host of storageMode amp's remote-write URL, keeping its path (the
	// workspace's): moto stores workspaces but ingests nothing, so a local
	// receiver stands in, still sent requests signed with the task role.
	// Empty drops remote_write.
	RemoteWriteBase string
}

// Ports of the local profile inside the task's network namespace; the
// harness forwards them (LocalProfile).
const (
	// LocalRemoteWritePort receives the remote write of storageMode amp.
	LocalRemoteWritePort = 19291
)

// LocalProfile is the overlay of the local profile of s (s.Local()): EC2
// discovery asks the emulator, every node is scraped on the task's
// loopback at the node_exporter port, and remote write goes to a loopback
// receiver.
func LocalProfile(s *config.Settings) LocalOptions {
	return LocalOptions{
		Endpoint:        s.Endpoint,
		TargetAddress:   net.JoinHostPort("127.0.0.1", strconv.Itoa(s.NodeExporterPort)),
		RemoteWriteBase: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(LocalRemoteWritePort)),
	}
}

// ForTask is the configuration the Prometheus task receives for s: the
// generated one, with the local profile's overlay when s is local.
func ForTask(s *config.Settings) (*Config, error) {
	c := Generate(s)
	if !s.Local() {
		return c, nil
	}
	for key, port := range map[string]int{"prometheusPort": s.PrometheusPort, "nodeExporterPort": s.NodeExporterPort, "alertmanagerPort": s.AlertmanagerPort} {
		if port == LocalRemoteWritePort {
			f, _ := config.FieldByKey(key)
			return nil, fmt.Errorf("%s (%s): %d is the local profile's remote-write receiver port; pick another", key, f.Env(), port)
		}
	}
	if err := c.ApplyLocal(LocalProfile(s)); err != nil {
		return nil, err
	}
	return c, nil
}

// ApplyLocal overlays the local profile on every EC2 job: the emulator
// endpoint and a final relabel rule that sends the scrape to TargetAddress.
// Credentials stay the task role's (the container credentials endpoint,
// as on Fargate): no keys are written. It refuses anything but loopback and
// a second application.
func (c *Config) ApplyLocal(o LocalOptions) error {
	if !config.IsLoopbackEndpoint(o.Endpoint) {
		return fmt.Errorf("local profile: endpoint %q is not a loopback URL (e.g. http://127.0.0.1:5000)", o.Endpoint)
	}
	host, port, err := net.SplitHostPort(o.TargetAddress)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 ||
		!config.IsLoopbackEndpoint("http://"+net.JoinHostPort(host, "1")) {
		return fmt.Errorf("local profile: target address %q is not a loopback host:port (e.g. 127.0.0.1:9100)", o.TargetAddress)
	}
	for _, sc := range c.ScrapeConfigs {
		for _, sd := range sc.EC2SDConfigs {
			if sd.Endpoint != "" {
				return fmt.Errorf("local profile: job %s already has an endpoint; the overlay applies once", sc.JobName)
			}
		}
		for _, sd := range sc.AWSSDConfigs {
			if sd.Endpoint != "" {
				return fmt.Errorf("local profile: job %s already has an endpoint; the overlay applies once", sc.JobName)
			}
		}
	}
	if o.RemoteWriteBase != "" {
		u, err := url.Parse(o.RemoteWriteBase)
		if err != nil || !config.IsLoopbackEndpoint(o.RemoteWriteBase) || strings.Trim(u.Path, "/") != "" {
			return fmt.Errorf("local profile: remote write base %q is not a loopback scheme://host:port (e.g. http://127.0.0.1:19291)", o.RemoteWriteBase)
		}
	}
	c.header += Comment("Local profile overlay: emulator endpoint " + o.Endpoint + ", credentials of the task role, every node scrape sent to " + o.TargetAddress + ".")
	c.localRemoteWrite(o)
	for i := range c.ScrapeConfigs {
		sc := &c.ScrapeConfigs[i]
		// ECS discovery asks the emulator too; its targets keep their
		// discovered address (the harness reports the runner's tasks on
		// loopback, where the task's egress reaches them).
		for j := range sc.AWSSDConfigs {
			sc.AWSSDConfigs[j].Endpoint = o.Endpoint
		}
		if len(sc.EC2SDConfigs) == 0 {
			continue
		}
		for j := range sc.EC2SDConfigs {
			sc.EC2SDConfigs[j].Endpoint = o.Endpoint
		}
		// Last, so every label above is computed as on AWS; the emulated
		// instances' private IPs exist nowhere.
		sc.RelabelConfigs = append(sc.RelabelConfigs, RelabelConfig{
			TargetLabel: "__address__", Replacement: o.TargetAddress,
		})
	}
	return nil
}

// localRemoteWrite sends remote write to the local receiver, keeping each
// URL's path, or drops it when there is none.
func (c *Config) localRemoteWrite(o LocalOptions) {
	if len(c.RemoteWrite) == 0 {
		return
	}
	if o.RemoteWriteBase == "" {
		c.header += Comment("Remote write dropped: no local receiver.")
		c.RemoteWrite = nil
		return
	}
	c.header += Comment("Remote write sent to " + o.RemoteWriteBase + " (the workspace's path kept).")
	base, _ := url.Parse(o.RemoteWriteBase)
	for i := range c.RemoteWrite {
		if u, err := url.Parse(c.RemoteWrite[i].URL); err == nil {
			u.Scheme, u.Host = base.Scheme, base.Host
			c.RemoteWrite[i].URL = u.String()
		}
	}
}

// invalidLabelChar is Prometheus's own rule (util/strutil.SanitizeLabelName,
// which EC2 discovery applies to tag keys): one _ per offending character.
var invalidLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// SanitizeLabel turns an EC2 tag key into the label-name form Prometheus
// uses in __meta_ec2_tag_<key>: every character outside [a-zA-Z0-9_]
// becomes _ (prometheus:scrape -> prometheus_scrape; a multi-byte character
// becomes a single _).
func SanitizeLabel(key string) string {
	return invalidLabelChar.ReplaceAllString(key, "_")
}

// TagLabel is the meta label EC2 discovery sets from tag key:
// TagLabel("prometheus:scrape") = "__meta_ec2_tag_prometheus_scrape".
// Keys that sanitise alike (a:b, a_b) share it; the server-side filter on
// the exact key is what selects.
func TagLabel(key string) string { return "__meta_ec2_tag_" + SanitizeLabel(key) }
