package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpool"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpoolclient"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpooldomain"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscognitouserpool"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawssecretsmanagersecretversions"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistener"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistenerrule"
)

// SSO is single sign-on at the HTTPS listener: every request it forwards
// is authenticated first (an authenticate-cognito or authenticate-oidc
// action, then the forward). Exactly one of Cognito and OIDC.
type SSO struct {
	Cognito *CognitoSSO
	OIDC    *OIDCSSO
	// SessionTimeout is how long a sign-in lasts at the load balancer, in
	// seconds. Default: 28800 (8 h; AWS's own default is 7 days).
	SessionTimeout int
}

// CognitoSSO signs people in with an Amazon Cognito user pool.
type CognitoSSO struct {
	// UserPoolId is an existing pool. Default: "" (a pool is created in
	// which only an administrator creates users: no self sign-up).
	UserPoolId string
	// DomainPrefix is the pool's hosted sign-in domain prefix, created with
	// a created pool, the given pool's existing one otherwise. Required.
	DomainPrefix string
}

// OIDCSSO signs people in with an OpenID Connect provider. All but Scope
// required.
type OIDCSSO struct {
	Issuer, AuthorizationEndpoint, TokenEndpoint, UserInfoEndpoint, ClientId string
	// ClientSecretArn is a Secrets Manager secret whose value is the client
	// secret. It is never in the synthesized JSON, a plan or the state: the
	// listener and its rules carry OIDCClientSecretPlaceholder, and the
	// secret is read ephemerally at apply and set through the ELB API by
	// the AWS CLI (oidcsecret.go, which says why).
	ClientSecretArn string
	// Scope asked for. Default: "openid email".
	Scope string
	// CLIEnvironment is added to the environment of the AWS CLI that sets
	// the secret, for what the provider's configuration says and the CLI
	// cannot read from it: an emulator's endpoint (AWS_ENDPOINT_URL) and
	// credentials. Default: none (the CLI's default credential chain and
	// profile, as the provider's when its configuration names none, in
	// the listener's own region).
	CLIEnvironment map[string]string
}

// IdentityHeader is the request header in which the load balancer passes
// the signed-in user to a target after an authenticate action: the sub
// claim from the provider's user info endpoint, in plain text (ELB guide,
// "Authenticate users using an Application Load Balancer": x-amzn-oidc-
// identity; next to x-amzn-oidc-data, the claims as a JWT the load
// balancer signs, and x-amzn-oidc-accesstoken).
const IdentityHeader = "X-Amzn-Oidc-Identity"

// SignsIn reports whether the load balancer authenticates every request it
// forwards (SSO): its targets may then take the user from IdentityHeader.
func (l *HTTPSLoadBalancer) SignsIn() bool { return l != nil && l.auth != nil }

// ssoAuth is the authenticate action every forward goes through.
type ssoAuth struct {
	cognito *lblistenerrule.LbListenerRuleActionAuthenticateCognito
	oidc    *lblistenerrule.LbListenerRuleActionAuthenticateOidc
	// secret sets the OIDC client secret at apply (nil with Cognito).
	secret *oidcSecret
}

// newSSO creates what the sign-in needs (with Cognito: the user pool
// unless given, the app client, the domain) and lets the load balancer
// call the identity provider: HTTPS out, which the authenticate actions
// need for the token and user info endpoints (public endpoints, hence any
// address).
func (l *HTTPSLoadBalancer) newSSO(scope constructs.Construct, name string, p *SSO, domain *Domain) *ssoAuth {
	requireProps("HTTPSLoadBalancer.SSO", name, need("Cognito or OIDC", p.Cognito == nil && p.OIDC == nil),
		need("only one of Cognito and OIDC", p.Cognito != nil && p.OIDC != nil))
	timeout := jsii.Number(intOr(p.SessionTimeout, 28800))
	httpsEgress(scope, l.SecurityGroup, "HTTPS to the identity provider's endpoints (sign-in)")
	if p.OIDC != nil {
		return l.oidc(scope, name, p.OIDC, timeout)
	}
	// The identity provider sends people back to the name they used: the
	// load balancer's own, and the domain.
	hosts := []*string{l.LoadBalancer.DnsName()}
	if domain != nil {
		hosts = append(hosts, jsii.String(domain.Name))
	}
	return l.cognito(scope, name, p.Cognito, timeout, hosts)
}

