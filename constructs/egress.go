package constructs

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
)

// Endpoint is a TCP service the task connects out to: a DNS name or an IP
// literal, and a port.
type Endpoint struct {
	Host string
	Port int
}

// hostCIDR is the one-address range of Host when it is an IP literal, and
// "" for a DNS name (which may resolve anywhere).
func (e Endpoint) hostCIDR() string {
	addr, err := netip.ParseAddr(e.Host)
	if err != nil {
		return ""
	}
	return netip.PrefixFrom(addr, addr.BitLen()).String()
}

// egressRule is one outbound TCP rule of the Prometheus task: a port to a
// range.
type egressRule struct {
	port        int
	cidr        string
	description string
}

// prometheusEgress lists the task's outbound rules beyond HTTPS (which
// httpsEgress opens to anywhere already): node_exporter on nodes outside the
// VPC, and each Alertmanager's port. An Alertmanager given by IP gets that
// address alone; a DNS name may resolve anywhere, so its port is open to
// every address. Rules are unique by port and range, in a stable order.
func prometheusEgress(remoteScrapePort int, alertmanagers []Endpoint, ecsPorts []int, ecsCidr string) []egressRule {
	const anywhere = "0.0.0.0/0"
	var wanted []egressRule
	if remoteScrapePort != 0 {
		wanted = append(wanted, egressRule{remoteScrapePort, anywhere, "node_exporter on nodes in other discovery regions"})
	}
	for _, am := range alertmanagers {
		cidr := am.hostCIDR()
		if cidr == "" {
			cidr = anywhere
		}
		wanted = append(wanted, egressRule{am.Port, cidr, "Alertmanager (alertmanagerUrls)"})
	}
	for _, port := range ecsPorts {
		// ECS tasks' metrics, in the VPC: their own groups decide.
		wanted = append(wanted, egressRule{port, ecsCidr, "ECS tasks' metrics (ecsScrapePorts)"})
	}
	open := map[int]bool{} // ports open to anywhere need no narrower rule
	for _, r := range wanted {
		open[r.port] = open[r.port] || r.cidr == anywhere
	}
	var out []egressRule
	seen := map[string]bool{}
	for _, r := range wanted {
		key := fmt.Sprintf("%d %s", r.port, r.cidr)
		if r.port == 443 || seen[key] || (r.cidr != anywhere && open[r.port]) {
			continue
		}
		seen[key] = true
		out = append(out, r)
	}
	return out
}

// newEgressRules creates the rules on sg, one resource each, named after
// port and range so adding one never renames another.
func newEgressRules(scope constructs.Construct, sg securitygroup.SecurityGroup, rules []egressRule) []vpcsecuritygroupegressrule.VpcSecurityGroupEgressRule {
	var out []vpcsecuritygroupegressrule.VpcSecurityGroupEgressRule
	for _, r := range rules {
		id := fmt.Sprintf("out-%d-%s", r.port, strings.NewReplacer(".", "-", "/", "-", ":", "-").Replace(r.cidr))
		out = append(out, vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(scope, jsii.String(id), &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
			SecurityGroupId: sg.Id(),
			Description:     jsii.String(r.description),
			CidrIpv4:        cidrV4(r.cidr),
			CidrIpv6:        cidrV6(r.cidr),
			IpProtocol:      jsii.String("tcp"),
			FromPort:        jsii.Number(r.port),
			ToPort:          jsii.Number(r.port),
		}))
	}
	return out
}
