package policy

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// Rules of issue 34's security hardening: plain HTTP admin access, the
// state bucket's TLS-only statement, kms:ViaService on key grants and
// images pinned by digest.

// vpcRanges are the CIDR blocks of the document's VPCs.
func vpcRanges(d *Doc) []netip.Prefix {
	var out []netip.Prefix
	for _, name := range d.Names("aws_vpc") {
		if p, err := netip.ParsePrefix(Str(d.Of("aws_vpc")[name]["cidr_block"])); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// insideVPC reports whether cidr lies within one of the VPC ranges.
func insideVPC(cidr string, vpcs []netip.Prefix) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	for _, v := range vpcs {
		if v.Bits() <= p.Bits() && v.Contains(p.Masked().Addr()) {
			return true
		}
	}
	return false
}

// adminOverTLS: Prometheus, the Alertmanager and Grafana speak plain HTTP
// with basic auth, so a range outside the VPC that reaches their ports
// directly (not through the HTTPS load balancer, which a security group
// reference admits) would carry the password in clear. A private range
// (a VPN) is admitted with the allowPlainHttpAdmin opt-in; the internet
// never.
func adminOverTLS(d *Doc, o Options) []Violation {
	var out []Violation
	vpcs := vpcRanges(d)
	ports := map[string]int{"Prometheus": o.PrometheusPort, "the Alertmanager": o.AlertmanagerPort, "Grafana": o.GrafanaPort}
	for _, g := range ingresses(d) {
		for _, what := range []string{"Prometheus", "the Alertmanager", "Grafana"} {
			if !g.covers(ports[what]) {
				continue
			}
			for _, c := range g.cidrs {
				switch {
				case insideVPC(c, vpcs):
				case o.AllowPlainHTTPAdmin && config.PrivateRange(c):
				default:
					out = append(out, Violation{"admin-over-tls", g.resource, fmt.Sprintf("%s's port %d is reachable over plain HTTP from %s, outside the VPC; serve it through the HTTPS load balancer (private ranges only with allowPlainHttpAdmin)", what, ports[what], c)})
				}
			}
		}
	}
	return out
}

// policyStatement is a statement with what these rules read of it.
type policyStatement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition"`
}

// statements parses a policy document (a literal JSON string).
func statements(doc string) ([]policyStatement, error) {
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, err
	}
	var list []policyStatement
	if err := json.Unmarshal(p.Statement, &list); err != nil {
		var one policyStatement
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return nil, err
		}
		list = []policyStatement{one}
	}
	return list, nil
}

// conditionValues are the values a statement's condition gives key under
// operator (operator "" matches every operator).
func conditionValues(st policyStatement, operator, key string) []string {
	var out []string
	for op, block := range st.Condition {
		if operator != "" && op != operator {
			continue
		}
		m, _ := block.(map[string]any)
		for k, v := range m {
			if strings.EqualFold(k, key) {
				if b, ok := v.(bool); ok {
					out = append(out, fmt.Sprint(b))
					continue
				}
				out = append(out, Strings(v)...)
			}
		}
	}
	return out
}

// tlsOnlyAllActions: a bucket's TLS-only statement must deny every S3
// action. Denying a list leaves the rest (GetObjectVersion, for the old
// state versions, among them) open over plain HTTP. Amazon S3 user guide,
// "Security best practices for Amazon S3"
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html),
// "Implement encryption of data in transit": deny requests whose
// aws:SecureTransport is false; the AWS Config rule s3-bucket-ssl-requests-only
// (https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule)
// accepts a Deny of "s3:*" on the bucket and its objects.
func tlsOnlyAllActions(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_s3_bucket_policy") {
		id := "aws_s3_bucket_policy." + name
		sts, err := statements(Str(d.Of("aws_s3_bucket_policy")[name]["policy"]))
		if err != nil {
			out = append(out, Violation{"tls-only-all-actions", id, "policy is not a literal JSON document, so it cannot be checked: " + err.Error()})
			continue
		}
		for _, st := range sts {
			if !slices.Contains(conditionValues(st, "", "aws:SecureTransport"), "false") {
				continue
			}
			actions := Strings(st.Action)
			if st.Effect != "Deny" || !(slices.Contains(actions, "s3:*") || slices.Contains(actions, "*")) {
				out = append(out, Violation{"tls-only-all-actions", id, fmt.Sprintf("statement %q on aws:SecureTransport=false %ss %v; Deny \"s3:*\", so no S3 action works without TLS", st.Sid, strings.ToLower(st.Effect), actions)})
			}
		}
	}
	return out
}

// kmsUseActions are the KMS actions that use a key's material.
var kmsUseActions = []string{"kms:decrypt", "kms:encrypt", "kms:generatedatakey", "kms:reencrypt"}

// viaServiceRE is a kms:ViaService value: <service>.<region>.amazonaws.com.
var viaServiceRE = regexp.MustCompile(`^[a-z0-9-]+\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// kmsViaService: a role's grant to use a customer key holds only through
// the AWS services that encrypt with it, so the role's credentials (in the
// task, for instance) cannot decrypt with the key directly. AWS KMS
// developer guide, "AWS KMS condition keys", kms:ViaService
// (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service):
// the value is the service's endpoint, <service>.<region>.amazonaws.com.
func kmsViaService(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_policy"} {
		for _, name := range d.Names(typ) {
			sts, err := statements(Str(d.Of(typ)[name]["policy"]))
			if err != nil {
				continue // no-wildcard-actions reports it
			}
			for _, st := range sts {
				uses := slices.ContainsFunc(Strings(st.Action), func(a string) bool {
					a = strings.ToLower(a)
					return slices.ContainsFunc(kmsUseActions, func(k string) bool { return strings.HasPrefix(a, k) })
				})
				if st.Effect != "Allow" || !uses {
					continue
				}
				vias := conditionValues(st, "StringEquals", "kms:ViaService")
				if len(vias) == 0 {
					out = append(out, Violation{"kms-via-service", typ + "." + name, fmt.Sprintf("grants %v without a StringEquals kms:ViaService condition; name the services that use the key (<service>.<region>.amazonaws.com)", Strings(st.Action))})
				}
				for _, v := range vias {
					if !viaServiceRE.MatchString(v) && !strings.HasPrefix(v, "${") {
						out = append(out, Violation{"kms-via-service", typ + "." + name, fmt.Sprintf("kms:ViaService %q is not a service endpoint (<service>.<region>.amazonaws.com)", v)})
					}
				}
			}
		}
	}
	return out
}

// imagesPinnedByDigest: with requireImageDigests every container image of
// every task definition names its digest (a tag can be pushed again).
func imagesPinnedByDigest(d *Doc, o Options) []Violation {
	if !o.RequireImageDigests {
		return nil
	}
	var out []Violation
	names, defs, errs := taskDefs(d)
	for _, e := range errs {
		e.Rule = "images-pinned-by-digest"
		out = append(out, e)
	}
	for _, name := range names {
		for _, c := range defs[name] {
			if !config.HasDigest(c.Image) {
				out = append(out, Violation{"images-pinned-by-digest", "aws_ecs_task_definition." + name, fmt.Sprintf("container %s runs %q, not pinned by digest; append @sha256:<digest>", c.Name, c.Image)})
			}
		}
	}
	return out
}
