package constructs

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsavailabilityzones"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eip"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/natgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
)

// NetworkProps configures a Network.
type NetworkProps struct {
	// Name prefixes the Name tag of every resource. Required.
	Name string
	// CidrBlock is the VPC range. Default: 10.0.0.0/16 (defaults.VpcCidr).
	CidrBlock string
	// AzCount is the number of public subnets, one per zone. Default: 2
	// (defaults.AzCount).
	AzCount int
	// AvailabilityZones pins zone names (len must equal AzCount). Default:
	// the first AzCount zones that aws_availability_zones reports.
	AvailabilityZones []string
	// SubnetCidrs pins subnet ranges (len must equal AzCount). Default:
	// consecutive /24s from the start of CidrBlock.
	SubnetCidrs []string
	// FlowLogs records all VPC traffic in CloudWatch Logs. Default: false.
	FlowLogs bool
	// FlowLogKmsKeyArn encrypts the flow log group with a customer-managed
	// key (its key policy must admit CloudWatch Logs). Default: "" (the
	// AWS-managed key).
	FlowLogKmsKeyArn string
	// FlowLogRetentionDays keeps flow logs this long. Default: 30
	// (defaults.FlowLogRetentionDays).
	FlowLogRetentionDays int
	// Private adds a private subnet per zone, where workloads run without
	// public IPs, routed to the internet through NAT (Private). The public
	// subnets then hold only the NAT gateways and load balancers, and map
	// no public IPs either. Default: nil (public subnets only, no NAT).
	Private *PrivateNetworkProps
}

// PrivateNetworkProps shapes the private subnets of a Network.
type PrivateNetworkProps struct {
	// Region names the endpoint services (com.amazonaws.<region>.<name>).
	// Required.
	Region string
	// SubnetCidrs pins the private ranges (one per zone). Default: the /24s
	// after the public ones.
	SubnetCidrs []string
	// NatPerZone gives every zone its own NAT gateway (a zone outage then
	// cuts no other zone's internet; each gateway costs its hours). Default:
	// false (one, in the first zone).
	NatPerZone bool
	// NoNat leaves NAT out: the private subnets have no route to the
	// internet, so everything the workloads call must be behind
	// InterfaceEndpoints or S3Endpoint, and their images in ECR
	// (ImageCache). Mutually exclusive with NatPerZone. Default: false.
	NoNat bool
	// InterfaceEndpoints are the AWS APIs reached through interface
	// endpoints in the private subnets (ec2, logs, ssm, ...; "aps" is the
	// AMP workspaces API, "ecr" both of ECR's), admitting HTTPS from the VPC
	// only. Default: none.
	InterfaceEndpoints []string
	// S3Endpoint adds the free S3 gateway endpoint to the private route
	// tables. Default: false.
	S3Endpoint bool
}

// Network is a VPC with one public subnet per availability zone, an internet
// gateway and a public route table. By default there is deliberately no NAT
// gateway: it would cost more than the rest of the default deployment
// together, so tasks and nodes get public IPs and security groups do the
// fencing. With Private, workloads move to private subnets behind NAT, for
// teams that refuse public IPs on workloads.
type Network struct {
	constructs.Construct
	Vpc             vpc.Vpc
	Subnets         []subnet.Subnet
	InternetGateway internetgateway.InternetGateway
	RouteTable      routetable.RouteTable
	// Zones is the region's zone list: the subnets' zones, or what the
	// given AvailabilityZones are checked against.
	Zones dataawsavailabilityzones.DataAwsAvailabilityZones
	// FlowLogs is nil unless FlowLogs was set.
	FlowLogs *FlowLogs
	// PrivateSubnets, NatGateways (with their addresses), their route
	// tables and the endpoints exist only with Private.
	PrivateSubnets        []subnet.Subnet
	NatGateways           []natgateway.NatGateway
	NatAddresses          []eip.Eip
	PrivateRouteTables    []routetable.RouteTable
	Endpoints             map[string]vpcendpoint.VpcEndpoint
	EndpointSecurityGroup securitygroup.SecurityGroup
}

