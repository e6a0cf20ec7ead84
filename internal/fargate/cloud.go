package fargate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Credentials are a role's temporary credentials, as the container
// credentials endpoint serves them.
type Credentials struct {
	RoleArn         string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      time.Time
}

// cloud is what the runner asks of AWS (here: the emulator), in the role
// ECS itself would use: the execution role for secrets, the task role for
// the containers.
type cloud struct {
	// base is an SDK configuration for the emulator (static test keys).
	base func(ctx context.Context, region string) (aws.Config, error)
}

// assumeRole gets temporary credentials for roleArn from STS, as ECS does
// for the execution role and the task role.
func (c cloud) assumeRole(ctx context.Context, region, roleArn, session string) (Credentials, error) {
	cfg, err := c.base(ctx, region)
	if err != nil {
		return Credentials{}, err
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String(session)})
	if err != nil {
		return Credentials{}, fmt.Errorf("assume role %s: %w", roleArn, err)
	}
	cr := out.Credentials
	return Credentials{RoleArn: roleArn, AccessKeyId: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretAccessKey),
		Token: aws.ToString(cr.SessionToken), Expiration: aws.ToTime(cr.Expiration)}, nil
}

// as is an SDK configuration signed with creds.
func (c cloud) as(ctx context.Context, region string, creds Credentials) (aws.Config, error) {
	cfg, err := c.base(ctx, region)
	if err != nil {
		return cfg, err
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyId, creds.SecretAccessKey, creds.Token)
	return cfg, nil
}

// secret resolves one container secret's valueFrom the way the ECS agent
// does: an SSM parameter (ARN, or name in the task's region), or a Secrets
// Manager secret ARN with an optional :json-key:version-stage:version-id
// suffix. Errors read like the ones ECS stops a task with.
func (c cloud) secret(ctx context.Context, region string, creds Credentials, valueFrom string) (string, error) {
	fail := func(service, format string, args ...any) error {
		return fmt.Errorf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from %s: %s", service, fmt.Sprintf(format, args...))
	}
	arnRegion := region
	if strings.HasPrefix(valueFrom, "arn:") {
		if parts := strings.SplitN(valueFrom, ":", 6); len(parts) == 6 {
			arnRegion = parts[3]
		}
	}
	cfg, err := c.as(ctx, arnRegion, creds)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(valueFrom, "arn:") && strings.Contains(valueFrom, ":secretsmanager:") {
		// arn:aws:secretsmanager:region:account:secret:name-abcdef[:key[:stage[:id]]]
		parts := strings.Split(valueFrom, ":")
		if len(parts) < 7 {
			return "", fail("asm", "invalid secret ARN %s", valueFrom)
		}
		id := strings.Join(parts[:7], ":")
		var key, stage, version string
		if len(parts) > 7 {
			key = parts[7]
		}
		if len(parts) > 8 {
			stage = parts[8]
		}
		if len(parts) > 9 {
			version = parts[9]
		}
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
		if stage != "" {
			in.VersionStage = aws.String(stage)
		}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, in)
		if err != nil {
			return "", fail("asm", "service call has failed; %v", err)
		}
		value := aws.ToString(out.SecretString)
		if key == "" {
			return value, nil
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(value), &fields); err != nil {
			return "", fail("asm", "retrieved secret from Secrets Manager is not a JSON object, so it has no json key %s", key)
		}
		raw, ok := fields[key]
		if !ok {
			return "", fail("asm", "retrieved secret from Secrets Manager did not contain json key %s", key)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, nil
		}
		return string(raw), nil
	}
	name := valueFrom
	if strings.HasPrefix(valueFrom, "arn:") {
		_, after, ok := strings.Cut(valueFrom, ":parameter")
		if !ok {
			return "", fail("ssm", "invalid parameter ARN %s", valueFrom)
		}
		name = after
	}
	out, err := ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{name}, WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fail("ssm", "service call has failed; %v", err)
	}
	if len(out.Parameters) != 1 {
		return "", fail("ssm", "invalid parameters: %s", name)
	}
	return aws.ToString(out.Parameters[0].Value), nil
}

