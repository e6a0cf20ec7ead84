package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestPrivateNetwork applies networkMode=private (reached from a VPN range:
// no load balancer needed) to the emulator: NAT gateway, private route
// tables, VPC endpoints; the second plan is clean; the task runs from the
// applied definition and discovers and scrapes every node as in public mode
// (the local overlay is the same); no node's network interface and no
// private subnet has a public IP; destroy leaves nothing.
func TestPrivateNetwork(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "private", map[string]string{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16",
		// A VPN range reaches the task over plain HTTP: the explicit opt-in.
		"PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"})
	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})
	c := ec2.NewFromConfig(h.aws)
	vpcID := dep.outputs(t)["vpc_id"]
	step(t, "NAT, private subnets and endpoints exist", func(t *testing.T) {
		vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}
		nats, err := c.DescribeNatGateways(h.ctx, &ec2.DescribeNatGatewaysInput{Filter: vpc})
		if err != nil || len(nats.NatGateways) != 1 {
			t.Errorf("want one NAT gateway: %v %v", nats, err)
		}
		eps, err := c.DescribeVpcEndpoints(h.ctx, &ec2.DescribeVpcEndpointsInput{Filters: vpc})
		if err != nil || len(eps.VpcEndpoints) != 6 {
			t.Errorf("want the 6 endpoints of the default list (no aps without amp, no sts): %d %v", len(eps.VpcEndpoints), err)
		}
		for _, id := range dep.outputsList(t, "subnet_ids") {
			sn, err := c.DescribeSubnets(h.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
			if err != nil || len(sn.Subnets) != 1 || aws.ToBool(sn.Subnets[0].MapPublicIpOnLaunch) {
				t.Errorf("the task's subnet %s must map no public IPs: %v", id, err)
			}
		}
	})
	ids := dep.groupInstances(t)
	step(t, "discovery and scrapes work as in public mode", func(t *testing.T) {
		prom := h.startPrometheus(t, dep.Settings)
		defer prom.Stop()
		prom.waitForNodes(t, ids)
	})
	step(t, "no node has a public IP", func(t *testing.T) {
		out, err := c.DescribeInstances(h.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if i.PublicIpAddress != nil {
					t.Errorf("node %s has public IP %s", aws.ToString(i.InstanceId), aws.ToString(i.PublicIpAddress))
				}
				for _, nic := range i.NetworkInterfaces {
					if nic.Association != nil && aws.ToString(nic.Association.PublicIp) != "" {
						t.Errorf("node %s: interface %s has public IP %s", aws.ToString(i.InstanceId), aws.ToString(nic.NetworkInterfaceId), aws.ToString(nic.Association.PublicIp))
					}
				}
			}
		}
	})
	step(t, "destroy leaves nothing", func(t *testing.T) {
		dep.destroy(t)
		assertStackGone(t, h, dep)
		nats, err := c.DescribeNatGateways(h.ctx, &ec2.DescribeNatGatewaysInput{Filter: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
		if err == nil {
			for _, n := range nats.NatGateways {
				if n.State != ec2types.NatGatewayStateDeleted {
					t.Errorf("NAT gateway %s left (%s)", aws.ToString(n.NatGatewayId), n.State)
				}
			}
		}
		addrs, err := c.DescribeAddresses(h.ctx, &ec2.DescribeAddressesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:project"), Values: []string{dep.Settings.Project}}}})
		if err != nil || len(addrs.Addresses) != 0 {
			t.Errorf("elastic IPs left: %v %v", addrs, err)
		}
	})
}
