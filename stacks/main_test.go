package stacks

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Synthesized variants, built once per test process: jsii loads the AWS
// provider assembly in ~8 s per process, later synths are cheap.
var variants = map[string]map[string]string{
	"default": {},
	"local":   {"PROMAWS_ENDPOINT": "http://127.0.0.1:5000"},
	"opened": {
		"PROMAWS_SSH_KEY_NAME": "ops", "PROMAWS_SSH_CIDRS": "192.0.2.0/24",
		// Plain HTTP admin access from a VPN's private ranges (IPv4 and a
		// unique local IPv6 range): the explicit opt-in (issue 34).
		"PROMAWS_ADMIN_CIDRS": "10.8.0.0/16,fd00:8::/32", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true", "PROMAWS_NODE_EXPORTER_PORT": "9200",
		"PROMAWS_DISCOVERY_TAG_KEY": "team:monitoring", "PROMAWS_DISCOVERY_TAG_VALUE": "yes",
		"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1b", "PROMAWS_NODE_INSTANCE_TYPE": "t4g.small",
	},
	"zero-nodes": {"PROMAWS_NODE_COUNT": "0", "PROMAWS_NODE_AMI_ID": "ami-0123456789abcdef0", "PROMAWS_FLOW_LOGS": "true"},
	// Alarms off: alerts then go to your own Alertmanagers (the bundled
	// delivery needs the alarm topic).
	"remote": {"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_ENVIRONMENT": "prod", "PROMAWS_ALARMS": "false", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"},
	// Behind the HTTPS load balancer: a given certificate (AWS profile), and
	// a created one with a customer KMS key against the emulator.
	"tls-cert": {"PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"},
	"tls-domain-local": {"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": "Z0123456789ABCDEFGHIJ",
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_KMS_KEY_ARN": testKey, "PROMAWS_FLOW_LOGS": "true"},
	// The other storage modes (the default is efs).
	"ephemeral": {"PROMAWS_STORAGE_MODE": "ephemeral"},
	"amp":       {"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_REPLICAS": "2", "PROMAWS_ENVIRONMENT": "prod"},
	// amp with a customer key: the key's owner says its policy admits
	// aps.amazonaws.com (policy rule amp-alerts-key-usable).
	"amp-kms": {"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_KMS_KEY_ARN": testKey, "PROMAWS_KMS_KEY_ALLOWS_APS": "true"},
	// Container Insights off: the running-task alarm on a free metric.
	"no-container-insights": {"PROMAWS_CONTAINER_INSIGHTS": "false"},
	// The EFS throughput modes besides the default elastic.
	"efs-bursting":    {"PROMAWS_EFS_THROUGHPUT_MODE": "bursting"},
	"efs-provisioned": {"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned", "PROMAWS_EFS_PROVISIONED_MIBPS": "8"},
	// amp with your own Alertmanagers: the task evaluates the rules (a
	// server with a 1d TSDB), the workspace keeps retention.
	"amp-own-alertmanagers": {"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com", "PROMAWS_RETENTION": "90d"},
	// Nodes in two more regions, scraped on public IPs, and Alertmanagers by
	// IP and by name.
	"regions": {"PROMAWS_DISCOVERY_REGIONS": "eu-west-1,us-east-1", "PROMAWS_SCRAPE_ADDRESS": "public",
		"PROMAWS_ALERTMANAGER_URLS": "https://ops.example.com/alertmanager,http://10.1.2.3:9093,http://198.51.100.9:9094"},
	"remote-ddb": {"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_STATE_LOCK_TABLE": "tf-locks", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_BASIC_AUTH": "false"},
	// Alarm notifications: an email on the created topic; an existing
	// topic (the customer key then encrypts nothing of ours).
	"alarm-email": {"PROMAWS_ALARM_EMAIL": "ops@example.com"},
	"alarm-topic": {"PROMAWS_ALARM_TOPIC_ARN": testTopic, "PROMAWS_KMS_KEY_ARN": testKey},
	// networkMode=private: behind the load balancer with one NAT gateway,
	// and against the emulator reached from a VPN range, a gateway per
	// zone, amp (so the aps endpoint), some endpoints left out.
	"private": {"PROMAWS_NETWORK_MODE": "private", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"},
	"private-local": {"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true",
		"PROMAWS_NAT_GATEWAYS": "perZone", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_VPC_ENDPOINTS": "ec2,logs,aps,s3,ecr",
		"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter/"},
	// natGateways=none: no route out of the private subnets, images
	// through the pull-through cache, node_exporter from S3; on AWS and
	// against the emulator (e2e/nointernet_test.go). And the cache alone,
	// in the public network.
	"no-internet": {"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter"},
	"no-internet-local": {"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter",
		"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"},
	"pull-through": {"PROMAWS_PULL_THROUGH_CACHE": "true"},
	// AMP's alert delivery against the emulator (no alert manager
	// definition there).
	"amp-local": {"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000"},
	// A configuration change (reload_test.go): the scrape interval, and the
	// Alertmanager's grouping.
	"scrape-15s": {"PROMAWS_SCRAPE_INTERVAL": "15s", "PROMAWS_ALERT_GROUP_WAIT": "1m"},
	// Fargate's largest size, 16 vCPU and 120 GiB (issue 32): for a fleet
	// of tens of thousands of targets in one task.
	"task-16vcpu": {"PROMAWS_TASK_CPU": "16384", "PROMAWS_TASK_MEMORY": "122880", "PROMAWS_NODE_COUNT": "0"},
	// make bootstrap with the pipelines' OIDC roles: GitLab (the provider
	// created, a customer key), GitHub (an existing provider).
	"ci-gitlab": {"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_CI_PLATFORM": "gitlab",
		"PROMAWS_CI_PROJECT": "ops/monitoring/prometheus-aws", "PROMAWS_KMS_KEY_ARN": testKey},
	"ci-github": {"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_CI_PLATFORM": "github", "PROMAWS_CI_PROJECT": "acme/prometheus-aws",
		"PROMAWS_CI_OIDC_PROVIDER_ARN": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	// Grafana in the task: behind the load balancer (efs, basic auth), and
	// reading the workspace through SigV4 (amp).
	"grafana":     {"PROMAWS_GRAFANA": "true", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"},
	"grafana-amp": {"PROMAWS_GRAFANA": "true", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"},
	// Single sign-on at the load balancer (issue 28): a created Cognito
	// pool with Grafana and a machine path; a given pool behind a domain
	// against the emulator; your OIDC provider with its secret's ARN.
	"sso-cognito": {"PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24",
		"PROMAWS_GRAFANA": "true", "PROMAWS_MACHINE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0", "PROMAWS_SSO_SESSION_TIMEOUT": "3600"},
	"sso-cognito-pool-local": {"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false",
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": "Z0123456789ABCDEFGHIJ", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24",
		"PROMAWS_COGNITO_USER_POOL_ID": "eu-central-1_AbCdEfGhI", "PROMAWS_COGNITO_DOMAIN": "acme-login"},
	"sso-oidc": {"PROMAWS_SSO": "oidc", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24",
		"PROMAWS_OIDC_ISSUER": "https://login.example.com", "PROMAWS_OIDC_AUTHORIZATION_ENDPOINT": "https://login.example.com/authorize",
		"PROMAWS_OIDC_TOKEN_ENDPOINT": "https://login.example.com/token", "PROMAWS_OIDC_USER_INFO_ENDPOINT": "https://login.example.com/userinfo",
		"PROMAWS_OIDC_CLIENT_ID": "prometheus", "PROMAWS_OIDC_CLIENT_SECRET_ARN": testOIDCSecret},
	// The image in a private ECR repository (built from docker/Dockerfile).
	// ECS discovery (issue 31): every cluster of two regions; and listed
	// clusters (a name in region, an ARN in another) against the emulator.
	"ecs": {"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "8080,9100", "PROMAWS_DISCOVERY_REGIONS": "eu-west-1"},
	"ecs-clusters-local": {"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9101", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000",
		"PROMAWS_DISCOVERY_REGIONS": "eu-west-1", "PROMAWS_ECS_CLUSTERS": "orders,arn:aws:ecs:eu-west-1:123456789012:cluster/batch"},
	"ecr": {"PROMAWS_PROMETHEUS_IMAGE": testECRImage, "PROMAWS_ALERTMANAGER_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/alertmanager:v0.35.0"},
}

var (
	// bootstraps holds the state stacks of the variants with a bucket.
	bootstraps    = map[string]*policy.Doc{}
	bootstrapDirs = map[string]string{}
	synthed       = map[string]*policy.Doc{}
	settings      = map[string]*config.Settings{}
	outDirs       = map[string]string{}
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "stacks-test-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer jsii.Close()
		for name, env := range variants {
			s, err := config.Load(nil, env)
			if err != nil {
				panic(name + ": " + err.Error())
			}
			out := filepath.Join(tmp, name)
			app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(out)})
			if _, _, err := NewApp(app, s); err != nil {
				panic(err)
			}
			app.Synth()
			if s.RemoteState() {
				bdir := filepath.Join(out, "stacks", s.BootstrapStackName())
				b, err := policy.ParseFile(filepath.Join(bdir, "cdk.tf.json"))
				if err != nil {
					panic(err)
				}
				bootstraps[name], bootstrapDirs[name] = b, bdir
			}
			dir := filepath.Join(out, "stacks", s.StackName())
			d, err := policy.ParseFile(filepath.Join(dir, "cdk.tf.json"))
			if err != nil {
				panic(err)
			}
			synthed[name], settings[name], outDirs[name] = d, s, dir
		}
		return m.Run()
	}()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// withAttr returns the one resource of typ whose attribute at key (dotted
// path) ends with suffix.
func withAttr(t *testing.T, d *policy.Doc, typ, key, suffix string) (string, map[string]any) {
	t.Helper()
	var found []string
	var attrs map[string]any
	for name, a := range d.Of(typ) {
		if strings.HasSuffix(policy.Str(policy.Path(a, strings.Split(key, ".")...)), suffix) {
			found, attrs = append(found, name), a
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s with %s ending in %s, have %v of %v", typ, key, suffix, found, d.Names(typ))
	}
	return found[0], attrs
}

// configParam is the parameter holding prometheus.yml.
func configParam(t *testing.T, d *policy.Doc) (string, map[string]any) {
	t.Helper()
	return named(t, d, "aws_ssm_parameter", "/prometheus/prometheus.yml")
}

// one returns the single resource of typ, failing the test otherwise.
func one(t *testing.T, d *policy.Doc, typ string) (string, map[string]any) {
	t.Helper()
	name, a, ok := d.Only(typ)
	if !ok {
		t.Fatalf("want exactly one %s, have %v", typ, d.Names(typ))
	}
	return name, a
}

func TestEveryConceptIsDeployed(t *testing.T) {
	d := synthed["default"]
	want := map[string]int{
		"aws_vpc": 1, "aws_subnet": 2, "aws_internet_gateway": 1, "aws_route_table": 1, "aws_route": 1,
		"aws_route_table_association": 2, "aws_ecs_cluster": 1, "aws_ecs_task_definition": 1, "aws_ecs_service": 1,
		"aws_cloudwatch_log_group": 1, "aws_ssm_parameter": 4, "aws_launch_template": 1, "aws_autoscaling_group": 1,
		"aws_iam_role": 3, "aws_iam_instance_profile": 1, "aws_security_group": 3,
		// storageMode efs (the default)
		"aws_efs_file_system": 1, "aws_efs_mount_target": 2, "aws_efs_access_point": 2,
		// parameters: prometheus.yml, the two rule groups, alertmanager.yml
		// (the bundled alert delivery); the topic it and the alarms send to
		"aws_sns_topic": 1,
	}
	for typ, n := range want {
		if got := len(d.Of(typ)); got != n {
			t.Errorf("%s: %d resources, want %d", typ, got, n)
		}
	}
	if len(d.Of("aws_nat_gateway")) != 0 {
		t.Error("the design has no NAT gateway (cost); found one")
	}
}

func TestProviderConstraintAcceptsMirror(t *testing.T) {
	d := synthed["default"]
	got := policy.Str(policy.Path(d.Raw, "terraform", "required_providers", "aws", "version"))
	if got != "~> 5.100" {
		t.Fatalf("aws provider constraint %q must be ~> 5.100 (write-only secrets from 5.88, the AMP workspace configuration from 5.100; the 5.100.0 mirror and the registry both resolve)", got)
	}
	region := policy.Str(policy.Path(d.Raw, "provider", "aws", "region"))
	if region != "eu-central-1" {
		t.Fatalf("provider region %q", region)
	}
}

func TestPoliciesHoldForEveryVariant(t *testing.T) {
	all := map[string]*policy.Doc{}
	for name, d := range synthed {
		all[name] = d
	}
	for name, d := range bootstraps {
		all[name+"/bootstrap"] = d
	}
	for name, d := range all {
		name, _, _ = strings.Cut(name, "/")
		s := settings[name]
		v := policy.Check(d, policy.OptionsFor(s))
		for _, x := range v {
			t.Errorf("%s: %s", name, x)
		}
	}
}

func TestSubnetsArePublicWithoutNAT(t *testing.T) {
	d := synthed["default"]
	var cidrs []string
	for _, a := range d.Of("aws_subnet") {
		if a["map_public_ip_on_launch"] != true {
			t.Errorf("subnet %v must map public IPs (no NAT in this design)", a["cidr_block"])
		}
		cidrs = append(cidrs, policy.Str(a["cidr_block"]))
	}
	sort.Strings(cidrs)
	if strings.Join(cidrs, ",") != "10.0.0.0/24,10.0.1.0/24" {
		t.Errorf("subnet ranges %v", cidrs)
	}
	_, route := one(t, d, "aws_route")
	if route["destination_cidr_block"] != "0.0.0.0/0" || !strings.Contains(policy.Str(route["gateway_id"]), "aws_internet_gateway") {
		t.Errorf("default route must go to the internet gateway: %v", route)
	}
}

// nodePortRules returns the ingress rules that open port on the node group.
func nodePortRules(d *policy.Doc, port float64) []map[string]any {
	var out []map[string]any
	for _, a := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(a["from_port"]) <= port && port <= policy.Num(a["to_port"]) {
			out = append(out, a)
		}
	}
	return out
}

func TestNodePortOnlyFromPrometheus(t *testing.T) {
	for _, name := range []string{"default", "opened"} {
		d, s := synthed[name], settings[name]
		promSG := ""
		for n, a := range d.Of("aws_security_group") {
			if strings.HasSuffix(policy.Str(a["name"]), "-prometheus-sg") {
				promSG = policy.Ref("aws_security_group", n, "id")
			}
		}
		rules := nodePortRules(d, float64(s.NodeExporterPort))
		if len(rules) != 1 {
			t.Fatalf("%s: want one rule opening %d, have %d", name, s.NodeExporterPort, len(rules))
		}
		r := rules[0]
		if r["referenced_security_group_id"] != promSG || r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil {
			t.Errorf("%s: port %d must be open to the Prometheus SG %s only: %v", name, s.NodeExporterPort, promSG, r)
		}
	}
}

func TestNoWorldOpenIngressByDefault(t *testing.T) {
	d := synthed["default"]
	// node_exporter and NFS (EFS storage), each from the Prometheus group.
	rules := d.Of("aws_vpc_security_group_ingress_rule")
	if len(rules) != 2 {
		t.Errorf("default stack opens %d ingress rules; only node_exporter and NFS from Prometheus are expected", len(rules))
	}
	for name, r := range rules {
		if !strings.Contains(policy.Str(r["referenced_security_group_id"]), "prometheus_sg") {
			t.Errorf("ingress %s admits something other than the Prometheus security group: %v", name, r)
		}
	}
	for _, port := range []float64{22, 9090, 9100} {
		for _, r := range nodePortRules(d, port) {
			if policy.IsWorld(policy.Str(r["cidr_ipv4"])) || policy.IsWorld(policy.Str(r["cidr_ipv6"])) {
				t.Errorf("port %v open to the world: %v", port, r)
			}
		}
	}
}

func TestOptInAccessRules(t *testing.T) {
	d := synthed["opened"]
	ssh := nodePortRules(d, 22)
	if len(ssh) != 1 || ssh[0]["cidr_ipv4"] != "192.0.2.0/24" {
		t.Errorf("SSH opt-in must open 22 to sshCidrs only: %v", ssh)
	}
	admin := nodePortRules(d, 9090)
	got := map[string]bool{}
	for _, r := range admin {
		got[policy.Str(r["cidr_ipv4"])+policy.Str(r["cidr_ipv6"])] = true
	}
	if len(admin) != 2 || !got["10.8.0.0/16"] || !got["fd00:8::/32"] {
		t.Errorf("adminCidrs must open 9090 to exactly those ranges (IPv4 and IPv6): %v", admin)
	}
	_, lt := one(t, d, "aws_launch_template")
	if lt["key_name"] != "ops" {
		t.Errorf("SSH opt-in must set the key pair: %v", lt["key_name"])
	}
	if len(nodePortRules(synthed["default"], 22)) != 0 || synthedLT(t, "default")["key_name"] != nil {
		t.Error("SSH must be off by default")
	}
}

func synthedLT(t *testing.T, variant string) map[string]any {
	_, lt := one(t, synthed[variant], "aws_launch_template")
	return lt
}

func TestNodesHardened(t *testing.T) {
	lt := synthedLT(t, "default")
	if policy.Path(lt, "metadata_options", "http_tokens") != "required" || policy.Num(policy.Path(lt, "metadata_options", "http_put_response_hop_limit")) != 1 {
		t.Errorf("IMDSv2 with hop limit 1 required: %v", lt["metadata_options"])
	}
	if policy.Path(lt, "block_device_mappings", "ebs", "encrypted") != "true" {
		t.Errorf("root volume must be encrypted: %v", lt["block_device_mappings"])
	}
	if lt["instance_type"] != "t3.micro" {
		t.Errorf("default instance type %v", lt["instance_type"])
	}
	ami := synthed["default"].Of("data")
	_ = ami
	data := policy.Path(synthed["default"].Raw, "data", "aws_ssm_parameter")
	if !strings.Contains(mustJSON(t, data), "al2023-ami-kernel-default-x86_64") {
		t.Errorf("AMI must come from the AL2023 SSM parameter: %s", mustJSON(t, data))
	}
	if !strings.Contains(mustJSON(t, policy.Path(synthed["opened"].Raw, "data", "aws_ssm_parameter")), "al2023-ami-kernel-default-arm64") {
		t.Error("a Graviton instance type must get the arm64 AMI")
	}
	if synthedLT(t, "zero-nodes")["image_id"] != "ami-0123456789abcdef0" || policy.Path(synthed["zero-nodes"].Raw, "data", "aws_ssm_parameter") != nil {
		t.Error("nodeAmiId must replace the SSM lookup")
	}
	_, role := findRole(t, synthed["default"], "node-role")
	if !strings.Contains(policy.Str(role["assume_role_policy"]), "ec2.amazonaws.com") {
		t.Errorf("node role must be assumable by EC2 only: %v", role["assume_role_policy"])
	}
	found := false
	for _, a := range synthed["default"].Of("aws_iam_role_policy_attachment") {
		found = found || a["policy_arn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
	}
	if !found {
		t.Error("nodes need AmazonSSMManagedInstanceCore for Session Manager")
	}
}

func TestNodeGroupSizeAndTags(t *testing.T) {
	for variant, want := range map[string]float64{"default": 2, "zero-nodes": 0} {
		_, asg := one(t, synthed[variant], "aws_autoscaling_group")
		if policy.Num(asg["desired_capacity"]) != want || policy.Num(asg["min_size"]) != want || policy.Num(asg["max_size"]) != want {
			t.Errorf("%s: group size %v/%v/%v, want %v", variant, asg["min_size"], asg["desired_capacity"], asg["max_size"], want)
		}
	}
	for variant, want := range map[string]string{"default": "prometheus:scrape=true", "opened": "team:monitoring=yes"} {
		_, asg := one(t, synthed[variant], "aws_autoscaling_group")
		tags := map[string]bool{}
		for _, tag := range asg["tag"].([]any) {
			if policy.Path(tag, "propagate_at_launch") == true {
				tags[policy.Str(policy.Path(tag, "key"))+"="+policy.Str(policy.Path(tag, "value"))] = true
			}
		}
		if !tags[want] {
			t.Errorf("%s: nodes must carry the discovery tag %s at launch: %v", variant, want, tags)
		}
	}
}

func TestUserDataInstallsPinnedNodeExporter(t *testing.T) {
	for variant, port := range map[string]string{"default": ":9100", "opened": ":9200"} {
		raw, err := base64.StdEncoding.DecodeString(policy.Str(synthedLT(t, variant)["user_data"]))
		if err != nil {
			t.Fatalf("user_data must be base64: %v", err)
		}
		script := string(raw)
		for _, want := range []string{"#!/bin/bash", userdata.Version(), "sha256sum", port} {
			if !strings.Contains(script, want) {
				t.Errorf("%s: user data lacks %q", variant, want)
			}
		}
	}
}

func findRole(t *testing.T, d *policy.Doc, suffix string) (string, map[string]any) {
	t.Helper()
	return named(t, d, "aws_iam_role", suffix)
}

// named finds the resource of type typ whose name attribute ends in suffix.
func named(t *testing.T, d *policy.Doc, typ, suffix string) (string, map[string]any) {
	t.Helper()
	return withAttr(t, d, typ, "name", suffix)
}

func rolePolicy(t *testing.T, d *policy.Doc, roleName string) map[string]any {
	t.Helper()
	for _, a := range d.Of("aws_iam_role_policy") {
		if a["role"] == policy.Ref("aws_iam_role", roleName, "id") {
			var doc map[string]any
			if err := json.Unmarshal([]byte(policy.Str(a["policy"])), &doc); err != nil {
				t.Fatal(err)
			}
			return doc
		}
	}
	t.Fatalf("no inline policy on role %s", roleName)
	return nil
}

// The task role of the task-storage mode grants discovery and, for the
// bundled Alertmanager, publishing to the alarm topic, nothing else; the
// other modes add one statement each (TestStorageModes).
func TestTaskRoleGrantsExactlyDiscovery(t *testing.T) {
	d := synthed["ephemeral"]
	name, role := findRole(t, d, "prometheus-task")
	if !strings.Contains(policy.Str(role["assume_role_policy"]), "ecs-tasks.amazonaws.com") {
		t.Errorf("task role must be assumable by ECS tasks: %v", role["assume_role_policy"])
	}
	var actions []string
	topic, _ := one(t, d, "aws_sns_topic")
	for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
		actions = append(actions, policy.Strings(policy.Path(st, "Action"))...)
		if policy.Str(policy.Path(st, "Sid")) == "PublishAlerts" && mustJSON(t, policy.Path(st, "Resource")) != mustJSON(t, []string{policy.Ref("aws_sns_topic", topic, "arn")}) {
			t.Errorf("the task may publish to the alarm topic alone: %v", st)
		}
	}
	sort.Strings(actions)
	if strings.Join(actions, ",") != "ec2:DescribeAvailabilityZones,ec2:DescribeInstances,sns:Publish,ssm:GetParameter,ssm:GetParameters" {
		t.Errorf("task role must grant exactly the two discovery actions, publishing alerts and reading the synced parameters, grants %v", actions)
	}
	if len(d.Of("aws_iam_access_key")) != 0 || len(d.Of("aws_iam_user")) != 0 {
		t.Error("no IAM users or long-lived keys")
	}
	_, task := one(t, d, "aws_ecs_task_definition")
	if task["task_role_arn"] == task["execution_role_arn"] {
		t.Error("execution role and task role must differ")
	}
}

// TestDiscoveryOnlyInItsRegions: the discovery actions take no resource
// restriction, so the region condition is what keeps the task role to the
// discovered regions.
func TestDiscoveryOnlyInItsRegions(t *testing.T) {
	for variant, want := range map[string][]string{
		"default": {"eu-central-1"},
		"regions": {"eu-central-1", "eu-west-1", "us-east-1"},
	} {
		d := synthed[variant]
		name, _ := findRole(t, d, "prometheus-task")
		var found bool
		for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
			if policy.Str(policy.Path(st, "Sid")) != "EC2Discovery" {
				continue
			}
			found = true
			got := policy.Strings(policy.Path(st, "Condition", "StringEquals", "aws:RequestedRegion"))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: discovery allowed in regions %v, want exactly %v", variant, got, want)
			}
			if policy.Path(st, "Effect") != "Allow" || len(policy.Path(st, "Condition").(map[string]any)) != 1 {
				t.Errorf("%s: discovery statement: %v", variant, st)
			}
		}
		if !found {
			t.Errorf("%s: no EC2Discovery statement on the task role", variant)
		}
	}
}

// TestPrometheusEgressFollowsTheSettings: HTTPS and the VPC's nodes by
// default; node_exporter anywhere only with other discovery regions; each
// Alertmanager's port, to its address when it is an IP; NFS to the EFS
// mount targets with storageMode efs (the default).
func TestPrometheusEgressFollowsTheSettings(t *testing.T) {
	for variant, want := range map[string][]string{
		"default":   {"2049 EFS SG", "443 0.0.0.0/0", "9100 node SG"},
		"ephemeral": {"443 0.0.0.0/0", "9100 node SG"},
		"opened":    {"2049 EFS SG", "443 0.0.0.0/0", "9200 node SG"},
		"regions":   {"2049 EFS SG", "443 0.0.0.0/0", "9093 10.1.2.3/32", "9094 198.51.100.9/32", "9100 0.0.0.0/0", "9100 node SG"},
	} {
		d := synthed[variant]
		promSG, _ := named(t, d, "aws_security_group", "-prometheus-sg")
		nodeSG, _ := named(t, d, "aws_security_group", "-node-sg")
		var got []string
		for _, r := range d.Of("aws_vpc_security_group_egress_rule") {
			if r["security_group_id"] != policy.Ref("aws_security_group", promSG, "id") {
				continue
			}
			if r["from_port"] != r["to_port"] || r["ip_protocol"] != "tcp" {
				t.Errorf("%s: egress must be one TCP port: %v", variant, r)
			}
			to := policy.Str(r["cidr_ipv4"]) + policy.Str(r["cidr_ipv6"])
			if r["referenced_security_group_id"] == policy.Ref("aws_security_group", nodeSG, "id") {
				to = "node SG"
			}
			if len(d.Of("aws_efs_file_system")) > 0 {
				if efsSG, _ := named(t, d, "aws_security_group", "-efs-sg"); r["referenced_security_group_id"] == policy.Ref("aws_security_group", efsSG, "id") {
					to = "EFS SG"
				}
			}
			got = append(got, fmt.Sprintf("%v %s", policy.Num(r["from_port"]), to))
		}
		sort.Strings(got)
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s: Prometheus egress %v, want %v", variant, got, want)
		}
	}
}

func TestAlertmanagersAndRegionsInTheConfig(t *testing.T) {
	_, param := configParam(t, synthed["regions"])
	yaml := policy.Str(param["insecure_value"])
	for _, w := range []string{"region: eu-central-1", "region: eu-west-1", "region: us-east-1", "__meta_ec2_public_ip",
		"alerting:", "path_prefix: /alertmanager", "ops.example.com:443", "10.1.2.3:9093"} {
		if !strings.Contains(yaml, w) {
			t.Errorf("generated config lacks %q:\n%s", w, yaml)
		}
	}
	_, param = configParam(t, synthed["default"])
	if yaml := policy.Str(param["insecure_value"]); !strings.Contains(yaml, "alerting:\n  alertmanagers:\n    - scheme: http\n      path_prefix: /alertmanager\n      basic_auth:") ||
		!strings.Contains(yaml, "- 127.0.0.1:9093\n") || strings.Count(yaml, "- region:") != 1 {
		t.Errorf("default config: one region, alerts to the bundled Alertmanager on the task's loopback:\n%s", yaml)
	}
}

func TestFargateServiceShape(t *testing.T) {
	d := synthed["default"]
	_, svc := one(t, d, "aws_ecs_service")
	if svc["launch_type"] != "FARGATE" || policy.Num(svc["desired_count"]) != 1 {
		t.Errorf("service must run one FARGATE task: %v %v", svc["launch_type"], svc["desired_count"])
	}
	if policy.Num(svc["deployment_minimum_healthy_percent"]) != 0 || policy.Num(svc["deployment_maximum_percent"]) != 100 {
		t.Errorf("deployments must stop the old task first (0/100), got %v/%v", svc["deployment_minimum_healthy_percent"], svc["deployment_maximum_percent"])
	}
	// Issue 17: a revision that cannot start rolls back on its own.
	if cb := mustJSON(t, svc["deployment_circuit_breaker"]); cb != `{"enable":true,"rollback":true}` {
		t.Errorf("the service must roll back a deployment that cannot start: deployment_circuit_breaker %s", cb)
	}
	if policy.Path(svc, "network_configuration", "assign_public_ip") != true {
		t.Error("task needs a public IP: no NAT")
	}
	_, cluster := one(t, d, "aws_ecs_cluster")
	if !strings.Contains(mustJSON(t, cluster["setting"]), `"value":"enabled"`) {
		t.Errorf("Container Insights must be on: %v", cluster["setting"])
	}
	_, logs := one(t, d, "aws_cloudwatch_log_group")
	if policy.Num(logs["retention_in_days"]) != 30 {
		t.Errorf("log retention %v, want 30", logs["retention_in_days"])
	}
	_, task := one(t, d, "aws_ecs_task_definition")
	if task["cpu"] != "512" || task["memory"] != "1024" || task["network_mode"] != "awsvpc" {
		t.Errorf("task size/network: %v %v %v", task["cpu"], task["memory"], task["network_mode"])
	}
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil || len(defs) != 3 ||
		defs[0]["name"] != taskcontract.ContainerName || defs[1]["name"] != taskcontract.ConfigSyncContainerName || defs[2]["name"] != taskcontract.AlertmanagerContainerName {
		t.Fatalf("container_definitions: want Prometheus, config-sync, then the bundled Alertmanager: %v %d", err, len(defs))
	}
	c := defs[0]
	if c["image"] != config.DefaultPrometheusImage || c["readonlyRootFilesystem"] != true || c["user"] == "0" || c["user"] == nil {
		t.Errorf("container: image %v, read-only root %v, user %v", c["image"], c["readonlyRootFilesystem"], c["user"])
	}
	if !strings.Contains(mustJSON(t, c["healthCheck"]), "/-/healthy") || policy.Num(policy.Path(c, "healthCheck", "startPeriod")) != 300 {
		t.Errorf("health check must probe /-/healthy, after a start period that covers the TSDB lock wait and a WAL replay (300 s): %v", c["healthCheck"])
	}
	if strings.Contains(policy.Str(task["container_definitions"]), "insecure_value") || strings.Contains(mustJSON(t, c["environment"]), "scrape_interval") {
		t.Error("the task definition must name the configuration's parameters, never hold their values")
	}
}

func TestPrometheusConfigIsReadableAndExplicit(t *testing.T) {
	for variant, want := range map[string][]string{
		"default": {"region: eu-central-1", "tag:prometheus:scrape", "instance-state-name", "port: 9100"},
		"opened":  {"tag:team:monitoring", "port: 9200"},
	} {
		_, param := configParam(t, synthed[variant])
		yaml := policy.Str(param["insecure_value"])
		if param["type"] != "String" || !strings.Contains(yaml, "\n") {
			t.Fatalf("%s: config must be a plain multi-line String parameter (readable in plan): %v", variant, param["type"])
		}
		for _, w := range want {
			if !strings.Contains(yaml, w) {
				t.Errorf("%s: generated config lacks %q", variant, w)
			}
		}
	}
}

func TestLocalProfileOnlyWhenAsked(t *testing.T) {
	local := mustJSON(t, policy.Path(synthed["local"].Raw, "provider", "aws"))
	for _, want := range []string{"http://127.0.0.1:5000", `"skip_metadata_api_check":"true"`, `"access_key":"test"`} {
		if !strings.Contains(local, want) {
			t.Errorf("local profile provider lacks %s: %s", want, local)
		}
	}
	real := mustJSON(t, policy.Path(synthed["default"].Raw, "provider", "aws"))
	for _, banned := range []string{"endpoints", "access_key", "secret_key", "127.0.0.1"} {
		if strings.Contains(real, banned) {
			t.Errorf("the AWS profile must not carry %s: %s", banned, real)
		}
	}
	for variant, want := range map[string]bool{"local": true, "default": false} {
		_, svc := one(t, synthed[variant], "aws_ecs_service")
		if got := policy.Path(svc, "lifecycle", "ignore_changes") != nil; got != want {
			t.Errorf("%s: emulator-gap ignore_changes present=%v, want %v (local profile only)", variant, got, want)
		}
	}
	if !strings.Contains(real, `"managed-by":"prometheus-aws"`) {
		t.Errorf("default tags missing: %s", real)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocalBackendByDefault(t *testing.T) {
	path := policy.Str(policy.Path(synthed["default"].Raw, "terraform", "backend", "local", "path"))
	if path != "../../../terraform.prometheus-aws-dev.tfstate" {
		t.Errorf("local state must live in the project root, relative to the stack folder, got %q", path)
	}
	if _, ok := bootstraps["default"]; ok {
		t.Error("no bootstrap stack without a state bucket")
	}
}

func TestS3BackendWithNativeLocking(t *testing.T) {
	s3 := policy.Path(synthed["remote"].Raw, "terraform", "backend", "s3")
	want := map[string]any{"bucket": "acme-prometheus-tfstate", "key": "prometheus-aws/prod/terraform.tfstate", "encrypt": true, "use_lockfile": true, "region": "eu-central-1"}
	for k, v := range want {
		if got := policy.Path(s3, k); got != v {
			t.Errorf("backend.s3.%s = %v, want %v", k, got, v)
		}
	}
	if policy.Path(s3, "dynamodb_table") != nil || policy.Path(s3, "endpoints") != nil {
		t.Errorf("no DynamoDB table or endpoints unless asked: %v", s3)
	}
	if policy.Path(synthed["remote"].Raw, "terraform", "backend", "local") != nil {
		t.Error("remote state must replace the local backend")
	}
	ddb := policy.Path(synthed["remote-ddb"].Raw, "terraform", "backend", "s3")
	if policy.Path(ddb, "use_lockfile") != nil || policy.Path(synthed["remote-ddb"].Raw, "terraform", "required_version") != ">= 1.5" {
		t.Errorf("the DynamoDB opt-in is for Terraform < 1.10, which rejects use_lockfile: %v", ddb)
	}
	if policy.Path(synthed["remote"].Raw, "terraform", "required_version") != ">= 1.11" {
		t.Error("write-only secrets need Terraform >= 1.11 (S3-native locking >= 1.10)")
	}
	if policy.Path(ddb, "dynamodb_table") != "tf-locks" || policy.Path(ddb, "use_path_style") != true || policy.Path(ddb, "endpoints", "s3") != "http://127.0.0.1:5000" {
		t.Errorf("opt-in lock table and local-profile endpoints: %v", ddb)
	}
}

func TestStateBucketIsProtected(t *testing.T) {
	b := bootstraps["remote"]
	_, bucket := one(t, b, "aws_s3_bucket")
	if bucket["bucket"] != "acme-prometheus-tfstate" || policy.Path(bucket, "lifecycle", "prevent_destroy") != true {
		t.Errorf("bucket must be named as configured and protected from destroy: %v", bucket)
	}
	if policy.Path(b.Raw, "terraform", "backend", "local", "path") != "../../../terraform.prometheus-aws-state.tfstate" {
		t.Errorf("bootstrap state stays local: %v", policy.Path(b.Raw, "terraform", "backend"))
	}
	_, v := one(t, b, "aws_s3_bucket_versioning")
	if policy.Path(v, "versioning_configuration", "status") != "Enabled" {
		t.Errorf("versioning: %v", v)
	}
	_, enc := one(t, b, "aws_s3_bucket_server_side_encryption_configuration")
	if policy.Path(enc, "rule", "apply_server_side_encryption_by_default", "sse_algorithm") == nil {
		t.Errorf("default encryption: %v", enc)
	}
	_, pab := one(t, b, "aws_s3_bucket_public_access_block")
	for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		if pab[k] != true {
			t.Errorf("public access block %s = %v", k, pab[k])
		}
	}
	_, pol := one(t, b, "aws_s3_bucket_policy")
	if !strings.Contains(policy.Str(pol["policy"]), `"aws:SecureTransport":"false"`) || !strings.Contains(policy.Str(pol["policy"]), `"Effect":"Deny"`) {
		t.Errorf("bucket policy must deny non-TLS access: %v", pol["policy"])
	}
	_, lc := one(t, b, "aws_s3_bucket_lifecycle_configuration")
	if policy.Num(policy.Path(lc, "rule", "noncurrent_version_expiration", "noncurrent_days")) != 90 {
		t.Errorf("old versions expire after 90 days by default: %v", lc)
	}
	if _, p := one(t, bootstraps["remote-ddb"], "aws_s3_bucket_policy"); policy.Num(p["count"]) != 0 || pol["count"] != nil {
		t.Error("only the local profile drops the bucket policy (moto gap)")
	}
	if len(b.Of("aws_dynamodb_table")) != 0 || len(bootstraps["remote-ddb"].Of("aws_dynamodb_table")) != 1 {
		t.Error("a DynamoDB lock table exists only when opted in")
	}
}

func TestBasicAuthSecretNeverInJSON(t *testing.T) {
	d := synthed["default"]
	_, secret := one(t, d, "aws_secretsmanager_secret")
	if policy.Num(secret["recovery_window_in_days"]) != 0 || secret["recovery_window_in_days"] == nil {
		t.Errorf("recovery_window_in_days must be 0 so destroy-then-apply works: %v", secret["recovery_window_in_days"])
	}
	_, version := one(t, d, "aws_secretsmanager_secret_version")
	if version["secret_string"] != nil || !strings.Contains(policy.Str(version["secret_string_wo"]), "ephemeral.aws_secretsmanager_random_password.") ||
		!strings.Contains(policy.Str(version["secret_string_wo"]), "bcrypt(") {
		t.Errorf("the password must be generated ephemerally and written write-only: %v", version)
	}
	if policy.Path(d.Raw, "ephemeral", "aws_secretsmanager_random_password") == nil {
		t.Error("no ephemeral password generator")
	}
	// Two generated passwords, people's and the machine user's, each with
	// its hash in the one web config (issue 34).
	wo := policy.Str(version["secret_string_wo"])
	if n := len(policy.Path(d.Raw, "ephemeral", "aws_secretsmanager_random_password").(map[string]any)); n != 2 {
		t.Errorf("want two generated passwords (people's, the machine user's), have %d", n)
	}
	for _, want := range []string{`"` + taskcontract.SecretPasswordKey + `" = `, `"` + taskcontract.SecretMachinePasswordKey + `" = `,
		"  admin: '${bcrypt(", "  " + taskcontract.MachineUser + ": '${bcrypt("} {
		if !strings.Contains(wo, want) {
			t.Errorf("the secret's value lacks %q: %s", want, wo)
		}
	}
	_, task := one(t, d, "aws_ecs_task_definition")
	defs := policy.Str(task["container_definitions"])
	for _, want := range []string{"PROMETHEUS_WEB_CONFIG_YAML", ":web_config::", "PROMETHEUS_BASIC_AUTH_PASSWORD", ":" + taskcontract.SecretMachinePasswordKey + "::"} {
		if !strings.Contains(defs, want) {
			t.Errorf("container definition lacks %s", want)
		}
	}
	// No container of any variant reads people's password (Grafana's own
	// admin secret, a secret of its own, has a password key too).
	for variant, v := range synthed {
		for _, task := range v.Of("aws_ecs_task_definition") {
			if defs := policy.Str(task["container_definitions"]); regexp.MustCompile(`basic-auth[^"]*\.arn\}:` + taskcontract.SecretPasswordKey + `::`).MatchString(defs) {
				t.Errorf("%s: a container reads people's basic-auth password: %s", variant, defs)
			}
		}
	}
	name, _ := findRole(t, d, "prometheus-exec")
	if !strings.Contains(mustJSON(t, rolePolicy(t, d, name)), "secretsmanager:GetSecretValue") {
		t.Error("the execution role must read the basic auth secret")
	}
	if len(synthed["remote-ddb"].Of("aws_secretsmanager_secret")) != 0 {
		t.Error("basicAuth=false creates no secret")
	}
}

func TestFlowLogsOptIn(t *testing.T) {
	if len(synthed["default"].Of("aws_flow_log")) != 0 {
		t.Error("flow logs are opt-in")
	}
	d := synthed["zero-nodes"]
	_, fl := one(t, d, "aws_flow_log")
	if fl["traffic_type"] != "ALL" || !strings.Contains(policy.Str(fl["vpc_id"]), "aws_vpc.") || !strings.Contains(policy.Str(fl["log_destination"]), "aws_cloudwatch_log_group.") {
		t.Errorf("flow log must record all VPC traffic into its log group: %v", fl)
	}
	name, role := findRole(t, d, "flow-logs")
	if !strings.Contains(policy.Str(role["assume_role_policy"]), "vpc-flow-logs.amazonaws.com") {
		t.Errorf("flow log role principal: %v", role["assume_role_policy"])
	}
	if doc := mustJSON(t, rolePolicy(t, d, name)); !strings.Contains(doc, "logs:PutLogEvents") || strings.Contains(doc, `"*"`) {
		t.Errorf("flow log role must write only to its log group: %s", doc)
	}
}

const (
	testCert = "arn:aws:acm:eu-central-1:123456789012:certificate/0f3c9a6e-1234-4cde-9abc-0123456789ab"
	testKey  = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// testOIDCSecret holds a client secret; only its ARN is a setting.
	testOIDCSecret = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prometheus-oidc-AbCdEf"
)

// endpointOf maps resource type prefixes to the provider endpoint the local
// profile must set for them; longest prefix wins.
var endpointOf = map[string]string{
	"aws_acm_": "acm", "aws_autoscaling_": "autoscaling", "aws_cloudwatch_log_": "cloudwatchlogs",
	"aws_cloudwatch_metric_alarm": "cloudwatch", "aws_cloudwatch_event_": "events", "aws_dynamodb_": "dynamodb", "aws_ecr_": "ecr", "aws_ecs_": "ecs",
	"aws_efs_": "efs", "aws_lb": "elbv2", "aws_iam_": "iam", "aws_kms_": "kms", "aws_prometheus_": "amp",
	"aws_route53_": "route53", "aws_s3_": "s3", "aws_secretsmanager_": "secretsmanager", "aws_sns_": "sns", "aws_ssm_": "ssm",
	"aws_vpc": "ec2", "aws_subnet": "ec2", "aws_internet_gateway": "ec2", "aws_route": "ec2", "aws_security_group": "ec2",
	"aws_launch_template": "ec2", "aws_flow_log": "ec2", "aws_availability_zones": "ec2",
}

// TestLocalProfileCoversEveryService: a service without an emulator
// endpoint would send its calls to AWS itself.
func TestLocalProfileCoversEveryService(t *testing.T) {
	for _, variant := range []string{"local", "tls-domain-local"} {
		d := synthed[variant]
		endpoints, _ := policy.Path(d.Raw, "provider", "aws").([]any)
		if len(endpoints) != 1 {
			t.Fatalf("%s: one aws provider expected", variant)
		}
		set, _ := policy.Path(endpoints[0], "endpoints").([]any)
		if len(set) != 1 {
			t.Fatalf("%s: local profile has no endpoints block", variant)
		}
		have, _ := set[0].(map[string]any)
		var types []string
		for typ := range d.Resources {
			types = append(types, typ)
		}
		if data, ok := d.Raw["data"].(map[string]any); ok {
			for typ := range data {
				types = append(types, typ)
			}
		}
		for _, typ := range types {
			best := ""
			for prefix := range endpointOf {
				if strings.HasPrefix(typ, prefix) && len(prefix) > len(best) {
					best = prefix
				}
			}
			if best == "" {
				t.Errorf("%s: resource type %s has no known service: add it to endpointOf and to the local profile's endpoints", variant, typ)
				continue
			}
			if have[endpointOf[best]] != "http://127.0.0.1:5000" {
				t.Errorf("%s: %s needs the %s endpoint in the local profile (newProvider)", variant, typ, endpointOf[best])
			}
		}
	}
}

func TestHTTPSLoadBalancerIsTheOnlyWayIn(t *testing.T) {
	if len(synthed["default"].Of("aws_lb")) != 0 {
		t.Error("the load balancer is opt-in")
	}
	for _, variant := range []string{"tls-cert", "tls-domain-local"} {
		d := synthed[variant]
		_, alb := one(t, d, "aws_lb")
		if alb["internal"] != false || alb["drop_invalid_header_fields"] != true || alb["load_balancer_type"] != "application" {
			t.Errorf("%s: load balancer shape: %v", variant, alb)
		}
		listeners := map[float64]map[string]any{}
		for _, l := range d.Of("aws_lb_listener") {
			listeners[policy.Num(l["port"])] = l
		}
		https, http := listeners[443], listeners[80]
		if https == nil || https["protocol"] != "HTTPS" || !strings.HasPrefix(policy.Str(https["ssl_policy"]), "ELBSecurityPolicy-TLS13-") {
			t.Errorf("%s: want an HTTPS listener on 443 with a TLS 1.3 policy: %v", variant, https)
		}
		if http == nil || policy.Str(policy.Path(http, "default_action", "type")) != "redirect" ||
			policy.Str(policy.Path(http, "default_action", "redirect", "protocol")) != "HTTPS" {
			t.Errorf("%s: port 80 must only redirect to HTTPS: %v", variant, http)
		}
		// Ingress: the admin range on 443/80 of the balancer; Prometheus's
		// port only from the balancer's group, never from a range.
		promSG, _ := named(t, d, "aws_security_group", "-prometheus-sg")
		albSG, _ := named(t, d, "aws_security_group", "-alb-sg")
		ports := map[float64]bool{}
		for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
			sg := policy.Str(r["security_group_id"])
			switch sg {
			case policy.Ref("aws_security_group", promSG, "id"):
				if r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil || r["referenced_security_group_id"] != policy.Ref("aws_security_group", albSG, "id") {
					t.Errorf("%s: Prometheus must admit only the load balancer: %v", variant, r)
				}
			case policy.Ref("aws_security_group", albSG, "id"):
				if r["cidr_ipv4"] != "198.51.100.0/24" {
					t.Errorf("%s: the balancer must admit only the admin range: %v", variant, r)
				}
				ports[policy.Num(r["from_port"])] = true
			}
		}
		if !ports[443] || !ports[80] || len(ports) != 2 {
			t.Errorf("%s: balancer ingress ports %v, want 443 and 80", variant, ports)
		}
		_, svc := one(t, d, "aws_ecs_service")
		if !strings.Contains(mustJSON(t, svc["load_balancer"]), `"container_name":"prometheus"`) || !strings.Contains(mustJSON(t, svc["depends_on"]), "aws_lb_listener.") {
			t.Errorf("%s: the service must register in the target group after the listener exists: %v", variant, svc)
		}
		_, tg := named(t, d, "aws_lb_target_group", "-prometheus")
		if tg["target_type"] != "ip" || policy.Str(policy.Path(tg, "health_check", "matcher")) != "200,401" {
			t.Errorf("%s: target group (ip targets, basic auth answers 401 to the check): %v", variant, tg)
		}
	}
	if _, https := listenerOn(synthed["tls-cert"], 443); https["certificate_arn"] != testCert || len(synthed["tls-cert"].Of("aws_acm_certificate")) != 0 {
		t.Errorf("a given certificate is used as is: %v", https)
	}
	d := synthed["tls-domain-local"]
	_, cert := one(t, d, "aws_acm_certificate")
	if cert["domain_name"] != "prometheus.example.com" || cert["validation_method"] != "DNS" {
		t.Errorf("certificate: %v", cert)
	}
	if _, https := listenerOn(d, 443); !strings.Contains(policy.Str(https["certificate_arn"]), "aws_acm_certificate_validation.") {
		t.Errorf("the listener must wait for the validated certificate: %v", https)
	}
	if n := len(d.Of("aws_route53_record")); n != 2 {
		t.Errorf("want the validation record and the alias, have %d records", n)
	}
	if url := policy.Str(policy.Path(d.Raw, "output", "prometheus_url", "value")); url != "https://prometheus.example.com" {
		t.Errorf("prometheus_url output: %q", url)
	}
}

func TestCustomerKmsKey(t *testing.T) {
	for variant, want := range map[string]string{"default": "", "tls-domain-local": testKey} {
		d := synthed[variant]
		for typ, path := range map[string][]string{
			"aws_cloudwatch_log_group":  {"kms_key_id"},
			"aws_secretsmanager_secret": {"kms_key_id"},
			"aws_launch_template":       {"block_device_mappings", "ebs", "kms_key_id"},
		} {
			for name, r := range d.Of(typ) {
				if got := policy.Str(policy.Path(r, path...)); got != want {
					t.Errorf("%s: %s.%s %s = %q, want %q", variant, typ, name, strings.Join(path, "."), got, want)
				}
			}
		}
	}
	d := synthed["tls-domain-local"]
	name, _ := findRole(t, d, "-prometheus-exec")
	if doc := mustJSON(t, rolePolicy(t, d, name)); !strings.Contains(doc, `{"Action":["kms:Decrypt"],"Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.eu-central-1.amazonaws.com"]}},"Effect":"Allow","Resource":["`+testKey+`"]`) {
		t.Errorf("the execution role must decrypt the secret with the customer key, only it and only through Secrets Manager: %s", doc)
	}
}

func listenerOn(d *policy.Doc, port float64) (string, map[string]any) {
	for n, l := range d.Of("aws_lb_listener") {
		if policy.Num(l["port"]) == port {
			return n, l
		}
	}
	return "", nil
}

func TestAlertingRulesShipWithTheTask(t *testing.T) {
	d := synthed["default"]
	groups, err := pconstructs.RuleFiles(string(alerting.Rules()))
	if err != nil || len(groups) < 2 {
		t.Fatalf("rules.yml must split into its groups: %v %v", groups, err)
	}
	whole := "groups:\n"
	for _, g := range groups {
		_, p := named(t, d, "aws_ssm_parameter", "/prometheus/rules/"+g.Group+".yml")
		v := unescape(policy.Str(p["insecure_value"]))
		if v != g.YAML || policy.Str(p["tier"]) != pconstructs.SSMTier(len(v)) {
			t.Errorf("group %s must travel alone, as written, at the tier that holds it (%s)", g.Group, p["tier"])
		}
		whole += strings.TrimPrefix(v, "groups:\n")
	}
	// Every rule line of rules.yml is in exactly one group's file.
	for _, line := range strings.Split(string(alerting.Rules()), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "- alert: ") && strings.Count(whole, line+"\n") != 1 {
			t.Errorf("%q must be in exactly one rule file", line)
		}
	}
	_, param := configParam(t, d)
	if !strings.Contains(policy.Str(param["insecure_value"]), "rule_files:\n  - "+taskcontract.RuleFilesGlob) {
		t.Error("the generated config must load the rule files")
	}
}

// TestECSDiscoveryGrants: with ecsDiscovery the task role gains exactly
// the ECS discovery calls (and EC2's DescribeNetworkInterfaces), limited
// to the discovered regions, or to the listed clusters by ARN (and the
// default cluster Prometheus probes its credentials on); the task may
// connect out to the scrape ports within the VPC only.
func TestECSDiscoveryGrants(t *testing.T) {
	type grant struct {
		actions, resources, condition string
	}
	ecsStatements := func(variant string) map[string]grant {
		d := synthed[variant]
		name, _ := findRole(t, d, "prometheus-task")
		out := map[string]grant{}
		for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
			sid := policy.Str(policy.Path(st, "Sid"))
			if !strings.HasPrefix(sid, "ECS") {
				continue
			}
			out[sid] = grant{strings.Join(policy.Strings(policy.Path(st, "Action")), ","), strings.Join(policy.Strings(policy.Path(st, "Resource")), ","), mustJSON(t, policy.Path(st, "Condition"))}
		}
		return out
	}
	if got := ecsStatements("default"); len(got) != 0 {
		t.Errorf("default: ECS grants without ecsDiscovery: %v", got)
	}
	regions := `{"StringEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}`
	want := map[string]grant{
		"ECSDiscovery":                  {"ecs:ListClusters,ecs:DescribeClusters,ecs:ListServices,ecs:DescribeServices,ecs:ListTasks,ecs:DescribeTasks,ecs:DescribeContainerInstances", "*", regions},
		"ECSDiscoveryNetworkInterfaces": {"ec2:DescribeNetworkInterfaces", "*", regions},
	}
	if got := ecsStatements("ecs"); !reflect.DeepEqual(got, want) {
		t.Errorf("ecs: task role ECS grants\n got %v\nwant %v", got, want)
	}
	account := "${data.aws_caller_identity.prometheus_account_"
	got := ecsStatements("ecs-clusters-local")
	orders := got["ECSDiscoveryClusters"].resources
	if !strings.HasPrefix(orders, "arn:aws:ecs:eu-central-1:"+account) || !strings.Contains(orders, ":cluster/orders,arn:aws:ecs:eu-west-1:123456789012:cluster/batch,arn:aws:ecs:eu-central-1:") ||
		!strings.HasSuffix(orders, ":cluster/default,arn:aws:ecs:eu-west-1:123456789012:cluster/default") {
		t.Errorf("ecs-clusters-local: DescribeClusters on %s; want the two clusters and each region's default cluster, the account from the caller identity", orders)
	}
	in := got["ECSDiscoveryInClusters"]
	if in.actions != "ecs:ListServices,ecs:DescribeServices,ecs:ListTasks,ecs:DescribeTasks,ecs:DescribeContainerInstances" || in.resources != "*" ||
		!strings.HasPrefix(in.condition, `{"ArnEquals":{"ecs:cluster":["arn:aws:ecs:eu-central-1:`) || strings.Count(in.condition, "cluster/") != 2 {
		t.Errorf("ecs-clusters-local: in-cluster grants %+v; want the five calls under ecs:cluster = the two ARNs", in)
	}
	if len(got) != 3 || got["ECSDiscoveryNetworkInterfaces"].actions != "ec2:DescribeNetworkInterfaces" {
		t.Errorf("ecs-clusters-local: want exactly three ECS statements: %v", got)
	}
	// The account placeholder never reaches AWS: the configuration carries
	// the caller identity's reference.
	d := synthed["ecs-clusters-local"]
	for _, n := range d.Names("aws_ssm_parameter") {
		v := policy.Str(d.Of("aws_ssm_parameter")[n]["insecure_value"])
		if strings.Contains(v, taskcontract.AccountIDPlaceholder) {
			t.Errorf("%s keeps the account placeholder", n)
		}
		if strings.Contains(v, "role: ecs") && !strings.Contains(v, account) {
			t.Errorf("%s: the ecs discovery's cluster ARNs lack the account: %s", n, v)
		}
	}
	// The ECS discovery alert ships with it, and only with it.
	for variant, want := range map[string]bool{"default": false, "ecs": true, "ecs-clusters-local": true} {
		found := false
		for _, n := range synthed[variant].Names("aws_ssm_parameter") {
			found = found || strings.Contains(policy.Str(synthed[variant].Of("aws_ssm_parameter")[n]["insecure_value"]), "alert: PrometheusECSDiscoveryFailing")
		}
		if found != want {
			t.Errorf("%s: PrometheusECSDiscoveryFailing in the rules: %v, want %v", variant, found, want)
		}
	}
	// Egress: the scrape ports, to the VPC's range only.
	// (ecs: 9100 is open to every address already, for the nodes of the
	// other region, so no narrower rule is added.)
	for variant, ports := range map[string][]string{"ecs": {"8080"}, "ecs-clusters-local": {"9101"}} {
		d := synthed[variant]
		var found []string
		for _, n := range d.Names("aws_vpc_security_group_egress_rule") {
			r := d.Of("aws_vpc_security_group_egress_rule")[n]
			if strings.Contains(policy.Str(r["description"]), "ECS") {
				if policy.Str(r["cidr_ipv4"]) != "10.0.0.0/16" {
					t.Errorf("%s: %s opens the ECS scrape port to %v, want the VPC's range", variant, n, r["cidr_ipv4"])
				}
				found = append(found, fmt.Sprint(policy.Num(r["from_port"])))
			}
		}
		sort.Strings(found)
		if !reflect.DeepEqual(found, ports) {
			t.Errorf("%s: ECS egress ports %v, want %v", variant, found, ports)
		}
	}
}
