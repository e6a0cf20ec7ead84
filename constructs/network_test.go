package constructs_test

import (
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func networkProps() *pconstructs.NetworkProps {
	return &pconstructs.NetworkProps{Name: "n", CidrBlock: "10.0.0.0/16", AzCount: 2}
}

// Given the required props only, when synthesized, then a VPC with DNS,
// one public /24 per zone from the start of the range, an internet
// gateway route and no NAT gateway or flow logs.
func TestNetworkDefaults(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) { pconstructs.NewNetwork(s, "network", networkProps()) })

	vpc := only(t, d, "aws_vpc")
	if vpc["cidr_block"] != "10.0.0.0/16" || vpc["enable_dns_support"] != true || vpc["enable_dns_hostnames"] != true {
		t.Errorf("vpc %v", vpc)
	}
	subnets := d.Of("aws_subnet")
	want := map[string]bool{"10.0.0.0/24": true, "10.0.1.0/24": true}
	for _, sn := range subnets {
		if !want[policy.Str(sn["cidr_block"])] || sn["map_public_ip_on_launch"] != true || sn["lifecycle"] != nil {
			t.Errorf("subnet %v: a public /24 carved from the range, zone from the region's list", sn)
		}
		delete(want, policy.Str(sn["cidr_block"]))
	}
	if len(subnets) != 2 || len(want) != 0 {
		t.Errorf("%d subnets, missing %v", len(subnets), want)
	}
	only(t, d, "aws_internet_gateway")
	if r := only(t, d, "aws_route"); r["destination_cidr_block"] != "0.0.0.0/0" {
		t.Errorf("default route %v", r)
	}
	if count(d, "aws_route_table_association") != 2 || count(d, "aws_nat_gateway") != 0 || count(d, "aws_flow_log") != 0 {
		t.Error("want two route associations, no NAT gateway, no flow logs")
	}
}

// Given zone names, when synthesized, then each subnet takes its zone
// literally and checks it against the region's zones at plan.
func TestNetworkPinnedZonesAreCheckedAtPlan(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := networkProps()
		p.AvailabilityZones = []string{"eu-central-1a", "eu-central-1b"}
		pconstructs.NewNetwork(s, "network", p)
	})
	for _, sn := range d.Of("aws_subnet") {
		pre := policy.Path(sn, "lifecycle", "precondition")
		if az := policy.Str(sn["availability_zone"]); (az != "eu-central-1a" && az != "eu-central-1b") || pre == nil {
			t.Errorf("subnet zone %q, precondition %v", az, pre)
		}
	}
}

// Given FlowLogs with a retention, when synthesized, then a flow log of
// all traffic into a log group kept that long.
func TestNetworkFlowLogs(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := networkProps()
		p.FlowLogs, p.FlowLogRetentionDays = true, 7
		pconstructs.NewNetwork(s, "network", p)
	})
	if fl := only(t, d, "aws_flow_log"); fl["traffic_type"] != "ALL" {
		t.Errorf("flow log %v", fl)
	}
	if lg := only(t, d, "aws_cloudwatch_log_group"); lg["retention_in_days"] != 7.0 {
		t.Errorf("flow log retention %v, want 7", lg["retention_in_days"])
	}
}

// Given only a name, when built, then the defaults' VPC (10.0.0.0/16, two
// zones) is made, flow logs kept 30 days; without a name it is refused.
func TestNetworkMinimalProps(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewNetwork(s, "network", &pconstructs.NetworkProps{Name: "n", FlowLogs: true})
	})
	if v := only(t, d, "aws_vpc"); v["cidr_block"] != defaults.VpcCidr || count(d, "aws_subnet") != defaults.AzCount {
		t.Errorf("defaults: VPC %v with %d subnets, want %s with %d", v["cidr_block"], count(d, "aws_subnet"), defaults.VpcCidr, defaults.AzCount)
	}
	if lg := only(t, d, "aws_cloudwatch_log_group"); policy.Num(lg["retention_in_days"]) != defaults.FlowLogRetentionDays {
		t.Errorf("flow log retention %v, want %d", lg["retention_in_days"], defaults.FlowLogRetentionDays)
	}
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewNetwork(s, "network", &pconstructs.NetworkProps{})
	}, "Network network", "Name")
}