// accessPoint describes an EFS access point: the POSIX user every file
// operation runs as, and its root directory with what to create it with.
type accessPoint struct {
	ARN, FileSystemARN string
	Uid, Gid           int64
	SecondaryGids      []int64
	Path               string
	// Create is false when the access point has no creation info (a
	// missing root directory then fails the mount).
	Create             bool
	OwnerUid, OwnerGid int64
	Permissions        string
}

// accessPoint reads an access point as ECS itself does (its own service
// role, not the task's).
func (c cloud) accessPoint(ctx context.Context, region, id string) (accessPoint, error) {
	cfg, err := c.base(ctx, region)
	if err != nil {
		return accessPoint{}, err
	}
	out, err := efs.NewFromConfig(cfg).DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(id)})
	if err != nil || len(out.AccessPoints) != 1 {
		return accessPoint{}, fmt.Errorf("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: access point %s: %v", id, err)
	}
	ap := out.AccessPoints[0]
	a := accessPoint{Path: "/", ARN: aws.ToString(ap.AccessPointArn)}
	if fss, err := efs.NewFromConfig(cfg).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: ap.FileSystemId}); err == nil && len(fss.FileSystems) == 1 {
		a.FileSystemARN = aws.ToString(fss.FileSystems[0].FileSystemArn)
	}
	if u := ap.PosixUser; u != nil {
		a.Uid, a.Gid, a.SecondaryGids = aws.ToInt64(u.Uid), aws.ToInt64(u.Gid), u.SecondaryGids
	} else {
		a.Uid, a.Gid = -1, -1
	}
	if rd := ap.RootDirectory; rd != nil {
		if p := aws.ToString(rd.Path); p != "" {
			a.Path = p
		}
		if ci := rd.CreationInfo; ci != nil {
			a.Create, a.OwnerUid, a.OwnerGid, a.Permissions = true, aws.ToInt64(ci.OwnerUid), aws.ToInt64(ci.OwnerGid), aws.ToString(ci.Permissions)
		}
	}
	return a, nil
}

// roleAllows reports whether an inline policy of role allows action on
// resource: Allow statements with exact or "*" actions and resources, and
// StringEquals conditions compared with context (a key missing from
// context fails the statement). Enough for the few grants ECS checks on
// the task's behalf (EFS IAM authorization); not a policy engine.
func (c cloud) roleAllows(ctx context.Context, region, roleArn, action, resource string, context map[string]string) (bool, error) {
	cfg, err := c.base(ctx, region)
	if err != nil {
		return false, err
	}
	name := roleArn[strings.LastIndex(roleArn, "/")+1:]
	client := iam.NewFromConfig(cfg)
	names, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return false, err
	}
	for _, pn := range names.PolicyNames {
		pol, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return false, err
		}
		doc, err := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
		if err != nil {
			doc = aws.ToString(pol.PolicyDocument)
		}
		var p struct {
			Statement []struct {
				Effect    string
				Action    stringList
				Resource  stringList
				Condition map[string]map[string]stringList
			}
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return false, fmt.Errorf("policy %s of %s: %w", pn, name, err)
		}
	statements:
		for _, st := range p.Statement {
			if st.Effect != "Allow" || !matchAny(st.Action, action) || !matchAny(st.Resource, resource) {
				continue
			}
			for op, keys := range st.Condition {
				if op != "StringEquals" {
					continue statements
				}
				for k, want := range keys {
					if got, ok := context[k]; !ok || !matchAny(want, got) {
						continue statements
					}
				}
			}
			return true, nil
		}
	}
	return false, nil
}

// stringList is an IAM value that is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

func matchAny(patterns []string, v string) bool {
	for _, p := range patterns {
		if p == "*" || p == v {
			return true
		}
	}
	return false
}
