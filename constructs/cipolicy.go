package constructs

import "slices"

// What the CI deploy role may do: what deploying (and verifying) one
// environment's stack needs, as narrow as IAM allows without knowing
// resource IDs before they exist.
//
// Scoped by name: IAM (roles and instance profiles named <stack>-*, passed
// only to ECS tasks, EC2 and flow logs), SSM parameters (/<stack>/*),
// Secrets Manager (<stack>-*), SNS (<stack>-*), the state objects. Scoped by
// verb only: EC2/VPC, ECS, EFS, Logs, CloudWatch, EventBridge, Auto
// Scaling, load balancing, ACM, Route 53 records, AMP: their resources get
// IDs at creation, so a name condition cannot name them beforehand. No
// "service:*" anywhere (policy/no-wildcard-actions). The emulator evaluates
// no IAM policy: that this is enough on AWS is checked by the first real
// deploy, not by a test here (docs/DESIGN.md names the blind spot).

// stateAccess reads and writes an environment's state and its lock (the
// lock object of S3-native locking, or the DynamoDB item); write=false
// only takes the lock (a plan).
func stateAccess(p *CIRolesProps, env CIEnvironment, write bool) []Statement {
	bucket := "arn:aws:s3:::" + p.StateBucket
	objects := []string{bucket + "/" + env.StateKey + ".tflock"}
	actions := []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
	st := []Statement{
		{Sid: "StateList", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bucket}},
		{Sid: "StateRead", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{bucket + "/" + env.StateKey}},
		{Sid: "StateLock", Effect: "Allow", Action: actions, Resource: objects},
	}
	if write {
		st = append(st, Statement{Sid: "StateWrite", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{bucket + "/" + env.StateKey}})
	}
	if p.LockTable != "" {
		st = append(st, Statement{Sid: "StateLockTable", Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
			Resource: []string{"arn:aws:dynamodb:*:*:table/" + p.LockTable}})
	}
	return st
}

