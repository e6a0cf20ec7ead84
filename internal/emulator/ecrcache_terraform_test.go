package emulator_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// Terraform's AWS provider applies a pull through cache rule and the
// repository it fills to the emulator, reads them back unchanged (a plan
// after the apply is empty) and destroys them: what a stack with
// pullThroughCache=true asks of it.
func TestTerraformAppliesPullThroughCacheRule(t *testing.T) {
	if os.Getenv("PROMAWS_SKIP_E2E") == "1" {
		t.Skip("PROMAWS_SKIP_E2E=1")
	}
	ctx, emu := start(t)
	const region = "eu-central-1"
	dir := t.TempDir()
	config := map[string]any{
		"terraform": map[string]any{"required_providers": map[string]any{
			// The provider the machine has (its mirror holds the stack's).
			"aws": map[string]any{"source": "hashicorp/aws"}}},
		"provider": map[string]any{"aws": map[string]any{
			"region": region, "access_key": "test", "secret_key": "test", "max_retries": 2,
			"skip_credentials_validation": true, "skip_metadata_api_check": "true",
			// The emulator's endpoint comes from emu.Env (AWS_ENDPOINT_URL),
			// as for the stacks: an endpoints block costs seconds of CPU a
			// command (stacks.localProvider); the proxy keeps any call it
			// misses on loopback.
			"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}}, // stacks.NoEndpointProxy
		"resource": map[string]any{
			"aws_ecr_pull_through_cache_rule": map[string]any{"quay": map[string]any{
				"ecr_repository_prefix": "tf-test/quay", "upstream_registry_url": "quay.io"}},
			"aws_ecr_repository": map[string]any{"prometheus": map[string]any{
				"name": "tf-test/quay/prometheus/prometheus", "force_delete": true}},
		},
		"output": map[string]any{"registry_id": map[string]any{"value": "${aws_ecr_pull_through_cache_rule.quay.registry_id}"}},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := tfenv.New(ctx, dir, emu.Env(region))
	if err != nil {
		t.Fatalf("terraform: %v (run make tools)", err)
	}
	if err := tf.Init(ctx); err != nil {
		t.Fatalf("init: %v", err)
	}
	if err := tf.Apply(ctx); err != nil {
		t.Fatalf("apply: %v", err)
	}
	outs, err := tf.Output(ctx)
	if err != nil || string(outs["registry_id"].Value) != `"123456789012"` {
		t.Errorf("the rule's registry_id output: %v %v", err, outs)
	}
	changes, err := tf.Plan(ctx)
	if err != nil || changes {
		t.Errorf("a plan after the apply must be empty (the provider reads back what it wrote): changes %v, %v", changes, err)
	}
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	c := ecr.NewFromConfig(cfg)
	rules, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil || len(rules.PullThroughCacheRules) != 1 || aws.ToString(rules.PullThroughCacheRules[0].EcrRepositoryPrefix) != "tf-test/quay" {
		t.Errorf("the applied rule: %v %+v", err, rules)
	}
	if err := tf.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	_, err = c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"tf-test/quay"}})
	if nf := (*ecrtypes.PullThroughCacheRuleNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("destroy must delete the rule: %v", err)
	}
	if _, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"tf-test/quay/prometheus/prometheus"}}); err == nil {
		t.Error("destroy must delete the repository")
	}
}
