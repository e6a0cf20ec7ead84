package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Single sign-on at the load balancer (issue 28): a created Cognito pool
// with Grafana and a machine path; a given pool behind a domain against
// the emulator; your OIDC provider with its secret's ARN.
var (
	ssoCognito = declare("sso-cognito", env{"PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_TLS_CERTIFICATE_ARN": testCert,
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_GRAFANA": "true", "PROMAWS_MACHINE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
		"PROMAWS_SSO_SESSION_TIMEOUT": "3600"})
	ssoCognitoPoolLocal = declare("sso-cognito-pool-local", env{"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false",
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": "Z0123456789ABCDEFGHIJ", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24",
		"PROMAWS_COGNITO_USER_POOL_ID": "eu-central-1_AbCdEfGhI", "PROMAWS_COGNITO_DOMAIN": "acme-login"})
	ssoOIDC = declare("sso-oidc", env{"PROMAWS_SSO": "oidc", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24",
		"PROMAWS_OIDC_ISSUER": "https://login.example.com", "PROMAWS_OIDC_AUTHORIZATION_ENDPOINT": "https://login.example.com/authorize",
		"PROMAWS_OIDC_TOKEN_ENDPOINT": "https://login.example.com/token", "PROMAWS_OIDC_USER_INFO_ENDPOINT": "https://login.example.com/userinfo",
		"PROMAWS_OIDC_CLIENT_ID": "prometheus", "PROMAWS_OIDC_CLIENT_SECRET_ARN": testOIDCSecret})
)

// TestSingleSignOn: with sso, the listener and every path rule sign people
// in before forwarding (policy rule sso-authenticates, in
// TestPoliciesHoldForEveryVariant, holds for each variant; here the
// shape per mode), the targets admit the load balancer and the machine
// path only, and the load balancer may call the identity provider.
func TestSingleSignOn(t *testing.T) {
	for v, mode := range map[*variant]string{ssoCognito: "authenticate-cognito", ssoCognitoPoolLocal: "authenticate-cognito", ssoOIDC: "authenticate-oidc"} {
		d := v.doc(t)
		_, l := withAttr(t, d, "aws_lb_listener", "protocol", "HTTPS")
		actions, _ := l["default_action"].([]any)
		if len(actions) != 2 || policy.Str(policy.Path(actions[0], "type")) != mode || policy.Num(policy.Path(actions[0], "order")) != 1 ||
			policy.Str(policy.Path(actions[1], "type")) != "forward" || policy.Num(policy.Path(actions[1], "order")) != 2 {
			t.Errorf("%s: the HTTPS listener must %s (order 1), then forward (order 2): %v", v, mode, actions)
		}
		block := strings.ReplaceAll(mode, "-", "_")
		if got := policy.Num(policy.Path(actions[0], block, "session_timeout")); got != float64(v.settings(t).SSOSessionTimeout) {
			t.Errorf("%s: session_timeout %v, want ssoSessionTimeout %d", v, got, v.settings(t).SSOSessionTimeout)
		}
		rules := d.Of("aws_lb_listener_rule")
		want := 1 // the Alertmanager's path
		if v.settings(t).Grafana {
			want = 2
		}
		if len(rules) != want {
			t.Errorf("%s: %d listener rules, want %d (the Alertmanager, and Grafana when on)", v, len(rules), want)
		}
		for rn, r := range rules {
			if a, _ := r["action"].([]any); len(a) != 2 || policy.Str(policy.Path(a[0], "type")) != mode {
				t.Errorf("%s: rule %s must %s first: %v", v, rn, mode, a)
			}
		}
		// HTTPS out from the load balancer's group: the sign-in calls the
		// provider's token and user info endpoints.
		found := false
		for _, e := range d.Of("aws_vpc_security_group_egress_rule") {
			found = found || (strings.Contains(policy.Str(e["security_group_id"]), "load-balancer") && policy.Num(e["from_port"]) == 443 && policy.Str(e["cidr_ipv4"]) == "0.0.0.0/0")
		}
		if !found {
			t.Errorf("%s: the load balancer's security group needs HTTPS egress to the identity provider", v)
		}
		for sn := range d.Of("aws_secretsmanager_secret") {
			if strings.Contains(sn, "basic") {
				t.Errorf("%s: sso needs basicAuth=false, so no basic-auth secret: %s", v, sn)
			}
		}
	}

	// Cognito created: a pool nobody signs up to, a code-flow client with a
	// secret calling back to the load balancer, a domain.
	d := ssoCognito.doc(t)
	_, pool := one(t, d, "aws_cognito_user_pool")
	if policy.Path(pool, "admin_create_user_config", "allow_admin_create_user_only") != true {
		t.Errorf("the user pool must not let people sign themselves up: %v", pool["admin_create_user_config"])
	}
	_, client := one(t, d, "aws_cognito_user_pool_client")
	if client["generate_secret"] != true || strings.Join(policy.Strings(client["allowed_oauth_flows"]), ",") != "code" ||
		client["allowed_oauth_flows_user_pool_client"] != true || !strings.Contains(strings.Join(policy.Strings(client["allowed_oauth_scopes"]), ","), "openid") {
		t.Errorf("the app client must be a confidential code-flow client with openid: %v", client)
	}
	if cb := policy.Strings(client["callback_urls"]); len(cb) != 1 || !strings.HasSuffix(cb[0], "/oauth2/idpresponse") || !strings.HasPrefix(cb[0], "https://${aws_lb.") {
		t.Errorf("callback URLs %v, want https://<load balancer DNS>/oauth2/idpresponse", cb)
	}
	_, dom := one(t, d, "aws_cognito_user_pool_domain")
	if policy.Str(dom["domain"]) != "prometheus-dev-login" {
		t.Errorf("domain prefix %q, want prometheus-dev-login (the stack's name without the reserved aws)", dom["domain"])
	}
	// The machine path: by security group reference to Prometheus's and
	// the Alertmanager's ports.
	n := 0
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Str(r["referenced_security_group_id"]) == "sg-0123456789abcdef0" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("machineSecurityGroupIds: %d ingress rules from sg-0123456789abcdef0, want 2 (Prometheus, the Alertmanager)", n)
	}

	// A given pool: read, not created; its domain is the pool's own.
	d = ssoCognitoPoolLocal.doc(t)
	if len(d.Of("aws_cognito_user_pool")) != 0 || len(d.Of("aws_cognito_user_pool_domain")) != 0 {
		t.Errorf("a given pool must be neither created nor given a domain: %v %v", d.Names("aws_cognito_user_pool"), d.Names("aws_cognito_user_pool_domain"))
	}
	_, client = one(t, d, "aws_cognito_user_pool_client")
	if cb := policy.Strings(client["callback_urls"]); len(cb) != 2 || cb[1] != "https://prometheus.example.com/oauth2/idpresponse" {
		t.Errorf("callback URLs %v, want the load balancer's name and the domain", cb)
	}

}

