package constructs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
)

// CI platforms whose OpenID Connect tokens CIRoles trusts.
const (
	CIGitLab = "gitlab"
	CIGitHub = "github"
)

// CIRoleTag marks a CI role with its kind ("plan" or "deploy"), for the
// policy checks (policy/ci-trust-pinned).
const CIRoleTag = "prometheus-aws:ci-role"

// CIRolesProps configure CIRoles.
type CIRolesProps struct {
	// Platform is CIGitLab or CIGitHub. Required.
	Platform string
	// Project is the GitLab project path (group/project) or the GitHub
	// repository (owner/repo) whose pipelines may assume the roles.
	// Required.
	Project string
	// GitLabURL is the GitLab instance that signs the tokens.
	// Default: https://gitlab.com.
	GitLabURL string
	// ProviderArn is an existing IAM OIDC provider for the platform (an
	// account holds one per URL). Default: one is created.
	ProviderArn string
	// Branch is the protected branch GitLab's deploy roles admit.
	// Default: main.
	Branch string
	// Environments get a plan role and a deploy role each. Required.
	Environments []CIEnvironment
	// StateBucket is the bucket holding every environment's state. Required.
	StateBucket string
	// LockTable is the DynamoDB lock table, if the state uses one.
	LockTable string
	// KmsKeyArn is the customer-managed key the stacks use, if any.
	KmsKeyArn string
}

// CIEnvironment is one environment the pipelines deploy.
type CIEnvironment struct {
	// Name as the pipelines know it (dev, prod).
	Name string
	// Stack is the environment's stack name: every resource it creates is
	// named with it as a prefix, which the deploy role's IAM, SSM, Secrets
	// Manager and SNS permissions are scoped to.
	Stack string
	// StateKey is its state object in StateBucket.
	StateKey string
}

// CIRoles are the OpenID Connect provider (when created) and, per
// environment, the role a pipeline plans with (read-only; any branch or
// merge request of the project) and the role it deploys with (the
// protected branch or environment only). No access key exists anywhere.
type CIRoles struct {
	constructs.Construct
	// Provider is nil when ProviderArn was given.
	Provider    iamopenidconnectprovider.IamOpenidConnectProvider
	ProviderArn *string
	Plan        map[string]iamrole.IamRole
	Deploy      map[string]iamrole.IamRole
}

// NewCIRoles creates the CI roles.
func NewCIRoles(scope constructs.Construct, id string, p *CIRolesProps) *CIRoles {
	if p.Platform != CIGitLab && p.Platform != CIGitHub {
		panic(fmt.Sprintf("NewCIRoles(%s): Platform %q: use %q or %q", id, p.Platform, CIGitLab, CIGitHub))
	}
	if p.Project == "" || p.StateBucket == "" || len(p.Environments) == 0 {
		panic(fmt.Sprintf("NewCIRoles(%s): Project, StateBucket and Environments are required", id))
	}
	if p.GitLabURL == "" {
		p.GitLabURL = "https://gitlab.com"
	}
	if p.Branch == "" {
		p.Branch = "main"
	}
	scope = constructs.NewConstruct(scope, jsii.String(id))
	c := &CIRoles{Construct: scope, Plan: map[string]iamrole.IamRole{}, Deploy: map[string]iamrole.IamRole{}}
	issuer := p.issuer()
	if p.ProviderArn != "" {
		c.ProviderArn = jsii.String(p.ProviderArn)
	} else {
		c.Provider = iamopenidconnectprovider.NewIamOpenidConnectProvider(scope, jsii.String("provider"), &iamopenidconnectprovider.IamOpenidConnectProviderConfig{
			Url:          jsii.String("https://" + issuer),
			ClientIdList: jsii.Strings(ciAudience),
			Tags:         nameTag(p.Platform + "-oidc"),
		})
		c.ProviderArn = c.Provider.Arn()
	}
	for _, env := range p.Environments {
		c.Plan[env.Name] = c.role("plan-"+env.Name, env.Stack+"-ci-plan", "plan", p.trust(issuer, *c.ProviderArn, p.planSubjects(env), false))
		iamrolepolicyattachment.NewIamRolePolicyAttachment(scope, jsii.String("plan-"+env.Name+"-read-only"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role: c.Plan[env.Name].Name(), PolicyArn: jsii.String("arn:aws:iam::aws:policy/ReadOnlyAccess"),
		})
		newRolePolicy(scope, "plan-"+env.Name+"-state", c.Plan[env.Name], "state-lock", Policy(stateAccess(p, env, false)...))
		c.Deploy[env.Name] = c.role("deploy-"+env.Name, env.Stack+"-ci-deploy", "deploy", p.trust(issuer, *c.ProviderArn, p.deploySubjects(env), true))
		newRolePolicy(scope, "deploy-"+env.Name+"-policy", c.Deploy[env.Name], "deploy", deployPolicy(p, env))
	}
	return c
}

