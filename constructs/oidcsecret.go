package constructs

import (
	"encoding/json"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawssecretsmanagersecretversions"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// The OIDC client secret never passes through an attribute Terraform
// stores. AWS provider 5 (5.100 here) has authenticate_oidc.client_secret
// sensitive but not write-only on aws_lb_listener and aws_lb_listener_rule,
// and Terraform accepts ephemeral values only in write-only attributes,
// provider and provisioner blocks (Terraform docs, "Ephemeral block
// configuration reference", v1.11: "provisioner and connection blocks").
// So the listener and its rules are written with OIDCClientSecretPlaceholder
// (client_secret in ignore_changes), and a terraform_data per listener or
// rule sets the real secret with a local-exec provisioner: the AWS CLI's
// elbv2 modify-listener or modify-rule with the whole action list,
// ClientSecret from an ephemeral aws_secretsmanager_secret_version, given to
// the shell through the provisioner's environment only (never the command
// line) and UseExistingClientSecret false (ELB API reference,
// AuthenticateOidcActionConfig). The provider never reads the secret back
// (the ELB API does not return it, so the provider keeps its configured
// value: the placeholder), so plans stay clean.
//
// When the provider sends the actions again (any change to the listener's
// or rule's actions, or drift it corrects) it sends the placeholder; so each
// terraform_data is replaced, and its provisioner runs again, whenever its
// listener or rule has any planned change (replace_triggered_by), is
// replaced (a new ARN), its actions change, or the secret's versions change
// (a rotation in Secrets Manager). Destroy runs nothing (create-time
// provisioner). A failed provisioner fails the apply and taints the
// terraform_data, so the next apply runs it again.

// OIDCClientSecretPlaceholder is the client_secret Terraform writes on the
// listener and its rules with sso=oidc: a constant, not the secret, which
// the provisioner replaces at apply (in the ELB API only).
const OIDCClientSecretPlaceholder = "placeholder-not-the-client-secret-set-at-apply"

// setOIDCSecretScript is the local-exec command (a POSIX shell script). It
// interpolates nothing from Terraform ($${ is Terraform's escape for the
// shell's ${): every value comes from the environment. The secret is
// JSON-escaped by sed from stdin and written with the rest of the CLI's
// input to a file in a private temporary folder (umask 077), removed when
// the script ends, so it is in no process's arguments. (Not stdin: AWS CLI
// v1 reads a --cli-input-json file:// twice, and a pipe is empty the second
// time.) The CLI's answer is discarded (moto's quotes the input), and its
// error is shown only if it does not contain the secret (v1 quotes
// invalid input JSON).
const setOIDCSecretScript = `set -eu
# prometheus-aws, sso=oidc: sets the OIDC client secret (from $SECRET_ARN) on $TARGET
# through the ELB API; docs/operations.md, Single sign-on.
fail() { echo "prometheus-aws: could not set the OIDC client secret from $SECRET_ARN on $TARGET: $*" >&2; exit 1; }
command -v aws >/dev/null 2>&1 || fail "the AWS CLI (aws) is not on PATH: with sso=oidc, terraform apply needs it"
case "$CLIENT_SECRET" in
'') fail "the secret's value is empty" ;;
*[[:cntrl:]]*) fail "the secret's value holds a control character (a newline?): store the client secret alone" ;;
esac
umask 077
dir=$(mktemp -d) || fail "mktemp -d failed"
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
esc=$(printf '%s' "$CLIENT_SECRET" | sed 's/[\\"]/\\&/g')
printf '%s%s%s' "$${INPUT%%"$PLACEHOLDER"*}" "$esc" "$${INPUT#*"$PLACEHOLDER"}" >"$dir/input.json"
if ! out=$(aws elbv2 "$OPERATION" --region "$REGION" --cli-input-json "file://$dir/input.json" 2>&1 >/dev/null); then
  case "$out" in *"$CLIENT_SECRET"* | *"$esc"*) out="(the AWS CLI's message is withheld: it quotes the secret)" ;; esac
  fail "aws elbv2 $OPERATION: $out"
fi
`

// oidcSecret reads the client secret ephemerally (never in a plan or the
// state) for the terraform_data resources that set it.
type oidcSecret struct {
	arn string
	// value is the ephemeral secret_string, as a Terraform expression.
	value string
	// versions is the secret's version ids, sorted (an expression).
	versions string
	env      map[string]string
}

// newOIDCSecret declares the ephemeral read of o.ClientSecretArn (named
// after the data source of its versions, unique in the stack).
func newOIDCSecret(scope constructs.Construct, o *OIDCSSO, versions dataawssecretsmanagersecretversions.DataAwsSecretsmanagerSecretVersions) *oidcSecret {
	id := *versions.FriendlyUniqueId()
	// cdktf 0.20 predates ephemeral resources (Terraform 1.10): an override.
	cdktf.TerraformStack_Of(scope).AddOverride(jsii.String("ephemeral.aws_secretsmanager_secret_version."+id), map[string]any{
		"secret_id": o.ClientSecretArn,
	})
	return &oidcSecret{
		arn:      o.ClientSecretArn,
		value:    "${ephemeral.aws_secretsmanager_secret_version." + id + ".secret_string}",
		versions: "${sort(data.aws_secretsmanager_secret_versions." + id + ".versions[*].version_id)}",
		env:      o.CLIEnvironment,
	}
}

// set creates the terraform_data (id) that sets the secret on target (the
// listener or a rule), whose actions attribute (default_action or action)
// then ignores its client_secret. input is the CLI's input for operation
// (modify-listener or modify-rule), with OIDCClientSecretPlaceholder where
// the secret goes.
func (s *oidcSecret) set(scope constructs.Construct, id string, target cdktf.TerraformResource, actions, operation string, input map[string]any) cdktf.TerraformResource {
	target.AddOverride(jsii.String("lifecycle.ignore_changes"), []string{actions + "[0].authenticate_oidc[0].client_secret"})
	raw, err := json.Marshal(input)
	if err != nil {
		panic(err)
	}
	arn := target.GetStringAttribute(jsii.String("arn"))
	env := map[string]*string{}
	for k, v := range s.env {
		env[k] = jsii.String(v)
	}
	for k, v := range map[string]*string{
		"CLIENT_SECRET": jsii.String(s.value),
		"SECRET_ARN":    jsii.String(s.arn),
		"INPUT":         jsii.String(string(raw)),
		"PLACEHOLDER":   jsii.String(OIDCClientSecretPlaceholder),
		"OPERATION":     jsii.String(operation),
		// The listener's own region, which is the provider's.
		"REGION": cdktf.Token_AsString(cdktf.Fn_Element(cdktf.Fn_Split(jsii.String(":"), arn), jsii.Number(3)), nil),
		"TARGET": arn,
	} {
		env[k] = v
	}
	d := cdktf.NewTerraformResource(scope, jsii.String(id), &cdktf.TerraformResourceConfig{
		TerraformResourceType: jsii.String("terraform_data"),
		Provisioners: &[]interface{}{&cdktf.LocalExecProvisioner{
			Type:        jsii.String("local-exec"),
			Command:     jsii.String(setOIDCSecretScript),
			Interpreter: jsii.Strings("/bin/sh", "-c"),
			Environment: &env,
		}},
	})
	// A bare reference: cdktf 0.20 writes ReplaceTriggeredBy as "${...}",
	// which Terraform refuses there ("Invalid expression").
	d.AddOverride(jsii.String("lifecycle.replace_triggered_by"), []string{*target.TerraformResourceType() + "." + *target.FriendlyUniqueId()})
	d.AddOverride(jsii.String("triggers_replace"), map[string]any{"input": string(raw), "secret_versions": s.versions})
	return d
}

// cliActions are the actions (authenticate-oidc, then forward to
// targetGroupArn) as the ELB API takes them, the client secret being
// OIDCClientSecretPlaceholder: what ruleActions and listenerActions write.
func (l *HTTPSLoadBalancer) cliActions(targetGroupArn *string) []any {
	o := l.auth.oidc
	return []any{
		map[string]any{"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": map[string]any{
			"Issuer": *o.Issuer, "AuthorizationEndpoint": *o.AuthorizationEndpoint, "TokenEndpoint": *o.TokenEndpoint,
			"UserInfoEndpoint": *o.UserInfoEndpoint, "ClientId": *o.ClientId, "ClientSecret": OIDCClientSecretPlaceholder,
			"Scope": *o.Scope, "SessionTimeout": *o.SessionTimeout, "OnUnauthenticatedRequest": *o.OnUnauthenticatedRequest,
			"SessionCookieName": *o.SessionCookieName, "UseExistingClientSecret": false,
		}},
		map[string]any{"Type": "forward", "Order": 2, "TargetGroupArn": *targetGroupArn},
	}
}
