package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// ampAlerts is a workspace alert manager publishing to topic t (its
// attributes extra), with more resources before it.
func ampAlerts(extra, more string) string {
	return `{"resource":{` + more + `"aws_sns_topic":{"t":{"name":"alerts",` + extra + `,"tags":{"Name":"x"}}},` +
		`"aws_prometheus_alert_manager_definition":{"a":{"workspace_id":"w","definition":"alertmanager_config: |\n  receivers: [{name: sns, sns_configs: [{topic_arn: ${aws_sns_topic.t.arn}}]}]\n"}}}}`
}

// Each rule must catch its violation: a policy test that cannot fail is a defect.
func TestRulesCatchViolations(t *testing.T) {
	cases := []struct {
		rule, doc string
		opts      Options
	}{
		{"no-world-ingress", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"0.0.0.0/0","from_port":22,"to_port":22,"ip_protocol":"tcp"}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv6":"::/0","from_port":9090,"to_port":9090,"ip_protocol":"tcp"}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_security_group":{"sg":{"ingress":[{"cidr_blocks":["0.0.0.0/0"],"from_port":0,"to_port":0,"protocol":"-1"}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_security_group_rule":{"r":{"type":"ingress","cidr_blocks":["0.0.0.0/0"],"from_port":9100,"to_port":9100,"protocol":"tcp"}}}}`, Options{AllowWorldOpenAdmin: true}},
		{"node-port-from-scraper-only", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"10.0.0.0/16","from_port":9100,"to_port":9100,"ip_protocol":"tcp"}}}}`, Options{}},
		{"node-port-from-scraper-only", `{"resource":{"aws_vpc_security_group_ingress_rule":{"a":{"referenced_security_group_id":"${a}","from_port":9100,"to_port":9100,"ip_protocol":"tcp"},"b":{"referenced_security_group_id":"${b}","from_port":9000,"to_port":9200,"ip_protocol":"tcp"}}}}`, Options{}},
		{"imdsv2", `{"resource":{"aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"optional","http_put_response_hop_limit":1},"block_device_mappings":[{"ebs":{"encrypted":"true"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"imdsv2", `{"resource":{"aws_instance":{"i":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":2},"root_block_device":{"encrypted":true},"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":1},"block_device_mappings":[{"device_name":"/dev/xvda","ebs":{"encrypted":"false"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_efs_file_system":{"fs":{"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_ecs_task_definition":{"t":{"volume":[{"name":"data","efs_volume_configuration":{"file_system_id":"fs-1","transit_encryption":"DISABLED"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"no-wildcard-actions", `{"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}}}`, Options{}},
		{"no-wildcard-actions", `{"resource":{"aws_iam_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeInstances\",\"s3:*\"]}]}","tags":{"Name":"x"}}}}}`, Options{}},
		{"secret-recovery-window", `{"resource":{"aws_secretsmanager_secret":{"s":{"name":"x","tags":{"Name":"x"}}}}}`, Options{}},
		{"name-tags", `{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"team":"x"}}}}}`, Options{}},
		{"http-listener-redirects", `{"resource":{"aws_lb_listener":{"l":{"port":80,"protocol":"HTTP","default_action":[{"type":"forward","target_group_arn":"x"}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"http-listener-redirects", `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-2016-08","tags":{"Name":"x"}}}}}`, Options{}},
		{"name-tags", `{"resource":{"aws_autoscaling_group":{"g":{"tag":[{"key":"Name","value":"n","propagate_at_launch":false}]}}}}`, Options{}},
		// The Alertmanager's port is never world-open, even with the opt-in.
		{"no-world-ingress", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"0.0.0.0/0","from_port":9093,"to_port":9093,"ip_protocol":"tcp"}}}}`, Options{AllowWorldOpenAdmin: true}},
		{"private-no-public-ips", `{"resource":{"aws_subnet":{"s":{"map_public_ip_on_launch":true,"tags":{"Name":"x"}}}}}`, Options{PrivateNetwork: true}},
		{"private-no-public-ips", `{"resource":{"aws_ecs_service":{"s":{"network_configuration":{"assign_public_ip":true,"subnets":["${aws_subnet.p.id}"]},"tags":{"Name":"x"}}},"aws_route_table_association":{"a":{"subnet_id":"${aws_subnet.p.id}","route_table_id":"${aws_route_table.t.id}"}},"aws_route":{"r":{"route_table_id":"${aws_route_table.t.id}","destination_cidr_block":"0.0.0.0/0","nat_gateway_id":"${aws_nat_gateway.n.id}"}}}}`, Options{PrivateNetwork: true}},
		{"private-no-public-ips", `{"resource":{"aws_ecs_service":{"s":{"network_configuration":{"assign_public_ip":false,"subnets":["${aws_subnet.p.id}"]},"tags":{"Name":"x"}}},"aws_route_table_association":{"a":{"subnet_id":"${aws_subnet.p.id}","route_table_id":"${aws_route_table.t.id}"}},"aws_route":{"r":{"route_table_id":"${aws_route_table.t.id}","destination_cidr_block":"0.0.0.0/0","gateway_id":"${aws_internet_gateway.g.id}"}}}}`, Options{PrivateNetwork: true}},
		{"private-no-public-ips", `{"resource":{"aws_launch_template":{"lt":{"network_interfaces":[{"associate_public_ip_address":"true"}],"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":1},"tags":{"Name":"x"}}}}}`, Options{PrivateNetwork: true}},
		{"endpoints-vpc-only", `{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"Name":"x"}}},"aws_vpc_endpoint":{"e":{"security_group_ids":["${aws_security_group.sg.id}"],"tags":{"Name":"x"}}},"aws_vpc_security_group_ingress_rule":{"r":{"security_group_id":"${aws_security_group.sg.id}","cidr_ipv4":"192.168.0.0/16","from_port":443,"to_port":443,"ip_protocol":"tcp"}}}}`, Options{}},
		{"endpoints-vpc-only", `{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"Name":"x"}}},"aws_vpc_endpoint":{"e":{"security_group_ids":["${aws_security_group.sg.id}"],"tags":{"Name":"x"}}},"aws_vpc_security_group_ingress_rule":{"r":{"security_group_id":"${aws_security_group.sg.id}","cidr_ipv4":"10.0.0.0/16","from_port":0,"to_port":65535,"ip_protocol":"tcp"}}}}`, Options{}},
		{"sns-publish-scoped", `{"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Resource\":\"*\"}]}"}}}}`, Options{}},
		{"sns-publish-scoped", `{"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"sns:Publish\"],\"Resource\":[\"arn:aws:sns:eu-central-1:123456789012:*\"]}]}"}}}}`, Options{}},
		{"sns-key-usable", `{"resource":{"aws_sns_topic":{"t":{"name":"alarms","kms_master_key_id":"alias/aws/sns","tags":{"Name":"x"}}}}}`, Options{}},
		{"sns-key-usable", `{"resource":{"aws_sns_topic":{"t":{"name":"alarms","kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:alias/aws/sns","tags":{"Name":"x"}}}}}`, Options{}},
		{"amp-alerts-key-usable", ampAlerts(`"kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:key/k"`, ""), Options{}},
		{"amp-alerts-key-usable", ampAlerts(`"kms_master_key_id":"${aws_kms_key.k.arn}"`, `"aws_kms_key":{"k":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"cloudwatch.amazonaws.com\"},\"Action\":[\"kms:GenerateDataKey*\",\"kms:Decrypt\"],\"Resource\":\"*\"}]}","tags":{"Name":"k"}}},`), Options{}},
		{"ci-trust-pinned", ciRole(`{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com"}}`, "plan"), Options{}},
		{"ci-trust-pinned", ciRole(`{"StringEquals":{"gitlab.com:sub":"project_path:ops/prom:ref_type:branch:ref:main"}}`, "deploy"), Options{}},
		{"ci-trust-pinned", ciRole(`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}`, "plan"), Options{}},
		{"ci-trust-pinned", ciRole(`{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com"},"StringLike":{"gitlab.com:sub":"project_path:ops/*:ref_type:branch:ref:main"}}`, "plan"), Options{}},
		{"ci-trust-pinned", ciRole(`{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com"},"StringLike":{"gitlab.com:sub":"project_path:ops/prom:ref_type:branch:ref:*"}}`, "deploy"), Options{}},
		// sso: a rule forwarding without signing in, a listener that
		// authenticates after the forward, a range on Prometheus's port,
		// no HTTPS listener at all.
		{"sso-authenticates", `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-TLS13-1-2-2021-06","default_action":[{"order":1,"type":"authenticate-cognito","authenticate_cognito":{"user_pool_arn":"a","user_pool_client_id":"c","user_pool_domain":"d"}},{"order":2,"type":"forward","target_group_arn":"t"}],"tags":{"Name":"x"}}},"aws_lb_listener_rule":{"r":{"listener_arn":"${aws_lb_listener.l.arn}","priority":100,"action":[{"type":"forward","target_group_arn":"am"}],"condition":[{"path_pattern":{"values":["/alertmanager"]}}],"tags":{"Name":"x"}}}}}`, Options{SSO: true}},
		{"sso-authenticates", `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-TLS13-1-2-2021-06","default_action":[{"order":2,"type":"authenticate-oidc","authenticate_oidc":{"client_id":"c"}},{"order":1,"type":"forward","target_group_arn":"t"}],"tags":{"Name":"x"}}}}}`, Options{SSO: true}},
		{"sso-authenticates", `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-TLS13-1-2-2021-06","default_action":[{"order":1,"type":"authenticate-oidc","authenticate_oidc":{"client_id":"c"}},{"order":2,"type":"forward","target_group_arn":"t"}],"tags":{"Name":"x"}}},"aws_vpc_security_group_ingress_rule":{"r":{"security_group_id":"${aws_security_group.task.id}","cidr_ipv4":"10.8.0.0/16","from_port":9090,"to_port":9090,"ip_protocol":"tcp"}}}}`, Options{SSO: true, PrometheusPort: 9090}},
		// The machine path's group (or any but the load balancer's) on
		// Grafana's port: it could forge the identity header.
		{"sso-authenticates", `{"resource":{"aws_lb":{"lb":{"security_groups":["${aws_security_group.lb.id}"],"tags":{"Name":"x"}}},"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-TLS13-1-2-2021-06","default_action":[{"order":1,"type":"authenticate-oidc","authenticate_oidc":{"client_id":"c"}},{"order":2,"type":"forward","target_group_arn":"t"}],"tags":{"Name":"x"}}},"aws_vpc_security_group_ingress_rule":{"lb":{"security_group_id":"${aws_security_group.task.id}","referenced_security_group_id":"${aws_security_group.lb.id}","from_port":3000,"to_port":3000,"ip_protocol":"tcp"},"machine":{"security_group_id":"${aws_security_group.task.id}","referenced_security_group_id":"sg-0123456789abcdef0","from_port":3000,"to_port":3000,"ip_protocol":"tcp"}}}}`, Options{SSO: true, GrafanaPort: 3000}},
		{"sso-authenticates", `{"resource":{"aws_lb_listener":{"l":{"port":80,"protocol":"HTTP","default_action":[{"type":"redirect","redirect":{"port":"443","protocol":"HTTPS","status_code":"HTTP_301"}}],"tags":{"Name":"x"}}}}}`, Options{SSO: true}},
	}
	cases = append(cases, oidcSecretCases()...)
	cases = append(cases, ecsCases()...)
	cases = append(cases, taskCases()...)
	cases = append(cases, hardeningCases()...)
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			d, err := Parse([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			v := Check(d, c.opts)
			if len(v) == 0 {
				t.Fatalf("%s must flag %s", c.rule, c.doc)
			}
			fired := false
			for _, x := range v {
				fired = fired || x.Rule == c.rule
			}
			if !fired {
				t.Errorf("%s did not fire; got %v", c.rule, v)
			}
		})
	}
}

