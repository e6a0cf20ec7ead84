package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
)

// TestNoInternet applies natGateways=none to the emulator: no NAT gateway,
// ECR's endpoints, the stack's pull-through cache rules and repositories;
// the second plan is clean; the task runs from the applied definition as in
// subnets without a route out (the runner refuses any image outside the
// account's private registry), every image pulled through a cache rule, and
// it discovers and scrapes every node; destroy leaves no rule and no
// repository.
func TestNoInternet(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "no-internet", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_NAT_GATEWAYS": "none",
		"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16",
		"PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"}) // a VPN range over plain HTTP: the explicit opt-in
	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})
	c := ec2.NewFromConfig(h.aws)
	registry := ecr.NewFromConfig(h.aws)
	vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{dep.outputs(t)["vpc_id"]}}}
	step(t, "no NAT, ECR behind endpoints, the cache rules", func(t *testing.T) {
		nats, err := c.DescribeNatGateways(h.ctx, &ec2.DescribeNatGatewaysInput{Filter: vpc})
		if err != nil || len(nats.NatGateways) != 0 {
			t.Errorf("want no NAT gateway: %v %v", nats, err)
		}
		eps, err := c.DescribeVpcEndpoints(h.ctx, &ec2.DescribeVpcEndpointsInput{Filters: vpc})
		if err != nil {
			t.Fatal(err)
		}
		var services []string
		for _, e := range eps.VpcEndpoints {
			services = append(services, aws.ToString(e.ServiceName))
		}
		for _, want := range []string{"ecr.api", "ecr.dkr", "s3"} {
			if !strings.Contains(strings.Join(services, " "), "."+want) {
				t.Errorf("no %s endpoint: %v", want, services)
			}
		}
		if prefixes := h.cacheRulePrefixes(t); len(prefixes) != 2 {
			t.Errorf("want the quay and ecr-public rules, have %v", prefixes)
		}
	})
	ids := dep.groupInstances(t)
	step(t, "the task pulls through the cache alone, and scrapes every node", func(t *testing.T) {
		prom := h.startPrometheus(t, dep.Settings)
		defer prom.Stop()
		prom.waitForNodes(t, ids)
		pulls := prom.task.Task.Pulled()
		if len(pulls) != 3 {
			t.Errorf("want 3 pulls (prometheus, config-sync, alertmanager): %+v", pulls)
		}
		for _, p := range pulls {
			e, private := imageref.PrivateECR(p.Image)
			if !private || e.Region != dep.Settings.Region || p.Upstream == "" {
				t.Errorf("%s pulled %s (upstream %q): want the account's registry in %s, through a cache rule", p.Container, p.Image, p.Upstream, dep.Settings.Region)
			}
		}
	})
	step(t, "destroy leaves no rule and no repository", func(t *testing.T) {
		dep.destroy(t)
		assertStackGone(t, h, dep)
		if prefixes := h.cacheRulePrefixes(t); len(prefixes) != 0 {
			t.Errorf("rules left: %v", prefixes)
		}
		repos, err := registry.DescribeRepositories(h.ctx, &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range repos.Repositories {
			if strings.HasPrefix(aws.ToString(r.RepositoryName), dep.Settings.StackName()+"/") {
				t.Errorf("repository %s left", aws.ToString(r.RepositoryName))
			}
		}
	})
}

// cacheRulePrefixes are the repository prefixes of the account's
// pull-through cache rules in the harness's region.
func (h *harness) cacheRulePrefixes(t *testing.T) []string {
	t.Helper()
	out, err := ecr.NewFromConfig(h.aws).DescribePullThroughCacheRules(h.ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil {
		t.Fatalf("DescribePullThroughCacheRules: %v", err)
	}
	var prefixes []string
	for _, r := range out.PullThroughCacheRules {
		prefixes = append(prefixes, aws.ToString(r.EcrRepositoryPrefix))
	}
	return prefixes
}
