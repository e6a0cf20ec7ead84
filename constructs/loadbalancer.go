package constructs

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificatevalidation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpool"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpoolclient"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpooldomain"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawssecretsmanagersecretversions"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lb"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistener"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistenerrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtargetgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
)

// HTTPSLoadBalancerProps configures HTTPSLoadBalancer. It needs a
// certificate: CertificateArn, or Domain (which requests one unless
// CertificateArn is given too).
type HTTPSLoadBalancerProps struct {
	// Name prefixes resource names (load balancer and target group names
	// are shortened to AWS's 32 characters). Required.
	Name string
	// VpcId and SubnetIds (public, in at least two zones) place the load
	// balancer. Required.
	VpcId     *string
	SubnetIds *[]*string
	// AdminCidrs may reach ports 443 and 80 (80 only redirects). Required:
	// a load balancer nobody may reach is a mistake.
	AdminCidrs []string
	// CertificateArn is an ACM certificate in the load balancer's region.
	// Default: "" (Domain's certificate).
	CertificateArn string
	// Domain becomes an alias of the load balancer in its Route 53 zone;
	// without CertificateArn a certificate for it is requested from ACM and
	// validated with a DNS record in that zone. Default: nil (served on
	// the load balancer's own DNS name, with CertificateArn).
	Domain *Domain
	// TargetPort is the port of the targets (Prometheus's web port).
	// Default: 9090 (defaults.PrometheusPort).
	TargetPort int
	// HealthCheckMatcher is the HTTP codes that count as healthy on
	// /-/healthy. Default: "200"; "200,401" when the targets demand basic
	// auth, which the load balancer cannot send (a 401 still proves
	// Prometheus answers).
	HealthCheckMatcher string
	// SslPolicy of the HTTPS listener. Default:
	// ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 and 1.2 only).
	SslPolicy string
	// SSO signs people in before any request is forwarded (the listener's
	// default action and every path added). Default: nil (forwarded as is).
	SSO *SSO
}

// HTTPSLoadBalancer is a public Application Load Balancer that terminates
// TLS in front of Prometheus: HTTPS on 443, HTTP on 80 redirected to
// HTTPS, both open to the admin ranges only. Targets are registered by IP
// (Fargate tasks).
type HTTPSLoadBalancer struct {
	constructs.Construct
	SecurityGroup securitygroup.SecurityGroup
	LoadBalancer  lb.Lb
	TargetGroup   lbtargetgroup.LbTargetGroup
	HTTPS         lblistener.LbListener
	HTTPRedirect  lblistener.LbListener
	// Alias exists only with Domain; Certificate, Validation and
	// ValidationRecord only when its certificate was requested here.
	Certificate      acmcertificate.AcmCertificate
	Validation       acmcertificatevalidation.AcmCertificateValidation
	ValidationRecord route53record.Route53Record
	Alias            route53record.Route53Record
	// URL is where Prometheus is served: https://<Domain.Name>, or the load
	// balancer's DNS name.
	URL *string
	// With SSO and Cognito: the pool (created only; nil when given), its
	// domain (created with the pool) and the load balancer's app client.
	// With OIDC: the client secret's versions (ids, no value) and what
	// sets the secret on the HTTPS listener at apply (its rules have their
	// own, PathRoute.ClientSecretSetter).
	UserPool             cognitouserpool.CognitoUserPool
	UserPoolDomain       cognitouserpooldomain.CognitoUserPoolDomain
	UserPoolClient       cognitouserpoolclient.CognitoUserPoolClient
	ClientSecretVersions dataawssecretsmanagersecretversions.DataAwsSecretsmanagerSecretVersions
	ClientSecretSetter   cdktf.TerraformResource

	healthCheckMatcher string
	auth               *ssoAuth
}

