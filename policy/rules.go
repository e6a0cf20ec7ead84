package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// Violation is one broken promise, naming the resource that broke it.
type Violation struct {
	Rule     string
	Resource string // type.name
	Message  string
}

func (v Violation) String() string { return fmt.Sprintf("[%s] %s: %s", v.Rule, v.Resource, v.Message) }

// Options tune the checks to the deployment's explicit opt-ins.
type Options struct {
	// NodePort is node_exporter's port. Default: 9100.
	NodePort int
	// PrometheusPort is Prometheus's web port. Default: 9090.
	PrometheusPort int
	// PrivateNetwork is networkMode=private: nothing the task or the nodes
	// use may have a public IP.
	PrivateNetwork bool
	// AllowWorldOpenAdmin permits 0.0.0.0/0 or ::/0 on PrometheusPort (the
	// settings' loudly named opt-in). Ports 22 and NodePort are never
	// world-open, opt-in or not.
	AllowWorldOpenAdmin bool
	// AlertmanagerPort and GrafanaPort are the bundled Alertmanager's and
	// Grafana's web ports. Defaults: 9093, 3000.
	AlertmanagerPort, GrafanaPort int
	// AllowPlainHTTPAdmin admits private ranges outside the VPC to the
	// plain-HTTP web ports (allowPlainHttpAdmin): a network reached over a
	// VPN. Public ranges never.
	AllowPlainHTTPAdmin bool
	// RequireImageDigests: every task image is pinned by digest
	// (requireImageDigests).
	RequireImageDigests bool
	// KmsKeyAllowsAps is the owner's word that the customer key encrypting
	// the alert topic admits aps.amazonaws.com (kmsKeyAllowsAps).
	KmsKeyAllowsAps bool
	// SSO is single sign-on at the load balancer (sso=cognito or oidc):
	// every forward on the HTTPS listener authenticates first.
	SSO bool
	// ImageVolumes adds what the policy knows of images beyond the official
	// Prometheus image: image reference -> the VOLUMEs it declares.
	ImageVolumes map[string][]ImageVolume
}

// OptionsFor are the options the settings s call for.
func OptionsFor(s *config.Settings) Options {
	return Options{NodePort: s.NodeExporterPort, PrometheusPort: s.PrometheusPort, AllowWorldOpenAdmin: s.AllowWorldOpenAdmin, PrivateNetwork: s.Private(), KmsKeyAllowsAps: s.KmsKeyAllowsAps,
		AlertmanagerPort: s.AlertmanagerPort, GrafanaPort: s.GrafanaPort, AllowPlainHTTPAdmin: s.AllowPlainHTTPAdmin, RequireImageDigests: s.RequireImageDigests, SSO: s.SingleSignOn()}
}

// Rule is one named check.
type Rule struct {
	Name  string
	Doc   string
	Check func(d *Doc, o Options) []Violation
}

