package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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

	// OIDC: the secret is referenced by ARN, never written into the JSON.
	raw, err := os.ReadFile(filepath.Join(ssoOIDC.synth(t).dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"secret_id": "`+testOIDCSecret+`"`) || !strings.Contains(string(raw), "secret_string}") {
		t.Errorf("the OIDC client secret must come from the secret %s through the data source", testOIDCSecret)
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
