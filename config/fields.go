package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
)

// Field describes one setting: its cdktf context key, its environment
// variable, its default and its documentation. The table is the single
// source for loading, defaults and the `help` reference.
type Field struct {
	// Key is the cdktf context key (cdktf.json "context", or CDKTF_CONTEXT_JSON).
	Key string
	// Default is the value used when neither context nor environment set it,
	// written as a user would write it.
	Default string
	// Doc is one line for `help` and the settings table of docs/configuration.md.
	Doc string
	// ptr returns the Settings field the value is parsed into: *string,
	// *int, *bool or *[]string.
	ptr func(*Settings) any
}

// Env is the environment variable that sets the field: PROMAWS_ and the key
// in upper snake case (nodeCount -> PROMAWS_NODE_COUNT).
func (f Field) Env() string {
	var b strings.Builder
	b.WriteString("PROMAWS_")
	for i, r := range f.Key {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// set parses raw into the field of s.
func (f Field) set(s *Settings, raw string) error {
	raw = strings.TrimSpace(raw)
	switch p := f.ptr(s).(type) {
	case *string:
		*p = raw
	case *int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%s (%s): %q is not a whole number; set it like %s=%s", f.Key, f.Env(), raw, f.Key, f.Default)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s (%s): %q is not true or false", f.Key, f.Env(), raw)
		}
		*p = b
	case *[]string:
		*p = splitList(raw)
	}
	return nil
}