// Rules are all checks, in report order.
var Rules = []Rule{
	{"no-world-ingress", "No ingress from 0.0.0.0/0 or ::/0 (only Prometheus's port and the load balancer's 443 and 80, and only with allowWorldOpenAdmin: never the Alertmanager's).", noWorldIngress},
	{"admin-over-tls", "No range outside the VPC reaches the plain-HTTP ports of Prometheus, the Alertmanager or Grafana (the HTTPS load balancer serves them); with allowPlainHttpAdmin, private ranges (a VPN) may.", adminOverTLS},
	{"private-no-public-ips", "With networkMode=private: no subnet maps public IPs, no ECS service, launch template or instance asks for one, and the task's subnets reach the internet through NAT only.", privateNoPublicIPs},
	{"endpoints-vpc-only", "Interface VPC endpoints admit HTTPS from the VPC's own range only.", endpointsVpcOnly},
	{"sns-publish-scoped", "IAM grants sns:Publish on named topics only: every Resource an ARN without a wildcard, never \"*\".", snsPublishScoped},
	{"node-port-from-scraper-only", "Every ingress to node_exporter's port references one security group, never a CIDR.", nodePortFromScraperOnly},
	{"imdsv2", "Launch templates and instances require IMDSv2 tokens with a hop limit of 1.", imdsv2},
	{"encrypted-volumes", "EBS volumes of launch templates and instances, and EFS file systems, are encrypted; ECS tasks mount EFS with TLS in transit.", encryptedVolumes},
	{"no-wildcard-actions", "IAM policies grant no \"*\" or \"service:*\" action.", noWildcardActions},
	{"secret-recovery-window", "Every Secrets Manager secret sets recovery_window_in_days deliberately.", secretRecoveryWindow},
	{"name-tags", "Every tagged resource carries a Name tag.", nameTags},
	{"sso-authenticates", "With sso: every forward on the HTTPS listener (default action and rules) comes after an authenticate-cognito or authenticate-oidc action, and the web ports of Prometheus, the Alertmanager and Grafana admit security groups only (the load balancer, the machine path), no range.", ssoAuthenticates},
	{"oidc-secret-not-stored", "An authenticate-oidc action's client_secret is a literal placeholder in ignore_changes, set at apply by a terraform_data its listener or rule re-triggers, whose local-exec reads the secret ephemerally through its environment, never its command; no data source reads a Secrets Manager secret's value (both would be stored in the state).", oidcSecretNotStored},
	{"http-listener-redirects", "A load balancer listener on plain HTTP only redirects to HTTPS; HTTPS listeners use a TLS 1.2+ policy.", listenerTLS},
	{"fargate-writable-paths", "With a read-only root, a non-root container writes only to a tmpfs, an EFS volume or a bind mount at a VOLUME its image owns for it (Fargate creates other bind mounts root-owned, mode 0755).", fargateWritablePaths},
	{"ecr-pull-exactly", "An image in private ECR is pullable by the execution role on exactly its repository; no ECR permission without such an image.", ecrPullExactly},
	{"execution-role-reads-secrets", "The execution role may read every secret a container definition references (ssm:GetParameters, secretsmanager:GetSecretValue).", executionRoleReadsSecrets},
	{"config-sync-reads-exactly", "The task role may read (ssm:GetParameter, ssm:GetParameters) each parameter its config-sync container keeps, by ARN, and no other: no wildcard.", configSyncReadsExactly},
	{"ssm-value-fits-tier", "Every SSM parameter value fits its tier (Standard 4 KB, Advanced 8 KB).", ssmValueFitsTier},
	{"task-definition-size", "Container definitions leave room under ECS's 64 KiB task definition limit.", taskDefinitionSize},
	{"ci-trust-pinned", "A role trusting OpenID Connect tokens pins the audience and subjects of one project; a CI deploy role admits exact subjects only (its protected branch or environment).", ciTrustPinned},
	{"amp-alerts-key-usable", "An AMP alert manager publishing to a topic encrypted with a customer key: the key admits aps.amazonaws.com (kms:GenerateDataKey*, kms:Decrypt), in its policy when the stack manages it, else by kmsKeyAllowsAps.", ampAlertsKeyUsable},
	{"tls-only-all-actions", "A bucket policy statement conditioned on aws:SecureTransport=false denies \"s3:*\".", tlsOnlyAllActions},
	{"kms-via-service", "IAM grants to use a KMS key (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*) hold only through named services: StringEquals kms:ViaService <service>.<region>.amazonaws.com.", kmsViaService},
	{"images-pinned-by-digest", "With requireImageDigests: every container image of a task definition is pinned by digest (@sha256:<64 hex>).", imagesPinnedByDigest},
	{"least-capability", "Every container of a task definition drops every Linux capability (linuxParameters.capabilities.drop [\"ALL\"]) and adds none.", leastCapability},
	{"ecs-discovery-read-only", "A role ECS tasks assume calls ECS only to discover (ListClusters, DescribeClusters, ListServices, DescribeServices, ListTasks, DescribeTasks, DescribeContainerInstances), and an ECS grant or ec2:DescribeNetworkInterfaces on \"*\" is conditioned on aws:RequestedRegion or ecs:cluster.", ecsDiscoveryReadOnly},
	{"sns-key-usable", "No SNS topic is encrypted with the AWS-managed key alias/aws/sns, which CloudWatch alarms and EventBridge cannot use (their notifications would be dropped).", snsKeyUsable},
}