// NewNetwork creates the VPC and its public subnets.
func NewNetwork(scope constructs.Construct, id string, props *NetworkProps) *Network {
	p := *props
	requireProps("Network", id, need("Name", p.Name == ""))
	p.CidrBlock = orDefault(p.CidrBlock, defaults.VpcCidr)
	p.AzCount = intOr(p.AzCount, defaults.AzCount)
	p.FlowLogRetentionDays = intOr(p.FlowLogRetentionDays, defaults.FlowLogRetentionDays)
	checkNetworkProps(id, &p)

	scope = constructs.NewConstruct(scope, jsii.String(id))
	n := &Network{Construct: scope}
	n.Vpc = vpc.NewVpc(scope, jsii.String("vpc"), &vpc.VpcConfig{
		CidrBlock:          jsii.String(p.CidrBlock),
		EnableDnsSupport:   jsii.Bool(true),
		EnableDnsHostnames: jsii.Bool(true),
		Tags:               nameTag(p.Name + "-vpc"),
	})
	n.InternetGateway = internetgateway.NewInternetGateway(scope, jsii.String("igw"), &internetgateway.InternetGatewayConfig{
		VpcId: n.Vpc.Id(),
		Tags:  nameTag(p.Name + "-igw"),
	})
	n.RouteTable = routetable.NewRouteTable(scope, jsii.String("public"), &routetable.RouteTableConfig{
		VpcId: n.Vpc.Id(),
		Tags:  nameTag(p.Name + "-public"),
	})
	route.NewRoute(scope, jsii.String("default-route"), &route.RouteConfig{
		RouteTableId:         n.RouteTable.Id(),
		DestinationCidrBlock: jsii.String("0.0.0.0/0"),
		GatewayId:            n.InternetGateway.Id(),
	})

	// The region's zones: where the subnets go, or, for zones given by
	// name, what they are checked against at plan (a precondition), so a
	// zone the region lacks fails before anything is created.
	n.Zones = dataawsavailabilityzones.NewDataAwsAvailabilityZones(scope, jsii.String("zones"), &dataawsavailabilityzones.DataAwsAvailabilityZonesConfig{
		State: jsii.String("available"),
	})
	var zones []*string
	for i := 0; i < p.AzCount; i++ {
		az := cdktf.Token_AsString(cdktf.Fn_Element(n.Zones.Names(), jsii.Number(i)), nil)
		var lifecycle *cdktf.TerraformResourceLifecycle
		if len(p.AvailabilityZones) > 0 {
			az = jsii.String(p.AvailabilityZones[i])
			lifecycle = &cdktf.TerraformResourceLifecycle{Precondition: &[]*cdktf.Precondition{{
				Condition: cdktf.Fn_Contains(n.Zones.Names(), az),
				ErrorMessage: jsii.String(fmt.Sprintf("availabilityZones: %s is not an available zone of this region; it has %s.",
					p.AvailabilityZones[i], *cdktf.Token_AsString(cdktf.Fn_Join(jsii.String(", "), n.Zones.Names()), nil))),
			}}}
		}
		sn := subnet.NewSubnet(scope, jsii.String(fmt.Sprintf("public-%d", i)), &subnet.SubnetConfig{
			VpcId:            n.Vpc.Id(),
			CidrBlock:        jsii.String(p.SubnetCidrs[i]),
			AvailabilityZone: az,
			// Public IPs come from the subnet, not from each instance:
			// per-instance associate_public_ip_address drifts in moto and
			// would have to be repeated on every launch template.
			MapPublicIpOnLaunch: jsii.Bool(p.Private == nil),
			Tags:                nameTag(fmt.Sprintf("%s-public-%d", p.Name, i)),
			Lifecycle:           lifecycle,
		})
		routetableassociation.NewRouteTableAssociation(scope, jsii.String(fmt.Sprintf("public-%d-route", i)), &routetableassociation.RouteTableAssociationConfig{
			SubnetId:     sn.Id(),
			RouteTableId: n.RouteTable.Id(),
		})
		n.Subnets = append(n.Subnets, sn)
		zones = append(zones, az)
	}
	if p.Private != nil {
		n.private(scope, p.Name, zones, p.CidrBlock, p.Private)
	}
	if p.FlowLogs {
		n.FlowLogs = newFlowLogs(scope, p.Name, n.Vpc.Id(), p.FlowLogRetentionDays, p.FlowLogKmsKeyArn)
	}
	return n
}

