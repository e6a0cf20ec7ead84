package config

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/sizing"
)

func TestDefaultsAreValid(t *testing.T) {
	s := Defaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults must validate: %v", err)
	}
	if s.Region != "eu-central-1" || s.NodeCount != 2 || s.AzCount != 2 || s.NodeExporterPort != 9100 || len(s.AdminCidrs) != 0 {
		t.Fatalf("unexpected defaults: %+v", s)
	}
	if s.Local() {
		t.Fatal("the default profile must be real AWS, not the emulator")
	}
}

func TestLoadPrecedence(t *testing.T) {
	ctx := map[string]any{"region": "us-east-1", "nodeCount": float64(3), "adminCidrs": []any{"10.1.0.0/16", "192.168.2.0/24"}, "allowPlainHttpAdmin": true, "cdktfRelativeModules": []any{"./"}}
	env := map[string]string{"PROMAWS_NODE_COUNT": "5", "UNRELATED": "x"}
	s, err := Load(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Region != "us-east-1" {
		t.Errorf("context must override the default region, got %s", s.Region)
	}
	if s.NodeCount != 5 {
		t.Errorf("environment must override context, got nodeCount=%d", s.NodeCount)
	}
	if strings.Join(s.AdminCidrs, " ") != "10.1.0.0/16 192.168.2.0/24" {
		t.Errorf("list from context: %v", s.AdminCidrs)
	}
}

func TestEnvNames(t *testing.T) {
	for key, want := range map[string]string{"nodeCount": "PROMAWS_NODE_COUNT", "vpcCidr": "PROMAWS_VPC_CIDR", "region": "PROMAWS_REGION", "nodeAmiId": "PROMAWS_NODE_AMI_ID"} {
		f, ok := FieldByKey(key)
		if !ok || f.Env() != want {
			t.Errorf("%s: env %q, want %q", key, f.Env(), want)
		}
	}
}

func TestLoadRejectsTypos(t *testing.T) {
	cases := map[string]struct {
		ctx  map[string]any
		env  map[string]string
		want string
	}{
		"unknown env":               {env: map[string]string{"PROMAWS_NODECOUNT": "3"}, want: "PROMAWS_NODECOUNT is not a setting"},
		"context case":              {ctx: map[string]any{"NodeCount": float64(3)}, want: `did you mean "nodeCount"`},
		"not a number":              {env: map[string]string{"PROMAWS_NODE_COUNT": "three"}, want: "nodeCount"},
		"not a bool":                {env: map[string]string{"PROMAWS_ALLOW_WORLD_OPEN_ADMIN": "yes please"}, want: "allowWorldOpenAdmin"},
		"context object":            {ctx: map[string]any{"region": map[string]any{"a": 1}}, want: "region (PROMAWS_REGION, in context)"},
		"context list int":          {ctx: map[string]any{"adminCidrs": []any{1.0}}, want: "list items must be strings"},
		"unknown context key":       {ctx: map[string]any{"nodeCont": float64(3)}, want: `context key "nodeCont" is not a setting; did you mean "nodeCount" (PROMAWS_NODE_COUNT)?`},
		"unknown key, far from any": {ctx: map[string]any{"flavour": "vanilla"}, want: `context key "flavour" is not a setting; ./help lists`},
		"unknown key in an environment": {ctx: map[string]any{"environments": map[string]any{"dev": map[string]any{"nodeCuont": float64(3)}}},
			want: `context.environments.dev key "nodeCuont" is not a setting; did you mean "nodeCount"`},
		"cdktf key in an environment": {ctx: map[string]any{"environments": map[string]any{"dev": map[string]any{"cdktfVersion": "x"}}},
			want: `context.environments.dev key "cdktfVersion" is not a setting`},
		"unknown env with suggestion": {env: map[string]string{"PROMAWS_NODE_CONUT": "3"}, want: "did you mean PROMAWS_NODE_COUNT?"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(c.ctx, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestValidationErrors is the catalogue of bad input: each case must fail,
// and the message must name the setting and its environment variable.
func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		field string // context key the error must name
		hint  string // part of the fix the error must give
	}{
		{"vpc not a cidr", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.0/33"}, "vpcCidr", "10.0.0.0/16"},
		{"vpc host bits", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.1/16"}, "vpcCidr", "did you mean 10.0.0.0/16"},
		{"vpc too big", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.0/8"}, "vpcCidr", "/16../24"},
		{"vpc ipv6", map[string]string{"PROMAWS_VPC_CIDR": "fd00::/48"}, "vpcCidr", "IPv4"},
		{"vpc too small for zones", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.0/24"}, "vpcCidr", "widen vpcCidr"},
		{"subnet outside vpc", map[string]string{"PROMAWS_SUBNET_CIDRS": "10.0.1.0/24,10.9.0.0/24"}, "subnetCidrs", "outside vpcCidr"},
		{"subnets overlap", map[string]string{"PROMAWS_SUBNET_CIDRS": "10.0.0.0/23,10.0.1.0/24"}, "subnetCidrs", "overlaps"},
		{"subnet count", map[string]string{"PROMAWS_SUBNET_CIDRS": "10.0.0.0/24"}, "subnetCidrs", "one range per zone"},
		{"subnet tiny", map[string]string{"PROMAWS_SUBNET_CIDRS": "10.0.0.0/29,10.0.1.0/24"}, "subnetCidrs", "/28"},
		{"region format", map[string]string{"PROMAWS_REGION": "Frankfurt"}, "region", "eu-central-1"},
		{"az count zero", map[string]string{"PROMAWS_AZ_COUNT": "0"}, "azCount", "1 to 6"},
		{"az count high", map[string]string{"PROMAWS_AZ_COUNT": "7"}, "azCount", "1 to 6"},
		{"zones mismatch", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a"}, "availabilityZones", "azCount"},
		{"zone of other region", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,us-east-1a"}, "availabilityZones", "not a zone of region"},
		{"zone twice", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1a"}, "availabilityZones", "twice"},
		{"negative nodes", map[string]string{"PROMAWS_NODE_COUNT": "-1"}, "nodeCount", "0 to 100"},
		{"huge nodes", map[string]string{"PROMAWS_NODE_COUNT": "100000"}, "nodeCount", "0 to 100"},
		{"instance type", map[string]string{"PROMAWS_NODE_INSTANCE_TYPE": "T3 Micro"}, "nodeInstanceType", "t3.micro"},
		{"ami id", map[string]string{"PROMAWS_NODE_AMI_ID": "ubuntu-22.04"}, "nodeAmiId", "ami-"},
		{"port zero", map[string]string{"PROMAWS_NODE_EXPORTER_PORT": "0"}, "nodeExporterPort", "1 to 65535"},
		{"port high", map[string]string{"PROMAWS_PROMETHEUS_PORT": "70000"}, "prometheusPort", "1 to 65535"},
		{"port ssh", map[string]string{"PROMAWS_NODE_EXPORTER_PORT": "22"}, "nodeExporterPort", "reserved for SSH"},
		{"empty tag key", map[string]string{"PROMAWS_DISCOVERY_TAG_KEY": " "}, "discoveryTagKey", "prometheus:scrape"},
		{"aws tag key", map[string]string{"PROMAWS_DISCOVERY_TAG_KEY": "aws:scrape"}, "discoveryTagKey", "reserved"},
		{"long tag key", map[string]string{"PROMAWS_DISCOVERY_TAG_KEY": strings.Repeat("k", 129)}, "discoveryTagKey", "128"},
		{"empty tag value", map[string]string{"PROMAWS_DISCOVERY_TAG_VALUE": ""}, "discoveryTagValue", "true"},
		{"world admin without opt-in", map[string]string{"PROMAWS_ADMIN_CIDRS": "0.0.0.0/0"}, "adminCidrs", "allowWorldOpenAdmin=true"},
		{"world admin v6 without opt-in", map[string]string{"PROMAWS_ADMIN_CIDRS": "::/0"}, "adminCidrs", "allowWorldOpenAdmin=true"},
		{"admin not a cidr", map[string]string{"PROMAWS_ADMIN_CIDRS": "my-office"}, "adminCidrs", "CIDR"},
		// Plain HTTP admin access (issue 34): never from the internet, from
		// a private network outside the VPC only with the opt-in.
		{"admin plain http from the internet", map[string]string{"PROMAWS_ADMIN_CIDRS": "10.8.0.0/16,198.51.100.0/24", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"}, "adminCidrs", "198.51.100.0/24 would reach Prometheus and the Alertmanager over plain HTTP from the internet"},
		{"admin plain http v6 public", map[string]string{"PROMAWS_ADMIN_CIDRS": "2001:db8::/32", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"}, "adminCidrs", "tlsCertificateArn"},
		{"admin plain http over a VPN without opt-in", map[string]string{"PROMAWS_ADMIN_CIDRS": "10.8.0.0/16"}, "adminCidrs", "set allowPlainHttpAdmin=true (PROMAWS_ALLOW_PLAIN_HTTP_ADMIN)"},
		{"admin private range too wide", map[string]string{"PROMAWS_ADMIN_CIDRS": "10.0.0.0/7", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"}, "adminCidrs", "from the internet"},
		{"plain http opt-in with tls", map[string]string{"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1"), "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"}, "allowPlainHttpAdmin", "clear it"},
		{"image digest malformed", map[string]string{"PROMAWS_PROMETHEUS_IMAGE": "prom/prometheus:v3.16.0@sha256:abc"}, "prometheusImage", "64 lowercase hex"},
		{"image without digest required", map[string]string{"PROMAWS_REQUIRE_IMAGE_DIGESTS": "true"}, "prometheusImage", "not pinned by digest"},
		{"ssh key without cidrs", map[string]string{"PROMAWS_SSH_KEY_NAME": "ops"}, "sshCidrs", "set sshCidrs"},
		{"ssh cidrs without key", map[string]string{"PROMAWS_SSH_CIDRS": "192.0.2.0/24"}, "sshKeyName", "set sshKeyName"},
		{"ssh world", map[string]string{"PROMAWS_SSH_KEY_NAME": "ops", "PROMAWS_SSH_CIDRS": "0.0.0.0/0"}, "sshCidrs", "never allowed"},
		{"project uppercase", map[string]string{"PROMAWS_PROJECT": "Prometheus"}, "project", "lowercase"},
		{"project too long", map[string]string{"PROMAWS_PROJECT": strings.Repeat("p", 21)}, "project", "1 to 20"},
		{"environment underscore", map[string]string{"PROMAWS_ENVIRONMENT": "my_env"}, "environment", "hyphens"},
		{"image unpinned", map[string]string{"PROMAWS_PROMETHEUS_IMAGE": "prom/prometheus"}, "prometheusImage", "pinned"},
		{"image latest", map[string]string{"PROMAWS_PROMETHEUS_IMAGE": "prom/prometheus:latest"}, "prometheusImage", "pin a version"},
		{"cpu invalid", map[string]string{"PROMAWS_TASK_CPU": "300"}, "taskCpu", "256, 512"},
		{"memory mismatch", map[string]string{"PROMAWS_TASK_MEMORY": "512"}, "taskMemory", "does not fit taskCpu=512"},
		{"cpu beyond 16 vCPU", map[string]string{"PROMAWS_TASK_CPU": "32768", "PROMAWS_TASK_MEMORY": "122880"}, "taskCpu", "8192, 16384"},
		{"8 vCPU below 16 GiB", map[string]string{"PROMAWS_TASK_CPU": "8192", "PROMAWS_TASK_MEMORY": "8192"}, "taskMemory", "does not fit taskCpu=8192"},
		{"8 vCPU between 4 GiB steps", map[string]string{"PROMAWS_TASK_CPU": "8192", "PROMAWS_TASK_MEMORY": "18432"}, "taskMemory", "16384 20480"},
		{"16 vCPU above 120 GiB", map[string]string{"PROMAWS_TASK_CPU": "16384", "PROMAWS_TASK_MEMORY": "131072"}, "taskMemory", "does not fit taskCpu=16384"},
		{"16 vCPU between 8 GiB steps", map[string]string{"PROMAWS_TASK_CPU": "16384", "PROMAWS_TASK_MEMORY": "36864"}, "taskMemory", "32768 40960"},
		{"log retention", map[string]string{"PROMAWS_LOG_RETENTION_DAYS": "31"}, "logRetentionDays", "CloudWatch retention"},
		{"scrape interval", map[string]string{"PROMAWS_SCRAPE_INTERVAL": "30 seconds"}, "scrapeInterval", "30s"},
		{"refresh interval empty", map[string]string{"PROMAWS_REFRESH_INTERVAL": ""}, "refreshInterval", "Prometheus duration"},
		{"retention", map[string]string{"PROMAWS_RETENTION": "two weeks"}, "retention", "15d"},
		{"auth user", map[string]string{"PROMAWS_BASIC_AUTH_USER": "ad min"}, "basicAuthUser", "letters"},
		{"auth user is the machine user", map[string]string{"PROMAWS_BASIC_AUTH_USER": "prometheus-machine"}, "basicAuthUser", "machine user"},
		{"auth version", map[string]string{"PROMAWS_BASIC_AUTH_PASSWORD_VERSION": "0"}, "basicAuthPasswordVersion", "rotate"},
		{"world open without auth", map[string]string{"PROMAWS_BASIC_AUTH": "false", "PROMAWS_ADMIN_CIDRS": "0.0.0.0/0", "PROMAWS_ALLOW_WORLD_OPEN_ADMIN": "true"}, "basicAuth", "keep basicAuth=true"},
		{"tls cert not an arn", map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": "prometheus.example.com", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsCertificateArn", "arn:aws:acm:eu-central-1"},
		{"tls cert other region", map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": cert("us-east-1"), "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsCertificateArn", "in eu-central-1"},
		{"tls cert and domain", map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1"), "PROMAWS_TLS_DOMAIN": "p.example.com", "PROMAWS_TLS_ZONE_ID": "Z123", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsCertificateArn", "not both"},
		{"tls domain without zone", map[string]string{"PROMAWS_TLS_DOMAIN": "p.example.com", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsZoneId", "hosted zone id"},
		{"tls zone without domain", map[string]string{"PROMAWS_TLS_ZONE_ID": "Z123", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsDomain", "clear tlsZoneId"},
		{"tls domain uppercase", map[string]string{"PROMAWS_TLS_DOMAIN": "Prometheus.Example.com", "PROMAWS_TLS_ZONE_ID": "Z123", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsDomain", "prometheus.example.com"},
		{"tls zone name", map[string]string{"PROMAWS_TLS_DOMAIN": "p.example.com", "PROMAWS_TLS_ZONE_ID": "example.com", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"}, "tlsZoneId", "not the zone name"},
		{"tls without admin ranges", map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1")}, "adminCidrs", "admit nobody"},
		{"tls in one zone", map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1"), "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24", "PROMAWS_AZ_COUNT": "1"}, "azCount", "at least 2"},
		{"kms alias", map[string]string{"PROMAWS_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:alias/prometheus"}, "kmsKeyArn", "needs the key ARN"},
		{"kms not an arn", map[string]string{"PROMAWS_KMS_KEY_ARN": "1234abcd-12ab-34cd-56ef-1234567890ab"}, "kmsKeyArn", "arn:aws:kms:eu-central-1"},
		{"amp with a customer key", map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, "kmsKeyAllowsAps", "lets aps.amazonaws.com use the key"},
		{"no internet without an endpoint", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter", "PROMAWS_VPC_ENDPOINTS": "ec2,logs,ssm,secretsmanager,s3"}, "vpcEndpoints", "add sns to vpcEndpoints"},
		{"no internet, nodes from GitHub", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none"}, "nodeExporterDownloadBase", "s3://<bucket>/<prefix>"},
		{"no internet, other regions", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter", "PROMAWS_DISCOVERY_REGIONS": "eu-west-1"}, "discoveryRegions", "serves eu-central-1 alone"},
		{"no internet, Grafana from Docker Hub", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter", "PROMAWS_GRAFANA": "true", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16"}, "grafanaImage", "only with credentials"},
		{"cache, an image on Docker Hub", map[string]string{"PROMAWS_PULL_THROUGH_CACHE": "true", "PROMAWS_PROMETHEUS_IMAGE": "acme/prometheus:v3.16.0"}, "prometheusImage", "copy it into a private ECR repository"},
		{"kms other region", map[string]string{"PROMAWS_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, "kmsKeyArn", "in eu-central-1"},
		{"endpoint scheme", map[string]string{"PROMAWS_ENDPOINT": "127.0.0.1:5000"}, "endpoint", "http://127.0.0.1:5000"},
		{"discovery region format", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "eu-west-1,Ireland"}, "discoveryRegions", "eu-west-1,us-east-1"},
		{"discovery region twice", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "eu-west-1,us-east-1,eu-west-1"}, "discoveryRegions", "list each region once"},
		{"discovery region listed twice with region", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "eu-central-1,eu-central-1"}, "discoveryRegions", "list each region once"},
		{"ecs clusters without ecs discovery", map[string]string{"PROMAWS_ECS_CLUSTERS": "orders"}, "ecsClusters", "set ecsDiscovery=true"},
		{"ecs ports without ecs discovery", map[string]string{"PROMAWS_ECS_SCRAPE_PORTS": "9100"}, "ecsScrapePorts", "set ecsDiscovery=true"},
		{"ecs discovery without ports", map[string]string{"PROMAWS_ECS_DISCOVERY": "true"}, "ecsScrapePorts", "ecsScrapePorts=8080,9100"},
		{"ecs port out of range", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100,70000"}, "ecsScrapePorts", "use 1 to 65535"},
		{"ecs port not a number", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "http"}, "ecsScrapePorts", "is not a TCP port"},
		{"ecs port twice", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100,9100"}, "ecsScrapePorts", "listed twice"},
		{"ecs cluster name shape", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100", "PROMAWS_ECS_CLUSTERS": "orders.prod"}, "ecsClusters", "neither an ECS cluster name"},
		{"ecs cluster name too long", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100", "PROMAWS_ECS_CLUSTERS": strings.Repeat("a", 256)}, "ecsClusters", "1 to 255"},
		{"ecs cluster twice", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100", "PROMAWS_ECS_CLUSTERS": "orders,orders"}, "ecsClusters", "list each cluster once"},
		{"ecs cluster in an undiscovered region", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100", "PROMAWS_ECS_CLUSTERS": "arn:aws:ecs:eu-west-1:123456789012:cluster/batch"}, "ecsClusters", "add eu-west-1 to discoveryRegions"},
		{"ecs cluster in another partition", map[string]string{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9100", "PROMAWS_ECS_CLUSTERS": "arn:aws-cn:ecs:eu-central-1:123456789012:cluster/batch"}, "ecsClusters", "partition aws-cn"},
		{"discovery region other partition", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "cn-north-1"}, "discoveryRegions", "separate Prometheus"},
		{"discovery region gov partition", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "us-gov-west-1"}, "discoveryRegions", "another AWS partition"},
		{"scrape address unknown", map[string]string{"PROMAWS_SCRAPE_ADDRESS": "elastic"}, "scrapeAddress", "private or public"},
		{"scrape address public without remote regions", map[string]string{"PROMAWS_SCRAPE_ADDRESS": "public"}, "scrapeAddress", "list the other regions in discoveryRegions"},
		{"scrape address public with only region", map[string]string{"PROMAWS_SCRAPE_ADDRESS": "public", "PROMAWS_DISCOVERY_REGIONS": "eu-central-1"}, "scrapeAddress", "set scrapeAddress=private"},
		{"alertmanager scheme", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "ftp://am.example.com"}, "alertmanagerUrls", "https://alertmanager.example.com"},
		{"alertmanager no scheme", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "am.example.com:9093"}, "alertmanagerUrls", "http(s) URL"},
		{"alertmanager no host", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https:///am"}, "alertmanagerUrls", "http(s) URL"},
		{"alertmanager credentials", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https://u:p@am.example.com"}, "alertmanagerUrls", "without user:password@"},
		{"alertmanager query", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https://am.example.com/?x=1"}, "alertmanagerUrls", "base URL only"},
		{"alertmanager port", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "http://10.1.2.3:0"}, "alertmanagerUrls", "1 to 65535"},
		{"alertmanager api path", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https://am.example.com/api/v2/alerts"}, "alertmanagerUrls", "appends /api/v2/alerts"},
		{"alertmanager ipv6", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "http://[2001:db8::1]:9093"}, "alertmanagerUrls", "IPv4 address or a DNS name"},
		{"alertmanager twice", map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https://am.example.com,https://am.example.com"}, "alertmanagerUrls", "list each URL once"},
		{"alarm email shape", map[string]string{"PROMAWS_ALARM_EMAIL": "ops at example.com"}, "alarmEmail", "ops@example.com"},
		{"alarm email no domain", map[string]string{"PROMAWS_ALARM_EMAIL": "ops@localhost"}, "alarmEmail", "ops@example.com"},
		{"alarm topic not an arn", map[string]string{"PROMAWS_ALARM_TOPIC_ARN": "ops-alerts"}, "alarmTopicArn", "arn:aws:sns:eu-central-1"},
		{"alarm topic other region", map[string]string{"PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:ops"}, "alarmTopicArn", "use a topic in eu-central-1"},
		{"alarm email and topic", map[string]string{"PROMAWS_ALARM_EMAIL": "ops@example.com", "PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:ops"}, "alarmEmail", "clear alarmTopicArn"},
		{"alarm email without alarms", map[string]string{"PROMAWS_ALARMS": "false", "PROMAWS_ALARM_EMAIL": "ops@example.com"}, "alarms", "set alarms=true"},
		{"alarm topic without alarms", map[string]string{"PROMAWS_ALARMS": "false", "PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:ops"}, "alarms", "set alarms=true"},
		{"alarms off with the bundled delivery", map[string]string{"PROMAWS_ALARMS": "false"}, "alarms", "no alert would reach anyone"},
		{"alarms off with the AMP delivery", map[string]string{"PROMAWS_ALARMS": "false", "PROMAWS_STORAGE_MODE": "amp"}, "alarms", "name your own Alertmanagers in alertmanagerUrls"},
		{"alertmanager image unpinned", map[string]string{"PROMAWS_ALERTMANAGER_IMAGE": "prom/alertmanager"}, "alertmanagerImage", "pinned"},
		{"alertmanager image latest", map[string]string{"PROMAWS_ALERTMANAGER_IMAGE": "prom/alertmanager:latest"}, "alertmanagerImage", "pin a version"},
		{"alertmanager port is prometheus's", map[string]string{"PROMAWS_ALERTMANAGER_PORT": "9090"}, "alertmanagerPort", "port of its own"},
		{"alertmanager port is node_exporter's", map[string]string{"PROMAWS_ALERTMANAGER_PORT": "9100"}, "alertmanagerPort", "port of its own"},
		{"alertmanager port out of range", map[string]string{"PROMAWS_ALERTMANAGER_PORT": "70000"}, "alertmanagerPort", "1 to 65535"},
		{"alert group wait not a duration", map[string]string{"PROMAWS_ALERT_GROUP_WAIT": "soon"}, "alertGroupWait", "Prometheus duration"},
		{"alert group interval zero", map[string]string{"PROMAWS_ALERT_GROUP_INTERVAL": "0s"}, "alertGroupInterval", "outside"},
		{"alert repeat below the group interval", map[string]string{"PROMAWS_ALERT_REPEAT_INTERVAL": "2m"}, "alertRepeatInterval", "use at least 5m"},
		{"download base plain http", map[string]string{"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "http://mirror.example.com/ne"}, "nodeExporterDownloadBase", "https://"},
		{"download base bad bucket", map[string]string{"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://Bad_Bucket/ne"}, "nodeExporterDownloadBase", "S3 bucket"},
		{"download base shell", map[string]string{"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "https://m.example.com/$(id)"}, "nodeExporterDownloadBase", "shell characters"},
		{"network mode unknown", map[string]string{"PROMAWS_NETWORK_MODE": "hybrid"}, "networkMode", "public or private"},
		{"nat layout unknown", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_NAT_GATEWAYS": "two"}, "natGateways", "single, perZone or none"},
		{"nat layout in public mode", map[string]string{"PROMAWS_NAT_GATEWAYS": "perZone"}, "natGateways", "set networkMode=private"},
		{"endpoints in public mode", map[string]string{"PROMAWS_VPC_ENDPOINTS": "s3"}, "vpcEndpoints", "set networkMode=private"},
		{"endpoint unknown", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_VPC_ENDPOINTS": "ec2,dynamodb"}, "vpcEndpoints", "not an endpoint"},
		{"endpoint twice", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_VPC_ENDPOINTS": "ec2,ec2"}, "vpcEndpoints", "listed twice"},
		{"private subnets overlap the public ones", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16",
			"PROMAWS_SUBNET_CIDRS": "10.0.0.0/24,10.0.1.0/24", "PROMAWS_PRIVATE_SUBNET_CIDRS": "10.0.1.0/24,10.0.2.0/24"}, "privateSubnetCidrs", "overlaps"},
		{"private subnets missing beside given public ones", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16",
			"PROMAWS_SUBNET_CIDRS": "10.0.0.0/24,10.0.1.0/24"}, "privateSubnetCidrs", "list privateSubnetCidrs too"},
		{"private subnets in public mode", map[string]string{"PROMAWS_PRIVATE_SUBNET_CIDRS": "10.0.8.0/24,10.0.9.0/24"}, "privateSubnetCidrs", "set networkMode=private"},
		{"no room for private subnets", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_VPC_CIDR": "10.0.0.0/23", "PROMAWS_AZ_COUNT": "2"}, "vpcCidr", "needs 4"},
		{"storage mode unknown", map[string]string{"PROMAWS_STORAGE_MODE": "ebs"}, "storageMode", "ephemeral, efs, amp"},
		{"replicas with efs", map[string]string{"PROMAWS_REPLICAS": "2"}, "replicas", "set storageMode=amp, or replicas=1"},
		{"replicas with ephemeral", map[string]string{"PROMAWS_REPLICAS": "3", "PROMAWS_STORAGE_MODE": "ephemeral"}, "replicas", "diverging copy"},
		{"replicas zero", map[string]string{"PROMAWS_REPLICAS": "0", "PROMAWS_STORAGE_MODE": "amp"}, "replicas", "use 1 to 4"},
		{"replicas too many", map[string]string{"PROMAWS_REPLICAS": "5", "PROMAWS_STORAGE_MODE": "amp"}, "replicas", "use 1 to 4"},
		{"retention not a duration", map[string]string{"PROMAWS_RETENTION": "two weeks"}, "retention", "15d"},
		// Classes found by trying mistakes as a user would (issue: settings
		// that catch every mistake).
		{"vpc /25 (once a panic)", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.0/25"}, "vpcCidr", "/16../24"},
		{"vpc /29 (once a panic)", map[string]string{"PROMAWS_VPC_CIDR": "10.0.0.0/29"}, "vpcCidr", "/16../24"},
		{"scrape interval zero", map[string]string{"PROMAWS_SCRAPE_INTERVAL": "0s"}, "scrapeInterval", "outside 1s to 1h"},
		{"refresh interval zero", map[string]string{"PROMAWS_REFRESH_INTERVAL": "0s"}, "refreshInterval", "outside 1s to 1d"},
		{"refresh interval zero ms", map[string]string{"PROMAWS_REFRESH_INTERVAL": "0ms"}, "refreshInterval", "panics in Prometheus"},
		{"scrape interval a day", map[string]string{"PROMAWS_SCRAPE_INTERVAL": "1d"}, "scrapeInterval", "use one like 30s"},
		{"retention an hour", map[string]string{"PROMAWS_RETENTION": "1h"}, "retention", "2h block"},
		{"retention zero", map[string]string{"PROMAWS_RETENTION": "0d"}, "retention", "outside 2h"},
		{"region typo", map[string]string{"PROMAWS_REGION": "eu-centrall-1"}, "region", "did you mean eu-central-1?"},
		{"region unknown", map[string]string{"PROMAWS_REGION": "eu-middle-9"}, "region", "allowUnknownRegions=true"},
		{"discovery region typo", map[string]string{"PROMAWS_DISCOVERY_REGIONS": "eu-wset-1"}, "discoveryRegions", "did you mean eu-west-1?"},
		{"state region typo", map[string]string{"PROMAWS_STATE_BUCKET": "b-tfstate", "PROMAWS_STATE_REGION": "us-east-3"}, "stateRegion", "allowUnknownRegions"},
		{"zone letter twice", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1bb"}, "availabilityZones", "not a zone of region"},
		{"zone without letter", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1"}, "availabilityZones", "eu-central-1a"},
		{"ports collide", map[string]string{"PROMAWS_PROMETHEUS_PORT": "9100"}, "prometheusPort", "different ports"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(nil, c.env)
			if err == nil {
				t.Fatalf("%v must be rejected", c.env)
			}
			f, _ := FieldByKey(c.field)
			msg := err.Error()
			if !strings.Contains(msg, c.field+" ("+f.Env()+")") {
				t.Errorf("error must name %s and %s: %s", c.field, f.Env(), msg)
			}
			if !strings.Contains(msg, c.hint) {
				t.Errorf("error must say how to fix it (%q): %s", c.hint, msg)
			}
		})
	}
}

func TestWorldAdminWithOptIn(t *testing.T) {
	s, err := Load(nil, map[string]string{"PROMAWS_ADMIN_CIDRS": "0.0.0.0/0", "PROMAWS_ALLOW_WORLD_OPEN_ADMIN": "true",
		"PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/abc"})
	if err != nil || len(s.AdminCidrs) != 1 {
		t.Fatalf("the explicit opt-in must allow a world-open admin range behind the load balancer: %v", err)
	}
	// Without the load balancer that is plain HTTP to the internet, refused
	// whatever the opt-ins say.
	_, err = Load(nil, map[string]string{"PROMAWS_ADMIN_CIDRS": "0.0.0.0/0", "PROMAWS_ALLOW_WORLD_OPEN_ADMIN": "true", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"})
	if err == nil || !strings.Contains(err.Error(), "adminCidrs (PROMAWS_ADMIN_CIDRS): 0.0.0.0/0 would reach Prometheus and the Alertmanager over plain HTTP") {
		t.Fatalf("a world-open admin range without TLS must be refused: %v", err)
	}
}

func TestAlarmSettings(t *testing.T) {
	s := Defaults()
	if !s.Alarms || s.AlarmEmail != "" || s.AlarmTopicArn != "" {
		t.Fatalf("alarms are on by default, with a created topic and no subscription: %+v", s)
	}
	for _, env := range []map[string]string{
		{"PROMAWS_ALARM_EMAIL": "ops+prometheus@example.co.uk"},
		{"PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:ops-alerts"},
		{"PROMAWS_ALARMS": "false", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"},
		{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter"},
		{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter", "PROMAWS_GRAFANA": "true", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true", "PROMAWS_GRAFANA_IMAGE": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/mirror/grafana:13.1.2"},
		{"PROMAWS_PULL_THROUGH_CACHE": "true"},
		{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "PROMAWS_KMS_KEY_ALLOWS_APS": "true"},
		{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:ops-alerts"},
	} {
		if _, err := Load(nil, env); err != nil {
			t.Errorf("%v must be accepted: %v", env, err)
		}
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Load(nil, map[string]string{"PROMAWS_REGION": "x", "PROMAWS_NODE_COUNT": "-3"})
	if err == nil || !strings.Contains(err.Error(), "region") || !strings.Contains(err.Error(), "nodeCount") {
		t.Fatalf("every problem must be reported in one run: %v", err)
	}
}

func TestIsLoopbackEndpoint(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:5000": true, "http://localhost:4566": true, "http://[::1]:5000": true, "http://127.3.2.1": true,
		"http://10.0.0.5:5000": false, "https://ec2.eu-central-1.amazonaws.com": false, "not a url": false, "": false,
	} {
		if got := IsLoopbackEndpoint(endpoint); got != want {
			t.Errorf("IsLoopbackEndpoint(%q) = %v, want %v", endpoint, got, want)
		}
	}
}

func TestLoadContextFromCdktfJSON(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CDKTF_CONTEXT_JSON", "")
	writeFile(t, dir+"/cdktf.json", `{"language":"go","context":{"nodeCount":4}}`)
	ctx, err := LoadContext(dir)
	if err != nil || ctx["nodeCount"] != float64(4) {
		t.Fatalf("context from cdktf.json: %v %v", ctx, err)
	}
	t.Setenv("CDKTF_CONTEXT_JSON", `{"nodeCount":7}`)
	ctx, err = LoadContext(dir)
	if err != nil || ctx["nodeCount"] != float64(7) {
		t.Fatalf("the CLI's CDKTF_CONTEXT_JSON must win: %v %v", ctx, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEnvironmentsFromOneContext(t *testing.T) {
	ctx := map[string]any{
		"nodeCount":    float64(1),
		"stateBucket":  "acme-tfstate",
		"environments": map[string]any{"dev": map[string]any{}, "prod": map[string]any{"nodeCount": float64(4), "vpcCidr": "10.1.0.0/16"}},
	}
	dev, err := Load(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := Load(ctx, map[string]string{"PROMAWS_ENVIRONMENT": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if dev.NodeCount != 1 || prod.NodeCount != 4 || prod.VpcCidr != "10.1.0.0/16" || dev.VpcCidr != "10.0.0.0/16" {
		t.Errorf("per-environment overrides: dev %d %s, prod %d %s", dev.NodeCount, dev.VpcCidr, prod.NodeCount, prod.VpcCidr)
	}
	if dev.StateKey() == prod.StateKey() || dev.StackName() == prod.StackName() {
		t.Errorf("environments must not share state keys or stacks: %s %s", dev.StateKey(), prod.StateKey())
	}
	_, err = Load(ctx, map[string]string{"PROMAWS_ENVIRONMENT": "stage"})
	if err == nil || !strings.Contains(err.Error(), `"stage" is not in context.environments (dev, prod)`) {
		t.Errorf("an unknown environment must be named with the choices: %v", err)
	}
}

func TestStateSettings(t *testing.T) {
	for _, c := range []struct {
		env   map[string]string
		field string
	}{
		{map[string]string{"PROMAWS_STATE_BUCKET": "My_Bucket"}, "stateBucket"},
		{map[string]string{"PROMAWS_STATE_BUCKET": "192.168.1.1"}, "stateBucket"},
		{map[string]string{"PROMAWS_STATE_BUCKET": "a..b"}, "stateBucket"},
		{map[string]string{"PROMAWS_STATE_BUCKET": "ab"}, "stateBucket"},
		{map[string]string{"PROMAWS_STATE_LOCK_TABLE": "locks"}, "stateBucket"},
		{map[string]string{"PROMAWS_STATE_BUCKET": "acme-state", "PROMAWS_STATE_LOCK_TABLE": "x"}, "stateLockTable"},
		{map[string]string{"PROMAWS_STATE_BUCKET": "acme-state", "PROMAWS_STATE_REGION": "europe"}, "stateRegion"},
		{map[string]string{"PROMAWS_STATE_NONCURRENT_DAYS": "0"}, "stateNoncurrentDays"},
	} {
		_, err := Load(nil, c.env)
		f, _ := FieldByKey(c.field)
		if err == nil || !strings.Contains(err.Error(), c.field+" ("+f.Env()+")") {
			t.Errorf("%v: want an error naming %s, got %v", c.env, c.field, err)
		}
	}
	s, err := Load(nil, map[string]string{"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate"})
	if err != nil || !s.RemoteState() || s.StateKey() != "prometheus-aws/dev/terraform.tfstate" {
		t.Fatalf("valid bucket: %v %v", s, err)
	}
}

func cert(region string) string {
	return "arn:aws:acm:" + region + ":123456789012:certificate/0f3c9a6e-1234-4cde-9abc-0123456789ab"
}

func TestTLSAndKmsAccepted(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"certificate": {"PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1"), "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"},
		"domain":      {"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": "Z0123456789ABCDEFGHIJ", "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24"},
		"kms":         {"PROMAWS_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	} {
		s, err := Load(nil, env)
		if err != nil {
			t.Fatalf("%s: valid settings rejected: %v", name, err)
		}
		if got := s.TLS(); got != (name != "kms") {
			t.Errorf("%s: TLS() = %v", name, got)
		}
	}
}

// TestLargeFargateSizes: Fargate's 8 and 16 vCPU sizes, at both ends of
// their memory ranges (ECS developer guide, task definition parameters,
// Task size: 16-60 GiB in 4 GiB steps, 32-120 GiB in 8 GiB steps).
func TestLargeFargateSizes(t *testing.T) {
	for _, size := range [][2]string{{"8192", "16384"}, {"8192", "61440"}, {"16384", "32768"}, {"16384", "122880"}, {"4096", "30720"}} {
		if _, err := Load(nil, map[string]string{"PROMAWS_TASK_CPU": size[0], "PROMAWS_TASK_MEMORY": size[1]}); err != nil {
			t.Errorf("taskCpu=%s taskMemory=%s rejected: %v", size[0], size[1], err)
		}
	}
	if got := len(sizing.FargateMemory(8192)); got != 12 {
		t.Errorf("8 vCPU: %d memory sizes, want 12 (16 to 60 GiB by 4)", got)
	}
	if got := len(sizing.FargateMemory(16384)); got != 12 {
		t.Errorf("16 vCPU: %d memory sizes, want 12 (32 to 120 GiB by 8)", got)
	}
}

func TestDiscoveryRegionsAlwaysIncludeRegion(t *testing.T) {
	for _, c := range []struct {
		regions, want string
	}{
		{"", "eu-central-1"},
		{"eu-west-1", "eu-central-1,eu-west-1"},
		{"eu-central-1,eu-west-1", "eu-central-1,eu-west-1"},
		{"us-east-1,eu-central-1,eu-west-1", "eu-central-1,us-east-1,eu-west-1"},
	} {
		s, err := Load(nil, map[string]string{"PROMAWS_DISCOVERY_REGIONS": c.regions})
		if err != nil {
			t.Fatalf("%q: %v", c.regions, err)
		}
		if got := strings.Join(s.DiscoveredRegions(), ","); got != c.want {
			t.Errorf("discoveryRegions=%q discovers %s, want %s (region first, each once)", c.regions, got, c.want)
		}
		if got := strings.Join(s.RemoteRegions(), ","); got != strings.TrimPrefix(strings.TrimPrefix(c.want, "eu-central-1"), ",") {
			t.Errorf("discoveryRegions=%q: remote regions %s", c.regions, got)
		}
	}
	if s := Defaults(); s.ScrapeAddress != ScrapePrivate || len(s.AlertmanagerURLs) != 0 {
		t.Errorf("defaults: scrape address %q, alertmanagers %v; want private and none", s.ScrapeAddress, s.AlertmanagerURLs)
	}
	if _, err := Load(nil, map[string]string{"PROMAWS_SCRAPE_ADDRESS": "public", "PROMAWS_DISCOVERY_REGIONS": "us-east-1"}); err != nil {
		t.Errorf("public addresses for a remote region must be accepted: %v", err)
	}
}

func TestAlertmanagerURLs(t *testing.T) {
	for raw, want := range map[string]Alertmanager{
		"https://am.example.com":                 {Scheme: "https", Host: "am.example.com", Port: 443},
		"http://am.example.com/":                 {Scheme: "http", Host: "am.example.com", Port: 80},
		"http://10.1.2.3:9093":                   {Scheme: "http", Host: "10.1.2.3", Port: 9093},
		"https://ops.example.com:8443/am/":       {Scheme: "https", Host: "ops.example.com", Port: 8443, PathPrefix: "/am"},
		"http://[2001:db8::1]:9093/alertmanager": {Scheme: "http", Host: "2001:db8::1", Port: 9093, PathPrefix: "/alertmanager"},
	} {
		got, err := ParseAlertmanagerURL(raw)
		if err != nil || got != want {
			t.Errorf("%s: got %+v (%v), want %+v", raw, got, err, want)
		}
	}
	s, err := Load(map[string]any{"alertmanagerUrls": []any{"http://10.1.2.3:9093", "https://am.example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ams := s.Alertmanagers()
	if len(ams) != 2 || ams[0].Target() != "10.1.2.3:9093" || ams[1].Target() != "am.example.com:443" {
		t.Errorf("alertmanagers from a context list: %+v", ams)
	}
	if v6, _ := ParseAlertmanagerURL("http://[2001:db8::1]:9093"); v6.Host != "2001:db8::1" || v6.Target() != "[2001:db8::1]:9093" {
		t.Errorf("IPv6 alertmanager: %q %q", v6.Host, v6.Target())
	}
}

func TestStorageModesAndRetention(t *testing.T) {
	for _, c := range []struct {
		env       map[string]string
		local     string // the task's TSDB retention; "" in agent mode
		agent     bool
		workspace int // the workspace's retention in days; 0 without one
	}{
		{map[string]string{}, "15d", false, 0},
		{map[string]string{"PROMAWS_STORAGE_MODE": "ephemeral"}, "15d", false, 0},
		{map[string]string{"PROMAWS_RETENTION": "30d"}, "30d", false, 0},
		// amp: the workspace keeps retention (15d by default), the task
		// runs in agent mode and keeps no TSDB.
		{map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_REPLICAS": "4"}, "", true, 15},
		{map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_RETENTION": "90d"}, "", true, 90},
		{map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_RETENTION": "3y"}, "", true, 1095},
		// amp with your own Alertmanagers: the task evaluates the rules,
		// so it keeps a server's TSDB of 1d; the workspace keeps retention.
		{map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_RETENTION": "2w", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"}, "1d", false, 14},
	} {
		s, err := Load(nil, c.env)
		if err != nil {
			t.Fatalf("%v: %v", c.env, err)
		}
		if got := s.TSDBRetention(); got != c.local {
			t.Errorf("%v: local retention %q, want %q", c.env, got, c.local)
		}
		if got := s.AgentMode(); got != c.agent {
			t.Errorf("%v: agent mode %v, want %v", c.env, got, c.agent)
		}
		if got := s.WorkspaceRetentionDays(); got != c.workspace {
			t.Errorf("%v: workspace retention %d days, want %d", c.env, got, c.workspace)
		}
	}
	if s := Defaults(); s.StorageMode != StorageEFS || s.Replicas != 1 {
		t.Errorf("defaults: storageMode %s, replicas %d; want efs, 1 (docs/operations.md, Storage and high availability)", s.StorageMode, s.Replicas)
	}
}

// TestWorkspaceRetentionIsWholeDaysInAMPsRange: with storageMode=amp,
// retention is the workspace's, which AMP keeps in whole days from 1 to
// 1095; anything else is refused naming the setting, its variable and
// the fix, before anything is written.
func TestWorkspaceRetentionIsWholeDaysInAMPsRange(t *testing.T) {
	for _, bad := range []string{"6h", "36h", "0d", "1096d", "4y", "15 days"} {
		_, err := Load(nil, map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_RETENTION": bad})
		if err == nil {
			t.Errorf("retention=%s with storageMode=amp: accepted, want refused", bad)
			continue
		}
		for _, want := range []string{"retention (PROMAWS_RETENTION)", "whole days", "15d"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("retention=%s: error lacks %q: %v", bad, want, err)
			}
		}
	}
	// The same values keep their meaning for a local TSDB.
	if _, err := Load(nil, map[string]string{"PROMAWS_RETENTION": "6h"}); err != nil {
		t.Errorf("retention=6h with efs: %v", err)
	}
}

// cdktf's own context keys pass through; nothing else does.
func TestCdktfContextKeysPass(t *testing.T) {
	ctx := map[string]any{}
	for _, k := range CdktfContextKeys {
		ctx[k] = "x"
	}
	if _, err := Load(ctx, nil); err != nil {
		t.Fatalf("cdktf's context keys must be allowed: %v", err)
	}
}

func TestUnknownRegionsOptIn(t *testing.T) {
	s, err := Load(nil, map[string]string{"PROMAWS_REGION": "eu-middle-9", "PROMAWS_ALLOW_UNKNOWN_REGIONS": "true"})
	if err != nil || s.Region != "eu-middle-9" {
		t.Fatalf("allowUnknownRegions=true must accept a region-shaped name: %v", err)
	}
	if _, err := Load(nil, map[string]string{"PROMAWS_REGION": "Frankfurt", "PROMAWS_ALLOW_UNKNOWN_REGIONS": "true"}); err == nil {
		t.Fatal("the opt-in accepts new regions, not any text")
	}
	for _, r := range Regions {
		if !regionRE.MatchString(r) {
			t.Errorf("listed region %q does not have a region's shape", r)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "1h30m": 90 * time.Minute, "2w": 14 * 24 * time.Hour,
		"1y": 365 * 24 * time.Hour, "500ms": 500 * time.Millisecond, "1d2h": 26 * time.Hour} {
		if got, ok := ParseDuration(in); !ok || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "s", "30", "1h1d", "99999999999999999999s", "-1s"} {
		if _, ok := ParseDuration(bad); ok {
			t.Errorf("ParseDuration(%q) must fail", bad)
		}
	}
}

// A broken cdktf.json names the file, line and column, and says it must be
// JSON; CDKTF_CONTEXT_JSON likewise.
func TestJSONSyntaxErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CDKTF_CONTEXT_JSON", "")
	os.Unsetenv("CDKTF_CONTEXT_JSON")
	for text, want := range map[string]string{
		"{\n  \"context\": {\n    \"nodeCount\": 3,\n  }\n}\n": "cdktf.json: line 4, column 3:",
		"{\n  // comment\n  \"context\": {}\n}":                "cdktf.json: line 2, column 3:",
		"{\"context\": [1]}":                                   "cdktf.json: line 1, column",
	} {
		if err := os.WriteFile(filepath.Join(dir, "cdktf.json"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadContext(dir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "it must be JSON") {
			t.Errorf("%q: want %q and the hint that it must be JSON, got %v", text, want, err)
		}
	}
	t.Setenv("CDKTF_CONTEXT_JSON", `{"nodeCount": 3,}`)
	if _, err := LoadContext(dir); err == nil || !strings.Contains(err.Error(), "CDKTF_CONTEXT_JSON: line 1, column 17") {
		t.Errorf("CDKTF_CONTEXT_JSON syntax error: %v", err)
	}
}

// A private deployment nobody can open is valid (alerts still go out), and
// says how to reach it; one with a way in says nothing.
func TestPrivateNetworkSaysHowToReachIt(t *testing.T) {
	s, err := Load(nil, map[string]string{"PROMAWS_NETWORK_MODE": "private"})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Notes(); len(n) != 1 || !strings.Contains(n[0], "Session Manager") || !strings.Contains(n[0], "adminCidrs") {
		t.Errorf("notes %q: want how to reach it", n)
	}
	for _, env := range []map[string]string{
		{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"},
		{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/abc"},
		{},
	} {
		s, err := Load(nil, env)
		if err != nil || len(s.Notes()) != 0 {
			t.Errorf("%v: %v, notes %q", env, err, s.Notes())
		}
	}
}

// TestCISettings: a trust policy built from wrong CI settings would admit
// someone else's pipelines, so each mistake is refused before synth.
func TestCISettings(t *testing.T) {
	base := map[string]string{"PROMAWS_STATE_BUCKET": "acme-tfstate", "PROMAWS_CI_PLATFORM": "gitlab", "PROMAWS_CI_PROJECT": "ops/prometheus-aws"}
	if _, err := Load(nil, base); err != nil {
		t.Fatalf("valid CI settings refused: %v", err)
	}
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"unknown platform":         {map[string]string{"PROMAWS_CI_PLATFORM": "jenkins"}, `ciPlatform (PROMAWS_CI_PLATFORM): "jenkins" is not a CI platform`},
		"gitlab project":           {map[string]string{"PROMAWS_CI_PROJECT": "prometheus-aws"}, `ciProject (PROMAWS_CI_PROJECT): "prometheus-aws" is not a GitLab project path`},
		"github repository":        {map[string]string{"PROMAWS_CI_PLATFORM": "github", "PROMAWS_CI_PROJECT": "a/b/c"}, `"a/b/c" is not a GitHub repository`},
		"no state bucket":          {map[string]string{"PROMAWS_STATE_BUCKET": ""}, "stateBucket (PROMAWS_STATE_BUCKET): ciPlatform=gitlab needs the S3 state"},
		"wildcard branch":          {map[string]string{"PROMAWS_CI_BRANCH": "release-*"}, `ciBranch (PROMAWS_CI_BRANCH): "release-*" must name one branch`},
		"gitlab url with a path":   {map[string]string{"PROMAWS_CI_GITLAB_URL": "https://example.com/gitlab"}, "ciGitlabUrl (PROMAWS_CI_GITLAB_URL)"},
		"provider arn":             {map[string]string{"PROMAWS_CI_OIDC_PROVIDER_ARN": "gitlab.com"}, "is not an IAM OIDC provider ARN"},
		"no environments":          {map[string]string{"PROMAWS_CI_ENVIRONMENTS": ""}, "ciEnvironments (PROMAWS_CI_ENVIRONMENTS): is empty"},
		"project without platform": {map[string]string{"PROMAWS_CI_PLATFORM": ""}, "ciPlatform (PROMAWS_CI_PLATFORM): is empty but ciProject"},
	} {
		env := map[string]string{}
		maps.Copy(env, base)
		maps.Copy(env, c.env)
		if _, err := Load(nil, env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
}

// A private range over a public subnet the Network carves by itself (no
// subnetCidrs given) fails at apply: refused at synth, naming both.
func TestPrivateRangeOverDerivedPublicSubnet(t *testing.T) {
	_, err := Load(nil, map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_PRIVATE_SUBNET_CIDRS": "10.0.1.0/24,10.0.5.0/24"})
	if err == nil || !strings.Contains(err.Error(), `privateSubnetCidrs (PROMAWS_PRIVATE_SUBNET_CIDRS): "10.0.1.0/24" overlaps "10.0.1.0/24"`) {
		t.Errorf("want the overlap with the derived public subnet refused, got %v", err)
	}
	if _, err := Load(nil, map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_PRIVATE_SUBNET_CIDRS": "10.0.10.0/24,10.0.11.0/24"}); err != nil {
		t.Errorf("ranges clear of the public ones: %v", err)
	}
}

// Every refusal names the setting's key and its environment variable,
// wherever the value came from.
func TestRefusalsNameKeyAndVariable(t *testing.T) {
	for name, c := range map[string]struct {
		ctx map[string]any
		env map[string]string
	}{
		"a number in cdktf.json":      {ctx: map[string]any{"taskMemory": "1GB"}},
		"a number in the environment": {env: map[string]string{"PROMAWS_TASK_MEMORY": "1GB"}},
		"a bool in cdktf.json":        {ctx: map[string]any{"basicAuth": "yes please"}},
		"a list of the wrong type":    {ctx: map[string]any{"taskMemory": []any{1, 2}}},
		"a range in cdktf.json":       {ctx: map[string]any{"taskMemory": float64(3)}},
	} {
		_, err := Load(c.ctx, c.env)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		var key, env string
		for _, f := range Fields {
			if strings.Contains(err.Error(), f.Key+" (") {
				key, env = f.Key, f.Env()
			}
		}
		if key == "" || !strings.Contains(err.Error(), env) {
			t.Errorf("%s: %q names no setting with its variable", name, err)
		}
	}
}

// Admin ranges that need no opt-in or take it: inside the VPC (the
// VPC's own traffic), private ranges with allowPlainHttpAdmin, anything
// behind the load balancer; and images pinned by digest.
func TestAdminAccessAndDigestsAccepted(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, env := range []map[string]string{
		{"PROMAWS_ADMIN_CIDRS": "10.0.0.0/16"},
		{"PROMAWS_ADMIN_CIDRS": "10.0.3.0/24"},
		{"PROMAWS_ADMIN_CIDRS": "10.8.0.0/16,172.16.0.0/12,192.168.1.0/24,100.64.0.0/10,fd00:8::/32", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"},
		{"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/abc"},
		{"PROMAWS_REQUIRE_IMAGE_DIGESTS": "true", "PROMAWS_PROMETHEUS_IMAGE": DefaultPrometheusImage + digest,
			"PROMAWS_ALERTMANAGER_IMAGE": DefaultAlertmanagerImage + digest, "PROMAWS_CONFIG_SYNC_IMAGE": DefaultConfigSyncImage + digest},
	} {
		s, err := Load(nil, env)
		if err != nil {
			t.Errorf("%v must be accepted: %v", env, err)
			continue
		}
		if img := env["PROMAWS_PROMETHEUS_IMAGE"]; img != "" && s.PrometheusImage != img {
			t.Errorf("the digest must be kept: %q, want %q", s.PrometheusImage, img)
		}
	}
}

// Single sign-on: accepted in both modes behind the load balancer; each
// refusal names the key, its variable and the fix.
func TestSingleSignOnSettings(t *testing.T) {
	lb := map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": cert("eu-central-1"), "PROMAWS_ADMIN_CIDRS": "192.0.2.0/24", "PROMAWS_BASIC_AUTH": "false"}
	with := func(base map[string]string, kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	oidc := with(lb, "PROMAWS_SSO", "oidc", "PROMAWS_OIDC_ISSUER", "https://login.example.com", "PROMAWS_OIDC_AUTHORIZATION_ENDPOINT", "https://login.example.com/authorize",
		"PROMAWS_OIDC_TOKEN_ENDPOINT", "https://login.example.com/token", "PROMAWS_OIDC_USER_INFO_ENDPOINT", "https://login.example.com/userinfo",
		"PROMAWS_OIDC_CLIENT_ID", "prometheus", "PROMAWS_OIDC_CLIENT_SECRET_ARN", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prometheus-oidc-AbCdEf")
	for name, env := range map[string]map[string]string{
		"cognito":      with(lb, "PROMAWS_SSO", "cognito"),
		"cognito-pool": with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_COGNITO_USER_POOL_ID", "eu-central-1_AbCdEfGhI", "PROMAWS_COGNITO_DOMAIN", "acme-login"),
		"oidc":         oidc,
	} {
		s, err := Load(nil, env)
		if err != nil {
			t.Fatalf("%s: valid settings rejected: %v", name, err)
		}
		if !s.SingleSignOn() {
			t.Errorf("%s: SingleSignOn() = false", name)
		}
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no load balancer", map[string]string{"PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false"}, "sso (PROMAWS_SSO): sso=cognito signs people in at the HTTPS load balancer, which is off"},
		{"password behind sso", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_BASIC_AUTH", "true"), "basicAuth (PROMAWS_BASIC_AUTH): is on with sso=cognito"},
		{"unknown mode", with(lb, "PROMAWS_SSO", "saml"), `sso (PROMAWS_SSO): "saml" is not a mode`},
		{"pool without domain", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_COGNITO_USER_POOL_ID", "eu-central-1_AbCdEfGhI"), "cognitoDomain (PROMAWS_COGNITO_DOMAIN): cognitoUserPoolId is set"},
		{"pool elsewhere", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_COGNITO_USER_POOL_ID", "us-east-1_AbCdEfGhI", "PROMAWS_COGNITO_DOMAIN", "acme-login"), "the pool is in us-east-1"},
		{"reserved prefix", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_COGNITO_DOMAIN", "acme-cognito"), "reserved"},
		{"oidc keys with cognito", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_OIDC_CLIENT_ID", "x"), "oidcClientId (PROMAWS_OIDC_CLIENT_ID): is set but sso=cognito"},
		{"cognito keys without sso", map[string]string{"PROMAWS_COGNITO_DOMAIN": "acme-login"}, "cognitoDomain (PROMAWS_COGNITO_DOMAIN): is set but sso=off"},
		{"oidc without endpoints", with(lb, "PROMAWS_SSO", "oidc"), "oidcTokenEndpoint (PROMAWS_OIDC_TOKEN_ENDPOINT): sso=oidc needs it"},
		{"oidc plain http", with(oidc, "PROMAWS_OIDC_TOKEN_ENDPOINT", "http://login.example.com/token"), "is not an https URL"},
		{"secret value, not arn", with(oidc, "PROMAWS_OIDC_CLIENT_SECRET_ARN", "s3cr3t"), "oidcClientSecretArn (PROMAWS_OIDC_CLIENT_SECRET_ARN): \"s3cr3t\" is not a Secrets Manager secret ARN"},
		{"no openid scope", with(oidc, "PROMAWS_OIDC_SCOPE", "email"), "lacks openid"},
		{"session too long", with(lb, "PROMAWS_SSO", "cognito", "PROMAWS_SSO_SESSION_TIMEOUT", "604801"), "ssoSessionTimeout (PROMAWS_SSO_SESSION_TIMEOUT): 604801 is out of range"},
	} {
		_, err := Load(nil, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
}

// TestTaskSizeWarnings: a fleet larger than the task holds synthesizes (a
// warning, not an error) and the warning names the size to use; the
// defaults, and a task big enough, warn of nothing.
func TestTaskSizeWarnings(t *testing.T) {
	for name, c := range map[string]struct {
		env  map[string]string
		want []string // empty: no warning
	}{
		"defaults":                 {env: nil},
		"a fleet of 2,000":         {env: map[string]string{"PROMAWS_EXPECTED_TARGETS": "2000"}, want: []string{"taskMemory=1024 (PROMAWS_TASK_MEMORY)", "2000 targets (expectedTargets)", "use taskCpu=512 taskMemory=4096"}},
		"keeps a larger CPU":       {env: map[string]string{"PROMAWS_EXPECTED_TARGETS": "2000", "PROMAWS_TASK_CPU": "2048", "PROMAWS_TASK_MEMORY": "5120"}, want: nil},
		"grows the CPU for memory": {env: map[string]string{"PROMAWS_EXPECTED_TARGETS": "20000"}, want: []string{"~9,600,000 series", "use taskCpu=8192 taskMemory=36864", "PROMAWS_TASK_CPU=8192"}},
		"the largest size":         {env: map[string]string{"PROMAWS_EXPECTED_TARGETS": "24000", "PROMAWS_TASK_CPU": "16384", "PROMAWS_TASK_MEMORY": "122880"}, want: nil},
		"beyond the largest size":  {env: map[string]string{"PROMAWS_EXPECTED_TARGETS": "100000"}, want: []string{"no Fargate size holds that", "discoveryTagValue"}},
		// The stack's own nodes (at most 100) fit the smallest task.
		"from nodeCount": {env: map[string]string{"PROMAWS_NODE_COUNT": "100", "PROMAWS_TASK_CPU": "256", "PROMAWS_TASK_MEMORY": "1024"}, want: nil},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Load(nil, c.env)
			if err != nil {
				t.Fatalf("a size warning must not refuse the settings: %v", err)
			}
			w := s.Warnings()
			if len(c.want) == 0 {
				if len(w) != 0 {
					t.Fatalf("want no warning, got %q", w)
				}
				return
			}
			if len(w) != 1 {
				t.Fatalf("want one warning, got %q", w)
			}
			for _, part := range c.want {
				if !strings.Contains(w[0], part) {
					t.Errorf("warning lacks %q:\n%s", part, w[0])
				}
			}
		})
	}
	if s, _ := Load(nil, map[string]string{"PROMAWS_NODE_COUNT": "7"}); s.Targets() != 7 {
		t.Errorf("expectedTargets=0 must size for nodeCount, got %d", s.Targets())
	}
	if _, err := Load(nil, map[string]string{"PROMAWS_EXPECTED_TARGETS": "-1"}); err == nil || !strings.Contains(err.Error(), "expectedTargets (PROMAWS_EXPECTED_TARGETS)") {
		t.Errorf("a negative fleet must be refused by name, got %v", err)
	}
}

// The EFS throughput mode: elastic by default, bursting, or provisioned
// with a throughput in EFS's range; anything else, or a mode for a file
// system the stack does not create, is refused naming the setting.
func TestEFSThroughputMode(t *testing.T) {
	if s := Defaults(); s.EFSThroughputMode != EFSElastic || s.EFSProvisionedMibps != 0 {
		t.Errorf("default: %s, %d MiB/s; want elastic, none provisioned", s.EFSThroughputMode, s.EFSProvisionedMibps)
	}
	for _, good := range []map[string]string{
		{"PROMAWS_EFS_THROUGHPUT_MODE": "bursting"},
		{"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned", "PROMAWS_EFS_PROVISIONED_MIBPS": "5"},
		{"PROMAWS_STORAGE_MODE": "amp"},
	} {
		if _, err := Load(nil, good); err != nil {
			t.Errorf("%v: %v", good, err)
		}
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "burst"}, "efsThroughputMode (PROMAWS_EFS_THROUGHPUT_MODE): \"burst\" is not an EFS throughput mode; use one of elastic, bursting, provisioned"},
		{map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "bursting", "PROMAWS_STORAGE_MODE": "amp"}, "efsThroughputMode (PROMAWS_EFS_THROUGHPUT_MODE): bursting applies to storageMode=efs"},
		{map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned"}, "efsProvisionedMibps (PROMAWS_EFS_PROVISIONED_MIBPS): 0 MiB/s cannot be provisioned"},
		{map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned", "PROMAWS_EFS_PROVISIONED_MIBPS": "4000"}, "4000 MiB/s cannot be provisioned"},
		{map[string]string{"PROMAWS_EFS_PROVISIONED_MIBPS": "5"}, "efsProvisionedMibps (PROMAWS_EFS_PROVISIONED_MIBPS): 5 MiB/s is provisioned only with efsThroughputMode=provisioned"},
	} {
		_, err := Load(nil, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want an error with %q", c.env, err, c.want)
		}
	}
}

// containerInsights=false leaves the running-task alarm a free metric that
// tells no running task from some: refused with more than one replica.
func TestContainerInsightsOffNeedsOneReplica(t *testing.T) {
	if _, err := Load(nil, map[string]string{"PROMAWS_CONTAINER_INSIGHTS": "false"}); err != nil {
		t.Errorf("containerInsights=false, one replica: %v", err)
	}
	_, err := Load(nil, map[string]string{"PROMAWS_CONTAINER_INSIGHTS": "false", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_REPLICAS": "2"})
	if err == nil || !strings.Contains(err.Error(), "containerInsights (PROMAWS_CONTAINER_INSIGHTS): false leaves the running-task alarm only AWS/ECS's free metrics") {
		t.Errorf("containerInsights=false with 2 replicas: %v, want refused naming the setting", err)
	}
	if _, err := Load(nil, map[string]string{"PROMAWS_CONTAINER_INSIGHTS": "false", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_REPLICAS": "2", "PROMAWS_ALARMS": "false", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"}); err != nil {
		t.Errorf("no alarms, nothing reads the metric: %v", err)
	}
}