func TestOptInAllowsOnlyThePrometheusPort(t *testing.T) {
	// no-world-ingress alone: admin-over-tls refuses plain HTTP to the
	// world whatever this opt-in says (TestAdminOverTLS).
	for _, port := range []string{"9090", "443", "80"} {
		doc := `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"0.0.0.0/0","from_port":` + port + `,"to_port":` + port + `,"ip_protocol":"tcp"}}}}`
		d, _ := Parse([]byte(doc))
		if v := noWorldIngress(d, Options{AllowWorldOpenAdmin: true, PrometheusPort: 9090}); len(v) != 0 {
			t.Fatalf("allowWorldOpenAdmin must allow %s: %v", port, v)
		}
		if v := noWorldIngress(d, Options{PrometheusPort: 9090}); len(v) != 1 || !strings.Contains(v[0].Message, "0.0.0.0/0") {
			t.Fatalf("without the opt-in %s to the world is a violation: %v", port, v)
		}
	}
}

// adminIngress is a VPC of 10.0.0.0/16 whose task admits cidr on port.
func adminIngress(cidr string, port int) string {
	key := "cidr_ipv4"
	if strings.Contains(cidr, ":") {
		key = "cidr_ipv6"
	}
	return fmt.Sprintf(`{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"Name":"v"}}},
	  "aws_vpc_security_group_ingress_rule":{"r":{%q:%q,"from_port":%d,"to_port":%d,"ip_protocol":"tcp"}}}}`, key, cidr, port, port)
}