// oidc is the authenticate-oidc action, with OIDCClientSecretPlaceholder
// for the client secret, and what sets the real one at apply.
func (l *HTTPSLoadBalancer) oidc(scope constructs.Construct, name string, o *OIDCSSO, timeout *float64) *ssoAuth {
	requireProps("HTTPSLoadBalancer.SSO.OIDC", name, need("Issuer", o.Issuer == ""), need("AuthorizationEndpoint", o.AuthorizationEndpoint == ""),
		need("TokenEndpoint", o.TokenEndpoint == ""), need("UserInfoEndpoint", o.UserInfoEndpoint == ""), need("ClientId", o.ClientId == ""),
		need("ClientSecretArn", o.ClientSecretArn == ""))
	// The versions (ids and labels, no value) only tell a rotation: the
	// secret is set again when they change.
	l.ClientSecretVersions = dataawssecretsmanagersecretversions.NewDataAwsSecretsmanagerSecretVersions(scope, jsii.String("oidc-client-secret-versions"),
		&dataawssecretsmanagersecretversions.DataAwsSecretsmanagerSecretVersionsConfig{SecretId: jsii.String(o.ClientSecretArn)})
	return &ssoAuth{
		oidc: &lblistenerrule.LbListenerRuleActionAuthenticateOidc{
			Issuer:                   jsii.String(o.Issuer),
			AuthorizationEndpoint:    jsii.String(o.AuthorizationEndpoint),
			TokenEndpoint:            jsii.String(o.TokenEndpoint),
			UserInfoEndpoint:         jsii.String(o.UserInfoEndpoint),
			ClientId:                 jsii.String(o.ClientId),
			ClientSecret:             jsii.String(OIDCClientSecretPlaceholder),
			Scope:                    jsii.String(orDefault(o.Scope, "openid email")),
			SessionTimeout:           timeout,
			OnUnauthenticatedRequest: jsii.String("authenticate"),
			// AWS's default, written out: the action the AWS CLI sets at
			// apply must read back as Terraform wrote it (the rule's
			// schema defaults it, the API omits it when not sent).
			SessionCookieName: jsii.String("AWSELBAuthSessionCookie"),
		},
		secret: newOIDCSecret(scope, o, l.ClientSecretVersions),
	}
}

// cognito creates the pool (unless given) with its domain, and the load
// balancer's app client, for the authenticate-cognito action.
func (l *HTTPSLoadBalancer) cognito(scope constructs.Construct, name string, c *CognitoSSO, timeout *float64, callbackHosts []*string) *ssoAuth {
	requireProps("HTTPSLoadBalancer.SSO.Cognito", name, need("DomainPrefix", c.DomainPrefix == ""))
	var poolID, poolArn *string
	if c.UserPoolId != "" {
		given := dataawscognitouserpool.NewDataAwsCognitoUserPool(scope, jsii.String("user-pool"), &dataawscognitouserpool.DataAwsCognitoUserPoolConfig{
			UserPoolId: jsii.String(c.UserPoolId),
		})
		poolID, poolArn = jsii.String(c.UserPoolId), given.Arn()
	} else {
		l.UserPool = cognitouserpool.NewCognitoUserPool(scope, jsii.String("user-pool"), &cognitouserpool.CognitoUserPoolConfig{
			Name: jsii.String(name + "-users"),
			// Who may sign in is who an administrator created (or who a
			// federated provider admits): nobody signs themselves up.
			AdminCreateUserConfig: &cognitouserpool.CognitoUserPoolAdminCreateUserConfig{AllowAdminCreateUserOnly: jsii.Bool(true)},
			UsernameAttributes:    jsii.Strings("email"),
			PasswordPolicy: &cognitouserpool.CognitoUserPoolPasswordPolicy{
				MinimumLength: jsii.Number(14), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
				RequireNumbers: jsii.Bool(true), RequireSymbols: jsii.Bool(false), TemporaryPasswordValidityDays: jsii.Number(3),
			},
			Tags: nameTag(name + "-users"),
		})
		poolID, poolArn = l.UserPool.Id(), l.UserPool.Arn()
		l.UserPoolDomain = cognitouserpooldomain.NewCognitoUserPoolDomain(scope, jsii.String("user-pool-domain"), &cognitouserpooldomain.CognitoUserPoolDomainConfig{
			Domain: jsii.String(c.DomainPrefix), UserPoolId: poolID,
		})
	}
	var callbacks []*string
	for _, host := range callbackHosts {
		callbacks = append(callbacks, jsii.String("https://"+*host+"/oauth2/idpresponse"))
	}
	l.UserPoolClient = cognitouserpoolclient.NewCognitoUserPoolClient(scope, jsii.String("user-pool-client"), &cognitouserpoolclient.CognitoUserPoolClientConfig{
		Name:       jsii.String(name + "-load-balancer"),
		UserPoolId: poolID,
		// The load balancer is a confidential client of the code flow
		// (ELB guide, "Prepare to use Amazon Cognito").
		GenerateSecret:                  jsii.Bool(true),
		AllowedOauthFlowsUserPoolClient: jsii.Bool(true),
		AllowedOauthFlows:               jsii.Strings("code"),
		AllowedOauthScopes:              jsii.Strings("openid", "email"),
		SupportedIdentityProviders:      jsii.Strings("COGNITO"),
		CallbackUrls:                    &callbacks,
		PreventUserExistenceErrors:      jsii.String("ENABLED"),
		ExplicitAuthFlows:               jsii.Strings("ALLOW_REFRESH_TOKEN_AUTH"),
	})
	return &ssoAuth{cognito: &lblistenerrule.LbListenerRuleActionAuthenticateCognito{
		UserPoolArn:              poolArn,
		UserPoolClientId:         l.UserPoolClient.Id(),
		UserPoolDomain:           jsii.String(c.DomainPrefix),
		Scope:                    jsii.String("openid email"),
		SessionTimeout:           timeout,
		OnUnauthenticatedRequest: jsii.String("authenticate"),
	}}
}