// NewHTTPSLoadBalancer creates the load balancer, its security group, the
// target group and both listeners (and with Domain the DNS records, and the
// certificate unless one is given).
func NewHTTPSLoadBalancer(scope constructs.Construct, id string, props *HTTPSLoadBalancerProps) *HTTPSLoadBalancer {
	p := *props
	requireProps("HTTPSLoadBalancer", id, need("Name", p.Name == ""), need("VpcId", p.VpcId == nil),
		need("SubnetIds", p.SubnetIds == nil), need("AdminCidrs (nobody could reach it)", len(p.AdminCidrs) == 0),
		need("CertificateArn or Domain", p.CertificateArn == "" && p.Domain == nil),
		need("Domain.Name", p.Domain != nil && p.Domain.Name == ""), need("Domain.ZoneId", p.Domain != nil && p.Domain.ZoneId == ""))
	p.TargetPort = intOr(p.TargetPort, defaults.PrometheusPort)
	p.HealthCheckMatcher = orDefault(p.HealthCheckMatcher, "200")
	p.SslPolicy = orDefault(p.SslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06")

	scope = constructs.NewConstruct(scope, jsii.String(id))
	l := &HTTPSLoadBalancer{Construct: scope, healthCheckMatcher: p.HealthCheckMatcher}

	l.SecurityGroup = newSecurityGroup(scope, p.Name+"-alb-sg", "Prometheus load balancer: HTTPS (and the HTTP redirect) for admin ranges only", p.VpcId)
	cidrIngress(scope, "https-in", l.SecurityGroup, p.AdminCidrs, 443, "HTTPS to Prometheus from an admin range")
	cidrIngress(scope, "http-in", l.SecurityGroup, p.AdminCidrs, 80, "HTTP, redirected to HTTPS")

	l.LoadBalancer = lb.NewLb(scope, jsii.String("alb"), &lb.LbConfig{
		Name:                    jsii.String(awsName(p.Name, 32)),
		LoadBalancerType:        jsii.String("application"),
		Internal:                jsii.Bool(false),
		SecurityGroups:          &[]*string{l.SecurityGroup.Id()},
		Subnets:                 p.SubnetIds,
		DropInvalidHeaderFields: jsii.Bool(true),
		Tags:                    nameTag(p.Name + "-alb"),
	})
	l.TargetGroup = lbtargetgroup.NewLbTargetGroup(scope, jsii.String("targets"), &lbtargetgroup.LbTargetGroupConfig{
		Name:       jsii.String(awsName(p.Name+"-prometheus", 32)),
		Port:       jsii.Number(p.TargetPort),
		Protocol:   jsii.String("HTTP"),
		TargetType: jsii.String("ip"),
		VpcId:      p.VpcId,
		// Short: only one task, which is stopped before its successor
		// starts, so there is nothing to drain for long.
		DeregistrationDelay: jsii.String("30"),
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Path:    jsii.String("/-/healthy"),
			Matcher: jsii.String(p.HealthCheckMatcher),
		},
		Tags: nameTag(p.Name + "-prometheus"),
	})

	certificateArn := jsii.String(p.CertificateArn)
	// An interpolation, not a join(): the URL also goes into JSON strings
	// (the Alertmanager's --web.external-url), which a quoted expression
	// would break.
	l.URL = jsii.String("https://" + *l.LoadBalancer.DnsName())
	if p.Domain != nil {
		if p.CertificateArn == "" {
			certificateArn = l.requestCertificate(scope, p.Name, p.Domain)
		}
		l.alias(scope, p.Domain)
		l.URL = jsii.String("https://" + p.Domain.Name)
	}
	if p.SSO != nil {
		l.auth = l.newSSO(scope, p.Name, p.SSO, p.Domain)
	}
	l.listeners(scope, &p, certificateArn)
	return l
}

// listeners creates the HTTPS listener (with sso=oidc, and what sets its
// client secret at apply) and the HTTP one that redirects to it.
func (l *HTTPSLoadBalancer) listeners(scope constructs.Construct, p *HTTPSLoadBalancerProps, certificateArn *string) {
	l.HTTPS = lblistener.NewLbListener(scope, jsii.String("https"), &lblistener.LbListenerConfig{
		LoadBalancerArn: l.LoadBalancer.Arn(),
		Port:            jsii.Number(443),
		Protocol:        jsii.String("HTTPS"),
		SslPolicy:       jsii.String(p.SslPolicy),
		CertificateArn:  certificateArn,
		DefaultAction:   l.listenerActions(l.TargetGroup.Arn()),
		Tags:            nameTag(p.Name + "-https"),
	})
	if l.auth != nil && l.auth.secret != nil {
		l.ClientSecretSetter = l.auth.secret.set(scope, "oidc-client-secret", l.HTTPS, "default_action", "modify-listener",
			map[string]any{"ListenerArn": l.HTTPS.Arn(), "DefaultActions": l.cliActions(l.TargetGroup.Arn())})
	}
	l.HTTPRedirect = lblistener.NewLbListener(scope, jsii.String("http"), &lblistener.LbListenerConfig{
		LoadBalancerArn: l.LoadBalancer.Arn(),
		Port:            jsii.Number(80),
		Protocol:        jsii.String("HTTP"),
		DefaultAction: &[]*lblistener.LbListenerDefaultAction{{
			Type: jsii.String("redirect"),
			Redirect: &lblistener.LbListenerDefaultActionRedirect{
				Port: jsii.String("443"), Protocol: jsii.String("HTTPS"), StatusCode: jsii.String("HTTP_301"),
			},
		}},
		Tags: nameTag(p.Name + "-http-redirect"),
	})
}

// Domain is a DNS name for the load balancer and the Route 53 hosted zone
// that holds it. Both required.
type Domain struct {
	Name   string
	ZoneId string
}