// Plain HTTP to the web ports: from inside the VPC always, from a private
// range with the opt-in, from the load balancer (a group reference).
func TestAdminOverTLS(t *testing.T) {
	for _, c := range []struct {
		cidr string
		port int
		opts Options
	}{
		{"10.0.0.0/16", 9090, Options{}},
		{"10.0.5.0/24", 9093, Options{}},
		{"10.8.0.0/16", 9090, Options{AllowPlainHTTPAdmin: true}},
		{"fd00:8::/32", 9093, Options{AllowPlainHTTPAdmin: true}},
		{"198.51.100.0/24", 443, Options{}},
	} {
		d, err := Parse([]byte(adminIngress(c.cidr, c.port)))
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(d, c.opts); len(v) != 0 {
			t.Errorf("%s on %d: %v", c.cidr, c.port, v)
		}
	}
}

// The TLS-only statement of the state bucket, as shipped.
func TestTLSOnlyAllActionsPassesDenyAll(t *testing.T) {
	doc := `{"resource":{"aws_s3_bucket_policy":{"p":{"policy":"{\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"s3:*\",\"Resource\":[\"${aws_s3_bucket.b.arn}\",\"${aws_s3_bucket.b.arn}/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"}}}}`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, Options{}); len(v) != 0 {
		t.Fatalf("deny s3:* without TLS is flagged: %v", v)
	}
}

