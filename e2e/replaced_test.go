package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// TestReplacedParameterIsDelivered replaces a rule group's parameter as
// SSM does when its tier changes (SSM cannot move a parameter from
// Advanced to Standard in place, and Terraform then deletes and creates
// it): the new parameter starts again at version 1, the version the task
// already holds. config-sync must still deliver it (it compares the
// modification time too), and the same Prometheus process serves the new
// rules.
func TestReplacedParameterIsDelivered(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "replaced", map[string]string{"PROMAWS_NODE_COUNT": "1"})
	dep.apply(t)
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t)
	before := prom.identity(t)
	c := ssm.NewFromConfig(h.aws)
	name := strings.TrimSuffix(dep.outputs(t)["prometheus_config_parameter"], taskcontract.ConfigFile) + taskcontract.RulesDir + "/prometheus-aws-prometheus.yml"
	old, err := c.GetParameter(h.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	step(t, "the parameter is replaced at the same version, in another tier", func(t *testing.T) {
		if _, err := c.DeleteParameter(h.ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		value := strings.TrimRight(aws.ToString(old.Parameter.Value), "\n") + "\n" + canaryRule
		if _, err := c.PutParameter(h.ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeString, Tier: ssmtypes.ParameterTierAdvanced}); err != nil {
			t.Fatal(err)
		}
		now, err := c.GetParameter(h.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if now.Parameter.Version != old.Parameter.Version {
			t.Fatalf("the replacement is version %d, the old one %d: the test needs the same version", now.Parameter.Version, old.Parameter.Version)
		}
	})
	step(t, "the same Prometheus serves the new rules", func(t *testing.T) {
		// A generous bound for an event, not a figure: config-sync asks
		// every 15 s, Prometheus re-reads every 10 s.
		ctx, cancel := context.WithTimeout(h.ctx, 3*time.Minute)
		defer cancel()
		var rules []string
		waitUntil(t, ctx, prom, func() (bool, string) {
			rules, err = prom.api.AlertingRules(h.ctx)
			return err == nil && slices.Contains(rules, "ReloadCanary"), "rules: " + strings.Join(rules, ", ")
		})
		prom.assertSameProcess(t, before, prom.identity(t), "a replaced parameter must reload in place")
	})
}