// endpointServices are the endpoint services behind one short name.
func endpointServices(name string) []string {
	switch name {
	case "aps":
		// Remote write goes to the workspaces' data plane.
		return []string{"aps-workspaces"}
	case "ecr":
		// The registry API and the image layers' endpoint (layers come
		// from S3: the gateway endpoint).
		return []string{"ecr.api", "ecr.dkr"}
	}
	return []string{name}
}

// SubnetIds returns the ids of the subnets workloads run in: the private
// ones with Private, else the public ones.
func (n *Network) SubnetIds() *[]*string {
	if len(n.PrivateSubnets) > 0 {
		return subnetIDs(n.PrivateSubnets)
	}
	return subnetIDs(n.Subnets)
}

// PublicSubnetIds are the public subnets: where load balancers go.
func (n *Network) PublicSubnetIds() *[]*string { return subnetIDs(n.Subnets) }

func subnetIDs(subnets []subnet.Subnet) *[]*string {
	ids := make([]*string, len(subnets))
	for i, s := range subnets {
		ids[i] = s.Id()
	}
	return &ids
}

// private adds the private subnets, routed through NAT in the public ones,
// and the endpoints.
func (n *Network) private(scope constructs.Construct, name string, zones []*string, vpcCidr string, p *PrivateNetworkProps) {
	nats := 1
	switch {
	case p.NoNat && p.NatPerZone:
		panic("Network: PrivateNetworkProps.NoNat and NatPerZone are mutually exclusive")
	case p.NoNat:
		nats = 0
	case p.NatPerZone:
		nats = len(zones)
	}
	for i := 0; i < nats; i++ {
		addr := eip.NewEip(scope, jsii.String(fmt.Sprintf("nat-address-%d", i)), &eip.EipConfig{
			Domain: jsii.String("vpc"), Tags: nameTag(fmt.Sprintf("%s-nat-%d", name, i)),
		})
		n.NatAddresses = append(n.NatAddresses, addr)
		n.NatGateways = append(n.NatGateways, natgateway.NewNatGateway(scope, jsii.String(fmt.Sprintf("nat-%d", i)), &natgateway.NatGatewayConfig{
			AllocationId: addr.Id(), SubnetId: n.Subnets[i].Id(),
			// The gateway needs the internet gateway to reach anything.
			DependsOn: &[]cdktf.ITerraformDependable{n.InternetGateway},
			Tags:      nameTag(fmt.Sprintf("%s-nat-%d", name, i)),
		}))
	}
	var tableIDs []*string
	for i, az := range zones {
		sn := subnet.NewSubnet(scope, jsii.String(fmt.Sprintf("private-%d", i)), &subnet.SubnetConfig{
			VpcId: n.Vpc.Id(), CidrBlock: jsii.String(p.SubnetCidrs[i]), AvailabilityZone: az,
			MapPublicIpOnLaunch: jsii.Bool(false),
			Tags:                nameTag(fmt.Sprintf("%s-private-%d", name, i)),
		})
		n.PrivateSubnets = append(n.PrivateSubnets, sn)
		table := routetable.NewRouteTable(scope, jsii.String(fmt.Sprintf("private-%d-table", i)), &routetable.RouteTableConfig{
			VpcId: n.Vpc.Id(), Tags: nameTag(fmt.Sprintf("%s-private-%d", name, i)),
		})
		n.PrivateRouteTables = append(n.PrivateRouteTables, table)
		tableIDs = append(tableIDs, table.Id())
		if nats > 0 {
			route.NewRoute(scope, jsii.String(fmt.Sprintf("private-%d-default-route", i)), &route.RouteConfig{
				RouteTableId: table.Id(), DestinationCidrBlock: jsii.String("0.0.0.0/0"),
				NatGatewayId: n.NatGateways[i%len(n.NatGateways)].Id(),
			})
		}
		routetableassociation.NewRouteTableAssociation(scope, jsii.String(fmt.Sprintf("private-%d-route", i)), &routetableassociation.RouteTableAssociationConfig{
			SubnetId: sn.Id(), RouteTableId: table.Id(),
		})
	}
	n.Endpoints = map[string]vpcendpoint.VpcEndpoint{}
	if p.S3Endpoint {
		n.Endpoints["s3"] = vpcendpoint.NewVpcEndpoint(scope, jsii.String("endpoint-s3"), &vpcendpoint.VpcEndpointConfig{
			VpcId: n.Vpc.Id(), ServiceName: jsii.String("com.amazonaws." + p.Region + ".s3"),
			VpcEndpointType: jsii.String("Gateway"), RouteTableIds: &tableIDs,
			Tags: nameTag(name + "-s3"),
		})
	}
	if len(p.InterfaceEndpoints) == 0 {
		return
	}
	n.EndpointSecurityGroup = newSecurityGroup(scope, name+"-endpoints-sg", "VPC endpoints: HTTPS from inside the VPC only", n.Vpc.Id())
	cidrIngress(scope, "endpoints-https", n.EndpointSecurityGroup, []string{vpcCidr}, 443, "HTTPS to the AWS APIs from inside the VPC")
	for _, svc := range p.InterfaceEndpoints {
		for _, service := range endpointServices(svc) {
			id := strings.ReplaceAll(service, ".", "-")
			n.Endpoints[service] = vpcendpoint.NewVpcEndpoint(scope, jsii.String("endpoint-"+id), &vpcendpoint.VpcEndpointConfig{
				VpcId: n.Vpc.Id(), ServiceName: jsii.String("com.amazonaws." + p.Region + "." + service),
				VpcEndpointType: jsii.String("Interface"), SubnetIds: subnetIDs(n.PrivateSubnets),
				SecurityGroupIds: &[]*string{n.EndpointSecurityGroup.Id()}, PrivateDnsEnabled: jsii.Bool(true),
				Tags: nameTag(name + "-" + id),
			})
		}
	}
}