// kmsGrant is a role policy granting Decrypt with condition (JSON, or "").
func kmsGrant(condition string) string {
	st := `{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":["arn:aws:kms:eu-central-1:123456789012:key/k"]`
	if condition != "" {
		st += `,"Condition":` + condition
	}
	b, _ := json.Marshal(`{"Statement":[` + st + `}]}`)
	return `{"resource":{"aws_iam_role_policy":{"p":{"policy":` + string(b) + `}}}}`
}

func TestKmsViaServicePassesNamedServices(t *testing.T) {
	d, err := Parse([]byte(kmsGrant(`{"StringEquals":{"kms:ViaService":["secretsmanager.eu-central-1.amazonaws.com","sns.eu-central-1.amazonaws.com"]}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, Options{}); len(v) != 0 {
		t.Fatalf("a grant through named services is flagged: %v", v)
	}
}

// digestTask is a task running image.
func digestTask(image string) string {
	return taskDoc(`[`+strings.Replace(okContainer, "prom/prometheus:v3.16.0", image, 1)+`]`, `[{"name":"data"}]`, "")
}

func TestImagesPinnedByDigestOnlyWhenRequired(t *testing.T) {
	pinned := "prom/prometheus:v3.16.0@sha256:" + strings.Repeat("ab", 32)
	d, _ := Parse([]byte(digestTask(pinned)))
	if v := imagesPinnedByDigest(d, Options{RequireImageDigests: true}); len(v) != 0 {
		t.Fatalf("a digest-pinned image is flagged: %v", v)
	}
	d, _ = Parse([]byte(digestTask("prom/prometheus:v3.16.0")))
	if v := imagesPinnedByDigest(d, Options{}); len(v) != 0 {
		t.Fatalf("without requireImageDigests a tag is enough: %v", v)
	}
}

func TestCleanDocumentPasses(t *testing.T) {
	doc := `{"resource":{
	  "aws_vpc_security_group_ingress_rule":{"r":{"referenced_security_group_id":"${aws_security_group.p.id}","from_port":9100,"to_port":9100,"ip_protocol":"tcp"}},
	  "aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":1},"block_device_mappings":[{"ebs":{"encrypted":"true"}}],"tags":{"Name":"x"}}},
	  "aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeInstances\"],\"Resource\":[\"*\"]}]}"}},
	  "aws_secretsmanager_secret":{"s":{"recovery_window_in_days":0,"tags":{"Name":"s"}}},
	  "aws_sns_topic":{"t":{"kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","tags":{"Name":"t"}}}}}`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, Options{}); len(v) != 0 {
		t.Fatalf("clean document flagged: %v", v)
	}
}

// taskDoc is a stack with one Fargate task definition of the given
// containers (JSON), its volumes and an execution role whose inline policy
// has the given statements.
func taskDoc(containers, volumes, statements string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{"resource":{
	  "aws_iam_role":{"exec":{"name":"exec","tags":{"Name":"x"}}},
	  "aws_iam_role_policy":{"p":{"role":"${aws_iam_role.exec.id}","policy":` + q(`{"Statement":[`+statements+`]}`) + `}},
	  "aws_ecs_task_definition":{"t":{"requires_compatibilities":["FARGATE"],"execution_role_arn":"${aws_iam_role.exec.arn}",
	    "volume":` + volumes + `,"container_definitions":` + q(containers) + `,"tags":{"Name":"x"}}}}}`
}

// syncDoc is a task whose config-sync keeps one parameter, with the task
// role's statements.
func syncDoc(statements string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	containers := `[{"name":"config-sync","image":"public.ecr.aws/aws-cli/aws-cli:2.32.2","user":"0","readonlyRootFilesystem":true,
	  "environment":[{"name":"CONFIG_SYNC_FILES","value":"prometheus.yml ${aws_ssm_parameter.config.name}"}]}]`
	return `{"resource":{
	  "aws_iam_role":{"task":{"name":"task","tags":{"Name":"x"}}},
	  "aws_iam_role_policy":{"p":{"role":"${aws_iam_role.task.id}","policy":` + q(`{"Statement":[`+statements+`]}`) + `}},
	  "aws_ecs_task_definition":{"t":{"requires_compatibilities":["FARGATE"],"task_role_arn":"${aws_iam_role.task.arn}",
	    "volume":[{"name":"config"}],"container_definitions":` + q(containers) + `,"tags":{"Name":"x"}}}}}`
}

const okContainer = `{"name":"prometheus","image":"prom/prometheus:v3.16.0","user":"65534:65534","readonlyRootFilesystem":true,
  "mountPoints":[{"sourceVolume":"data","containerPath":"/prometheus","readOnly":false}],
  "linuxParameters":{"capabilities":{"drop":["ALL"]},"tmpfs":[{"containerPath":"/tmp","size":16,"mountOptions":["noexec"]}]}}`

