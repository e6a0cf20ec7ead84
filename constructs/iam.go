package constructs

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
)

// PolicyDocument is an IAM policy built in Go, so tests can read the
// statements back without a Terraform data source round trip.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement. Resource and Principal hold
// Terraform tokens where they reference resources of this stack.
type Statement struct {
	Sid       string            `json:"Sid,omitempty"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
	Condition map[string]any    `json:"Condition,omitempty"`
}

// Policy builds an Allow-only policy document from statements.
func Policy(statements ...Statement) *PolicyDocument {
	return &PolicyDocument{Version: "2012-10-17", Statement: statements}
}

// JSON renders the document; tokens inside survive as ${...} references.
func (d *PolicyDocument) JSON() *string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // only strings and maps: cannot fail
	}
	return jsii.String(string(b))
}

// newServiceRole creates a role that only the given AWS service principal
// (ec2.amazonaws.com, ecs-tasks.amazonaws.com, ...) can assume.
func newServiceRole(scope constructs.Construct, id, name, service string) iamrole.IamRole {
	return iamrole.NewIamRole(scope, jsii.String(id), &iamrole.IamRoleConfig{
		Name: jsii.String(name),
		AssumeRolePolicy: Policy(Statement{
			Effect:    "Allow",
			Principal: map[string]string{"Service": service},
			Action:    []string{"sts:AssumeRole"},
		}).JSON(),
		Tags: nameTag(name),
	})
}

// newRolePolicy attaches an inline policy to role.
func newRolePolicy(scope constructs.Construct, id string, role iamrole.IamRole, name string, doc *PolicyDocument) iamrolepolicy.IamRolePolicy {
	return iamrolepolicy.NewIamRolePolicy(scope, jsii.String(id), &iamrolepolicy.IamRolePolicyConfig{
		Name:   jsii.String(name),
		Role:   role.Id(),
		Policy: doc.JSON(),
	})
}

// ViaService is the condition that lets a KMS key grant (kms:Decrypt,
// kms:GenerateDataKey*, ...) hold only for requests the named services make
// on the principal's behalf (Secrets Manager decrypting a secret, SNS
// encrypting a message), never for a direct call with the role's
// credentials. AWS KMS developer guide, "AWS KMS condition keys",
// kms:ViaService
// (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service):
// the value is the service's endpoint, <service>.<region>.amazonaws.com.
// Policy rule kms-via-service.
func ViaService(region string, services ...string) map[string]any {
	var endpoints []string
	for _, s := range services {
		endpoints = append(endpoints, s+"."+region+".amazonaws.com")
	}
	return map[string]any{"StringEquals": map[string][]string{"kms:ViaService": endpoints}}
}

// ViaServiceOfKey is ViaService in the key's own region (a KMS key serves
// its region only), read from its ARN. keyArn must be a literal ARN.
func ViaServiceOfKey(keyArn string, services ...string) map[string]any {
	parts := strings.SplitN(keyArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[3] == "" {
		panic(fmt.Sprintf("ViaServiceOfKey: %q is not a KMS key ARN with a region; use ViaService with the region", keyArn))
	}
	return ViaService(parts[3], services...)
}
