package constructs

import (
	"fmt"
	"net/netip"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsavailabilityzones"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// NetworkProps configures a Network.
type NetworkProps struct {
	// Name prefixes the Name tag of every resource. Required.
	Name string
	// CidrBlock is the VPC range. Required.
	CidrBlock string
	// AzCount is the number of public subnets, one per zone. Required.
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
	// FlowLogRetentionDays keeps flow logs this long. Required with
	// FlowLogs.
	FlowLogRetentionDays int
}

// Network is a VPC with one public subnet per availability zone, an internet
// gateway and a public route table. There is deliberately no NAT gateway:
// it would cost more than the rest of the default deployment together, so
// tasks and nodes get public IPs and security groups do the fencing.
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
}

// NewNetwork creates the VPC and its public subnets.
func NewNetwork(scope constructs.Construct, id string, props *NetworkProps) *Network {
	p := *props
	requireProps("Network", id, need("Name", p.Name == ""), need("CidrBlock", p.CidrBlock == ""), need("AzCount", p.AzCount == 0),
		need("FlowLogRetentionDays", p.FlowLogs && p.FlowLogRetentionDays == 0))
	if len(p.SubnetCidrs) == 0 {
		cidrs, err := SubnetRanges(p.CidrBlock, p.AzCount)
		if err != nil {
			panic(fmt.Sprintf("Network %s: %v", id, err))
		}
		p.SubnetCidrs = cidrs
	}
	if len(p.SubnetCidrs) != p.AzCount || (len(p.AvailabilityZones) > 0 && len(p.AvailabilityZones) != p.AzCount) {
		panic(fmt.Sprintf("Network %s: AzCount (%d), SubnetCidrs (%d) and AvailabilityZones (%d) disagree", id, p.AzCount, len(p.SubnetCidrs), len(p.AvailabilityZones)))
	}

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
			MapPublicIpOnLaunch: jsii.Bool(true),
			Tags:                nameTag(fmt.Sprintf("%s-public-%d", p.Name, i)),
			Lifecycle:           lifecycle,
		})
		routetableassociation.NewRouteTableAssociation(scope, jsii.String(fmt.Sprintf("public-%d-route", i)), &routetableassociation.RouteTableAssociationConfig{
			SubnetId:     sn.Id(),
			RouteTableId: n.RouteTable.Id(),
		})
		n.Subnets = append(n.Subnets, sn)
	}
	if p.FlowLogs {
		n.FlowLogs = newFlowLogs(scope, p.Name, n.Vpc.Id(), p.FlowLogRetentionDays, p.FlowLogKmsKeyArn)
	}
	return n
}

// SubnetIds returns the ids of the public subnets.
func (n *Network) SubnetIds() *[]*string {
	ids := make([]*string, len(n.Subnets))
	for i, s := range n.Subnets {
		ids[i] = s.Id()
	}
	return &ids
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