// TestOIDCClientSecretNeverStored (issue 28): with sso=oidc the client
// secret is in no attribute Terraform stores. The listener and its rule
// carry the placeholder, ignored after creation; the secret is read by an
// ephemeral resource (no data source) and reaches only the environment of
// the local-exec provisioners that set it, one terraform_data per listener
// and rule, which their listener or rule re-triggers; the command
// interpolates nothing from Terraform. (The emulator test applies it:
// e2e TestSingleSignOnOIDC.)
func TestOIDCClientSecretNeverStored(t *testing.T) {
	d := ssoOIDC.doc(t)
	raw, err := os.ReadFile(filepath.Join(ssoOIDC.synth(t).dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if reads := policy.Path(d.Raw, "data", "aws_secretsmanager_secret_version"); reads != nil {
		t.Errorf("a data source reads the secret's value into the state: %v", reads)
	}
	eph, _ := policy.Path(d.Raw, "ephemeral", "aws_secretsmanager_secret_version").(map[string]any)
	if len(eph) != 1 {
		t.Fatalf("want one ephemeral aws_secretsmanager_secret_version, have %v", eph)
	}
	var ephName string
	for n, e := range eph {
		ephName = n
		if got := policy.Str(policy.Path(e, "secret_id")); got != testOIDCSecret {
			t.Errorf("the ephemeral read takes %q, want oidcClientSecretArn %s", got, testOIDCSecret)
		}
	}
	value := "${ephemeral.aws_secretsmanager_secret_version." + ephName + ".secret_string}"
	// The secret's value goes nowhere but the provisioners' CLIENT_SECRET.
	if n, want := strings.Count(string(raw), "secret_string"), len(d.Of("aws_lb_listener_rule"))+1; n != want {
		t.Errorf("secret_string appears %d times in the JSON, want %d (the listener's and each rule's provisioner)", n, want)
	}
	if got := policy.Str(policy.Path(d.Raw, "terraform", "required_version")); got != ">= 1.10" {
		t.Errorf("required_version %q, want >= 1.10 (ephemeral resources)", got)
	}

	withAttr(t, d, "aws_lb_listener", "protocol", "HTTPS") // exactly one
	targets := map[string]string{}                         // type.name -> the actions attribute
	for name, r := range d.Of("aws_lb_listener") {
		if policy.Str(r["protocol"]) == "HTTPS" {
			targets["aws_lb_listener."+name] = "default_action"
		}
	}
	for name := range d.Of("aws_lb_listener_rule") {
		targets["aws_lb_listener_rule."+name] = "action"
	}
	setters := map[string]map[string]any{} // target -> its local-exec
	for name, td := range d.Of("terraform_data") {
		refs := policy.Strings(policy.Path(td, "lifecycle", "replace_triggered_by"))
		ps, _ := td["provisioner"].([]any)
		if len(refs) != 1 || len(ps) != 1 {
			t.Errorf("terraform_data.%s: want one replace_triggered_by and one provisioner, have %v %v", name, refs, ps)
			continue
		}
		le, _ := policy.Path(ps[0], "local-exec").(map[string]any)
		if le == nil {
			t.Errorf("terraform_data.%s: no local-exec provisioner: %v", name, ps[0])
			continue
		}
		setters[refs[0]] = le
		trig := policy.Str(policy.Path(td, "triggers_replace", "input"))
		if !strings.Contains(trig, "${"+refs[0]+".arn}") || !strings.Contains(policy.Str(policy.Path(td, "triggers_replace", "secret_versions")), "data.aws_secretsmanager_secret_versions.") {
			t.Errorf("terraform_data.%s: triggers_replace must follow %s's ARN, its actions and the secret's versions: %v", name, refs[0], td["triggers_replace"])
		}
	}
	for target, attr := range targets {
		typ, name, _ := strings.Cut(target, ".")
		r := d.Of(typ)[name]
		actions, _ := r[attr].([]any)
		if got := policy.Str(policy.Path(actions[0], "authenticate_oidc", "client_secret")); got != pconstructs.OIDCClientSecretPlaceholder {
			t.Errorf("%s: client_secret %q, want the placeholder %q", target, got, pconstructs.OIDCClientSecretPlaceholder)
		}
		if ig := policy.Strings(policy.Path(r, "lifecycle", "ignore_changes")); len(ig) != 1 || ig[0] != attr+"[0].authenticate_oidc[0].client_secret" {
			t.Errorf("%s: ignore_changes %v, want %s[0].authenticate_oidc[0].client_secret", target, ig, attr)
		}
		le := setters[target]
		if le == nil {
			t.Errorf("%s: no terraform_data sets its client secret (replace_triggered_by %s)", target, target)
			continue
		}
		env, _ := le["environment"].(map[string]any)
		if got := policy.Str(env["CLIENT_SECRET"]); got != value {
			t.Errorf("%s: the provisioner's CLIENT_SECRET is %q, want %s", target, got, value)
		}
		for k, v := range env {
			if k != "CLIENT_SECRET" && strings.Contains(policy.Str(v), "ephemeral.") {
				t.Errorf("%s: the secret reaches %s too: %v", target, k, v)
			}
		}
		input := policy.Str(env["INPUT"])
		var arnKey, op string
		if attr == "action" {
			arnKey, op = "RuleArn", "modify-rule"
		} else {
			arnKey, op = "ListenerArn", "modify-listener"
		}
		if strings.Count(input, `"ClientSecret":"`+pconstructs.OIDCClientSecretPlaceholder+`"`) != 1 || !strings.Contains(input, `"`+arnKey+`":"${`+target+`.arn}"`) ||
			!strings.Contains(input, `"UseExistingClientSecret":false`) || policy.Str(env["OPERATION"]) != op || policy.Str(env["PLACEHOLDER"]) != pconstructs.OIDCClientSecretPlaceholder {
			t.Errorf("%s: the CLI's input must be %s of %s with the placeholder once: %s %v", target, op, arnKey, input, env)
		}
		if _, has := env["AWS_ENDPOINT_URL"]; has {
			t.Errorf("%s: the AWS profile's CLI must use AWS's own endpoints: %v", target, env)
		}
		cmd := policy.Str(le["command"])
		if interpolated := regexp.MustCompile(`(^|[^$])\$\{`).FindString(cmd); interpolated != "" || strings.Contains(cmd, "ephemeral.") || strings.Contains(cmd, "%{") {
			t.Errorf("%s: the command interpolates from Terraform (%q); every value must come through the environment:\n%s", target, interpolated, cmd)
		}
		if !strings.Contains(cmd, `--cli-input-json "file://$dir/input.json"`) || !strings.Contains(cmd, "umask 077") || !strings.Contains(cmd, `trap 'rm -rf "$dir"' EXIT`) {
			t.Errorf("%s: the secret must reach the CLI in a private file, removed at exit, never as an argument:\n%s", target, cmd)
		}
		if it := policy.Strings(le["interpreter"]); strings.Join(it, " ") != "/bin/sh -c" {
			t.Errorf("%s: interpreter %v, want /bin/sh -c", target, it)
		}
		if le["when"] != nil {
			t.Errorf("%s: the provisioner must run at creation, never on destroy: when=%v", target, le["when"])
		}
	}
	if len(setters) != len(targets) {
		t.Errorf("%d terraform_data setters for %d listeners and rules: %v", len(setters), len(targets), setters)
	}
}

// TestGrafanaBehindSingleSignOn: behind sso Grafana signs people in as the
// user the load balancer passes (its auth proxy on X-Amzn-Oidc-Identity),
// creating them on first visit, with no login form of its own; without
// sso it keeps its own sign-in. Only the load balancer's group reaches
// Grafana's port: the machine path reaches Prometheus's and the
// Alertmanager's, never Grafana's (it could forge the header).
func TestGrafanaBehindSingleSignOn(t *testing.T) {
	grafanaOf := func(v *variant) *containerdef.Container {
		for _, c := range containersOf(t, v.doc(t)) {
			if c.Name == "grafana" {
				return &c
			}
		}
		t.Fatalf("%s: no grafana container", v)
		return nil
	}
	g := grafanaOf(ssoCognito)
	want := map[string]string{
		"GF_AUTH_PROXY_ENABLED": "true", "GF_AUTH_PROXY_HEADER_NAME": "X-Amzn-Oidc-Identity", "GF_AUTH_PROXY_HEADER_PROPERTY": "username",
		"GF_AUTH_PROXY_AUTO_SIGN_UP": "true", "GF_USERS_AUTO_ASSIGN_ORG_ROLE": "Viewer", "GF_AUTH_DISABLE_LOGIN_FORM": "true",
		"GF_AUTH_DISABLE_SIGNOUT_MENU": "true", "GF_USERS_ALLOW_SIGN_UP": "false", "GF_AUTH_ANONYMOUS_ENABLED": "false",
	}
	for k, v := range want {
		if got := g.Env(k); got != v {
			t.Errorf("sso-cognito: grafana %s=%q, want %q", k, got, v)
		}
	}
	for _, v := range []*variant{withGrafana, grafanaAMP} {
		g := grafanaOf(v)
		if g.Env("GF_AUTH_PROXY_ENABLED") != "" || g.Env("GF_AUTH_DISABLE_LOGIN_FORM") != "" {
			t.Errorf("%s (no sso): Grafana must keep its own sign-in, not trust a header anyone can send: %v", v, g.Environment)
		}
	}

	d := ssoCognito.doc(t)
	port := float64(ssoCognito.settings(t).GrafanaPort)
	var from []string
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(r["from_port"]) <= port && port <= policy.Num(r["to_port"]) {
			from = append(from, policy.Str(r["referenced_security_group_id"])+policy.Str(r["cidr_ipv4"]))
		}
	}
	if len(from) != 1 || !strings.Contains(from[0], "load-balancer") {
		t.Errorf("Grafana's port %v must admit the load balancer's group alone, has %v", port, from)
	}
}
