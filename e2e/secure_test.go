package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

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
		t.Fatalf("fixture apply (KMS key, hosted zone): %v", err)
	}
	outs, err := fixture.Output(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keyArn, zoneID string
	_ = json.Unmarshal(outs["key_arn"].Value, &keyArn)
	_ = json.Unmarshal(outs["zone_id"].Value, &zoneID)

	dep := h.deploy(t, "secure", map[string]string{
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": zoneID,
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_KMS_KEY_ARN": keyArn,
		"PROMAWS_FLOW_LOGS": "true", "PROMAWS_NODE_COUNT": "1",
	})

	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	step(t, "the applied resources are the secure ones", func(t *testing.T) {
		state, err := dep.TF.Show(h.ctx)
		if err != nil || state.Values == nil {
			t.Fatalf("terraform show: %v", err)
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

	step(t, "the task runs as Fargate runs it behind the load balancer, its secret under the customer key", func(t *testing.T) {
		prom := h.startPrometheus(t, dep.Settings)
		defer prom.Stop()
		prom.waitHealthy(t)
		if _, err := prom.api.Targets(h.ctx, "prometheus"); err != nil {
			t.Errorf("Prometheus behind basic auth: %v", err)
		}
	})

	step(t, "destroy leaves nothing", func(t *testing.T) {
		dep.destroy(t)
		state, err := dep.TF.Show(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if state.Values != nil && len(state.Values.RootModule.Resources) != 0 {
			t.Errorf("resources left after destroy: %d", len(state.Values.RootModule.Resources))
		}
		if err := fixture.Destroy(h.ctx); err != nil {
			t.Errorf("fixture destroy: %v", err)
		}
	})
}

func attrs(rs []*tfjson.StateResource) []map[string]any {
	var out []map[string]any
	for _, r := range rs {
		out = append(out, r.AttributeValues)
	}
	return out
}
