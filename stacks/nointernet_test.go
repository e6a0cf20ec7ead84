package stacks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// natGateways=none: no route out of the private subnets, images through
// the pull-through cache, node_exporter from S3; on AWS and against the
// emulator (as e2e/nointernet_test.go deploys it: read here by the checks
// of every variant only).
var (
	noInternet = declare("no-internet", env{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none",
		"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter"})
	_ = declare("no-internet-local", env{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none", "PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter",
		"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"})
)

// natGateways=none: no NAT gateway and no route out of the private route
// tables; ECR's two endpoints and S3's added; every image of the task
// pulled through the stack's cache repositories, which the execution role
// may pull from and import into, and nothing else.
func TestNoInternet(t *testing.T) {
	d := noInternet.doc(t)
	if n := len(d.Names("aws_nat_gateway")) + len(d.Names("aws_eip")); n != 0 {
		t.Errorf("no-internet: %d NAT gateways and addresses, want none", n)
	}
	for name, r := range d.Of("aws_route") {
		if strings.HasPrefix(policy.Str(r["route_table_id"]), "${aws_route_table.network_private") {
			t.Errorf("no-internet: private route %s %v leaves the VPC", name, r)
		}
	}
	var services []string
	for _, e := range d.Of("aws_vpc_endpoint") {
		services = append(services, policy.Str(e["service_name"]))
	}
	for _, want := range []string{"ecr.api", "ecr.dkr", "s3", "logs", "ssm", "ec2", "sns", "secretsmanager"} {
		if !slices.Contains(services, "com.amazonaws.eu-central-1."+want) {
			t.Errorf("no-internet: no %s endpoint among %v", want, services)
		}
	}
	repos := map[string]string{}
	for name, r := range d.Of("aws_ecr_repository") {
		repos[policy.Ref("aws_ecr_repository", name, "repository_url")] = policy.Str(r["name"])
	}
	_, task := one(t, d, "aws_ecs_task_definition")
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
		t.Fatal(err)
	}
	for _, c := range defs {
		image := policy.Str(c["image"])
		url, _, _ := strings.Cut(image, "}")
		if repos[url+"}"] == "" {
			t.Errorf("no-internet: container %s pulls %s, not from a cache repository of the stack", c["name"], image)
		}
	}
	if len(defs) != 3 || len(repos) != 3 {
		t.Errorf("no-internet: %d containers and %d cache repositories, want Prometheus, %s and the Alertmanager in each", len(defs), len(repos), taskcontract.ConfigSyncContainerName)
	}
	// And it passes the private-network rule: TestPoliciesHoldForEveryVariant.
}

// The pull-through cache alone, in the public network.
var pullThrough = declare("pull-through", env{"PROMAWS_PULL_THROUGH_CACHE": "true"})

// The execution role fills the cache: without ecr:BatchImportUpstreamImage
// the first pull is refused, and policy rule ecr-pull-exactly says so.
func TestCachedImagesNeedTheImportRight(t *testing.T) {
	raw := mustJSON(t, pullThrough.doc(t).Raw)
	if !strings.Contains(raw, `\"ecr:BatchImportUpstreamImage\"`) {
		t.Fatal("pull-through: the execution role may not import upstream images")
	}
	d, err := policy.Parse([]byte(strings.ReplaceAll(raw, `,\"ecr:BatchImportUpstreamImage\"`, "")))
	if err != nil {
		t.Fatal(err)
	}
	var fired []string
	for _, v := range policy.Check(d, policy.Options{}) {
		if v.Rule == "ecr-pull-exactly" && strings.Contains(v.Message, "ecr:BatchImportUpstreamImage") {
			fired = append(fired, v.Message)
		}
	}
	if len(fired) != 3 {
		t.Errorf("ecr-pull-exactly must flag each of the 3 cached images without the import right; got %v", fired)
	}
}