// Given Private, when synthesized, then the private /24s follow the public
// ones, no subnet maps public IPs, one NAT gateway with its address serves
// every private route table, the endpoints asked for exist, and the
// workloads' subnets are the private ones.
func TestPrivateNetworkProps(t *testing.T) {
	var n *pconstructs.Network
	d := given(t, func(s cdktf.TerraformStack) {
		p := networkProps()
		p.Private = &pconstructs.PrivateNetworkProps{Region: "eu-central-1", InterfaceEndpoints: []string{"ec2", "aps"}, S3Endpoint: true}
		n = pconstructs.NewNetwork(s, "network", p)
	})
	cidrs := map[string]bool{}
	for _, sn := range d.Of("aws_subnet") {
		if sn["map_public_ip_on_launch"] != false {
			t.Errorf("subnet %v maps public IPs", sn["cidr_block"])
		}
		cidrs[policy.Str(sn["cidr_block"])] = true
	}
	for _, c := range []string{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"} {
		if !cidrs[c] {
			t.Errorf("no subnet %s (public ones first, then private)", c)
		}
	}
	if count(d, "aws_nat_gateway") != 1 || count(d, "aws_eip") != 1 || count(d, "aws_route_table") != 3 {
		t.Errorf("want one NAT gateway and address, a public and two private route tables: %d %d %d", count(d, "aws_nat_gateway"), count(d, "aws_eip"), count(d, "aws_route_table"))
	}
	services := map[string]bool{}
	for _, e := range d.Of("aws_vpc_endpoint") {
		services[policy.Str(e["service_name"])] = true
	}
	for _, s := range []string{"com.amazonaws.eu-central-1.ec2", "com.amazonaws.eu-central-1.aps-workspaces", "com.amazonaws.eu-central-1.s3"} {
		if !services[s] {
			t.Errorf("no endpoint %s: %v", s, services)
		}
	}
	if len(*n.SubnetIds()) != 2 || (*n.SubnetIds())[0] == (*n.PublicSubnetIds())[0] {
		t.Error("SubnetIds must be the private subnets, PublicSubnetIds the public ones")
	}
	if v := policy.Check(d, policy.Options{PrivateNetwork: true}); len(v) != 0 {
		t.Errorf("policy: %v", v)
	}
}

// Given NoNat, when synthesized, then no NAT gateway, no address and only
// the public route table leaves the VPC; with NatPerZone too, refused.
func TestPrivateNetworkWithoutNat(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := networkProps()
		p.Private = &pconstructs.PrivateNetworkProps{Region: "eu-central-1", NoNat: true, InterfaceEndpoints: []string{"ecr"}, S3Endpoint: true}
		pconstructs.NewNetwork(s, "network", p)
	})
	if count(d, "aws_nat_gateway") != 0 || count(d, "aws_eip") != 0 || count(d, "aws_route_table") != 3 {
		t.Errorf("want no NAT gateway nor address, and the three route tables: %d %d %d", count(d, "aws_nat_gateway"), count(d, "aws_eip"), count(d, "aws_route_table"))
	}
	for _, r := range d.Of("aws_route") {
		if r["gateway_id"] == nil {
			t.Errorf("route %v: only the public table's route to the internet gateway may leave the VPC", r)
		}
	}
	refused(t, func(s cdktf.TerraformStack) {
		p := networkProps()
		p.Private = &pconstructs.PrivateNetworkProps{Region: "eu-central-1", NoNat: true, NatPerZone: true}
		pconstructs.NewNetwork(s, "network", p)
	}, "mutually exclusive")
}
