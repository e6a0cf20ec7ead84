package stacks

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// byDefault is the stack with no setting at all, the one most tests read.
var byDefault = declare("default", env{})

func TestEveryConceptIsDeployed(t *testing.T) {
	d := byDefault.doc(t)
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
	d := byDefault.doc(t)
	got := policy.Str(policy.Path(d.Raw, "terraform", "required_providers", "aws", "version"))
	if got != "~> 5.100" {
		t.Fatalf("aws provider constraint %q must be ~> 5.100 (write-only secrets from 5.88, the AMP workspace configuration from 5.100; the 5.100.0 mirror and the registry both resolve)", got)
	}
	region := policy.Str(policy.Path(d.Raw, "provider", "aws", "region"))
	if region != "eu-central-1" {
		t.Fatalf("provider region %q", region)
	}
}

// TestPoliciesHoldForEveryVariant is where the policy rules are held to the
// synthesized stacks, every variant's (that each rule can fail is
// policy's own test): other tests here leave those properties to it.
func TestPoliciesHoldForEveryVariant(t *testing.T) {
	for _, v := range everyVariant() {
		s := v.synth(t)
		for _, d := range []*policy.Doc{s.doc, s.bootstrap} {
			if d == nil {
				continue // no state bucket
			}
			for _, x := range policy.Check(d, policy.OptionsFor(s.settings)) {
				t.Errorf("%s: %s", v, x)
			}
		}
	}
}

func TestSubnetsArePublicWithoutNAT(t *testing.T) {
	d := byDefault.doc(t)
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
	for _, v := range []*variant{byDefault, opened} {
		d, s := v.doc(t), v.settings(t)
		promSG := ""
		for n, a := range d.Of("aws_security_group") {
			if strings.HasSuffix(policy.Str(a["name"]), "-prometheus-sg") {
				promSG = policy.Ref("aws_security_group", n, "id")
			}
		}
		rules := nodePortRules(d, float64(s.NodeExporterPort))
		if len(rules) != 1 {
			t.Fatalf("%s: want one rule opening %d, have %d", v, s.NodeExporterPort, len(rules))
		}
		r := rules[0]
		if r["referenced_security_group_id"] != promSG || r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil {
			t.Errorf("%s: port %d must be open to the Prometheus SG %s only: %v", v, s.NodeExporterPort, promSG, r)
		}
	}
}

func TestNoWorldOpenIngressByDefault(t *testing.T) {
	d := byDefault.doc(t)
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
	// No port open to the world in any variant: policy rule
	// no-world-ingress (TestPoliciesHoldForEveryVariant).
}

// opened: SSH, plain HTTP admin access from a VPN's private ranges (IPv4
// and a unique local IPv6 range, the explicit opt-in of issue 34), another
// node_exporter port, discovery tag, zones and instance type.
var opened = declare("opened", env{
	"PROMAWS_SSH_KEY_NAME": "ops", "PROMAWS_SSH_CIDRS": "192.0.2.0/24",
	"PROMAWS_ADMIN_CIDRS": "10.8.0.0/16,fd00:8::/32", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true", "PROMAWS_NODE_EXPORTER_PORT": "9200",
	"PROMAWS_DISCOVERY_TAG_KEY": "team:monitoring", "PROMAWS_DISCOVERY_TAG_VALUE": "yes",
	"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1b", "PROMAWS_NODE_INSTANCE_TYPE": "t4g.small",
})

func TestOptInAccessRules(t *testing.T) {
	d := opened.doc(t)
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
	if len(nodePortRules(byDefault.doc(t), 22)) != 0 || synthedLT(t, byDefault)["key_name"] != nil {
		t.Error("SSH must be off by default")
	}
}

func synthedLT(t *testing.T, v *variant) map[string]any {
	_, lt := one(t, v.doc(t), "aws_launch_template")
	return lt
}

// zeroNodes: no node group, a pinned AMI, flow logs on.
var zeroNodes = declare("zero-nodes", env{"PROMAWS_NODE_COUNT": "0", "PROMAWS_NODE_AMI_ID": "ami-0123456789abcdef0", "PROMAWS_FLOW_LOGS": "true"})