// requestCertificate requests a DNS-validated certificate for the domain,
// writes the validation record into the zone and waits for issuance. It
// returns the ARN to serve, taken from the validation so the listener
// waits for an issued certificate.
func (l *HTTPSLoadBalancer) requestCertificate(scope constructs.Construct, name string, d *Domain) *string {
	l.Certificate = acmcertificate.NewAcmCertificate(scope, jsii.String("certificate"), &acmcertificate.AcmCertificateConfig{
		DomainName:       jsii.String(d.Name),
		ValidationMethod: jsii.String("DNS"),
		// A replacement is issued before the old one is let go, so the
		// listener is never without a certificate.
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
		Tags:      nameTag(name + "-certificate"),
	})
	// One domain, so one validation record.
	option := l.Certificate.DomainValidationOptions().Get(jsii.Number(0))
	l.ValidationRecord = route53record.NewRoute53Record(scope, jsii.String("certificate-validation-record"), &route53record.Route53RecordConfig{
		ZoneId:         jsii.String(d.ZoneId),
		Name:           option.ResourceRecordName(),
		Type:           option.ResourceRecordType(),
		Records:        &[]*string{option.ResourceRecordValue()},
		Ttl:            jsii.Number(60),
		AllowOverwrite: jsii.Bool(true),
	})
	l.Validation = acmcertificatevalidation.NewAcmCertificateValidation(scope, jsii.String("certificate-validation"), &acmcertificatevalidation.AcmCertificateValidationConfig{
		CertificateArn:        l.Certificate.Arn(),
		ValidationRecordFqdns: &[]*string{l.ValidationRecord.Fqdn()},
	})
	return l.Validation.CertificateArn()
}

// alias points the domain at the load balancer.
func (l *HTTPSLoadBalancer) alias(scope constructs.Construct, d *Domain) {
	l.Alias = route53record.NewRoute53Record(scope, jsii.String("alias"), &route53record.Route53RecordConfig{
		ZoneId: jsii.String(d.ZoneId),
		Name:   jsii.String(d.Name),
		Type:   jsii.String("A"),
		Alias: &route53record.Route53RecordAlias{
			Name:                 l.LoadBalancer.DnsName(),
			ZoneId:               l.LoadBalancer.ZoneId(),
			EvaluateTargetHealth: jsii.Bool(false),
		},
	})
}

// admit lets the load balancer reach the targets' security group on port,
// and nothing else. The rules reference each other's groups (no CIDR) and
// carry no description: moto drops descriptions of such rules, which would
// show as drift against the emulator.
func (l *HTTPSLoadBalancer) admit(scope constructs.Construct, target securitygroup.SecurityGroup, port int) {
	allowTCP(scope, "from-load-balancer", "load-balancer-to-targets", l.SecurityGroup.Id(), target.Id(), port)
}

// PathRoute is a second service behind the same listener, under a path.
type PathRoute struct {
	TargetGroup lbtargetgroup.LbTargetGroup
	Rule        lblistenerrule.LbListenerRule
	// ClientSecretSetter sets the OIDC client secret on Rule at apply
	// (sso=oidc only).
	ClientSecretSetter cdktf.TerraformResource
}

// addPath serves prefix and everything under it (prefix/*) from targets on
// port, checked on healthPath with matcher, with the same TLS, the same
// admin ranges; the rest stays Prometheus's. The targets must serve under
// prefix themselves (the rule forwards the path as is).
func (l *HTTPSLoadBalancer) addPath(scope constructs.Construct, id, name, prefix, healthPath string, port int, matcher string, vpcID *string, priority int) *PathRoute {
	r := &PathRoute{}
	r.TargetGroup = lbtargetgroup.NewLbTargetGroup(scope, jsii.String(id+"-targets"), &lbtargetgroup.LbTargetGroupConfig{
		Name:                jsii.String(awsName(name, 32)),
		Port:                jsii.Number(port),
		Protocol:            jsii.String("HTTP"),
		TargetType:          jsii.String("ip"),
		VpcId:               vpcID,
		DeregistrationDelay: jsii.String("30"),
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Path:    jsii.String(healthPath),
			Matcher: jsii.String(matcher),
		},
		Tags: nameTag(name),
	})
	r.Rule = lblistenerrule.NewLbListenerRule(scope, jsii.String(id+"-rule"), &lblistenerrule.LbListenerRuleConfig{
		ListenerArn: l.HTTPS.Arn(),
		Priority:    jsii.Number(priority),
		Action:      l.ruleActions(r.TargetGroup.Arn()),
		Condition: &[]*lblistenerrule.LbListenerRuleCondition{{
			PathPattern: &lblistenerrule.LbListenerRuleConditionPathPattern{Values: jsii.Strings(prefix, prefix+"/*")},
		}},
		Tags: nameTag(name),
	})
	if l.auth != nil && l.auth.secret != nil {
		r.ClientSecretSetter = l.auth.secret.set(scope, id+"-oidc-client-secret", r.Rule, "action", "modify-rule",
			map[string]any{"RuleArn": r.Rule.Arn(), "Actions": l.cliActions(r.TargetGroup.Arn())})
	}
	return r
}

// awsName fits name into max characters (load balancer and target group
// names allow 32): a too-long name keeps its start and gets a short hash,
// so different long names stay different.
func awsName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:max-7], "-") + "-" + hex.EncodeToString(sum[:])[:6]
}
