package e2e

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// TestSingleSignOnCognito applies sso=cognito against the emulator (issue
// 28): the user pool, its domain and the load balancer's app client are
// created, the HTTPS listener's default action and the Alertmanager's path
// rule authenticate with Cognito before they forward; a second plan is
// clean; destroy leaves nothing. The emulator performs no sign-in (moto
// carries no traffic), which docs/DESIGN.md names as a blind spot; the
// machine path (the task's port, reached without the load balancer) serves
// Prometheus's API.
func TestSingleSignOnCognito(t *testing.T) {
	h := newHarness(t)
	fixture, zoneID := ssoFixture(t, h)
	dep := h.deploy(t, "sso", map[string]string{
		"PROMAWS_SSO": "cognito", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_SSO_SESSION_TIMEOUT": "3600",
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": zoneID,
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_NODE_COUNT": "1",
	})

	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	step(t, "the pool, its domain and the client exist; every forward signs in first", func(t *testing.T) {
		byType := stateByType(t, h, dep)
		for _, typ := range []string{"aws_cognito_user_pool", "aws_cognito_user_pool_domain", "aws_cognito_user_pool_client"} {
			if len(byType[typ]) != 1 {
				t.Errorf("want one %s applied, have %d", typ, len(byType[typ]))
			}
		}
		if c := byType["aws_cognito_user_pool_client"]; len(c) == 1 {
			cb := fmt.Sprint(c[0].AttributeValues["callback_urls"])
			t.Logf("app client callback URLs: %s", cb)
		}
		check := func(what string, actions []any) { assertSignInFirst(t, what, "authenticate-cognito", actions) }
		eachForwardingAction(t, byType, check)
	})

	step(t, "the HTTP listener still only redirects", func(t *testing.T) {
		assertHTTPRedirects(t, h, dep)
	})

	step(t, "the targets admit the load balancer alone; the machine path serves the API", func(t *testing.T) {
		assertOnlyLoadBalancerIngress(t, h, dep)
		assertTaskServes(t, h, dep, "Prometheus on the machine path")
	})

	step(t, "destroy leaves nothing", func(t *testing.T) { destroyAll(t, h, dep, fixture) })
}