// ruleActions forward to targetGroupArn, after the sign-in with SSO.
func (l *HTTPSLoadBalancer) ruleActions(targetGroupArn *string) *[]*lblistenerrule.LbListenerRuleAction {
	a := l.auth
	if a == nil {
		return &[]*lblistenerrule.LbListenerRuleAction{{Type: jsii.String("forward"), TargetGroupArn: targetGroupArn}}
	}
	first := &lblistenerrule.LbListenerRuleAction{Order: jsii.Number(1), Type: jsii.String("authenticate-oidc"), AuthenticateOidc: a.oidc}
	if a.cognito != nil {
		first = &lblistenerrule.LbListenerRuleAction{Order: jsii.Number(1), Type: jsii.String("authenticate-cognito"), AuthenticateCognito: a.cognito}
	}
	return &[]*lblistenerrule.LbListenerRuleAction{first, {Order: jsii.Number(2), Type: jsii.String("forward"), TargetGroupArn: targetGroupArn}}
}

// listenerActions are ruleActions as the listener's default actions.
func (l *HTTPSLoadBalancer) listenerActions(targetGroupArn *string) *[]*lblistener.LbListenerDefaultAction {
	a := l.auth
	if a == nil {
		return &[]*lblistener.LbListenerDefaultAction{{Type: jsii.String("forward"), TargetGroupArn: targetGroupArn}}
	}
	first := &lblistener.LbListenerDefaultAction{Order: jsii.Number(1)}
	if c := a.cognito; c != nil {
		first.Type = jsii.String("authenticate-cognito")
		first.AuthenticateCognito = &lblistener.LbListenerDefaultActionAuthenticateCognito{
			UserPoolArn: c.UserPoolArn, UserPoolClientId: c.UserPoolClientId, UserPoolDomain: c.UserPoolDomain,
			Scope: c.Scope, SessionTimeout: c.SessionTimeout, OnUnauthenticatedRequest: c.OnUnauthenticatedRequest,
		}
	} else {
		o := a.oidc
		first.Type = jsii.String("authenticate-oidc")
		first.AuthenticateOidc = &lblistener.LbListenerDefaultActionAuthenticateOidc{
			Issuer: o.Issuer, AuthorizationEndpoint: o.AuthorizationEndpoint, TokenEndpoint: o.TokenEndpoint, UserInfoEndpoint: o.UserInfoEndpoint,
			ClientId: o.ClientId, ClientSecret: o.ClientSecret, Scope: o.Scope, SessionTimeout: o.SessionTimeout, OnUnauthenticatedRequest: o.OnUnauthenticatedRequest,
			SessionCookieName: o.SessionCookieName,
		}
	}
	return &[]*lblistener.LbListenerDefaultAction{first, {Order: jsii.Number(2), Type: jsii.String("forward"), TargetGroupArn: targetGroupArn}}
}
