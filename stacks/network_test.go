package stacks

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/policy"
)

// networkMode=private: behind the load balancer with one NAT gateway, and
// against the emulator reached from a VPN range, a gateway per zone, amp
// (so the aps endpoint), some endpoints left out.
var (
	privateNet   = declare("private", env{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"})
	privateLocal = declare("private-local", env{"PROMAWS_NETWORK_MODE": "private", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16",
		"PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true", "PROMAWS_NAT_GATEWAYS": "perZone", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_VPC_ENDPOINTS": "ec2,logs,aps,s3,ecr",
		"PROMAWS_NODE_EXPORTER_DOWNLOAD_BASE": "s3://acme-mirror/node_exporter/"})
)

// networkMode=private: the task and the nodes in private subnets without
// public IPs, the internet through NAT, the AWS APIs through endpoints
// that admit only the VPC, the load balancer in the public subnets.
func TestPrivateNetwork(t *testing.T) {
	d := privateNet.doc(t)
	private, public := map[string]bool{}, map[string]bool{}
	for name, sn := range d.Of("aws_subnet") {
		if sn["map_public_ip_on_launch"] == true {
			t.Errorf("private: subnet %s maps public IPs", name)
		}
		ref := policy.Ref("aws_subnet", name, "id")
		if strings.Contains(policy.Str(policy.Path(sn, "tags", "Name")), "-private-") {
			private[ref] = true
		} else {
			public[ref] = true
		}
	}
	if len(private) != 2 || len(public) != 2 {
		t.Fatalf("private: want a public and a private subnet per zone, have %d and %d", len(public), len(private))
	}
	_, svc := one(t, d, "aws_ecs_service")
	if policy.Path(svc, "network_configuration", "assign_public_ip") != false {
		t.Error("private: the service must not assign public IPs")
	}
	for _, s := range policy.Strings(policy.Path(svc, "network_configuration", "subnets")) {
		if !private[s] {
			t.Errorf("private: the task runs in %s, not a private subnet", s)
		}
	}
	_, asg := one(t, d, "aws_autoscaling_group")
	for _, s := range policy.Strings(asg["vpc_zone_identifier"]) {
		if !private[s] {
			t.Errorf("private: a node runs in %s, not a private subnet", s)
		}
	}
	for _, mt := range d.Of("aws_efs_mount_target") {
		if !private[policy.Str(mt["subnet_id"])] {
			t.Errorf("private: EFS mount target in %v", mt["subnet_id"])
		}
	}
	_, alb := one(t, d, "aws_lb")
	for _, s := range policy.Strings(alb["subnets"]) {
		if !public[s] {
			t.Errorf("private: the load balancer must face the internet from the public subnets, is in %s", s)
		}
	}
	if n := len(d.Of("aws_nat_gateway")); n != 1 || len(d.Of("aws_eip")) != 1 {
		t.Errorf("private, natGateways=single: want one NAT gateway with its address, have %d", n)
	}
	if n := len(privateLocal.doc(t).Of("aws_nat_gateway")); n != 2 {
		t.Errorf("natGateways=perZone: want a NAT gateway per zone, have %d", n)
	}
	if got, want := endpoints(d), "ec2,logs,s3,secretsmanager,sns,ssm"; got != want {
		t.Errorf("private (efs): endpoints %s, want %s (aps only with amp)", got, want)
	}
	if got, want := endpoints(privateLocal.doc(t)), "aps-workspaces,ec2,ecr.api,ecr.dkr,logs,s3"; got != want {
		t.Errorf("private-local: endpoints %s, want the ones listed, aps as aps-workspaces: %s", got, want)
	}
	for name, e := range d.Of("aws_vpc_endpoint") {
		if strings.HasSuffix(policy.Str(e["service_name"]), ".s3") {
			if e["vpc_endpoint_type"] != "Gateway" || len(policy.Strings(e["route_table_ids"])) != 2 {
				t.Errorf("the s3 endpoint must be a gateway on both private route tables: %v", e)
			}
			continue
		}
		if e["vpc_endpoint_type"] != "Interface" || e["private_dns_enabled"] != true || len(policy.Strings(e["subnet_ids"])) != 2 {
			t.Errorf("endpoint %s: interface endpoint in every private subnet, private DNS on: %v", name, e)
		}
	}
	// A mirror in S3 (a VPC without internet): the nodes' role may read
	// its objects and nothing else of S3; the user data names it.
	local := privateLocal.doc(t)
	nodeRole, _ := findRole(t, local, "node-role")
	var grants []string
	for _, p := range local.Of("aws_iam_role_policy") {
		if p["role"] == policy.Ref("aws_iam_role", nodeRole, "name") || p["role"] == policy.Ref("aws_iam_role", nodeRole, "id") {
			grants = append(grants, policy.Str(p["policy"]))
		}
	}
	if len(grants) != 1 || !strings.Contains(grants[0], `"Action":["s3:GetObject"]`) || !strings.Contains(grants[0], ":s3:::acme-mirror/node_exporter/*") {
		t.Errorf("the nodes' role must read the mirror's objects alone: %v", grants)
	}
	// The public layout has none of it.
	for _, typ := range []string{"aws_nat_gateway", "aws_eip", "aws_vpc_endpoint"} {
		if len(byDefault.doc(t).Of(typ)) != 0 {
			t.Errorf("default (public): no %s", typ)
		}
	}
	// The private layout passes the private-network rule:
	// TestPoliciesHoldForEveryVariant.
	if v := policy.Check(byDefault.doc(t), policy.Options{PrivateNetwork: true}); len(v) == 0 {
		t.Error("the public layout must fail the private-network rule (the rule must be able to fail)")
	}
}

func endpoints(d *policy.Doc) string {
	var names []string
	for _, e := range d.Of("aws_vpc_endpoint") {
		names = append(names, strings.TrimPrefix(policy.Str(e["service_name"]), "com.amazonaws.eu-central-1."))
	}
	sort.Strings(names)
	return strings.Join(slices.Compact(names), ",")
}