// TestSingleSignOnOIDC applies sso=oidc against the emulator (issue 28):
// the client secret is put into the emulator's Secrets Manager first (a
// user's provider registration, which the stack only reads, by ARN); the
// HTTPS listener and the Alertmanager's path rule authenticate with the
// configured provider before they forward; a second plan is clean; destroy
// leaves nothing and leaves the user's secret alone. The secret is never in
// the state or a saved plan: Terraform writes a placeholder and the
// terraform_data setters put the secret on the listener and the rule
// through the AWS CLI at apply, again when an action changes, when the
// secret is rotated, and after a failed run. moto returns the client
// secret in DescribeListeners and DescribeRules (AWS does not), which is
// how the test sees what the load balancer holds. No task runs: the
// machine path is the Cognito test's.
func TestSingleSignOnOIDC(t *testing.T) {
	h := newHarness(t)
	fixture, zoneID := ssoFixture(t, h)
	sm := secretsmanager.NewFromConfig(h.aws)
	const value, rotated = "oidc-client-s3cret", "oidc-client-s3cret-rotated"
	secret, err := sm.CreateSecret(h.ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("prometheus-oidc-client"), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("creating the client secret in the emulator: %v", err)
	}
	provider := map[string]string{
		"issuer": "https://login.example.com", "authorization_endpoint": "https://login.example.com/authorize",
		"token_endpoint": "https://login.example.com/token", "user_info_endpoint": "https://login.example.com/userinfo",
		"client_id": "prometheus-aws",
	}
	dep := h.deploy(t, "sso-oidc", map[string]string{
		"PROMAWS_SSO": "oidc", "PROMAWS_BASIC_AUTH": "false", "PROMAWS_SSO_SESSION_TIMEOUT": "3600",
		"PROMAWS_OIDC_ISSUER": provider["issuer"], "PROMAWS_OIDC_AUTHORIZATION_ENDPOINT": provider["authorization_endpoint"],
		"PROMAWS_OIDC_TOKEN_ENDPOINT": provider["token_endpoint"], "PROMAWS_OIDC_USER_INFO_ENDPOINT": provider["user_info_endpoint"],
		"PROMAWS_OIDC_CLIENT_ID": provider["client_id"], "PROMAWS_OIDC_CLIENT_SECRET_ARN": aws.ToString(secret.ARN),
		"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": zoneID,
		"PROMAWS_ADMIN_CIDRS": "198.51.100.0/24", "PROMAWS_NODE_COUNT": "1",
	})
	raw, err := os.ReadFile(filepath.Join(dep.TF.WorkingDir(), "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), value) {
		t.Fatalf("the client secret's value is in the synthesized JSON")
	}

	step(t, "apply; the secret is on the load balancer, in neither the state nor a saved plan, which is clean", func(t *testing.T) {
		dep.apply(t)
		assertLoadBalancerSecret(t, h, dep, value, 3600)
		assertSecretNotStoredCleanPlan(t, dep, value)
	})

	step(t, "every forward signs in at the configured provider first", func(t *testing.T) {
		byType := stateByType(t, h, dep)
		if n := len(byType["aws_cognito_user_pool"]) + len(byType["aws_cognito_user_pool_client"]); n != 0 {
			t.Errorf("sso=oidc created %d Cognito resources", n)
		}
		check := func(what string, actions []any) {
			assertSignInFirst(t, what, "authenticate-oidc", actions)
			if len(actions) == 0 {
				return
			}
			first, _ := actions[0].(map[string]any)
			blocks, _ := first["authenticate_oidc"].([]any)
			if len(blocks) != 1 {
				t.Errorf("%s: want one authenticate_oidc block, have %v", what, first["authenticate_oidc"])
				return
			}
			cfg, _ := blocks[0].(map[string]any)
			for k, want := range provider {
				if got := fmt.Sprint(cfg[k]); got != want {
					t.Errorf("%s: authenticate_oidc.%s = %q, want %q", what, k, got, want)
				}
			}
			if got := fmt.Sprint(cfg["session_timeout"]); got != "3600" {
				t.Errorf("%s: session_timeout %s, want 3600", what, got)
			}
			if got := fmt.Sprint(cfg["client_secret"]); got != pconstructs.OIDCClientSecretPlaceholder {
				t.Errorf("%s: the state's client_secret must be the placeholder, has %d other characters", what, len(got))
			}
		}
		eachForwardingAction(t, byType, check)
		if n, want := len(byType["terraform_data"]), len(byType["aws_lb_listener_rule"])+1; n != want {
			t.Errorf("%d terraform_data setters, want %d (the HTTPS listener and each rule)", n, want)
		}
	})

	// The provider sends the placeholder with any change to the actions:
	// the setters run again after it.
	step(t, "a changed action gets the secret again", func(t *testing.T) {
		dep.resynth(t, map[string]string{"PROMAWS_SSO_SESSION_TIMEOUT": "7200"})
		dep.apply(t)
		assertLoadBalancerSecret(t, h, dep, value, 7200)
		assertSecretNotStoredCleanPlan(t, dep, value)
	})

	// A rotation plans the setters again (the secret's versions changed);
	// without the AWS CLI they fail the apply, naming it, and the next
	// apply runs them again (they are tainted).
	step(t, "a rotated secret: an apply without the AWS CLI fails saying so, the next one sets it", func(t *testing.T) {
		if _, err := sm.PutSecretValue(h.ctx, &secretsmanager.PutSecretValueInput{SecretId: secret.ARN, SecretString: aws.String(rotated)}); err != nil {
			t.Fatal(err)
		}
		noCLI, err := tfenv.New(h.ctx, dep.StackDir(), withoutOnPath(h.emu.Env(dep.Settings.Region), "aws"))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		noCLI.SetStderr(&out)
		err = noCLI.Apply(h.ctx)
		msg := fmt.Sprint(err) + out.String()
		if err == nil || !strings.Contains(msg, "the AWS CLI (aws) is not on PATH") {
			t.Errorf("after a rotation, an apply whose setters cannot run must fail naming the AWS CLI (did the rotation not plan them?): %v\n%s", err, out.String())
		}
		if strings.Contains(msg, rotated) || strings.Contains(msg, value) {
			t.Errorf("the failed apply's output holds the secret")
		}
		t.Logf("apply without the AWS CLI: %s", sentence(msg, "prometheus-aws: could not set"))
		dep.apply(t)
		assertLoadBalancerSecret(t, h, dep, rotated, 7200)
		assertSecretNotStoredCleanPlan(t, dep, rotated, value)
	})

	step(t, "the HTTP listener still only redirects; the targets admit the load balancer alone", func(t *testing.T) {
		assertHTTPRedirects(t, h, dep)
		assertOnlyLoadBalancerIngress(t, h, dep)
	})

	step(t, "destroy leaves nothing, and the user's secret", func(t *testing.T) {
		destroyAll(t, h, dep, fixture)
		if _, err := sm.DescribeSecret(h.ctx, &secretsmanager.DescribeSecretInput{SecretId: secret.ARN}); err != nil {
			t.Errorf("destroy touched the user's client secret: %v", err)
		}
	})
}

// assertSecretNotStoredCleanPlan: no value is in the state (terraform
// state pull, and the state file) or a saved plan (each file of the plan's
// zip, and terraform show of it), and that plan is clean.
func assertSecretNotStoredCleanPlan(t *testing.T, dep *deployment, values ...string) {
	t.Helper()
	holds := func(what, text string) {
		for i, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("client secret #%d is in %s", i+1, what)
			}
		}
	}
	state, err := dep.TF.StatePull(dep.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(state, pconstructs.OIDCClientSecretPlaceholder) {
		t.Errorf("terraform state pull: no placeholder, is this the state? (%d bytes)", len(state))
	}
	holds("the Terraform state (terraform state pull)", state)
	file, err := os.ReadFile(dep.StateFile())
	if err != nil {
		t.Fatal(err)
	}
	holds("the state file "+dep.StateFile(), string(file))
	plan := filepath.Join(t.TempDir(), "plan.tfplan")
	changed, err := dep.TF.Plan(dep.h.ctx, tfexec.Out(plan))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := dep.TF.ShowPlanFileRaw(dep.h.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Errorf("plan after apply is not clean:\n%s", shown)
	}
	holds("terraform show of a saved plan", shown)
	zr, err := zip.OpenReader(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		holds("the saved plan's "+f.Name, string(data))
	}
}