// CIRolePath is the IAM path of the CI roles: their ARNs are
// role/ci/<name>, which the deploy policy's role/<stack>-* never matches,
// and the deploy policy denies changing them besides, so a deploy role
// cannot widen its own permissions or trust.
const CIRolePath = "/ci/"

// ciAudience is the audience both pipelines request their tokens for.
const ciAudience = "sts.amazonaws.com"

// issuer is the token issuer's host (and path), as IAM names its keys.
func (p *CIRolesProps) issuer() string {
	if p.Platform == CIGitHub {
		return "token.actions.githubusercontent.com"
	}
	return strings.TrimSuffix(strings.TrimPrefix(p.GitLabURL, "https://"), "/")
}

// planSubjects are the token subjects that may plan: merge requests and
// pull requests of the project, and GitHub's prod plan before approval.
func (p *CIRolesProps) planSubjects(env CIEnvironment) []string {
	if p.Platform == CIGitHub {
		return []string{"repo:" + p.Project + ":pull_request", "repo:" + p.Project + ":environment:" + env.Name + "-plan"}
	}
	return []string{"project_path:" + p.Project + ":ref_type:branch:ref:*"}
}

// deploySubjects may deploy: GitHub's environment of the same name (its
// required reviewers approve), GitLab's protected branch (its protected
// environment approves; GitLab's subject does not carry the environment).
func (p *CIRolesProps) deploySubjects(env CIEnvironment) []string {
	if p.Platform == CIGitHub {
		return []string{"repo:" + p.Project + ":environment:" + env.Name}
	}
	return []string{"project_path:" + p.Project + ":ref_type:branch:ref:" + p.Branch}
}

// trust admits tokens of the provider for the audience and exactly these
// subjects (StringLike only where a subject holds a wildcard, never on a
// deploy role).
func (p *CIRolesProps) trust(issuer, providerArn string, subjects []string, exact bool) *PolicyDocument {
	op := "StringEquals"
	if !exact && slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, "*") }) {
		op = "StringLike"
	}
	cond := map[string]any{"StringEquals": map[string]any{issuer + ":aud": ciAudience}}
	if op == "StringEquals" {
		cond["StringEquals"].(map[string]any)[issuer+":sub"] = subjects
	} else {
		cond[op] = map[string]any{issuer + ":sub": subjects}
	}
	return &PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
		Effect: "Allow", Principal: map[string]string{"Federated": providerArn},
		Action: []string{"sts:AssumeRoleWithWebIdentity"}, Condition: cond,
	}}}
}

func (c *CIRoles) role(id, name, kind string, trust *PolicyDocument) iamrole.IamRole {
	tags := nameTag(name)
	(*tags)[CIRoleTag] = jsii.String(kind)
	return iamrole.NewIamRole(c.Construct, jsii.String(id), &iamrole.IamRoleConfig{
		Name: jsii.String(name), Path: jsii.String(CIRolePath), AssumeRolePolicy: trust.JSON(), MaxSessionDuration: jsii.Number(3600), Tags: tags,
	})
}