func taskCases() []struct {
	rule, doc string
	opts      Options
} {
	big := strings.Repeat("x", 70*1024)
	return []struct {
		rule, doc string
		opts      Options
	}{
		// The task as it was: /tmp a bind mount, root-owned on Fargate.
		{"fargate-writable-paths", taskDoc(`[{"name":"prometheus","image":"prom/prometheus:v3.16.0","user":"65534:65534","readonlyRootFilesystem":true,
		  "mountPoints":[{"sourceVolume":"data","containerPath":"/prometheus","readOnly":false},{"sourceVolume":"runtime","containerPath":"/tmp","readOnly":false}]}]`,
			`[{"name":"data"},{"name":"runtime"}]`, ""), Options{}},
		// Nothing mounted where the runtime folder is.
		{"fargate-writable-paths", taskDoc(`[{"name":"prometheus","image":"prom/prometheus:v3.16.0","user":"65534","readonlyRootFilesystem":true,
		  "mountPoints":[{"sourceVolume":"data","containerPath":"/prometheus","readOnly":false}]}]`, `[{"name":"data"}]`, ""), Options{}},
		// A tmpfs closed to the user.
		{"fargate-writable-paths", taskDoc(`[{"name":"prometheus","image":"prom/prometheus:v3.16.0","user":"65534","readonlyRootFilesystem":true,
		  "mountPoints":[{"sourceVolume":"data","containerPath":"/prometheus","readOnly":false}],
		  "linuxParameters":{"tmpfs":[{"containerPath":"/tmp","size":16,"mountOptions":["mode=0700"]}]}}]`, `[{"name":"data"}]`, ""), Options{}},
		// An image the policy knows no VOLUME of: /prometheus is root's.
		{"fargate-writable-paths", taskDoc(`[{"name":"prometheus","image":"example.com/other:1","user":"65534","readonlyRootFilesystem":true,
		  "mountPoints":[{"sourceVolume":"data","containerPath":"/prometheus","readOnly":false}],
		  "linuxParameters":{"tmpfs":[{"containerPath":"/tmp","size":16}]}}]`, `[{"name":"data"}]`, ""), Options{}},
		// config-sync keeps a parameter the task role may not read.
		{"config-sync-reads-exactly", syncDoc(`{"Effect":"Allow","Action":["ssm:GetParameters","ssm:GetParameter"],"Resource":["${aws_ssm_parameter.rules.arn}"]}`), Options{}},
		// ... or may read every parameter.
		{"config-sync-reads-exactly", syncDoc(`{"Effect":"Allow","Action":["ssm:GetParameters","ssm:GetParameter"],"Resource":["${aws_ssm_parameter.config.arn}","arn:aws:ssm:eu-central-1:123456789012:parameter/*"]}`), Options{}},
		{"ecr-pull-exactly", taskDoc(`[`+strings.Replace(okContainer, "prom/prometheus:v3.16.0", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/prometheus-aws:1", 1)+`]`,
			`[{"name":"data"}]`, `{"Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":["*"]}`), Options{}},
		{"ecr-pull-exactly", taskDoc(`[`+okContainer+`]`, `[{"name":"data"}]`,
			`{"Effect":"Allow","Action":["ecr:BatchGetImage"],"Resource":["arn:aws:ecr:eu-central-1:123456789012:repository/prometheus-aws"]}`), Options{}},
		{"ecr-pull-exactly", taskDoc(`[`+strings.Replace(okContainer, "prom/prometheus:v3.16.0", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/prometheus-aws:1", 1)+`]`,
			`[{"name":"data"}]`, `{"Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":["*"]},
			{"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"],"Resource":["arn:aws:ecr:eu-central-1:123456789012:repository/*"]}`), Options{}},
		{"execution-role-reads-secrets", taskDoc(`[`+strings.Replace(okContainer, `"user"`, `"secrets":[{"name":"PW","valueFrom":"${aws_secretsmanager_secret.s.arn}:password::"}],"user"`, 1)+`]`,
			`[{"name":"data"}]`, `{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["${aws_ssm_parameter.c.arn}"]}`), Options{}},
		{"execution-role-reads-secrets", taskDoc(`[`+strings.Replace(okContainer, `"user"`, `"secrets":[{"name":"CFG","valueFrom":"${aws_ssm_parameter.c.arn}"}],"user"`, 1)+`]`,
			`[{"name":"data"}]`, `{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["${aws_ssm_parameter.c.arn}"]}`), Options{}},
		{"ssm-value-fits-tier", `{"resource":{"aws_ssm_parameter":{"c":{"name":"/x","type":"String","insecure_value":"` + strings.Repeat("y", 4097) + `","tags":{"Name":"x"}}}}}`, Options{}},
		{"ssm-value-fits-tier", `{"resource":{"aws_ssm_parameter":{"c":{"name":"/x","type":"String","tier":"Advanced","insecure_value":"` + strings.Repeat("y", 8193) + `","tags":{"Name":"x"}}}}}`, Options{}},
		{"task-definition-size", taskDoc(`[`+strings.Replace(okContainer, `"user"`, `"environment":[{"name":"BIG","value":"`+big+`"}],"user"`, 1)+`]`, `[{"name":"data"}]`, ""), Options{}},
	}
}

// The shipped shape passes every task rule: tmpfs runtime folder, the
// image's own VOLUME for the TSDB, secrets the role may read, no ECR.
func TestTaskRulesPassTheShippedShape(t *testing.T) {
	c := strings.Replace(okContainer, `"user"`, `"secrets":[{"name":"PW","valueFrom":"${aws_secretsmanager_secret.s.arn}:password::"},{"name":"CFG","valueFrom":"${aws_ssm_parameter.c.arn}"}],"user"`, 1)
	doc := taskDoc(`[`+c+`]`, `[{"name":"data"}]`, `{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["${aws_ssm_parameter.c.arn}"]},
	  {"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["${aws_secretsmanager_secret.s.arn}"]}`)
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, Options{}); len(v) != 0 {
		t.Fatalf("the shipped task shape is flagged: %v", v)
	}
	// The same with an EFS data volume, and with an ECR image allowed on
	// exactly its repository.
	ecr := strings.Replace(c, "prom/prometheus:v3.16.0", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/prometheus-aws:1", 1)
	doc = taskDoc(`[`+ecr+`]`, `[{"name":"data","efs_volume_configuration":{"file_system_id":"fs-1","transit_encryption":"ENABLED"}}]`,
		`{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["${aws_ssm_parameter.c.arn}"]},
	  {"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["${aws_secretsmanager_secret.s.arn}"]},
	  {"Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":["*"]},
	  {"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"],"Resource":["arn:aws:ecr:eu-central-1:123456789012:repository/prometheus-aws"]}`)
	if d, _ = Parse([]byte(doc)); len(Check(d, Options{})) != 0 {
		t.Fatalf("EFS data and an allowed ECR image are flagged: %v", Check(d, Options{}))
	}
}

// ciRole is a role document trusting an OIDC provider under condition.
func ciRole(condition, kind string) string {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + condition + `}]}`
	data, _ := json.Marshal(map[string]any{"resource": map[string]any{"aws_iam_role": map[string]any{"r": map[string]any{
		"assume_role_policy": trust, "tags": map[string]string{"Name": "x", CIRoleTag: kind}}}}})
	return string(data)
}

// The shipped trust policies' shapes pass: a pinned plan role may use a
// branch wildcard after the project; a deploy role names one subject.
func TestCITrustPinnedPassesTheShippedShapes(t *testing.T) {
	for _, c := range []struct{ cond, kind string }{
		{`{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com"},"StringLike":{"gitlab.com:sub":["project_path:ops/prom:ref_type:branch:ref:*"]}}`, "plan"},
		{`{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["project_path:ops/sub/prom:ref_type:branch:ref:main"]}}`, "deploy"},
		{`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":["repo:acme/prom:pull_request","repo:acme/prom:environment:prod-plan"]}}`, "plan"},
		{`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":["repo:acme/prom:environment:prod"]}}`, "deploy"},
	} {
		d, err := Parse([]byte(ciRole(c.cond, c.kind)))
		if err != nil {
			t.Fatal(err)
		}
		if v := ciTrustPinned(d, Options{}); len(v) != 0 {
			t.Errorf("%s role %s: %v", c.kind, c.cond, v)
		}
	}
}

// The workspace may publish to an encrypted topic once the key admits
// aps.amazonaws.com: by its policy when the stack manages it, by the
// owner's word (kmsKeyAllowsAps) when it does not.
func TestAMPAlertsKeyAdmitted(t *testing.T) {
	apsKey := `"aws_kms_key":{"k":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"aps.amazonaws.com\"},\"Action\":[\"kms:GenerateDataKey*\",\"kms:Decrypt\"],\"Resource\":\"*\"}]}","tags":{"Name":"k"}}},`
	for name, c := range map[string]struct {
		doc  string
		opts Options
	}{
		"managed key admits aps": {ampAlerts(`"kms_master_key_id":"${aws_kms_key.k.arn}"`, apsKey), Options{}},
		"owner's word":           {ampAlerts(`"kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:key/k"`, ""), Options{KmsKeyAllowsAps: true}},
		"unencrypted topic":      {ampAlerts(`"display_name":"alerts"`, ""), Options{}},
	} {
		d, err := Parse([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if v := ampAlertsKeyUsable(d, c.opts); len(v) != 0 {
			t.Errorf("%s: flagged %v", name, v)
		}
	}
}

// hardeningCases are the must-fail cases of issue 34's rules.
func hardeningCases() []struct {
	rule, doc string
	opts      Options
} {
	tlsOnly := func(action string) string {
		b, _ := json.Marshal(`{"Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":{"AWS":"*"},"Action":` + action +
			`,"Resource":["${aws_s3_bucket.b.arn}","${aws_s3_bucket.b.arn}/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		return `{"resource":{"aws_s3_bucket_policy":{"p":{"policy":` + string(b) + `}}}}`
	}
	return []struct {
		rule, doc string
		opts      Options
	}{
		// Plain HTTP from the internet, opt-in or not, on every web port.
		{"admin-over-tls", adminIngress("198.51.100.0/24", 9090), Options{}},
		{"admin-over-tls", adminIngress("198.51.100.0/24", 9090), Options{AllowPlainHTTPAdmin: true}},
		{"admin-over-tls", adminIngress("2001:db8::/32", 9093), Options{AllowPlainHTTPAdmin: true}},
		{"admin-over-tls", adminIngress("203.0.113.0/24", 3000), Options{AllowPlainHTTPAdmin: true}},
		{"admin-over-tls", adminIngress("0.0.0.0/0", 9090), Options{AllowWorldOpenAdmin: true, AllowPlainHTTPAdmin: true}},
		// A VPN range outside the VPC without the opt-in.
		{"admin-over-tls", adminIngress("10.8.0.0/16", 9093), Options{}},
		// A TLS-only statement that denies a list (the state bucket's six).
		{"tls-only-all-actions", tlsOnly(`["s3:GetObject","s3:PutObject","s3:DeleteObject","s3:ListBucket","s3:GetBucketPolicy","s3:PutBucketPolicy"]`), Options{}},
		{"tls-only-all-actions", tlsOnly(`"s3:GetObject"`), Options{}},
		// A key grant without kms:ViaService, or with a value that is no endpoint.
		{"kms-via-service", kmsGrant(""), Options{}},
		{"kms-via-service", kmsGrant(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`), Options{}},
		{"kms-via-service", kmsGrant(`{"StringEquals":{"kms:ViaService":"*"}}`), Options{}},
		// A tag alone, or a malformed digest, with requireImageDigests.
		{"images-pinned-by-digest", digestTask("prom/prometheus:v3.16.0"), Options{RequireImageDigests: true}},
		{"images-pinned-by-digest", digestTask("prom/prometheus:v3.16.0@sha256:abc"), Options{RequireImageDigests: true}},
	}
}

// Behind sso Grafana trusts the identity header: the load balancer's group
// may reach its port, the machine path's may not (it reaches Prometheus's).
func TestGrafanaFromLoadBalancerOnly(t *testing.T) {
	doc := func(rules string) *Doc {
		d, err := Parse([]byte(`{"resource":{"aws_lb":{"lb":{"security_groups":["${aws_security_group.lb.id}"],"tags":{"Name":"x"}}},"aws_vpc_security_group_ingress_rule":{` + rules + `}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	lb := `"lb":{"security_group_id":"${aws_security_group.task.id}","referenced_security_group_id":"${aws_security_group.lb.id}","from_port":3000,"to_port":3000,"ip_protocol":"tcp"}`
	prom := `"mp":{"security_group_id":"${aws_security_group.task.id}","referenced_security_group_id":"sg-0123456789abcdef0","from_port":9090,"to_port":9090,"ip_protocol":"tcp"}`
	graf := `"mg":{"security_group_id":"${aws_security_group.task.id}","referenced_security_group_id":"sg-0123456789abcdef0","from_port":3000,"to_port":3000,"ip_protocol":"tcp"}`
	o := Options{SSO: true, GrafanaPort: 3000, PrometheusPort: 9090}
	if v := grafanaFromLoadBalancerOnly(doc(lb+","+prom), o); len(v) != 0 {
		t.Errorf("the load balancer on Grafana's port and the machine path on Prometheus's must pass: %v", v)
	}
	v := grafanaFromLoadBalancerOnly(doc(lb+","+prom+","+graf), o)
	if len(v) != 1 || v[0].Resource != "aws_vpc_security_group_ingress_rule.mg" || !strings.Contains(v[0].Message, "X-Amzn-Oidc-Identity") {
		t.Errorf("the machine path on Grafana's port must be the one violation: %v", v)
	}
}

// taskRoleDoc is a role ECS tasks assume with statements.
func taskRoleDoc(statements string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{"resource":{
	  "aws_iam_role":{"task":{"name":"task","assume_role_policy":` + q(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`) + `,"tags":{"Name":"x"}}},
	  "aws_iam_role_policy":{"p":{"role":"${aws_iam_role.task.id}","policy":` + q(`{"Statement":[`+statements+`]}`) + `}}}}`
}

func ecsCases() []struct {
	rule, doc string
	opts      Options
} {
	return []struct {
		rule, doc string
		opts      Options
	}{
		// A write call beside the discovery's.
		{"ecs-discovery-read-only", taskRoleDoc(`{"Effect":"Allow","Action":["ecs:ListTasks","ecs:UpdateService"],"Resource":["*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1"]}}}`), Options{}},
		// RunTask, scoped or not, is no discovery.
		{"ecs-discovery-read-only", taskRoleDoc(`{"Effect":"Allow","Action":"ecs:RunTask","Resource":["arn:aws:ecs:eu-central-1:123456789012:task-definition/x:1"]}`), Options{}},
		// The discovery's calls on every resource of every region.
		{"ecs-discovery-read-only", taskRoleDoc(`{"Effect":"Allow","Action":["ecs:ListTasks","ecs:DescribeTasks"],"Resource":"*"}`), Options{}},
		{"ecs-discovery-read-only", taskRoleDoc(`{"Effect":"Allow","Action":["ec2:DescribeNetworkInterfaces"],"Resource":["*"]}`), Options{}},
	}
}

// The shipped shapes pass: every cluster of the regions, and listed
// clusters (DescribeClusters by ARN, the rest under ecs:cluster).
func TestECSDiscoveryShippedShapesPass(t *testing.T) {
	for name, sts := range map[string]string{
		"every cluster": `{"Sid":"ECSDiscovery","Effect":"Allow","Action":["ecs:ListClusters","ecs:DescribeClusters","ecs:ListServices","ecs:DescribeServices","ecs:ListTasks","ecs:DescribeTasks","ecs:DescribeContainerInstances"],"Resource":["*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1"]}}},
		  {"Sid":"ECSDiscoveryNetworkInterfaces","Effect":"Allow","Action":["ec2:DescribeNetworkInterfaces"],"Resource":["*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1"]}}}`,
		"listed": `{"Sid":"ECSDiscoveryClusters","Effect":"Allow","Action":["ecs:DescribeClusters"],"Resource":["arn:aws:ecs:eu-central-1:123456789012:cluster/orders","arn:aws:ecs:eu-central-1:123456789012:cluster/default"]},
		  {"Sid":"ECSDiscoveryInClusters","Effect":"Allow","Action":["ecs:ListServices","ecs:DescribeServices","ecs:ListTasks","ecs:DescribeTasks","ecs:DescribeContainerInstances"],"Resource":["*"],"Condition":{"ArnEquals":{"ecs:cluster":["arn:aws:ecs:eu-central-1:123456789012:cluster/orders"]}}}`,
	} {
		d, err := Parse([]byte(taskRoleDoc(sts)))
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(d, Options{}); len(v) != 0 {
			t.Errorf("%s: the shipped ECS discovery grants are flagged: %v", name, v)
		}
	}
}

// oidcListener is an HTTPS listener signing in with OIDC, its client
// secret clientSecret, its lifecycle block lifecycle (JSON, "" for none),
// and more resources (e.g. the secret's setter) after it.
func oidcListener(clientSecret, lifecycle, more string) string {
	if lifecycle != "" {
		lifecycle = `"lifecycle":` + lifecycle + `,`
	}
	return `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-TLS13-1-2-2021-06",` +
		`"default_action":[{"order":1,"type":"authenticate-oidc","authenticate_oidc":{"client_id":"c","client_secret":"` + clientSecret + `"}},{"order":2,"type":"forward","target_group_arn":"t"}],` +
		lifecycle + `"tags":{"Name":"x"}}}` + more + `}}`
}

