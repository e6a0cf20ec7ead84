package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// fixtureTF is what a user brings to the secure options: a KMS key and a
// Route 53 zone. Credentials, endpoint and CA come from the emulator's
// environment (AWS_ENDPOINT_URL and friends).
const fixtureTF = `{
  "provider": {"aws": {"region": "eu-central-1", "skip_metadata_api_check": "true", "skip_credentials_validation": true}},
  "resource": {
    "aws_kms_key": {"key": {"description": "customer key for prometheus-aws", "deletion_window_in_days": 7}},
    "aws_route53_zone": {"zone": {"name": "example.com", "force_destroy": true}}
  },
  "output": {
    "key_arn": {"value": "${aws_kms_key.key.arn}"},
    "zone_id": {"value": "${aws_route53_zone.zone.zone_id}"}
  }
}`

// TestSecureAccess applies the hardened options together against the
// emulator: Prometheus behind the HTTPS load balancer with a certificate
// created and DNS-validated in Route 53, a customer KMS key on logs, the
// secret and node volumes, and VPC flow logs. It must apply, re-plan clean
// and destroy.
func TestSecureAccess(t *testing.T) {
	h := newHarness(t)

	fixture, outs := applyFixture(t, h, "KMS key, hosted zone")
	// An empty key ARN would deploy without the customer key, and every
	// kms_key_id below would then equal it: the key must be there.
	keyArn, zoneID := outputString(t, outs, "key_arn"), outputString(t, outs, "zone_id")
	if !strings.HasPrefix(keyArn, "arn:aws:kms:eu-central-1:") || !strings.Contains(keyArn, ":key/") {
		t.Fatalf("the fixture's key_arn %q is not a KMS key ARN", keyArn)
	}

	dep := h.deploy(t, "secure", map[string]string{
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": zoneID,
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_KMS_KEY_ARN": keyArn,
		"PROMAWS_FLOW_LOGS": "true", "PROMAWS_NODE_COUNT": "1",
	})
	if dep.Settings.KmsKeyArn != keyArn {
		t.Fatalf("the stack is configured with KMS key %q, want the fixture's %q", dep.Settings.KmsKeyArn, keyArn)
	}

	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	step(t, "the applied resources are the secure ones", func(t *testing.T) {
		state, err := dep.State(h.ctx)
		if err != nil || state == nil {
			t.Fatalf("terraform state: %v (or nothing applied)", err)
		}
		byType := map[string][]*tfjson.StateResource{}
		for _, r := range state.Values.RootModule.Resources {
			byType[r.Type] = append(byType[r.Type], r)
		}
		if len(byType["aws_acm_certificate"]) != 1 || byType["aws_acm_certificate"][0].AttributeValues["status"] != "ISSUED" {
			t.Errorf("the certificate must be issued after DNS validation: %v", attrs(byType["aws_acm_certificate"]))
		}
		ports := map[string]string{} // port -> default action type
		for _, l := range byType["aws_lb_listener"] {
			action, _ := l.AttributeValues["default_action"].([]any)
			if len(action) == 1 {
				first, _ := action[0].(map[string]any)
				ports[fmt.Sprint(l.AttributeValues["port"])] = fmt.Sprint(first["type"])
			}
		}
		if ports["443"] != "forward" || ports["80"] != "redirect" || len(ports) != 2 {
			t.Errorf("listeners: want 443 forward and 80 redirect, have %v", ports)
		}
		for _, typ := range []string{"aws_cloudwatch_log_group", "aws_secretsmanager_secret"} {
			if len(byType[typ]) == 0 {
				t.Errorf("no %s applied", typ)
			}
			for _, r := range byType[typ] {
				if r.AttributeValues["kms_key_id"] != keyArn {
					t.Errorf("%s must be encrypted with the customer key: kms_key_id=%v", r.Address, r.AttributeValues["kms_key_id"])
				}
			}
		}
		svc := byType["aws_ecs_service"]
		if len(svc) != 1 {
			t.Fatalf("want one ECS service")
		}
		// Prometheus and, under /alertmanager on the same listener, the
		// bundled Alertmanager.
		lbs, _ := svc[0].AttributeValues["load_balancer"].([]any)
		containers := map[string]bool{}
		for _, lb := range lbs {
			if m, ok := lb.(map[string]any); ok {
				containers[fmt.Sprint(m["container_name"])] = true
			}
		}
		if len(lbs) != 2 || !containers["prometheus"] || !containers["alertmanager"] {
			t.Errorf("the service must register Prometheus and the Alertmanager in their target groups: %v", svc[0].AttributeValues["load_balancer"])
		}
		if len(byType["aws_lb_listener_rule"]) != 1 {
			t.Errorf("want the Alertmanager's path rule on the HTTPS listener, have %d rules", len(byType["aws_lb_listener_rule"]))
		}
		if len(byType["aws_flow_log"]) != 1 {
			t.Errorf("flow logs were asked for")
		}
	})

	step(t, "the applied HTTP listener redirects to HTTPS 443 with a 301", func(t *testing.T) {
		assertHTTPRedirects(t, h, dep)
	})

	step(t, "the task runs as Fargate runs it behind the load balancer, its secret under the customer key", func(t *testing.T) {
		assertOnlyLoadBalancerIngress(t, h, dep)
		assertTaskServes(t, h, dep, "Prometheus behind basic auth")
	})

	step(t, "destroy leaves nothing", func(t *testing.T) { destroyAll(t, h, dep, fixture) })
}