// assertLoadBalancerSecret: the emulated HTTPS listener and every rule of
// it that signs in hold value as their client secret (moto returns it;
// AWS would not) and sessionTimeout.
func assertLoadBalancerSecret(t *testing.T, h *harness, dep *deployment, value string, sessionTimeout int) {
	t.Helper()
	var lbArn string
	for _, r := range stateByType(t, h, dep)["aws_lb"] {
		lbArn = fmt.Sprint(r.AttributeValues["arn"])
	}
	n := 0
	check := func(what string, actions []elbAction) {
		for _, a := range actions {
			if a.AuthenticateOidcConfig == nil {
				continue
			}
			n++
			switch c := a.AuthenticateOidcConfig; {
			case c.ClientSecret == pconstructs.OIDCClientSecretPlaceholder:
				t.Errorf("%s: the load balancer holds the placeholder, not the client secret", what)
			case c.ClientSecret != value:
				t.Errorf("%s: the load balancer holds another client secret (%d characters), not the one in Secrets Manager", what, len(c.ClientSecret))
			case c.SessionTimeout != sessionTimeout:
				t.Errorf("%s: session timeout %d, want %d", what, c.SessionTimeout, sessionTimeout)
			}
		}
	}
	for _, l := range h.elbListeners(t, lbArn) {
		if l.Protocol != "HTTPS" {
			continue
		}
		check("HTTPS listener", l.DefaultActions)
		for _, r := range h.elbRules(t, l.ListenerArn) {
			if !r.IsDefault {
				check("rule "+r.RuleArn, r.Actions)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d authenticate-oidc actions on the load balancer, want 2 (the listener, the Alertmanager's rule)", n)
	}
}

// withoutOnPath is env with PATH stripped of every folder holding
// program.
func withoutOnPath(env []string, program string) []string {
	out := []string{}
	for _, kv := range env {
		if dirs, ok := strings.CutPrefix(kv, "PATH="); ok {
			var keep []string
			for _, d := range filepath.SplitList(dirs) {
				if _, err := os.Stat(filepath.Join(d, program)); err != nil {
					keep = append(keep, d)
				}
			}
			kv = "PATH=" + strings.Join(keep, string(filepath.ListSeparator))
		}
		out = append(out, kv)
	}
	return out
}

// sentence is the text of s from its first from to the end of that
// line of output, its wrapping undone ("" when s lacks from).
func sentence(s, from string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = strings.Join(strings.Fields(s[i:]), " ")
	if j := strings.Index(s, " Error: "); j > 0 {
		s = s[:j]
	}
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}

// ssoFixture applies what a user brings to sso: a Route 53 zone for the
// load balancer's name (the certificate is created and validated in it).
func ssoFixture(t *testing.T, h *harness) (*tfexec.Terraform, string) {
	t.Helper()
	fixture, outs := applyFixture(t, h, "hosted zone")
	return fixture, outputString(t, outs, "zone_id")
}

// stateByType is the applied state's resources by type.
func stateByType(t *testing.T, h *harness, dep *deployment) map[string][]*tfjson.StateResource {
	t.Helper()
	state, err := dep.State(h.ctx)
	if err != nil || state == nil {
		t.Fatalf("terraform state: %v (or nothing applied)", err)
	}
	byType := map[string][]*tfjson.StateResource{}
	for _, r := range state.Values.RootModule.Resources {
		byType[r.Type] = append(byType[r.Type], r)
	}
	return byType
}

// assertSignInFirst: actions (as the state holds them) are the sign-in
// (mode) at order 1, then the forward at order 2.
func assertSignInFirst(t *testing.T, what, mode string, actions []any) {
	t.Helper()
	types := []string{}
	for _, a := range actions {
		m, _ := a.(map[string]any)
		types = append(types, fmt.Sprintf("%v:%v", m["order"], m["type"]))
	}
	if len(types) != 2 || types[0] != "1:"+mode || types[1] != "2:forward" {
		t.Errorf("%s: actions %v, want 1:%s then 2:forward", what, types, mode)
	}
	t.Logf("%s: %v", what, types)
}

// destroyAll destroys the stack, checks nothing is left, then the fixture.
func destroyAll(t *testing.T, h *harness, dep *deployment, fixture *tfexec.Terraform) {
	t.Helper()
	dep.destroy(t)
	state, err := dep.State(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if state != nil && len(state.Values.RootModule.Resources) != 0 {
		t.Errorf("resources left after destroy: %d", len(state.Values.RootModule.Resources))
	}
	if err := fixture.Destroy(h.ctx); err != nil {
		t.Errorf("fixture destroy: %v", err)
	}
}

// eachForwardingAction calls check with the HTTPS listener's default
// actions and those of its one rule (the Alertmanager's path).
func eachForwardingAction(t *testing.T, byType map[string][]*tfjson.StateResource, check func(what string, actions []any)) {
	t.Helper()
	for _, l := range byType["aws_lb_listener"] {
		if l.AttributeValues["protocol"] == "HTTPS" {
			a, _ := l.AttributeValues["default_action"].([]any)
			check("HTTPS listener default action", a)
		}
	}
	if len(byType["aws_lb_listener_rule"]) != 1 {
		t.Errorf("want the Alertmanager's path rule, have %d rules", len(byType["aws_lb_listener_rule"]))
	}
	for _, r := range byType["aws_lb_listener_rule"] {
		a, _ := r.AttributeValues["action"].([]any)
		check("rule "+r.Address, a)
	}
}