// TestNodesHardened: the settings' node type, image and role. IMDSv2 with
// a hop limit of 1 and the encrypted root volume are policy rules imdsv2
// and encrypted-volumes, held by every variant; the AL2023 image for the
// type's architecture is the construct's (constructs' TestNodesDefaults,
// TestNodesSSHAndGraviton).
func TestNodesHardened(t *testing.T) {
	if lt := synthedLT(t, byDefault); lt["instance_type"] != "t3.micro" {
		t.Errorf("default instance type %v", lt["instance_type"])
	}
	if synthedLT(t, zeroNodes)["image_id"] != "ami-0123456789abcdef0" || policy.Path(zeroNodes.doc(t).Raw, "data", "aws_ssm_parameter") != nil {
		t.Error("nodeAmiId must replace the SSM lookup")
	}
	_, role := findRole(t, byDefault.doc(t), "node-role")
	if !strings.Contains(policy.Str(role["assume_role_policy"]), "ec2.amazonaws.com") {
		t.Errorf("node role must be assumable by EC2 only: %v", role["assume_role_policy"])
	}
	found := false
	for _, a := range byDefault.doc(t).Of("aws_iam_role_policy_attachment") {
		found = found || a["policy_arn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
	}
	if !found {
		t.Error("nodes need AmazonSSMManagedInstanceCore for Session Manager")
	}
}

func TestNodeGroupSizeAndTags(t *testing.T) {
	for v, want := range map[*variant]float64{byDefault: 2, zeroNodes: 0} {
		_, asg := one(t, v.doc(t), "aws_autoscaling_group")
		if policy.Num(asg["desired_capacity"]) != want || policy.Num(asg["min_size"]) != want || policy.Num(asg["max_size"]) != want {
			t.Errorf("%s: group size %v/%v/%v, want %v", v, asg["min_size"], asg["desired_capacity"], asg["max_size"], want)
		}
	}
	for v, want := range map[*variant]string{byDefault: "prometheus:scrape=true", opened: "team:monitoring=yes"} {
		_, asg := one(t, v.doc(t), "aws_autoscaling_group")
		tags := map[string]bool{}
		for _, tag := range asg["tag"].([]any) {
			if policy.Path(tag, "propagate_at_launch") == true {
				tags[policy.Str(policy.Path(tag, "key"))+"="+policy.Str(policy.Path(tag, "value"))] = true
			}
		}
		if !tags[want] {
			t.Errorf("%s: nodes must carry the discovery tag %s at launch: %v", v, want, tags)
		}
	}
}

func TestUserDataInstallsPinnedNodeExporter(t *testing.T) {
	for v, port := range map[*variant]string{byDefault: ":9100", opened: ":9200"} {
		raw, err := base64.StdEncoding.DecodeString(policy.Str(synthedLT(t, v)["user_data"]))
		if err != nil {
			t.Fatalf("user_data must be base64: %v", err)
		}
		script := string(raw)
		for _, want := range []string{"#!/bin/bash", userdata.Version(), "sha256sum", port} {
			if !strings.Contains(script, want) {
				t.Errorf("%s: user data lacks %q", v, want)
			}
		}
	}
}

// The task role of the task-storage mode grants discovery and, for the
// bundled Alertmanager, publishing to the alarm topic, nothing else; the
// other modes add one statement each (TestStorageModes).
func TestTaskRoleGrantsExactlyDiscovery(t *testing.T) {
	d := ephemeral.doc(t)
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

// moreRegions: nodes in two more regions, scraped on public IPs, and
// Alertmanagers by IP and by name.
var moreRegions = declare("regions", env{"PROMAWS_DISCOVERY_REGIONS": "eu-west-1,us-east-1", "PROMAWS_SCRAPE_ADDRESS": "public",
	"PROMAWS_ALERTMANAGER_URLS": "https://ops.example.com/alertmanager,http://10.1.2.3:9093,http://198.51.100.9:9094"})

// TestDiscoveryOnlyInItsRegions: the discovery actions take no resource
// restriction, so the region condition is what keeps the task role to the
// discovered regions.
func TestDiscoveryOnlyInItsRegions(t *testing.T) {
	for v, want := range map[*variant][]string{
		byDefault:   {"eu-central-1"},
		moreRegions: {"eu-central-1", "eu-west-1", "us-east-1"},
	} {
		d := v.doc(t)
		name, _ := findRole(t, d, "prometheus-task")
		var found bool
		for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
			if policy.Str(policy.Path(st, "Sid")) != "EC2Discovery" {
				continue
			}
			found = true
			got := policy.Strings(policy.Path(st, "Condition", "StringEquals", "aws:RequestedRegion"))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: discovery allowed in regions %v, want exactly %v", v, got, want)
			}
			if policy.Path(st, "Effect") != "Allow" || len(policy.Path(st, "Condition").(map[string]any)) != 1 {
				t.Errorf("%s: discovery statement: %v", v, st)
			}
		}
		if !found {
			t.Errorf("%s: no EC2Discovery statement on the task role", v)
		}
	}
}

