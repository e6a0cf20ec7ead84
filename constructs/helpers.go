package constructs

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupingressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// requireProps panics when a program leaves required props unset, naming
// the construct and every missing prop at once. Values the app's settings
// control are required (their defaults live in config/fields.go alone).
func requireProps(kind, id string, props ...requiredProp) {
	var missing []string
	for _, p := range props {
		if p.unset {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		panic(fmt.Sprintf("%s %s: required props not set: %s", kind, id, strings.Join(missing, ", ")))
	}
}

// requiredProp is one prop for requireProps: its name, and whether the
// program left it unset.
type requiredProp struct {
	name  string
	unset bool
}

func need(name string, unset bool) requiredProp { return requiredProp{name, unset} }

// orDefault and intOr apply a construct-owned default to an unset prop.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// nameTag is the Name tag of one resource.
func nameTag(name string) *map[string]*string {
	return &map[string]*string{"Name": jsii.String(name)}
}

// dependsOnOrNil leaves depends_on out when there is nothing to wait for.
func dependsOnOrNil(deps []cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable {
	if len(deps) == 0 {
		return nil
	}
	return &deps
}

// TerraformLiteral escapes text so Terraform takes it verbatim: in
// Terraform JSON every string is a template, and the shell scripts and YAML
// we ship are full of ${...} that must not be read as interpolation.
func TerraformLiteral(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// cidrIngress opens port on sg to each range (IPv4 or IPv6), one rule
// resource per range, named <prefix>-<n>.
func cidrIngress(scope constructs.Construct, prefix string, sg securitygroup.SecurityGroup, cidrs []string, port int, description string) {
	for i, cidr := range cidrs {
		vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(scope, jsii.String(fmt.Sprintf("%s-%d", prefix, i)), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
			SecurityGroupId: sg.Id(),
			Description:     jsii.String(description),
			CidrIpv4:        cidrV4(cidr),
			CidrIpv6:        cidrV6(cidr),
			IpProtocol:      jsii.String("tcp"),
			FromPort:        jsii.Number(port),
			ToPort:          jsii.Number(port),
		})
	}
}

// withoutWorld drops the ranges that cover every address (0.0.0.0/0, ::/0).
func withoutWorld(cidrs []string) []string {
	var out []string
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err != nil || p.Bits() != 0 {
			out = append(out, c)
		}
	}
	return out
}

// optional is nil for "" (attribute left out) and the string otherwise.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}

// cidrV4 and cidrV6 route a range to the rule attribute of its family, so
// callers can mix IPv4 and IPv6 ranges in one list.
func cidrV4(cidr string) *string {
	if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is4() {
		return jsii.String(cidr)
	}
	return nil
}

func cidrV6(cidr string) *string {
	if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is6() {
		return jsii.String(cidr)
	}
	return nil
}

// newSecurityGroup creates a security group with no inline rules: every
// rule is a resource of its own, which scanners and reviewers can see.
func newSecurityGroup(scope constructs.Construct, name, description string, vpcID *string) securitygroup.SecurityGroup {
	return securitygroup.NewSecurityGroup(scope, jsii.String("sg"), &securitygroup.SecurityGroupConfig{
		Name:        jsii.String(name),
		Description: jsii.String(description),
		VpcId:       vpcID,
		Tags:        nameTag(name),
	})
}

// httpsEgress lets sg open HTTPS connections to anywhere: without a NAT
// gateway, AWS APIs and downloads are reached over the internet.
func httpsEgress(scope constructs.Construct, sg securitygroup.SecurityGroup, description string) {
	vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(scope, jsii.String("https-out"), &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
		SecurityGroupId: sg.Id(),
		Description:     jsii.String(description),
		CidrIpv4:        jsii.String("0.0.0.0/0"),
		IpProtocol:      jsii.String("tcp"),
		FromPort:        jsii.Number(443),
		ToPort:          jsii.Number(443),
	})
}

// allowTCP opens port from client to server: an ingress rule on server and
// the matching egress rule on client, both naming the other group. No
// descriptions on SG-referencing rules on purpose: moto drops them, which
// would show as drift on every plan against the emulator.
func allowTCP(scope constructs.Construct, ingressID, egressID string, client, server *string, port int) {
	vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(scope, jsii.String(ingressID), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
		SecurityGroupId:           server,
		ReferencedSecurityGroupId: client,
		IpProtocol:                jsii.String("tcp"),
		FromPort:                  jsii.Number(port),
		ToPort:                    jsii.Number(port),
	})
	vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(scope, jsii.String(egressID), &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
		SecurityGroupId:           client,
		ReferencedSecurityGroupId: server,
		IpProtocol:                jsii.String("tcp"),
		FromPort:                  jsii.Number(port),
		ToPort:                    jsii.Number(port),
	})
}

// machineIngress admits the members of security group client to port on
// sg, by reference (no description: moto drops it on such rules).
func machineIngress(scope constructs.Construct, id string, sg securitygroup.SecurityGroup, client string, port int) {
	vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(scope, jsii.String(id), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
		SecurityGroupId:           sg.Id(),
		ReferencedSecurityGroupId: jsii.String(client),
		IpProtocol:                jsii.String("tcp"),
		FromPort:                  jsii.Number(port),
		ToPort:                    jsii.Number(port),
	})
}