// outputString is a string output of a Terraform configuration; a missing,
// non-string or empty one fails the test.
func outputString(t *testing.T, outs map[string]tfexec.OutputMeta, name string) string {
	t.Helper()
	o, ok := outs[name]
	if !ok {
		t.Fatalf("no output %s", name)
	}
	var v string
	if err := json.Unmarshal(o.Value, &v); err != nil {
		t.Fatalf("output %s: %v (%s)", name, err, o.Value)
	}
	if v == "" {
		t.Fatalf("output %s is empty", name)
	}
	return v
}

// assertOnlyLoadBalancerIngress checks, in the emulator's EC2 API, that the
// task's security group (the service's, as ECS holds it) admits
// Prometheus's port from the load balancer's group alone: no address
// range, no other group. (The runner reaches the task through a host port,
// which proves nothing about who AWS lets in.)
func assertOnlyLoadBalancerIngress(t *testing.T, h *harness, dep *deployment) {
	t.Helper()
	s := dep.Settings
	svcs, err := ecs.NewFromConfig(h.aws).DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.StackName()), Services: []string{rig.ServiceName(s)}})
	if err != nil || len(svcs.Services) != 1 {
		t.Fatalf("ECS service %s: %v", rig.ServiceName(s), err)
	}
	net := svcs.Services[0].NetworkConfiguration
	if net == nil || net.AwsvpcConfiguration == nil || len(net.AwsvpcConfiguration.SecurityGroups) != 1 {
		t.Fatalf("the service must run its task in one security group: %+v", net)
	}
	taskGroup := net.AwsvpcConfiguration.SecurityGroups[0]

	// The load balancer's group, as the provider read it back.
	state, err := dep.State(h.ctx)
	if err != nil || state == nil {
		t.Fatalf("terraform state: %v (or nothing applied)", err)
	}
	var lbGroups []string
	for _, r := range state.Values.RootModule.Resources {
		if r.Type != "aws_lb" {
			continue
		}
		list, _ := r.AttributeValues["security_groups"].([]any)
		for _, g := range list {
			lbGroups = append(lbGroups, fmt.Sprint(g))
		}
	}
	if len(lbGroups) != 1 || lbGroups[0] == taskGroup {
		t.Fatalf("want one load balancer with one security group of its own, have %v (task group %s)", lbGroups, taskGroup)
	}

	rules, err := ec2.NewFromConfig(h.aws).DescribeSecurityGroupRules(h.ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{taskGroup}}},
	})
	if err != nil {
		t.Fatalf("DescribeSecurityGroupRules of %s: %v", taskGroup, err)
	}
	port := int32(s.PrometheusPort)
	admitted := 0
	for _, r := range rules.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) || aws.ToString(r.GroupId) != taskGroup {
			continue
		}
		all := aws.ToString(r.IpProtocol) == "-1"
		if !all && (aws.ToInt32(r.FromPort) > port || aws.ToInt32(r.ToPort) < port) {
			continue
		}
		group := ""
		if r.ReferencedGroupInfo != nil {
			group = aws.ToString(r.ReferencedGroupInfo.GroupId)
		}
		var from []string
		for _, src := range []string{aws.ToString(r.CidrIpv4), aws.ToString(r.CidrIpv6), aws.ToString(r.PrefixListId), group} {
			if src != "" {
				from = append(from, src)
			}
		}
		if len(from) != 1 || group != lbGroups[0] || all {
			t.Errorf("task group %s: rule %s admits port %d from %v (protocol %s); only the load balancer's group %s may reach Prometheus",
				taskGroup, aws.ToString(r.SecurityGroupRuleId), port, from, aws.ToString(r.IpProtocol), lbGroups[0])
			continue
		}
		admitted++
	}
	if admitted != 1 {
		t.Errorf("task group %s: %d ingress rules for port %d from the load balancer's group %s, want 1 (all rules: %+v)", taskGroup, admitted, port, lbGroups[0], rules.SecurityGroupRules)
	}
}

func attrs(rs []*tfjson.StateResource) []map[string]any {
	var out []map[string]any
	for _, r := range rs {
		out = append(out, r.AttributeValues)
	}
	return out
}

// applyFixture applies fixtureTF (what a user brings: a KMS key, a Route 53
// zone) in the emulator and returns it and its outputs.
func applyFixture(t *testing.T, h *harness, what string) (*tfexec.Terraform, map[string]tfexec.OutputMeta) {
	t.Helper()
	fixtureDir := filepath.Join(h.dir, "fixture")
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fixtureDir, "main.tf.json"), []byte(fixtureTF), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture, err := tfenv.New(h.ctx, fixtureDir, h.emu.Env("eu-central-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Init(h.ctx); err != nil {
		t.Fatalf("fixture init: %v", err)
	}
	if err := fixture.Apply(h.ctx); err != nil {
		t.Fatalf("fixture apply (%s): %v", what, err)
	}
	outs, err := fixture.Output(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fixture, outs
}

// assertTaskServes runs the deployment's task as Fargate runs it and
// reads Prometheus's targets API from it (how: what).
func assertTaskServes(t *testing.T, h *harness, dep *deployment, what string) {
	t.Helper()
	prom := h.startPrometheus(t, dep.Settings)
	defer prom.Stop()
	prom.waitHealthy(t)
	if _, err := prom.api.Targets(h.ctx, "prometheus"); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