// Check runs every rule and returns the violations, sorted.
func Check(d *Doc, o Options) []Violation {
	if o.NodePort == 0 {
		o.NodePort = 9100
	}
	if o.PrometheusPort == 0 {
		o.PrometheusPort = 9090
	}
	if o.AlertmanagerPort == 0 {
		o.AlertmanagerPort = 9093
	}
	if o.GrafanaPort == 0 {
		o.GrafanaPort = 3000
	}
	var out []Violation
	for _, r := range Rules {
		out = append(out, r.Check(d, o)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// ingress is one ingress permission, whichever resource form declared it.
type ingress struct {
	resource     string
	group        string // the security group it admits into (a reference)
	from, to     int
	protocol     string
	cidrs        []string
	referencedSG string
}

func (g ingress) covers(port int) bool {
	return g.protocol == "-1" || g.protocol == "all" || (g.from <= port && port <= g.to)
}

// ingresses collects standalone rules and inline ingress blocks alike.
func ingresses(d *Doc) []ingress {
	var out []ingress
	for _, name := range d.Names("aws_vpc_security_group_ingress_rule") {
		a := d.Of("aws_vpc_security_group_ingress_rule")[name]
		out = append(out, ingress{
			resource: "aws_vpc_security_group_ingress_rule." + name, group: Str(a["security_group_id"]),
			from: int(Num(a["from_port"])), to: int(Num(a["to_port"])), protocol: Str(a["ip_protocol"]),
			cidrs:        append(Strings(a["cidr_ipv4"]), Strings(a["cidr_ipv6"])...),
			referencedSG: Str(a["referenced_security_group_id"]),
		})
	}
	for _, name := range d.Names("aws_security_group_rule") {
		a := d.Of("aws_security_group_rule")[name]
		if Str(a["type"]) != "ingress" {
			continue
		}
		out = append(out, ingress{
			resource: "aws_security_group_rule." + name, group: Str(a["security_group_id"]),
			from: int(Num(a["from_port"])), to: int(Num(a["to_port"])), protocol: Str(a["protocol"]),
			cidrs:        append(Strings(a["cidr_blocks"]), Strings(a["ipv6_cidr_blocks"])...),
			referencedSG: Str(a["source_security_group_id"]),
		})
	}
	for _, name := range d.Names("aws_security_group") {
		blocks, _ := d.Of("aws_security_group")[name]["ingress"].([]any)
		for _, b := range blocks {
			out = append(out, ingress{
				resource: "aws_security_group." + name, group: Ref("aws_security_group", name, "id"),
				from: int(Num(Path(b, "from_port"))), to: int(Num(Path(b, "to_port"))), protocol: Str(Path(b, "protocol")),
				cidrs:        append(Strings(Path(b, "cidr_blocks")), Strings(Path(b, "ipv6_cidr_blocks"))...),
				referencedSG: strings.Join(Strings(Path(b, "security_groups")), ","),
			})
		}
	}
	return out
}

func noWorldIngress(d *Doc, o Options) []Violation {
	var out []Violation
	for _, g := range ingresses(d) {
		for _, c := range g.cidrs {
			if !IsWorld(c) {
				continue
			}
			// The opt-in's port: Prometheus's, or the HTTPS load balancer's
			// (80 only redirects) when it serves the admin ranges.
			allowed := o.AllowWorldOpenAdmin && g.from == g.to && g.protocol == "tcp" && (g.from == o.PrometheusPort || g.from == 443 || g.from == 80)
			if !allowed {
				out = append(out, Violation{"no-world-ingress", g.resource, fmt.Sprintf("ports %d-%d open to %s", g.from, g.to, c)})
			}
		}
	}
	return out
}

func nodePortFromScraperOnly(d *Doc, o Options) []Violation {
	var out []Violation
	sources := map[string]bool{}
	for _, g := range ingresses(d) {
		if !g.covers(o.NodePort) {
			continue
		}
		if len(g.cidrs) > 0 || g.referencedSG == "" {
			out = append(out, Violation{"node-port-from-scraper-only", g.resource, fmt.Sprintf("port %d must be reached through a security-group reference, not %v", o.NodePort, g.cidrs)})
			continue
		}
		sources[g.referencedSG] = true
	}
	if len(sources) > 1 {
		out = append(out, Violation{"node-port-from-scraper-only", "security groups", fmt.Sprintf("port %d is reachable from %d security groups; only the scraper's may reach it", o.NodePort, len(sources))})
	}
	return out
}

func imdsv2(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, typ := range []string{"aws_launch_template", "aws_instance"} {
		for _, name := range d.Names(typ) {
			a := d.Of(typ)[name]
			if Str(Path(a, "metadata_options", "http_tokens")) != "required" {
				out = append(out, Violation{"imdsv2", typ + "." + name, "metadata_options.http_tokens must be \"required\""})
			}
			if hop := Num(Path(a, "metadata_options", "http_put_response_hop_limit")); hop != 1 {
				out = append(out, Violation{"imdsv2", typ + "." + name, fmt.Sprintf("metadata_options.http_put_response_hop_limit must be 1, is %v", hop)})
			}
		}
	}
	return out
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return false
}

func encryptedVolumes(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_launch_template") {
		blocks, _ := d.Of("aws_launch_template")[name]["block_device_mappings"].([]any)
		if len(blocks) == 0 {
			out = append(out, Violation{"encrypted-volumes", "aws_launch_template." + name, "declares no root block device, so its encryption is not ensured"})
		}
		for _, b := range blocks {
			if !truthy(Path(b, "ebs", "encrypted")) {
				out = append(out, Violation{"encrypted-volumes", "aws_launch_template." + name, fmt.Sprintf("volume %s is not encrypted", Str(Path(b, "device_name")))})
			}
		}
	}
	for _, name := range d.Names("aws_instance") {
		if !truthy(Path(d.Of("aws_instance")[name], "root_block_device", "encrypted")) {
			out = append(out, Violation{"encrypted-volumes", "aws_instance." + name, "root_block_device.encrypted must be true"})
		}
	}
	for _, name := range d.Names("aws_ecs_task_definition") {
		volumes, _ := d.Of("aws_ecs_task_definition")[name]["volume"].([]any)
		for _, v := range volumes {
			if efs := Path(v, "efs_volume_configuration"); efs != nil && Str(Path(efs, "transit_encryption")) != "ENABLED" {
				out = append(out, Violation{"encrypted-volumes", "aws_ecs_task_definition." + name, fmt.Sprintf("EFS volume %s must set transit_encryption = ENABLED", Str(Path(v, "name")))})
			}
		}
	}
	for _, typ := range []string{"aws_ebs_volume", "aws_efs_file_system"} {
		for _, name := range d.Names(typ) {
			if !truthy(d.Of(typ)[name]["encrypted"]) {
				out = append(out, Violation{"encrypted-volumes", typ + "." + name, "encrypted must be true"})
			}
		}
	}
	return out
}

func noWildcardActions(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_policy"} {
		for _, name := range d.Names(typ) {
			doc := Str(d.Of(typ)[name]["policy"])
			var p struct {
				Statement []struct {
					Action any `json:"Action"`
				} `json:"Statement"`
			}
			if err := json.Unmarshal([]byte(doc), &p); err != nil {
				out = append(out, Violation{"no-wildcard-actions", typ + "." + name, "policy is not a literal JSON document, so it cannot be checked: " + err.Error()})
				continue
			}
			for _, st := range p.Statement {
				for _, a := range Strings(st.Action) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						out = append(out, Violation{"no-wildcard-actions", typ + "." + name, fmt.Sprintf("grants %q; list the actions needed", a)})
					}
				}
			}
		}
	}
	return out
}

