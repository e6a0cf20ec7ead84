package policy

import (
	"fmt"
	"slices"
)

// Rules on the private network (networkMode=private) and its endpoints.

// privateNoPublicIPs: with a private network nothing that hosts the task
// or the nodes has a public address, and their way out is NAT.
func privateNoPublicIPs(d *Doc, o Options) []Violation {
	if !o.PrivateNetwork {
		return nil
	}
	const rule = "private-no-public-ips"
	var out []Violation
	for name, a := range d.Of("aws_subnet") {
		if truthy(a["map_public_ip_on_launch"]) {
			out = append(out, Violation{rule, "aws_subnet." + name, "maps public IPs on launch"})
		}
	}
	for name, a := range d.Of("aws_launch_template") {
		nics, _ := a["network_interfaces"].([]any)
		for _, nic := range nics {
			if truthy(Path(nic, "associate_public_ip_address")) {
				out = append(out, Violation{rule, "aws_launch_template." + name, "asks for a public IP"})
			}
		}
	}
	for name, a := range d.Of("aws_instance") {
		if truthy(a["associate_public_ip_address"]) {
			out = append(out, Violation{rule, "aws_instance." + name, "asks for a public IP"})
		}
	}
	for name, a := range d.Of("aws_ecs_service") {
		if truthy(Path(a, "network_configuration", "assign_public_ip")) {
			out = append(out, Violation{rule, "aws_ecs_service." + name, "assigns its tasks public IPs"})
		}
		// Every route to the internet from the service's subnets goes
		// through a NAT gateway, never straight to the internet gateway.
		for _, subnet := range Strings(Path(a, "network_configuration", "subnets")) {
			tables := routeTablesOf(d, subnet)
			if len(tables) == 0 {
				out = append(out, Violation{rule, "aws_ecs_service." + name, fmt.Sprintf("subnet %s has no route table of this stack, so its way out cannot be checked", subnet)})
			}
			for _, table := range tables {
				for rname, r := range d.Of("aws_route") {
					if Str(r["route_table_id"]) != table || Str(r["destination_cidr_block"]) != "0.0.0.0/0" {
						continue
					}
					if Str(r["nat_gateway_id"]) == "" || Str(r["gateway_id"]) != "" {
						out = append(out, Violation{rule, "aws_route." + rname, fmt.Sprintf("routes subnet %s to the internet other than through a NAT gateway", subnet)})
					}
				}
			}
		}
	}
	return out
}

// routeTablesOf are the route table references associated with subnet (a
// reference, as a service lists it).
func routeTablesOf(d *Doc, subnet string) []string {
	var out []string
	for _, a := range d.Of("aws_route_table_association") {
		if Str(a["subnet_id"]) == subnet {
			out = append(out, Str(a["route_table_id"]))
		}
	}
	return out
}

// endpointsVpcOnly: an interface endpoint's security group admits HTTPS
// from the VPC's own range and nothing else (the endpoint is how the
// VPC's workloads reach AWS; nobody outside has business there).
func endpointsVpcOnly(d *Doc, _ Options) []Violation {
	const rule = "endpoints-vpc-only"
	var vpcRanges []string
	for name, v := range d.Of("aws_vpc") {
		vpcRanges = append(vpcRanges, Str(v["cidr_block"]), Ref("aws_vpc", name, "cidr_block"))
	}
	var out []Violation
	for name, e := range d.Of("aws_vpc_endpoint") {
		for _, sg := range Strings(e["security_group_ids"]) {
			for _, g := range ingresses(d) {
				if g.group != sg {
					continue
				}
				for _, c := range g.cidrs {
					if !slices.Contains(vpcRanges, c) {
						out = append(out, Violation{rule, g.resource, fmt.Sprintf("endpoint %s admits %s, outside the VPC", name, c)})
					}
				}
				if g.referencedSG != "" || g.from != 443 || g.to != 443 {
					out = append(out, Violation{rule, g.resource, fmt.Sprintf("endpoint %s admits more than HTTPS from the VPC's range", name)})
				}
			}
		}
	}
	return out
}