// deployPolicy is the deploy role's inline policy.
func deployPolicy(p *CIRolesProps, env CIEnvironment) *PolicyDocument {
	st := stateAccess(p, env, true)
	st = append(st, Statement{Sid: "Identity", Effect: "Allow", Action: []string{"sts:GetCallerIdentity"}, Resource: []string{"*"}})
	st = append(st, byVerb()...)
	st = append(st, byName(env.Stack)...)
	// The CI roles themselves stay out of reach (their path is outside
	// role/<stack>-* already; the Deny holds even if a stack were named so
	// that a pattern matched).
	st = append(st, Statement{Sid: "NotTheCIRoles", Effect: "Deny", Resource: []string{"arn:aws:iam::*:role" + CIRolePath + "*"},
		Action: verbs("iam", "UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
			"UpdateRole", "DeleteRole", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "TagRole", "UntagRole", "PassRole")})
	if p.KmsKeyArn != "" {
		st = append(st, Statement{Sid: "Key", Effect: "Allow", Resource: []string{p.KmsKeyArn},
			Action: verbs("kms", "DescribeKey", "CreateGrant")})
		// The key's material only through the services that encrypt the
		// stack's resources with it (policy rule kms-via-service): EBS
		// volumes (ec2), EFS, the secrets, the log groups, the topic, SSM.
		st = append(st, Statement{Sid: "KeyViaServices", Effect: "Allow", Resource: []string{p.KmsKeyArn},
			Action:    verbs("kms", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"),
			Condition: ViaServiceOfKey(p.KmsKeyArn, "ec2", "elasticfilesystem", "secretsmanager", "logs", "sns", "ssm")})
	}
	return Policy(st...)
}

// verbs prefixes actions with their service.
func verbs(service string, v ...string) []string {
	out := make([]string, len(v))
	for i, a := range v {
		out[i] = service + ":" + a
	}
	return out
}

// byVerb are the services whose resources get their IDs at creation.
func byVerb() []Statement {
	return []Statement{
		{Sid: "Network", Effect: "Allow", Resource: []string{"*"}, Action: verbs("ec2", "Describe*", "Get*", "Create*", "Delete*",
			"Modify*", "Authorize*", "Revoke*", "Associate*", "Disassociate*", "Attach*", "Detach*", "Allocate*", "Release*",
			"Replace*", "RunInstances", "TerminateInstances")},
		{Sid: "Service", Effect: "Allow", Resource: []string{"*"}, Action: slices.Concat(verbs("ecs", "Describe*", "List*", "CreateCluster",
			"DeleteCluster", "UpdateCluster", "UpdateClusterSettings", "PutClusterCapacityProviders", "CreateService", "UpdateService",
			"DeleteService", "RegisterTaskDefinition", "DeregisterTaskDefinition", "DeleteTaskDefinitions", "TagResource", "UntagResource"),
			verbs("elasticfilesystem", "Describe*", "List*", "CreateFileSystem", "DeleteFileSystem", "UpdateFileSystem",
				"CreateMountTarget", "DeleteMountTarget", "ModifyMountTargetSecurityGroups", "CreateAccessPoint", "DeleteAccessPoint",
				"PutFileSystemPolicy", "DeleteFileSystemPolicy", "PutBackupPolicy", "PutLifecycleConfiguration", "TagResource", "UntagResource"))},
		{Sid: "Observability", Effect: "Allow", Resource: []string{"*"}, Action: slices.Concat(
			verbs("logs", "Describe*", "List*", "CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy",
				"AssociateKmsKey", "DisassociateKmsKey", "TagResource", "UntagResource", "TagLogGroup", "UntagLogGroup"),
			verbs("cloudwatch", "DescribeAlarms", "PutMetricAlarm", "DeleteAlarms", "ListTagsForResource", "TagResource", "UntagResource"),
			verbs("events", "DescribeRule", "PutRule", "DeleteRule", "PutTargets", "RemoveTargets", "ListTargetsByRule",
				"ListTagsForResource", "TagResource", "UntagResource"),
			verbs("autoscaling", "Describe*", "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "DeleteAutoScalingGroup",
				"CreateOrUpdateTags", "DeleteTags", "SetInstanceProtection"),
			verbs("elasticloadbalancing", "Describe*", "Create*", "Delete*", "Modify*", "AddTags", "RemoveTags", "SetSecurityGroups",
				"SetSubnets", "RegisterTargets", "DeregisterTargets"),
			verbs("acm", "RequestCertificate", "DescribeCertificate", "DeleteCertificate", "ListCertificates", "ListTagsForCertificate",
				"AddTagsToCertificate", "RemoveTagsFromCertificate"),
			verbs("route53", "GetHostedZone", "ListHostedZones", "ListResourceRecordSets", "ChangeResourceRecordSets", "GetChange"),
			verbs("aps", "CreateWorkspace", "DeleteWorkspace", "DescribeWorkspace", "UpdateWorkspaceAlias", "ListWorkspaces",
				"CreateRuleGroupsNamespace", "PutRuleGroupsNamespace", "DeleteRuleGroupsNamespace", "DescribeRuleGroupsNamespace",
				"CreateAlertManagerDefinition", "PutAlertManagerDefinition", "DeleteAlertManagerDefinition",
				"DescribeAlertManagerDefinition", "DescribeLoggingConfiguration", "ListTagsForResource", "TagResource", "UntagResource"),
		)},
	}
}

// byName are the services whose resources the stack names with its
// prefix s (or the public AMI parameters, or make verify's queue).
func byName(s string) []Statement {
	return []Statement{
		{Sid: "Parameters", Effect: "Allow", Resource: []string{"arn:aws:ssm:*:*:parameter/" + s + "/*"}, Action: verbs("ssm",
			"PutParameter", "DeleteParameter", "DeleteParameters", "GetParameter", "GetParameters", "GetParameterHistory",
			"AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")},
		{Sid: "PublicParameters", Effect: "Allow", Resource: []string{"arn:aws:ssm:*::parameter/aws/service/*"}, Action: verbs("ssm", "GetParameter", "GetParameters")},
		{Sid: "DescribeParameters", Effect: "Allow", Resource: []string{"*"}, Action: []string{"ssm:DescribeParameters"}},
		// The basic auth password: generated by Secrets Manager (ephemeral, never in the state).
		{Sid: "RandomPassword", Effect: "Allow", Resource: []string{"*"}, Action: []string{"secretsmanager:GetRandomPassword"}},
		// ListSecretVersionIds: sso=oidc's rotation trigger, on a client
		// secret named <stack>-... (docs/operations.md, Single sign-on).
		{Sid: "Secrets", Effect: "Allow", Resource: []string{"arn:aws:secretsmanager:*:*:secret:" + s + "-*"}, Action: verbs("secretsmanager",
			"CreateSecret", "DeleteSecret", "DescribeSecret", "GetResourcePolicy", "PutSecretValue", "UpdateSecret", "GetSecretValue",
			"ListSecretVersionIds", "RestoreSecret", "TagResource", "UntagResource")},
		{Sid: "Topic", Effect: "Allow", Resource: []string{"arn:aws:sns:*:*:" + s + "-*"}, Action: verbs("sns",
			"CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "Subscribe", "Unsubscribe",
			"ListSubscriptionsByTopic", "ListTagsForResource", "TagResource", "UntagResource")},
		{Sid: "Subscriptions", Effect: "Allow", Resource: []string{"*"}, Action: verbs("sns", "GetSubscriptionAttributes", "SetSubscriptionAttributes", "Unsubscribe")},
		// make verify --alert-roundtrip's temporary queue.
		{Sid: "VerifyQueue", Effect: "Allow", Resource: []string{"arn:aws:sqs:*:*:prometheus-aws-verify-*"}, Action: verbs("sqs",
			"CreateQueue", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes", "GetQueueUrl", "ReceiveMessage")},
		{Sid: "Roles", Effect: "Allow", Resource: []string{"arn:aws:iam::*:role/" + s + "-*", "arn:aws:iam::*:instance-profile/" + s + "-*"},
			Action: verbs("iam", "CreateRole", "DeleteRole", "GetRole", "UpdateRole", "UpdateAssumeRolePolicy", "TagRole", "UntagRole",
				"PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies",
				"ListInstanceProfilesForRole", "CreateInstanceProfile", "DeleteInstanceProfile", "GetInstanceProfile",
				"AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile", "UntagInstanceProfile")},
		{Sid: "ManagedPolicies", Effect: "Allow", Resource: []string{"arn:aws:iam::*:role/" + s + "-*"}, Action: verbs("iam", "AttachRolePolicy", "DetachRolePolicy"),
			Condition: map[string]any{"ArnEquals": map[string]any{"iam:PolicyARN": []string{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}}}},
		{Sid: "PassRoles", Effect: "Allow", Resource: []string{"arn:aws:iam::*:role/" + s + "-*"}, Action: []string{"iam:PassRole"},
			Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": []string{"ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"}}}},
		{Sid: "ServiceLinkedRoles", Effect: "Allow", Resource: []string{"*"}, Action: []string{"iam:CreateServiceLinkedRole"},
			Condition: map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": []string{"ecs.amazonaws.com", "autoscaling.amazonaws.com",
				"elasticloadbalancing.amazonaws.com", "elasticfilesystem.amazonaws.com"}}}},
	}
}