// snsPublishScoped: whoever may publish to every topic may page anyone.
func snsPublishScoped(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, typ := range []string{"aws_iam_role_policy", "aws_iam_policy"} {
		for _, name := range d.Names(typ) {
			var p struct {
				Statement []struct {
					Action   any `json:"Action"`
					Resource any `json:"Resource"`
				} `json:"Statement"`
			}
			if err := json.Unmarshal([]byte(Str(d.Of(typ)[name]["policy"])), &p); err != nil {
				continue // no-wildcard-actions reports it
			}
			for _, st := range p.Statement {
				if !slices.ContainsFunc(Strings(st.Action), func(a string) bool { return strings.EqualFold(a, "sns:Publish") }) {
					continue
				}
				res := Strings(st.Resource)
				if len(res) == 0 {
					out = append(out, Violation{"sns-publish-scoped", typ + "." + name, "grants sns:Publish without naming a topic"})
				}
				for _, r := range res {
					if r == "*" || strings.Contains(r, "*") || !(strings.HasPrefix(r, "arn:") || strings.HasPrefix(r, "${")) {
						out = append(out, Violation{"sns-publish-scoped", typ + "." + name, fmt.Sprintf("grants sns:Publish on %q; name the topic's ARN", r)})
					}
				}
			}
		}
	}
	return out
}