// TestPrometheusEgressFollowsTheSettings: HTTPS and the VPC's nodes by
// default; node_exporter anywhere only with other discovery regions; each
// Alertmanager's port, to its address when it is an IP; NFS to the EFS
// mount targets with storageMode efs (the default).
func TestPrometheusEgressFollowsTheSettings(t *testing.T) {
	for v, want := range map[*variant][]string{
		byDefault:   {"2049 EFS SG", "443 0.0.0.0/0", "9100 node SG"},
		ephemeral:   {"443 0.0.0.0/0", "9100 node SG"},
		opened:      {"2049 EFS SG", "443 0.0.0.0/0", "9200 node SG"},
		moreRegions: {"2049 EFS SG", "443 0.0.0.0/0", "9093 10.1.2.3/32", "9094 198.51.100.9/32", "9100 0.0.0.0/0", "9100 node SG"},
	} {
		d := v.doc(t)
		promSG, _ := named(t, d, "aws_security_group", "-prometheus-sg")
		nodeSG, _ := named(t, d, "aws_security_group", "-node-sg")
		var got []string
		for _, r := range d.Of("aws_vpc_security_group_egress_rule") {
			if r["security_group_id"] != policy.Ref("aws_security_group", promSG, "id") {
				continue
			}
			if r["from_port"] != r["to_port"] || r["ip_protocol"] != "tcp" {
				t.Errorf("%s: egress must be one TCP port: %v", v, r)
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
			t.Errorf("%s: Prometheus egress %v, want %v", v, got, want)
		}
	}
}

func TestAlertmanagersAndRegionsInTheConfig(t *testing.T) {
	_, param := configParam(t, moreRegions.doc(t))
	yaml := policy.Str(param["insecure_value"])
	for _, w := range []string{"region: eu-central-1", "region: eu-west-1", "region: us-east-1", "__meta_ec2_public_ip",
		"alerting:", "path_prefix: /alertmanager", "ops.example.com:443", "10.1.2.3:9093"} {
		if !strings.Contains(yaml, w) {
			t.Errorf("generated config lacks %q:\n%s", w, yaml)
		}
	}
	_, param = configParam(t, byDefault.doc(t))
	if yaml := policy.Str(param["insecure_value"]); !strings.Contains(yaml, "alerting:\n  alertmanagers:\n    - scheme: http\n      path_prefix: /alertmanager\n      basic_auth:") ||
		!strings.Contains(yaml, "- 127.0.0.1:9093\n") || strings.Count(yaml, "- region:") != 1 {
		t.Errorf("default config: one region, alerts to the bundled Alertmanager on the task's loopback:\n%s", yaml)
	}
}

func TestFargateServiceShape(t *testing.T) {
	d := byDefault.doc(t)
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
	for v, want := range map[*variant][]string{
		byDefault: {"region: eu-central-1", "tag:prometheus:scrape", "instance-state-name", "port: 9100"},
		opened:    {"tag:team:monitoring", "port: 9200"},
	} {
		_, param := configParam(t, v.doc(t))
		yaml := policy.Str(param["insecure_value"])
		if param["type"] != "String" || !strings.Contains(yaml, "\n") {
			t.Fatalf("%s: config must be a plain multi-line String parameter (readable in plan): %v", v, param["type"])
		}
		for _, w := range want {
			if !strings.Contains(yaml, w) {
				t.Errorf("%s: generated config lacks %q", v, w)
			}
		}
	}
}

// localProfile is the default stack against the emulator.
var localProfile = declare("local", env{"PROMAWS_ENDPOINT": "http://127.0.0.1:5000"})

func TestLocalProfileOnlyWhenAsked(t *testing.T) {
	local := mustJSON(t, policy.Path(localProfile.doc(t).Raw, "provider", "aws"))
	for _, want := range []string{`"skip_metadata_api_check":"true"`, `"access_key":"test"`} {
		if !strings.Contains(local, want) {
			t.Errorf("local profile provider lacks %s: %s", want, local)
		}
	}
	real := mustJSON(t, policy.Path(byDefault.doc(t).Raw, "provider", "aws"))
	for _, banned := range []string{"endpoints", "access_key", "secret_key", "127.0.0.1"} {
		if strings.Contains(real, banned) {
			t.Errorf("the AWS profile must not carry %s: %s", banned, real)
		}
	}
	for v, want := range map[*variant]bool{localProfile: true, byDefault: false} {
		_, svc := one(t, v.doc(t), "aws_ecs_service")
		if got := policy.Path(svc, "lifecycle", "ignore_changes") != nil; got != want {
			t.Errorf("%s: emulator-gap ignore_changes present=%v, want %v (local profile only)", v, got, want)
		}
	}
	if !strings.Contains(real, `"managed-by":"prometheus-aws"`) {
		t.Errorf("default tags missing: %s", real)
	}
}

func TestBasicAuthSecretNeverInJSON(t *testing.T) {
	d := byDefault.doc(t)
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
	for _, v := range everyVariant() {
		for _, task := range v.doc(t).Of("aws_ecs_task_definition") {
			if defs := policy.Str(task["container_definitions"]); regexp.MustCompile(`basic-auth[^"]*\.arn\}:` + taskcontract.SecretPasswordKey + `::`).MatchString(defs) {
				t.Errorf("%s: a container reads people's basic-auth password: %s", v, defs)
			}
		}
	}
	name, _ := findRole(t, d, "prometheus-exec")
	if !strings.Contains(mustJSON(t, rolePolicy(t, d, name)), "secretsmanager:GetSecretValue") {
		t.Error("the execution role must read the basic auth secret")
	}
	if len(remoteDDB.doc(t).Of("aws_secretsmanager_secret")) != 0 {
		t.Error("basicAuth=false creates no secret")
	}
}

func TestFlowLogsOptIn(t *testing.T) {
	if len(byDefault.doc(t).Of("aws_flow_log")) != 0 {
		t.Error("flow logs are opt-in")
	}
	d := zeroNodes.doc(t)
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

// TestLocalProfileCallsOnlyLoopback: the local profile's provider has no
// endpoints block (its validation costs seconds of CPU a terraform command:
// localProvider) and sends whatever AWS_ENDPOINT_URL does not reach to a
// closed loopback proxy. (The AWS profile's provider has neither:
// TestLocalProfileOnlyWhenAsked bans endpoints and 127.0.0.1 there.)
func TestLocalProfileCallsOnlyLoopback(t *testing.T) {
	if u, err := url.Parse(NoEndpointProxy); err != nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		t.Errorf("NoEndpointProxy %s is not on loopback", NoEndpointProxy)
	}
	for _, v := range []*variant{localProfile, tlsDomainLocal} {
		providers, _ := policy.Path(v.doc(t).Raw, "provider", "aws").([]any)
		if len(providers) != 1 {
			t.Fatalf("%s: one aws provider expected, have %d", v, len(providers))
		}
		p, _ := providers[0].(map[string]any)
		if p["endpoints"] != nil {
			t.Errorf("%s: the local profile's provider has an endpoints block; the endpoint comes from AWS_ENDPOINT_URL", v)
		}
		for _, k := range []string{"http_proxy", "https_proxy"} {
			if p[k] != NoEndpointProxy {
				t.Errorf("%s: %s is %v, want %s (a call AWS_ENDPOINT_URL does not reach must fail on loopback)", v, k, p[k], NoEndpointProxy)
			}
		}
	}
}

// Behind the HTTPS load balancer: a given certificate (AWS profile), and a
// created one with a customer KMS key against the emulator.
var (
	tlsCert        = declare("tls-cert", env{"PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"})
	tlsDomainLocal = declare("tls-domain-local", env{"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_TLS_DOMAIN": "prometheus.example.com",
		"PROMAWS_TLS_ZONE_ID": "Z0123456789ABCDEFGHIJ", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_KMS_KEY_ARN": testKey, "PROMAWS_FLOW_LOGS": "true"})
)

func TestHTTPSLoadBalancerIsTheOnlyWayIn(t *testing.T) {
	if len(byDefault.doc(t).Of("aws_lb")) != 0 {
		t.Error("the load balancer is opt-in")
	}
	for _, v := range []*variant{tlsCert, tlsDomainLocal} {
		d := v.doc(t)
		_, alb := one(t, d, "aws_lb")
		if alb["internal"] != false || alb["drop_invalid_header_fields"] != true || alb["load_balancer_type"] != "application" {
			t.Errorf("%s: load balancer shape: %v", v, alb)
		}
		listeners := map[float64]map[string]any{}
		for _, l := range d.Of("aws_lb_listener") {
			listeners[policy.Num(l["port"])] = l
		}
		https, http := listeners[443], listeners[80]
		if https == nil || https["protocol"] != "HTTPS" || !strings.HasPrefix(policy.Str(https["ssl_policy"]), "ELBSecurityPolicy-TLS13-") {
			t.Errorf("%s: want an HTTPS listener on 443 with a TLS 1.3 policy: %v", v, https)
		}
		if http == nil || policy.Str(policy.Path(http, "default_action", "type")) != "redirect" ||
			policy.Str(policy.Path(http, "default_action", "redirect", "protocol")) != "HTTPS" {
			t.Errorf("%s: port 80 must only redirect to HTTPS: %v", v, http)
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
					t.Errorf("%s: Prometheus must admit only the load balancer: %v", v, r)
				}
			case policy.Ref("aws_security_group", albSG, "id"):
				if r["cidr_ipv4"] != "198.51.100.0/24" {
					t.Errorf("%s: the balancer must admit only the admin range: %v", v, r)
				}
				ports[policy.Num(r["from_port"])] = true
			}
		}
		if !ports[443] || !ports[80] || len(ports) != 2 {
			t.Errorf("%s: balancer ingress ports %v, want 443 and 80", v, ports)
		}
		_, svc := one(t, d, "aws_ecs_service")
		if !strings.Contains(mustJSON(t, svc["load_balancer"]), `"container_name":"prometheus"`) || !strings.Contains(mustJSON(t, svc["depends_on"]), "aws_lb_listener.") {
			t.Errorf("%s: the service must register in the target group after the listener exists: %v", v, svc)
		}
		_, tg := named(t, d, "aws_lb_target_group", "-prometheus")
		if tg["target_type"] != "ip" || policy.Str(policy.Path(tg, "health_check", "matcher")) != "200,401" {
			t.Errorf("%s: target group (ip targets, basic auth answers 401 to the check): %v", v, tg)
		}
	}
	if _, https := listenerOn(tlsCert.doc(t), 443); https["certificate_arn"] != testCert || len(tlsCert.doc(t).Of("aws_acm_certificate")) != 0 {
		t.Errorf("a given certificate is used as is: %v", https)
	}
	d := tlsDomainLocal.doc(t)
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
	for v, want := range map[*variant]string{byDefault: "", tlsDomainLocal: testKey} {
		d := v.doc(t)
		for typ, path := range map[string][]string{
			"aws_cloudwatch_log_group":  {"kms_key_id"},
			"aws_secretsmanager_secret": {"kms_key_id"},
			"aws_launch_template":       {"block_device_mappings", "ebs", "kms_key_id"},
		} {
			for name, r := range d.Of(typ) {
				if got := policy.Str(policy.Path(r, path...)); got != want {
					t.Errorf("%s: %s.%s %s = %q, want %q", v, typ, name, strings.Join(path, "."), got, want)
				}
			}
		}
	}
	d := tlsDomainLocal.doc(t)
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
	d := byDefault.doc(t)
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
