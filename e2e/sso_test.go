package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// TestSingleSignOnCognito applies sso=cognito against the emulator (issue
// 28): the user pool, its domain and the load balancer's app client are
// created, the HTTPS listener's default action and the Alertmanager's path
// rule authenticate with Cognito before they forward; a second plan is
// clean; destroy leaves nothing. The emulator performs no sign-in (moto
// carries no traffic), which docs/DESIGN.md names as a blind spot; the
// machine path (the task's port, reached without the load balancer) serves
// Prometheus's API.
func TestSingleSignOnCognito(t *testing.T) {
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
		t.Fatalf("fixture apply (hosted zone): %v", err)
	}
	outs, err := fixture.Output(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	dep := h.deploy(t, "sso", map[string]string{
		"PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_SSO_SESSION_TIMEOUT": "3600",
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": outputString(t, outs, "zone_id"),
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_NODE_COUNT": "1",
	})

	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	step(t, "the pool, its domain and the client exist; every forward signs in first", func(t *testing.T) {
		state, err := dep.TF.Show(h.ctx)
		if err != nil || state.Values == nil {
			t.Fatalf("terraform show: %v", err)
		}
		byType := map[string][]*tfjson.StateResource{}
		for _, r := range state.Values.RootModule.Resources {
			byType[r.Type] = append(byType[r.Type], r)
		}
		for _, typ := range []string{"aws_cognito_user_pool", "aws_cognito_user_pool_domain", "aws_cognito_user_pool_client"} {
			if len(byType[typ]) != 1 {
				t.Errorf("want one %s applied, have %d", typ, len(byType[typ]))
			}
		}
		if c := byType["aws_cognito_user_pool_client"]; len(c) == 1 {
			cb := fmt.Sprint(c[0].AttributeValues["callback_urls"])
			t.Logf("app client callback URLs: %s", cb)
		}
		check := func(what string, actions []any) {
			types := []string{}
			for _, a := range actions {
				m, _ := a.(map[string]any)
				types = append(types, fmt.Sprintf("%v:%v", m["order"], m["type"]))
			}
			if len(types) != 2 || types[0] != "1:authenticate-cognito" || types[1] != "2:forward" {
				t.Errorf("%s: actions %v, want 1:authenticate-cognito then 2:forward", what, types)
			}
			t.Logf("%s: %v", what, types)
		}
		for _, l := range byType["aws_lb_listener"] {
			if l.AttributeValues["protocol"] == "HTTPS" {
				a, _ := l.AttributeValues["default_action"].([]any)
				check("HTTPS listener default action", a)
			}
		}
		if len(byType["aws_lb_listener_rule"]) != 1 {
			t.Errorf("want the Alertmanager's path rule, have %d rules", len(byType["aws_lb_listener_rule"]))
		}
		for _, r := range byType["aws_lb_listener_rule"] {
			a, _ := r.AttributeValues["action"].([]any)
			check("rule "+r.Address, a)
		}
	})

	step(t, "the HTTP listener still only redirects", func(t *testing.T) {
		assertHTTPRedirects(t, h, dep)
	})

	step(t, "the targets admit the load balancer alone; the machine path serves the API", func(t *testing.T) {
		assertOnlyLoadBalancerIngress(t, h, dep)
		prom := h.startPrometheus(t, dep.Settings)
		defer prom.Stop()
		prom.waitHealthy(t)
		if _, err := prom.api.Targets(h.ctx, "prometheus"); err != nil {
			t.Errorf("Prometheus on the machine path: %v", err)
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