func secretRecoveryWindow(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_secretsmanager_secret") {
		if _, ok := d.Of("aws_secretsmanager_secret")[name]["recovery_window_in_days"]; !ok {
			out = append(out, Violation{"secret-recovery-window", "aws_secretsmanager_secret." + name, "recovery_window_in_days is not set; set it (0 lets destroy-then-apply recreate the secret)"})
		}
	}
	return out
}

func nameTags(d *Doc, _ Options) []Violation {
	var out []Violation
	types := make([]string, 0, len(d.Resources))
	for t := range d.Resources {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, typ := range types {
		for _, name := range d.Names(typ) {
			a := d.Of(typ)[name]
			if tags, ok := a["tags"].(map[string]any); ok {
				if Str(tags["Name"]) == "" {
					out = append(out, Violation{"name-tags", typ + "." + name, "tags lack Name"})
				}
			}
			if typ == "aws_autoscaling_group" && !asgPropagatesName(a) {
				out = append(out, Violation{"name-tags", typ + "." + name, "no Name tag propagated to the instances"})
			}
		}
	}
	return out
}

func asgPropagatesName(a map[string]any) bool {
	tags, _ := a["tag"].([]any)
	for _, t := range tags {
		if Str(Path(t, "key")) == "Name" && truthy(Path(t, "propagate_at_launch")) {
			return true
		}
	}
	return false
}

// listenerTLS covers what tfsec cannot see of aws_lb_listener (the
// default_action block): plain HTTP may only redirect to HTTPS.
func listenerTLS(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, typ := range []string{"aws_lb_listener", "aws_alb_listener"} {
		for _, name := range d.Names(typ) {
			l := d.Of(typ)[name]
			id := typ + "." + name
			switch Str(l["protocol"]) {
			case "HTTP":
				if Str(Path(l, "default_action", "type")) != "redirect" || Str(Path(l, "default_action", "redirect", "protocol")) != "HTTPS" {
					out = append(out, Violation{"http-listener-redirects", id, "a plain HTTP listener must only redirect to HTTPS (default_action redirect, protocol HTTPS)"})
				}
			case "HTTPS":
				if p := Str(l["ssl_policy"]); !strings.HasPrefix(p, "ELBSecurityPolicy-TLS13-") && !strings.HasPrefix(p, "ELBSecurityPolicy-TLS-1-2") {
					out = append(out, Violation{"http-listener-redirects", id, fmt.Sprintf("ssl_policy %q allows TLS below 1.2; use ELBSecurityPolicy-TLS13-1-2-2021-06", p)})
				}
			}
		}
	}
	return out
}

// snsKeyUsable: the AWS-managed SNS key's policy (not editable) admits no
// service principal, so CloudWatch and EventBridge fail to publish to a
// topic encrypted with it, silently. Encrypt with a customer key whose
// policy admits them, or leave the topic without at-rest encryption.
func snsKeyUsable(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_sns_topic") {
		key := Str(d.Of("aws_sns_topic")[name]["kms_master_key_id"])
		if key == "alias/aws/sns" || strings.HasSuffix(key, ":alias/aws/sns") {
			out = append(out, Violation{"sns-key-usable", "aws_sns_topic." + name, "kms_master_key_id alias/aws/sns cannot be used by CloudWatch alarms or EventBridge; use a customer-managed key that admits cloudwatch.amazonaws.com and events.amazonaws.com"})
		}
	}
	return out
}
