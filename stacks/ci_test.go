package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// trustOf decodes a role's trust policy condition.
func trustOf(t *testing.T, role map[string]any) map[string]map[string]any {
	t.Helper()
	var p struct {
		Statement []struct {
			Principal map[string]string
			Action    []string
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy.Str(role["assume_role_policy"])), &p); err != nil || len(p.Statement) != 1 {
		t.Fatalf("trust policy of %v: %v", role["name"], err)
	}
	if p.Statement[0].Action[0] != "sts:AssumeRoleWithWebIdentity" || p.Statement[0].Principal["Federated"] == "" {
		t.Fatalf("%v must trust web identity tokens of the provider: %v", role["name"], p.Statement[0])
	}
	return p.Statement[0].Condition
}

func roleNamed(t *testing.T, d *policy.Doc, name string) map[string]any {
	t.Helper()
	for _, r := range d.Of("aws_iam_role") {
		if r["name"] == name {
			return r
		}
	}
	t.Fatalf("no role %s", name)
	return nil
}

// make bootstrap with the pipelines' OIDC roles: GitLab (the provider
// created, a customer key), GitHub (an existing provider).
var (
	ciGitLab = declare("ci-gitlab", env{"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_CI_PLATFORM": "gitlab",
		"PROMAWS_CI_PROJECT": "ops/monitoring/prometheus-aws", "PROMAWS_KMS_KEY_ARN": testKey})
	ciGitHub = declare("ci-github", env{"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_CI_PLATFORM": "github", "PROMAWS_CI_PROJECT": "acme/prometheus-aws",
		"PROMAWS_CI_OIDC_PROVIDER_ARN": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"})
)

// TestCIRolesGitLab: make bootstrap with ciPlatform=gitlab creates the
// provider and, per environment, a read-only plan role any branch of the
// project may assume and a deploy role only the protected branch may.
func TestCIRolesGitLab(t *testing.T) {
	b := ciGitLab.bootstrap(t)
	_, provider := one(t, b, "aws_iam_openid_connect_provider")
	if provider["url"] != "https://gitlab.com" || strings.Join(policy.Strings(provider["client_id_list"]), ",") != "sts.amazonaws.com" {
		t.Errorf("provider: %v", provider)
	}
	for _, env := range []string{"dev", "prod"} {
		stack := "prometheus-aws-" + env
		deploy := trustOf(t, roleNamed(t, b, stack+"-ci-deploy"))
		if got := policy.Strings(deploy["StringEquals"]["gitlab.com:sub"]); strings.Join(got, ",") != "project_path:ops/monitoring/prometheus-aws:ref_type:branch:ref:main" {
			t.Errorf("%s deploy role: sub %v, want exactly the protected branch main", env, got)
		}
		if policy.Str(deploy["StringEquals"]["gitlab.com:aud"]) != "sts.amazonaws.com" {
			t.Errorf("%s deploy role: aud %v", env, deploy["StringEquals"])
		}
		plan := trustOf(t, roleNamed(t, b, stack+"-ci-plan"))
		if got := policy.Strings(plan["StringLike"]["gitlab.com:sub"]); strings.Join(got, ",") != "project_path:ops/monitoring/prometheus-aws:ref_type:branch:ref:*" {
			t.Errorf("%s plan role: sub %v, want any branch of the project", env, got)
		}
		var doc string
		for _, p := range b.Of("aws_iam_role_policy") {
			if strings.Contains(policy.Str(p["role"]), "deploy-"+env) {
				doc = policy.Str(p["policy"])
			}
		}
		// IAM quota: a role's inline policies hold at most 10,240 characters
		// (IAM user guide, "IAM and AWS STS quotas").
		if n := len(strings.Join(strings.Fields(doc), "")); n == 0 || n > 10240 {
			t.Errorf("%s deploy policy: %d characters, IAM allows 10,240", env, n)
		}
		other := map[string]string{"dev": "prometheus-aws-prod", "prod": "prometheus-aws-dev"}[env]
		if !strings.Contains(doc, "role/"+stack+"-*") || strings.Contains(doc, other) || !strings.Contains(doc, "prometheus-aws/"+env+"/terraform.tfstate") {
			t.Errorf("%s deploy policy must manage its own stack's roles and state only: %s", env, doc)
		}
		if !strings.Contains(doc, `"Sid":"NotTheCIRoles","Effect":"Deny"`) || !strings.Contains(doc, `"Resource":["arn:aws:iam::*:role/ci/*"]`) ||
			roleNamed(t, b, stack+"-ci-deploy")["path"] != "/ci/" {
			t.Errorf("%s: the CI roles live under /ci/, which the deploy policy may not change (a deploy role must not widen itself)", env)
		}
		if !strings.Contains(doc, testKey) {
			t.Errorf("%s deploy policy must use the customer key: %s", env, doc)
		}
	}
	attached := 0
	for _, a := range b.Of("aws_iam_role_policy_attachment") {
		if a["policy_arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess" && strings.Contains(policy.Str(a["role"]), "plan-") {
			attached++
		}
	}
	if attached != 2 {
		t.Errorf("each plan role reads (ReadOnlyAccess) and nothing more: %d attachments", attached)
	}
	for _, o := range []string{"ci_oidc_provider_arn", "ci_plan_role_arn_dev", "ci_deploy_role_arn_dev", "ci_plan_role_arn_prod", "ci_deploy_role_arn_prod"} {
		if policy.Path(b.Raw, "output", o) == nil {
			t.Errorf("make bootstrap must print %s (the pipelines' variables)", o)
		}
	}
	if policy.CIRoleTag != pconstructs.CIRoleTag {
		t.Errorf("the policy rule reads tag %q, the construct writes %q", policy.CIRoleTag, pconstructs.CIRoleTag)
	}
}

// TestCIRolesGitHub: an existing provider is reused; the deploy role
// admits the environment of its name, the plan role pull requests and the
// prod plan before approval.
func TestCIRolesGitHub(t *testing.T) {
	b := ciGitHub.bootstrap(t)
	if n := len(b.Of("aws_iam_openid_connect_provider")); n != 0 {
		t.Errorf("ciOidcProviderArn given: no provider may be created, got %d", n)
	}
	key := "token.actions.githubusercontent.com:sub"
	deploy := trustOf(t, roleNamed(t, b, "prometheus-aws-prod-ci-deploy"))
	if got := policy.Strings(deploy["StringEquals"][key]); strings.Join(got, ",") != "repo:acme/prometheus-aws:environment:prod" {
		t.Errorf("prod deploy role: sub %v", got)
	}
	plan := trustOf(t, roleNamed(t, b, "prometheus-aws-prod-ci-plan"))
	if got := policy.Strings(plan["StringEquals"][key]); strings.Join(got, ",") != "repo:acme/prometheus-aws:pull_request,repo:acme/prometheus-aws:environment:prod-plan" {
		t.Errorf("prod plan role: sub %v", got)
	}
	// No bootstrap stack, so no CI roles, without stateBucket:
	// TestLocalBackendByDefault.
}