// oidcSetter is a terraform_data setting the listener's secret with
// command (JSON-escaped), the secret in its environment.
func oidcSetter(command string) string {
	return `,"terraform_data":{"s":{"lifecycle":{"replace_triggered_by":["aws_lb_listener.l"]},"provisioner":[{"local-exec":{"command":"` + command +
		`","environment":{"CLIENT_SECRET":"${ephemeral.aws_secretsmanager_secret_version.s.secret_string}"}}}]}}`
}

const (
	oidcIgnored   = `{"ignore_changes":["default_action[0].authenticate_oidc[0].client_secret"]}`
	oidcGoodSetup = `printf '%s' \"$${CLIENT_SECRET%%x}\" | aws elbv2 modify-listener --cli-input-json file:///dev/stdin`
)

// oidcSecretCases: the client secret read by a data source into the state
// (the shape before the fix), a placeholder the next update writes over
// the secret (no ignore_changes), a placeholder nothing replaces (no
// setter), the secret on the setter's command line.
func oidcSecretCases() []struct {
	rule, doc string
	opts      Options
} {
	return []struct {
		rule, doc string
		opts      Options
	}{
		{"oidc-secret-not-stored", `{"data":{"aws_secretsmanager_secret_version":{"s":{"secret_id":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:oidc-AbCdEf"}}},` +
			strings.TrimPrefix(oidcListener("${data.aws_secretsmanager_secret_version.s.secret_string}", "", ""), "{"), Options{}},
		{"oidc-secret-not-stored", oidcListener("placeholder", "", oidcSetter(oidcGoodSetup)), Options{}},
		{"oidc-secret-not-stored", oidcListener("placeholder", oidcIgnored, ""), Options{}},
		{"oidc-secret-not-stored", oidcListener("placeholder", oidcIgnored, oidcSetter(`CLIENT_SECRET='${ephemeral.aws_secretsmanager_secret_version.s.secret_string}' aws elbv2 modify-listener`)), Options{}},
	}
}

// The shipped shape passes: a placeholder in ignore_changes, set by a
// terraform_data from an ephemeral read through its environment.
func TestOIDCSecretSetAtApplyPasses(t *testing.T) {
	d, err := Parse([]byte(oidcListener("placeholder", oidcIgnored, oidcSetter(oidcGoodSetup))))
	if err != nil {
		t.Fatal(err)
	}
	if v := oidcSecretNotStored(d, Options{}); len(v) != 0 {
		t.Errorf("the secret set at apply is flagged: %v", v)
	}
}
