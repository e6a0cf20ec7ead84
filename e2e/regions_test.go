package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// remoteRegion is the second emulated region; moto serves every region on
// its one endpoint, told apart by the request's signing region.
const remoteRegion = "eu-west-1"

// TestMultiRegionDiscovery: with discoveryRegions naming a second region,
// one Prometheus discovers the stack's node in its own region and a tagged
// node in the other, each with its region label; with scrapeAddress=public
// a remote node without a public IP is dropped. The node in the other
// region is started directly (the stack deploys nodes in its own region
// only), as a user's existing instance would be.
func TestMultiRegionDiscovery(t *testing.T) {
	h := newHarness(t)
	// Region is implied: discoveryRegions lists only the other one. Basic
	// auth off: the task then runs with no Secrets Manager secret at all.
	dep := h.deploy(t, "regions", map[string]string{"PROMAWS_NODE_COUNT": "1", "PROMAWS_DISCOVERY_REGIONS": remoteRegion, "PROMAWS_BASIC_AUTH": "false"})
	step(t, "apply and a clean second plan", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	remote := h.runRemoteNode(t, dep, "remote-node", true)
	hidden := h.runRemoteNode(t, dep, "remote-node-private-only", false)
	t.Cleanup(func() { h.terminateIn(t, remoteRegion, []string{remote, hidden}) })
	home := dep.groupInstances(t)
	if len(home) != 1 {
		t.Fatalf("node group runs %d instances, want 1", len(home))
	}

	prom := h.startPrometheus(t, dep.Settings)
	step(t, "private addresses: the nodes of both regions are targets with their region", func(t *testing.T) {
		targets := prom.waitForNodes(t, []string{home[0], remote, hidden})
		assertRegions(t, targets, map[string]string{home[0]: dep.Settings.Region, remote: remoteRegion, hidden: remoteRegion})
		prom.waitHealthy(t)
	})
	prom.Stop()

	step(t, "public addresses: a remote node without a public IP is dropped", func(t *testing.T) {
		dep.resynth(t, map[string]string{"PROMAWS_SCRAPE_ADDRESS": "public"})
		dep.apply(t)
		prom := h.startPrometheus(t, dep.Settings)
		defer prom.Stop()
		targets := prom.waitForNodes(t, []string{home[0], remote})
		assertRegions(t, targets, map[string]string{home[0]: dep.Settings.Region, remote: remoteRegion})
	})

	step(t, "destroy", func(t *testing.T) {
		h.terminateIn(t, remoteRegion, []string{remote, hidden})
		dep.destroy(t)
		assertStackGone(t, h, dep)
	})
}

// assertRegions checks every target's region and zone labels against want
// (instance id to region) and that each is up.
func assertRegions(t *testing.T, targets []promapi.Target, want map[string]string) {
	t.Helper()
	var seen []string
	for _, tg := range targets {
		id := tg.Labels["instance_id"]
		seen = append(seen, id)
		region, ok := want[id]
		switch {
		case !ok:
			t.Errorf("unexpected target %s: %v", id, tg.Labels)
		case tg.Labels["region"] != region || !strings.HasPrefix(tg.Labels["availability_zone"], region):
			t.Errorf("target %s: region %q zone %q, want region %s", id, tg.Labels["region"], tg.Labels["availability_zone"], region)
		case tg.Health != "up":
			t.Errorf("target %s is %s: %s", id, tg.Health, tg.LastError)
		}
	}
	for id := range want {
		if !slices.Contains(seen, id) {
			t.Errorf("instance %s is not a target", id)
		}
	}
}

// runRemoteNode starts a running instance with the discovery tag in
// remoteRegion (its default VPC), with or without a public IP.
func (h *harness) runRemoteNode(t *testing.T, dep *deployment, name string, publicIP bool) string {
	t.Helper()
	c := h.ec2In(t, remoteRegion)
	subnets, err := c.DescribeSubnets(h.ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(subnets.Subnets) == 0 {
		t.Fatalf("default subnet in %s: %v", remoteRegion, err)
	}
	out, err := c.RunInstances(h.ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: subnets.Subnets[0].SubnetId, AssociatePublicIpAddress: aws.Bool(publicIP),
		}},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String("Name"), Value: aws.String(name)},
			{Key: aws.String(dep.Settings.DiscoveryTagKey), Value: aws.String(dep.Settings.DiscoveryTagValue)},
		}}},
	})
	if err != nil {
		t.Fatalf("run instance in %s: %v", remoteRegion, err)
	}
	inst := out.Instances[0]
	if got := aws.ToString(inst.PublicIpAddress) != ""; got != publicIP {
		t.Fatalf("instance %s in %s: public IP %q, want one: %v", aws.ToString(inst.InstanceId), remoteRegion, aws.ToString(inst.PublicIpAddress), publicIP)
	}
	return aws.ToString(inst.InstanceId)
}

// ec2In is an EC2 client of the emulator in region.
func (h *harness) ec2In(t *testing.T, region string) *ec2.Client {
	t.Helper()
	cfg, err := h.emu.AWSConfig(h.ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	return ec2.NewFromConfig(cfg)
}

// terminateIn ends instances in region; ending them twice is harmless.
func (h *harness) terminateIn(t *testing.T, region string, ids []string) {
	t.Helper()
	if _, err := h.ec2In(t, region).TerminateInstances(h.ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		t.Errorf("terminate in %s: %v", region, err)
	}
}