// SubnetRanges carves count consecutive /24 ranges from the start of vpc
// (computed in Go, so the plan shows literal ranges).
func SubnetRanges(vpc string, count int) ([]string, error) {
	p, err := netip.ParsePrefix(vpc)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("%q is not an IPv4 CIDR", vpc)
	}
	if p.Bits() > 24 || 1<<(24-p.Bits()) < count {
		return nil, fmt.Errorf("%s has no room for %d /24 subnets", vpc, count)
	}
	base := p.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8
	out := make([]string, count)
	for i := range out {
		v := start + uint32(i)<<8
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24).String()
	}
	return out, nil
}

// checkNetworkProps fills the subnet ranges in (consecutive /24s: the
// public ones, then the private ones) and refuses props that disagree.
func checkNetworkProps(id string, p *NetworkProps) {
	if p.Private != nil {
		private := *p.Private // the caller's props stay as given
		p.Private = &private
	}
	if len(p.SubnetCidrs) == 0 {
		cidrs, err := SubnetRanges(p.CidrBlock, p.AzCount)
		if err != nil {
			panic(fmt.Sprintf("Network %s: %v", id, err))
		}
		p.SubnetCidrs = cidrs
	}
	if p.Private != nil && len(p.Private.SubnetCidrs) == 0 {
		cidrs, err := SubnetRanges(p.CidrBlock, 2*p.AzCount)
		if err != nil {
			panic(fmt.Sprintf("Network %s: private subnets: %v", id, err))
		}
		p.Private.SubnetCidrs = cidrs[p.AzCount:]
	}
	if p.Private != nil && (p.Private.Region == "" || len(p.Private.SubnetCidrs) != p.AzCount) {
		panic(fmt.Sprintf("Network %s: Private needs Region and one private subnet range per zone (%d), has %q", id, p.AzCount, p.Private.SubnetCidrs))
	}
	if len(p.SubnetCidrs) != p.AzCount || (len(p.AvailabilityZones) > 0 && len(p.AvailabilityZones) != p.AzCount) {
		panic(fmt.Sprintf("Network %s: AzCount (%d), SubnetCidrs (%d) and AvailabilityZones (%d) disagree", id, p.AzCount, len(p.SubnetCidrs), len(p.AvailabilityZones)))
	}
}