// splitList reads a comma-separated list; blanks are dropped so "" is empty.
func splitList(raw string) []string {
	var out []string
	for _, item := range strings.Split(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Fields lists every setting, in the order `help` shows them.
var Fields = []Field{
	{Key: "project", Default: "prometheus-aws", Doc: "Name prefix of every resource and the `project` tag (lowercase letters, digits, hyphens).", ptr: func(s *Settings) any { return &s.Project }},
	{Key: "environment", Default: "dev", Doc: "Deployment name (dev, prod, ...): part of resource and stack names, the `environment` tag.", ptr: func(s *Settings) any { return &s.Environment }},
	{Key: "region", Default: "eu-central-1", Doc: "AWS region to deploy to and to discover nodes in.", ptr: func(s *Settings) any { return &s.Region }},
	{Key: "vpcCidr", Default: defaults.VpcCidr, Doc: "VPC IPv4 range (/16 to /24).", ptr: func(s *Settings) any { return &s.VpcCidr }},
	{Key: "azCount", Default: strconv.Itoa(defaults.AzCount), Doc: "Number of availability zones with a public subnet (1 to 6).", ptr: func(s *Settings) any { return &s.AzCount }},
	{Key: "availabilityZones", Default: "", Doc: "Comma-separated zone names; empty = the first azCount zones of the region.", ptr: func(s *Settings) any { return &s.AvailabilityZones }},
	{Key: "subnetCidrs", Default: "", Doc: "Comma-separated public subnet ranges inside vpcCidr; empty = /24s carved from vpcCidr.", ptr: func(s *Settings) any { return &s.SubnetCidrs }},
	{Key: "networkMode", Default: NetworkPublic, Doc: "Where the task and the nodes live: public (public subnets and public IPs, no NAT: the cheapest) or private (private subnets, no public IP anywhere; NAT gateway(s) and the load balancer in public subnets; VPC endpoints for the AWS APIs). See docs/operations.md, Private network.", ptr: func(s *Settings) any { return &s.NetworkMode }},
	{Key: "natGateways", Default: NatSingle, Doc: "networkMode=private: single (one NAT gateway for every zone: cheaper, but a zone outage cuts the others' internet), perZone (one per zone, each zone on its own) or none (no route to the internet from the private subnets: AWS APIs through vpcEndpoints, to which ecr is added, images through the pull-through cache (pullThroughCache is implied), node_exporter from nodeExporterDownloadBase=s3://...; see docs/operations.md, Private network).", ptr: func(s *Settings) any { return &s.NatGateways }},
	{Key: "pullThroughCache", Default: "false", Doc: "Pull the task's images that are not already in private ECR through ECR pull-through cache rules the stack creates (<stack>/quay for the Prometheus project's images, published on Quay as on Docker Hub; <stack>/ecr-public for the AWS CLI), with their repositories: no Docker Hub rate limit, and no internet needed to start the task. Images only on Docker Hub (grafanaImage) must be copied into ECR instead. Implied by natGateways=none.", ptr: func(s *Settings) any { return &s.PullThroughCache }},
	{Key: "privateSubnetCidrs", Default: "", Doc: "networkMode=private: comma-separated private subnet ranges inside vpcCidr, one per zone; empty = /24s carved after the public ones.", ptr: func(s *Settings) any { return &s.PrivateSubnetCidrs }},
	{Key: "vpcEndpoints", Default: DefaultVpcEndpoints, Doc: "networkMode=private: the VPC endpoints to create, so AWS API traffic pays no NAT data charges: interface endpoints ec2, logs, ssm, secretsmanager, sns, aps (the workspace, storageMode=amp only), and the free s3 gateway endpoint. Leave one out to send it through NAT; empty = none. Also available: sts (nothing in the stack calls STS; add it if your own configuration assumes a role), and for a VPC without any internet ecr (image pulls from ECR) and ssmmessages, ec2messages (Session Manager).", ptr: func(s *Settings) any { return &s.VpcEndpoints }},
	{Key: "flowLogs", Default: "false", Doc: "Record all VPC traffic (VPC flow logs) in CloudWatch Logs, kept logRetentionDays.", ptr: func(s *Settings) any { return &s.FlowLogs }},
	{Key: "nodeCount", Default: strconv.Itoa(defaults.NodeCount), Doc: "Number of EC2 nodes running node_exporter (0 to 100), kept by an Auto Scaling group.", ptr: func(s *Settings) any { return &s.NodeCount }},
	{Key: "nodeInstanceType", Default: defaults.NodeInstanceType, Doc: "EC2 instance type of the nodes.", ptr: func(s *Settings) any { return &s.NodeInstanceType }},
	{Key: "nodeAmiId", Default: "", Doc: "AMI of the nodes; empty = latest Amazon Linux 2023 from the public SSM parameter.", ptr: func(s *Settings) any { return &s.NodeAmiID }},
	{Key: "nodeExporterPort", Default: strconv.Itoa(defaults.NodeExporterPort), Doc: "Port node_exporter listens on and Prometheus scrapes.", ptr: func(s *Settings) any { return &s.NodeExporterPort }},
	{Key: "nodeExporterDownloadBase", Default: "", Doc: "Where nodes fetch the node_exporter release (v<version>/node_exporter-<version>.linux-<arch>.tar.gz beneath it; the pinned checksum is checked either way): an https:// mirror, or s3://bucket/prefix for a VPC without internet (the nodes' role may read that prefix; reach it through the S3 gateway endpoint). Empty = GitHub's releases.", ptr: func(s *Settings) any { return &s.NodeExporterDownloadBase }},
	{Key: "discoveryTagKey", Default: defaults.DiscoveryTagKey, Doc: "Tag key that marks an instance for scraping.", ptr: func(s *Settings) any { return &s.DiscoveryTagKey }},
	{Key: "discoveryTagValue", Default: defaults.DiscoveryTagValue, Doc: "Tag value that marks an instance for scraping.", ptr: func(s *Settings) any { return &s.DiscoveryTagValue }},
	{Key: "allowUnknownRegions", Default: "false", Doc: "Accept region, stateRegion and discoveryRegions names this version does not list yet (a region newer than the code); by default an unknown name is refused as a likely typo.", ptr: func(s *Settings) any { return &s.AllowUnknownRegions }},
	{Key: "discoveryRegions", Default: "", Doc: "Comma-separated regions to discover nodes in as well (one ec2_sd_config each; region is always discovered, listed or not). Nodes there need a network path from the task (see docs/operations.md, Multi-region discovery). Empty = region only.", ptr: func(s *Settings) any { return &s.DiscoveryRegions }},
	{Key: "scrapeAddress", Default: "private", Doc: "Address of the nodes in the other discoveryRegions: private (needs VPC peering or a Transit Gateway) or public (their public IPv4; nodes without one are dropped). Nodes in region are always scraped on their private IP.", ptr: func(s *Settings) any { return &s.ScrapeAddress }},
	{Key: "ecsDiscovery", Default: "false", Doc: "Also discover ECS tasks (Prometheus's aws_sd_configs role ecs, in region and every discoveryRegions region) and scrape those that opt in with the task or service tag prometheus:scrape-port (optional prometheus:scrape-path, prometheus:scrape-container); their security groups must admit Prometheus's (output prometheus_security_group_id). See docs/operations.md, ECS discovery.", ptr: func(s *Settings) any { return &s.ECSDiscovery }},
	{Key: "ecsClusters", Default: "", Doc: "ecsDiscovery: comma-separated clusters to discover, by name (in region) or by ARN (any discovery region); the task role may read these alone. Empty = every cluster of the discovery regions.", ptr: func(s *Settings) any { return &s.ECSClusters }},
	{Key: "ecsScrapePorts", Default: "", Doc: "ecsDiscovery: comma-separated ports the task may connect out to, within vpcCidr, to scrape ECS tasks (the values of their prometheus:scrape-port tags); the tasks' own security groups decide who gets in.", ptr: func(s *Settings) any { return &s.ECSScrapePorts }},
	{Key: "sshKeyName", Default: "", Doc: "EC2 key pair name; set it (with sshCidrs) to open SSH. Default: no SSH, use SSM Session Manager.", ptr: func(s *Settings) any { return &s.SSHKeyName }},
	{Key: "sshCidrs", Default: "", Doc: "Comma-separated ranges allowed to reach port 22 when sshKeyName is set.", ptr: func(s *Settings) any { return &s.SSHCidrs }},
	{Key: "adminCidrs", Default: "", Doc: "Comma-separated ranges allowed to reach Prometheus's web port. Default: none.", ptr: func(s *Settings) any { return &s.AdminCidrs }},
	{Key: "allowWorldOpenAdmin", Default: "false", Doc: "Opt-in required before adminCidrs may contain 0.0.0.0/0 or ::/0 (with the HTTPS load balancer only: plain HTTP is never served to the internet).", ptr: func(s *Settings) any { return &s.AllowWorldOpenAdmin }},
	{Key: "allowPlainHttpAdmin", Default: "false", Doc: "Without the HTTPS load balancer, adminCidrs outside vpcCidr reach Prometheus, the Alertmanager and Grafana over plain HTTP, the basic-auth password (which can also silence every alert) in clear, so synth refuses them. Set true only for a private network reached over a VPN, peering or Direct Connect: every such range must then be private (RFC 1918, 100.64.0.0/10, IPv6 ULA fc00::/7); public ranges are refused whatever this says (use tlsCertificateArn or tlsDomain).", ptr: func(s *Settings) any { return &s.AllowPlainHTTPAdmin }},
	{Key: "tlsCertificateArn", Default: "", Doc: "ACM certificate ARN: serve Prometheus through an HTTPS load balancer (HTTP redirects; adminCidrs reach the balancer only). Empty = no load balancer.", ptr: func(s *Settings) any { return &s.TLSCertificateArn }},
	{Key: "tlsDomain", Default: "", Doc: "Domain for Prometheus (with tlsZoneId): creates and DNS-validates an ACM certificate, the HTTPS load balancer and an alias record.", ptr: func(s *Settings) any { return &s.TLSDomain }},
	{Key: "tlsZoneId", Default: "", Doc: "Route 53 hosted zone id that holds tlsDomain.", ptr: func(s *Settings) any { return &s.TLSZoneID }},
	{Key: "kmsKeyArn", Default: "", Doc: "Customer-managed KMS key ARN (same region) for log groups, the basic auth secret and node volumes. Empty = AWS-managed keys.", ptr: func(s *Settings) any { return &s.KmsKeyArn }},
	{Key: "kmsKeyAllowsAps", Default: "false", Doc: "storageMode=amp with kmsKeyArn: set true once the key policy lets aps.amazonaws.com use the key (kms:GenerateDataKey* and kms:Decrypt; the statement is in docs/alerting.md), so the workspace's alert manager can publish to the encrypted alert topic. Synth refuses amp with kmsKeyArn until then: without it every alert is dropped.", ptr: func(s *Settings) any { return &s.KmsKeyAllowsAps }},
	{Key: "alarms", Default: "true", Doc: "Notify when Prometheus itself is down: CloudWatch alarms (no running task; no healthy target behind the load balancer) and an EventBridge rule (task stopped by a failed health check), all to one SNS topic.", ptr: func(s *Settings) any { return &s.Alarms }},
	{Key: "containerInsights", Default: "true", Doc: "Turn on CloudWatch Container Insights for the cluster (billed as custom metrics, about 37 for this stack: docs/cost.md). The running-task alarm reads its RunningTaskCount; with false (replicas=1 only) it reads the free AWS/ECS CPUUtilization instead, which ECS reports only while a task runs.", ptr: func(s *Settings) any { return &s.ContainerInsights }},
	{Key: "alarmEmail", Default: "", Doc: "Email address subscribed to the alarm topic (AWS mails a confirmation link; nothing is delivered until it is followed). Empty = no subscription.", ptr: func(s *Settings) any { return &s.AlarmEmail }},
	{Key: "alarmTopicArn", Default: "", Doc: "Existing SNS topic (same region) to notify instead of creating one; its policy must let cloudwatch.amazonaws.com and events.amazonaws.com publish. Excludes alarmEmail.", ptr: func(s *Settings) any { return &s.AlarmTopicArn }},
	{Key: "basicAuth", Default: "true", Doc: "Basic auth on Prometheus's UI and API (password generated into Secrets Manager, never in state or plans).", ptr: func(s *Settings) any { return &s.BasicAuth }},
	{Key: "basicAuthUser", Default: defaults.BasicAuthUser, Doc: "Basic auth user name (people's; not prometheus-machine, the user the task's own clients sign in as with a password of their own).", ptr: func(s *Settings) any { return &s.BasicAuthUser }},
	{Key: "basicAuthPasswordVersion", Default: strconv.Itoa(defaults.BasicAuthPasswordVersion), Doc: "Increase by one to rotate the basic auth passwords (people's and the task's machine credential) on the next apply.", ptr: func(s *Settings) any { return &s.BasicAuthPasswordVersion }},
	{Key: "sso", Default: "off", Doc: "Single sign-on at the HTTPS load balancer (needs tlsCertificateArn or tlsDomain, and basicAuth=false): cognito (a Cognito user pool, created or cognitoUserPoolId; federate your SAML or OIDC provider into it) or oidc (your OpenID Connect provider: oidcIssuer, the endpoints, oidcClientId, oidcClientSecretArn). Every browser request to Prometheus, the Alertmanager and Grafana is authenticated by the load balancer first; machines use the machine path (docs/operations.md, Single sign-on). off = basic auth as basicAuth says.", ptr: func(s *Settings) any { return &s.SSO }},
	{Key: "ssoSessionTimeout", Default: "28800", Doc: "sso: seconds a sign-in lasts at the load balancer before the identity provider is asked again (1 to 604800; 8 h by default, so access removed at the provider ends within a working day).", ptr: func(s *Settings) any { return &s.SSOSessionTimeout }},
	{Key: "cognitoUserPoolId", Default: "", Doc: "sso=cognito: an existing user pool (same region, like eu-central-1_AbCdEfGhI) to sign in with; needs cognitoDomain, its existing domain prefix. Empty = a user pool and its domain are created.", ptr: func(s *Settings) any { return &s.CognitoUserPoolID }},
	{Key: "cognitoDomain", Default: "", Doc: "sso=cognito: the hosted sign-in domain prefix (<prefix>.auth.<region>.amazoncognito.com; unique in the region). Created with a created pool (empty = <project>-<environment>-login without the reserved words aws, amazon and cognito: prometheus-dev-login); the given pool's existing prefix with cognitoUserPoolId.", ptr: func(s *Settings) any { return &s.CognitoDomain }},
	{Key: "oidcIssuer", Default: "", Doc: "sso=oidc: the provider's issuer URL (https), as in its /.well-known/openid-configuration.", ptr: func(s *Settings) any { return &s.OIDCIssuer }},
	{Key: "oidcAuthorizationEndpoint", Default: "", Doc: "sso=oidc: the provider's authorization endpoint (https).", ptr: func(s *Settings) any { return &s.OIDCAuthorizationEndpoint }},
	{Key: "oidcTokenEndpoint", Default: "", Doc: "sso=oidc: the provider's token endpoint (https; the load balancer calls it).", ptr: func(s *Settings) any { return &s.OIDCTokenEndpoint }},
	{Key: "oidcUserInfoEndpoint", Default: "", Doc: "sso=oidc: the provider's user info endpoint (https; the load balancer calls it).", ptr: func(s *Settings) any { return &s.OIDCUserInfoEndpoint }},
	{Key: "oidcClientId", Default: "", Doc: "sso=oidc: the client id of the application registered at the provider (redirect URI https://<your domain>/oauth2/idpresponse).", ptr: func(s *Settings) any { return &s.OIDCClientID }},
	{Key: "oidcClientSecretArn", Default: "", Doc: "sso=oidc: ARN of the Secrets Manager secret (same region) whose value is the client secret. Never in cdktf.json, the synthesized JSON, a plan or the Terraform state: it is read ephemerally at apply and set on the load balancer with the AWS CLI, which terraform apply then needs (docs/operations.md, Single sign-on).", ptr: func(s *Settings) any { return &s.OIDCClientSecretArn }},
	{Key: "oidcScope", Default: "openid email", Doc: "sso=oidc: the scopes the load balancer asks for (space-separated; openid is required).", ptr: func(s *Settings) any { return &s.OIDCScope }},
	{Key: "machineSecurityGroupIds", Default: "", Doc: "Comma-separated security groups (sg-..., in the VPC or a peered VPC of the region) whose members may reach Prometheus's and the Alertmanager's ports on the task directly, by security group reference: the path for scripts, promtool and other machines that cannot follow a browser sign-in (sso), which never crosses the load balancer. Empty = none.", ptr: func(s *Settings) any { return &s.MachineSecurityGroupIDs }},
	{Key: "prometheusImage", Default: DefaultPrometheusImage, Doc: "Container image of the Prometheus task (pin a tag or digest).", ptr: func(s *Settings) any { return &s.PrometheusImage }},
	{Key: "prometheusPort", Default: strconv.Itoa(defaults.PrometheusPort), Doc: "Prometheus web/API port (not nodeExporterPort).", ptr: func(s *Settings) any { return &s.PrometheusPort }},
	{Key: "taskCpu", Default: strconv.Itoa(defaults.TaskCpu), Doc: "Fargate task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384; 1024 = 1 vCPU). See docs/cost.md, Sizing.", ptr: func(s *Settings) any { return &s.TaskCPU }},
	{Key: "taskMemory", Default: strconv.Itoa(defaults.TaskMemory), Doc: "Fargate task memory in MiB (must fit the CPU size: up to 30720 with 4096, 16384 to 61440 in steps of 4096 with 8192, 32768 to 122880 in steps of 8192 with 16384).", ptr: func(s *Settings) any { return &s.TaskMemory }},
	{Key: "expectedTargets", Default: "0", Doc: "How many node_exporter targets Prometheus is expected to scrape (your tagged instances in every discovery region); synth warns when taskMemory is likely too small for them and names the size to use (docs/cost.md, Sizing). 0 = nodeCount.", ptr: func(s *Settings) any { return &s.ExpectedTargets }},
	{Key: "logRetentionDays", Default: strconv.Itoa(defaults.LogRetentionDays), Doc: "CloudWatch log retention of the task logs, in days (a CloudWatch-allowed value).", ptr: func(s *Settings) any { return &s.LogRetentionDays }},
	{Key: "scrapeInterval", Default: "30s", Doc: "How often Prometheus scrapes every target.", ptr: func(s *Settings) any { return &s.ScrapeInterval }},
	{Key: "refreshInterval", Default: "60s", Doc: "How often Prometheus asks EC2 for the node list (discovery latency).", ptr: func(s *Settings) any { return &s.RefreshInterval }},
	{Key: "retention", Default: "", Doc: "How long samples are kept; empty = 15d. efs and ephemeral: the local TSDB's retention (2h to 100y). amp: the workspace's retention, in whole days from 1d to 1095d (AMP's range; a workspace left unconfigured keeps 150 days); the task itself runs Prometheus in agent mode and keeps no TSDB, or 1d with alertmanagerUrls (it then evaluates the rules).", ptr: func(s *Settings) any { return &s.Retention }},
	{Key: "storageMode", Default: StorageEFS, Doc: "Where samples live: efs (encrypted EFS, survives task replacement, one writer), amp (remote write to a managed Prometheus workspace), ephemeral (task storage, lost on replacement). See docs/operations.md, Storage and high availability.", ptr: func(s *Settings) any { return &s.StorageMode }},
	{Key: "efsThroughputMode", Default: EFSElastic, Doc: "storageMode=efs: the file system's throughput mode. elastic (pay per GB read and written, no limit to run into), bursting (no I/O charge; throughput 50 KiB/s per GiB stored, bursts to 100 MiB/s on credits: enough for a small or large-but-quiet fleet, throttled when the credits run out), provisioned (efsProvisionedMibps paid every hour whatever is used). docs/cost.md, EFS throughput mode, compares them.", ptr: func(s *Settings) any { return &s.EFSThroughputMode }},
	{Key: "efsProvisionedMibps", Default: "0", Doc: "efsThroughputMode=provisioned: the throughput to provision, in MiB/s (1 to 3414, the upper limit depending on the region).", ptr: func(s *Settings) any { return &s.EFSProvisionedMibps }},
	{Key: "replicas", Default: strconv.Itoa(defaults.DesiredCount), Doc: "Prometheus tasks scraping the same targets (1 to 4); more than 1 needs storageMode=amp, which de-duplicates them.", ptr: func(s *Settings) any { return &s.Replicas }},
	{Key: "alertmanagerUrls", Default: "", Doc: "Comma-separated base URLs of your own Alertmanagers (http or https, e.g. https://am.example.com); they replace the bundled one (see docs/alerting.md), and the task may connect out to each URL's port. Empty = the bundled delivery to the alarm topic.", ptr: func(s *Settings) any { return &s.AlertmanagerURLs }},
	{Key: "alertmanagerImage", Default: DefaultAlertmanagerImage, Doc: "Container image of the bundled Alertmanager, the task's second container (storageMode efs or ephemeral, no alertmanagerUrls; pin a tag or digest).", ptr: func(s *Settings) any { return &s.AlertmanagerImage }},
	{Key: "configSyncImage", Default: DefaultConfigSyncImage, Doc: "Container image of the task's config-sync sidecar, which copies the generated prometheus.yml, rules and alertmanager.yml from their SSM parameters into the task every few seconds so a change reloads in place (an AWS CLI v2 image; pin a tag or digest).", ptr: func(s *Settings) any { return &s.ConfigSyncImage }},
	{Key: "requireImageDigests", Default: "false", Doc: "Refuse (at synth, and in the policy check images-pinned-by-digest) a task image not pinned by digest (repository:tag@sha256:<64 hex>; a tag alone can be moved by the registry). Off by default because the default images carry no digest until Renovate (pinDigests, renovate.json) pins them on its first run; turn it on once they do, or when you set digests yourself.", ptr: func(s *Settings) any { return &s.RequireImageDigests }},
	{Key: "alertmanagerPort", Default: strconv.Itoa(defaults.AlertmanagerPort), Doc: "Web/API port of the bundled Alertmanager (reachable like Prometheus's: adminCidrs, basic auth).", ptr: func(s *Settings) any { return &s.AlertmanagerPort }},
	{Key: "alertGroupWait", Default: "30s", Doc: "How long the alert delivery waits to send the first message of a new group (alerts of one alertname), so alerts firing together arrive as one.", ptr: func(s *Settings) any { return &s.AlertGroupWait }},
	{Key: "alertGroupInterval", Default: "5m", Doc: "How long it waits before telling about changes to a group already sent (new alerts in it, resolved ones).", ptr: func(s *Settings) any { return &s.AlertGroupInterval }},
	{Key: "alertRepeatInterval", Default: "4h", Doc: "How often a group still firing is sent again (at least alertGroupInterval).", ptr: func(s *Settings) any { return &s.AlertRepeatInterval }},
	{Key: "grafana", Default: "false", Doc: "Run Grafana OSS in the Prometheus task (a container of its own, not essential): the EC2 fleet, Prometheus and alerts dashboards (dashboards/) and its Prometheus data source (the workspace through SigV4 with storageMode=amp) provisioned and reloaded in place like prometheus.yml; its admin password generated into Secrets Manager; reached like Prometheus under /grafana (adminCidrs on grafanaPort, never the whole internet, or the load balancer). See docs/operations.md, Dashboards and Grafana.", ptr: func(s *Settings) any { return &s.Grafana }},
	{Key: "grafanaImage", Default: defaults.GrafanaImage, Doc: "Container image of Grafana (grafana=true; the official image, pin a tag or digest).", ptr: func(s *Settings) any { return &s.GrafanaImage }},
	{Key: "grafanaPort", Default: strconv.Itoa(defaults.GrafanaPort), Doc: "Grafana's web port (grafana=true).", ptr: func(s *Settings) any { return &s.GrafanaPort }},
	{Key: "stateBucket", Default: "", Doc: "S3 bucket for Terraform state (create it with make bootstrap); empty = local state file.", ptr: func(s *Settings) any { return &s.StateBucket }},
	{Key: "stateRegion", Default: "", Doc: "Region of the state bucket; empty = region.", ptr: func(s *Settings) any { return &s.StateRegion }},
	{Key: "stateLockTable", Default: "", Doc: "Opt-in DynamoDB lock table (for Terraform < 1.10); default locking is S3-native (use_lockfile).", ptr: func(s *Settings) any { return &s.StateLockTable }},
	{Key: "stateNoncurrentDays", Default: "90", Doc: "Days the state bucket keeps old state versions.", ptr: func(s *Settings) any { return &s.StateNoncurrentDays }},
	{Key: "stateBucketAllowDestroy", Default: "false", Doc: "Opt-in that lets terraform destroy the state bucket (prevent_destroy otherwise).", ptr: func(s *Settings) any { return &s.StateBucketAllowDestroy }},
	{Key: "ciPlatform", Default: "", Doc: "gitlab or github: make bootstrap also creates that platform's OpenID Connect provider and, for each of ciEnvironments, a read-only plan role (merge requests, pull requests) and a deploy role (GitLab: the protected ciBranch; GitHub: the environment of the same name), so pipelines need no access key. Needs stateBucket and ciProject. Empty = no CI roles. See docs/CI.md.", ptr: func(s *Settings) any { return &s.CIPlatform }},
	{Key: "ciProject", Default: "", Doc: "The project whose pipelines may assume the CI roles: GitLab group/project path, or GitHub owner/repo.", ptr: func(s *Settings) any { return &s.CIProject }},
	{Key: "ciGitlabUrl", Default: "https://gitlab.com", Doc: "ciPlatform=gitlab: the GitLab instance that signs the pipelines' ID tokens (https URL, no path).", ptr: func(s *Settings) any { return &s.CIGitLabURL }},
	{Key: "ciOidcProviderArn", Default: "", Doc: "An existing IAM OIDC provider for the platform (an account holds one per URL); empty = make bootstrap creates it.", ptr: func(s *Settings) any { return &s.CIOidcProviderArn }},
	{Key: "ciBranch", Default: "main", Doc: "ciPlatform=gitlab: the protected branch whose pipelines may assume the deploy roles.", ptr: func(s *Settings) any { return &s.CIBranch }},
	{Key: "ciEnvironments", Default: "dev,prod", Doc: "Comma-separated environments that get a plan and a deploy role (the pipelines promote dev to prod).", ptr: func(s *Settings) any { return &s.CIEnvironments }},
	{Key: "endpoint", Default: "", Doc: "Local profile: AWS-compatible endpoint (moto, LocalStack) on loopback, e.g. http://127.0.0.1:5000. Empty = real AWS.", ptr: func(s *Settings) any { return &s.Endpoint }},
}

// The pinned images, from their one home (constructs/defaults, which
// Renovate bumps).
const (
	DefaultPrometheusImage   = defaults.PrometheusImage
	DefaultAlertmanagerImage = defaults.AlertmanagerImage
	DefaultConfigSyncImage   = defaults.ConfigSyncImage
)

// FieldByKey finds a field by its context key.
func FieldByKey(key string) (Field, bool) {
	for _, f := range Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}
