package constructs_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const testCertificate = "arn:aws:acm:eu-central-1:123456789012:certificate/0000"

func lbProps() *pconstructs.HTTPSLoadBalancerProps {
	return &pconstructs.HTTPSLoadBalancerProps{Name: "p", VpcId: vpcID, SubnetIds: subnetIDs, AdminCidrs: []string{"198.51.100.0/24"}, TargetPort: 9090}
}

// listener is the listener on port.
func listener(t *testing.T, d *policy.Doc, port float64) map[string]any {
	t.Helper()
	for _, l := range d.Of("aws_lb_listener") {
		if l["port"] == port {
			return l
		}
	}
	t.Fatalf("no listener on %v", port)
	return nil
}

// Given a certificate, when synthesized, then a public ALB serving it on
// 443 with TLS 1.3/1.2 only, 80 redirecting to 443, both for the admin
// ranges alone, IP targets on TargetPort checked on /-/healthy for 200,
// and no certificate or DNS record of its own.
func TestLoadBalancerWithCertificate(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := lbProps()
		p.CertificateArn = testCertificate
		pconstructs.NewHTTPSLoadBalancer(s, "lb", p)
	})
	if lb := only(t, d, "aws_lb"); lb["internal"] != false || lb["drop_invalid_header_fields"] != true {
		t.Errorf("load balancer %v", lb)
	}
	https := listener(t, d, 443)
	if https["certificate_arn"] != testCertificate || https["ssl_policy"] != "ELBSecurityPolicy-TLS13-1-2-2021-06" {
		t.Errorf("HTTPS listener %v", https)
	}
	if r := policy.Path(listener(t, d, 80), "default_action", "redirect"); policy.Path(r, "port") != "443" || policy.Path(r, "protocol") != "HTTPS" {
		t.Errorf("HTTP must redirect to HTTPS: %v", r)
	}
	tg := only(t, d, "aws_lb_target_group")
	if tg["port"] != 9090.0 || tg["target_type"] != "ip" || policy.Path(tg, "health_check", "matcher") != "200" || policy.Path(tg, "health_check", "path") != "/-/healthy" {
		t.Errorf("target group %v", tg)
	}
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if r["cidr_ipv4"] != "198.51.100.0/24" {
			t.Errorf("ingress %v: admin range only", r)
		}
	}
	if n := count(d, "aws_acm_certificate") + count(d, "aws_route53_record"); n != 0 {
		t.Errorf("%d certificate/DNS resources with a given certificate and no Domain", n)
	}
}

// Given a domain and no certificate, when synthesized, then a
// DNS-validated certificate, its validation record and an alias; given
// both, the alias and the given certificate, none requested.
func TestLoadBalancerWithDomain(t *testing.T) {
	domain := &pconstructs.Domain{Name: "prometheus.example.com", ZoneId: "Z0123"}
	d := given(t, func(s cdktf.TerraformStack) {
		p := lbProps()
		p.Domain = domain
		pconstructs.NewHTTPSLoadBalancer(s, "lb", p)
	})
	if c := only(t, d, "aws_acm_certificate"); c["domain_name"] != domain.Name || c["validation_method"] != "DNS" {
		t.Errorf("certificate %v", c)
	}
	only(t, d, "aws_acm_certificate_validation")
	if n := count(d, "aws_route53_record"); n != 2 {
		t.Errorf("%d DNS records, want validation and alias", n)
	}
	if arn := policy.Str(listener(t, d, 443)["certificate_arn"]); !strings.Contains(arn, "aws_acm_certificate_validation") {
		t.Errorf("the listener must wait for the issued certificate: %s", arn)
	}

	d = given(t, func(s cdktf.TerraformStack) {
		p := lbProps()
		p.Domain, p.CertificateArn = domain, testCertificate
		pconstructs.NewHTTPSLoadBalancer(s, "lb", p)
	})
	if count(d, "aws_acm_certificate") != 0 || count(d, "aws_route53_record") != 1 || listener(t, d, 443)["certificate_arn"] != testCertificate {
		t.Errorf("given certificate and domain: %d certificates, %d records", count(d, "aws_acm_certificate"), count(d, "aws_route53_record"))
	}
}

// Given no certificate source, no admin range or half a domain, when
// built, then the construct names what is missing.
func TestLoadBalancerRequiredProps(t *testing.T) {
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewHTTPSLoadBalancer(s, "lb", &pconstructs.HTTPSLoadBalancerProps{Name: "p", VpcId: vpcID, SubnetIds: subnetIDs})
	}, "HTTPSLoadBalancer lb", "AdminCidrs", "CertificateArn or Domain")
	refused(t, func(s cdktf.TerraformStack) {
		p := lbProps()
		p.Domain = &pconstructs.Domain{Name: "prometheus.example.com"}
		pconstructs.NewHTTPSLoadBalancer(s, "lb", p)
	}, "Domain.ZoneId")
}
