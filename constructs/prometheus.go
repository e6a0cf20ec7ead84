package constructs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecscluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecsservice"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecstaskdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/docker"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// PrometheusFargateServiceProps configures PrometheusFargateService.
type PrometheusFargateServiceProps struct {
	// Name prefixes every resource name. Required.
	Name string
	// Region the task runs in, for its log configuration. Required.
	Region string
	// VpcId and SubnetIds place the task. Required.
	VpcId     *string
	SubnetIds *[]*string
	// ConfigYAML is the generated prometheus.yml. Required.
	ConfigYAML string
	// Image is the container image. Default: config.DefaultPrometheusImage
	// (the official image; the generated config is delivered at start, so no
	// custom image or Docker engine is needed to deploy).
	Image string
	// Port is Prometheus's web port. Default: 9090.
	Port int
	// Cpu and Memory size the task (Fargate units / MiB). Default: 512 / 1024.
	Cpu    int
	Memory int
	// LogRetentionDays of the task log group. Default: 30.
	LogRetentionDays int
	// AdminCidrs may reach Port. Default: none (no ingress at all).
	AdminCidrs []string
	// Retention is the TSDB retention flag value. Default: "15d".
	Retention string
	// BasicAuth puts basic auth on the UI and API, with a generated password
	// kept in Secrets Manager only. Default: nil (off; the app turns it on).
	BasicAuth *BasicAuthProps
	// KmsKeyArn encrypts the log group and the basic auth secret with a
	// customer-managed key, and lets the execution role decrypt with it.
	// The key policy must admit CloudWatch Logs. Default: "" (AWS-managed
	// keys).
	KmsKeyArn string
	// RulesYAML is the alerting rules file (rules.yml beside the config).
	// Default: "" (the entrypoint then loads an empty rule set).
	RulesYAML string
	// EFS, when set, holds the TSDB: the data volume mounts its access point
	// (TLS in transit, IAM-authorized by the task role). Mutually exclusive
	// with Workspace. Default: nil (task storage, lost with the task).
	EFS *EFSStorage
	// Workspace, when set, receives every sample by remote write (SigV4,
	// task role allowed aps:RemoteWrite on it alone); the config's
	// promconfig.WorkspaceIDPlaceholder becomes its id. Mutually exclusive
	// with EFS. Default: nil.
	Workspace *AMPWorkspace
	// DesiredCount is the number of tasks. More than one needs Workspace
	// (each task keeps its own TSDB; the workspace de-duplicates them).
	// Default: 1.
	DesiredCount int
	// LoadBalancer, when set, is the only way in: the task registers in its
	// target group and admits its security group alone. Mutually exclusive
	// with AdminCidrs (the ranges then belong on the load balancer).
	// Default: nil (no load balancer).
	LoadBalancer *HTTPSLoadBalancer
	// DiscoveryRegions are the regions the task role may call EC2 discovery
	// in (an aws:RequestedRegion condition). Default: Region only.
	DiscoveryRegions []string
	// RemoteScrapePort, when set, lets the task connect out on this port to
	// any address: node_exporter on nodes outside the VPC (other regions),
	// whose own security groups decide who gets in. Default: 0 (the VPC's
	// nodes only, admitted by security group reference).
	RemoteScrapePort int
	// Alertmanagers receive the alerts; the task may connect out to each
	// one's port (its address alone if given as an IP; port 443 is open
	// anyway). Default: none.
	Alertmanagers []config.Alertmanager
}

// PrometheusFargateService runs one Prometheus task on ECS Fargate. The
// deployment settings (0% minimum healthy, 100% maximum) stop the old task
// before the new one starts, so two tasks never write one TSDB.
type PrometheusFargateService struct {
	constructs.Construct
	Cluster        ecscluster.EcsCluster
	LogGroup       cloudwatchloggroup.CloudwatchLogGroup
	ExecutionRole  iamrole.IamRole
	TaskRole       iamrole.IamRole
	Config         ssmparameter.SsmParameter
	TaskDefinition ecstaskdefinition.EcsTaskDefinition
	Service        ecsservice.EcsService
	SecurityGroup  securitygroup.SecurityGroup
	// BasicAuthSecret holds username, password and web config; nil without
	// basic auth.
	BasicAuthSecret secretsmanagersecret.SecretsmanagerSecret
	// Egress are the outbound rules beyond HTTPS: to remote nodes and to
	// Alertmanagers (RemoteScrapePort, Alertmanagers). Empty by default.
	Egress []vpcsecuritygroupegressrule.VpcSecurityGroupEgressRule
	// TaskRolePolicy and ExecutionRolePolicy are the documents attached, for
	// tests and reviewers.
	TaskRolePolicy      *PolicyDocument
	ExecutionRolePolicy *PolicyDocument
}

// ContainerName is the name of the Prometheus container in the task.
const ContainerName = "prometheus"

// Paths the Prometheus container writes (docker/entrypoint.sh's defaults;
// docker's tests keep them equal): the folder the delivered files are
// written to, on the tmpfs at /tmp, and the TSDB, on the data volume.
const (
	RuntimeDir  = "/tmp/prometheus"
	StoragePath = "/prometheus"
)

// logStreamPrefix names the task's log streams (prefix/container/task-id).
const logStreamPrefix = "prometheus"

// NewPrometheusFargateService creates the cluster, roles, config, task and
// service.
func NewPrometheusFargateService(scope constructs.Construct, id string, props *PrometheusFargateServiceProps) *PrometheusFargateService {
	p := *props
	if p.Name == "" || p.Region == "" || p.VpcId == nil || p.SubnetIds == nil || p.ConfigYAML == "" {
		panic(fmt.Sprintf("PrometheusFargateService %s: Name, Region, VpcId, SubnetIds and ConfigYAML are required", id))
	}
	p.Image = orDefault(p.Image, config.DefaultPrometheusImage)
	p.Retention = orDefault(p.Retention, "15d")
	p.Port = intOr(p.Port, 9090)
	p.Cpu = intOr(p.Cpu, 512)
	p.Memory = intOr(p.Memory, 1024)
	p.LogRetentionDays = intOr(p.LogRetentionDays, 30)
	p.DesiredCount = intOr(p.DesiredCount, 1)
	if p.EFS != nil && p.Workspace != nil {
		panic(fmt.Sprintf("PrometheusFargateService %s: EFS and Workspace are mutually exclusive storage modes; pick one", id))
	}
	if p.DesiredCount > 1 && p.Workspace == nil {
		panic(fmt.Sprintf("PrometheusFargateService %s: DesiredCount %d needs Workspace (replicas de-duplicated by AMP); EFS allows one writer and task storage would diverge", id, p.DesiredCount))
	}
	if len(p.DiscoveryRegions) == 0 {
		p.DiscoveryRegions = []string{p.Region}
	}
	if p.LoadBalancer != nil && len(p.AdminCidrs) > 0 {
		panic(fmt.Sprintf("PrometheusFargateService %s: LoadBalancer and AdminCidrs are mutually exclusive; give the admin ranges to the load balancer", id))
	}

	scope = constructs.NewConstruct(scope, jsii.String(id))
	s := &PrometheusFargateService{Construct: scope}

	s.SecurityGroup = newSecurityGroup(scope, p.Name+"-prometheus-sg", "Prometheus task: web port for admin ranges only", p.VpcId)
	cidrIngress(scope, "admin", s.SecurityGroup, p.AdminCidrs, p.Port, "Prometheus web/API from an admin range")
	if p.LoadBalancer != nil {
		p.LoadBalancer.admit(scope, s.SecurityGroup, p.Port)
	}
	// HTTPS out: EC2 discovery API, CloudWatch Logs, SSM and the image pull.
	httpsEgress(scope, s.SecurityGroup, "HTTPS to AWS APIs and the image registry")
	s.Egress = newEgressRules(scope, s.SecurityGroup, prometheusEgress(p.RemoteScrapePort, p.Alertmanagers))

	s.Cluster = ecscluster.NewEcsCluster(scope, jsii.String("cluster"), &ecscluster.EcsClusterConfig{
		Name: jsii.String(p.Name),
		Setting: &[]*ecscluster.EcsClusterSetting{{
			Name: jsii.String("containerInsights"), Value: jsii.String("enabled"),
		}},
		Tags: nameTag(p.Name),
	})
	s.LogGroup = cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String("logs"), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            jsii.String("/ecs/" + p.Name + "/prometheus"),
		RetentionInDays: jsii.Number(p.LogRetentionDays),
		KmsKeyId:        optional(p.KmsKeyArn),
		Tags:            nameTag(p.Name + "-prometheus-logs"),
	})

	// The configuration travels as a plain SSM parameter so that a change
	// shows up in `terraform plan` as readable YAML lines, and reaches the
	// official image as an environment variable (ECS "secrets" from SSM).
	s.Config = ssmparameter.NewSsmParameter(scope, jsii.String("config"), &ssmparameter.SsmParameterConfig{
		Name:          jsii.String("/" + p.Name + "/prometheus/prometheus.yml"),
		Description:   jsii.String("Generated prometheus.yml (edit the settings, not this value)"),
		Type:          jsii.String("String"),
		Tier:          jsii.String(mustSSMTier(id, p)),
		InsecureValue: jsii.String(configValue(p)),
		Tags:          nameTag(p.Name + "-prometheus-config"),
	})

	var auth *basicAuth
	if p.BasicAuth != nil {
		ba := *p.BasicAuth
		ba.KmsKeyArn = orDefault(ba.KmsKeyArn, p.KmsKeyArn)
		auth = newBasicAuth(scope, p.Name, &ba)
		s.BasicAuthSecret = auth.Secret
	}

	s.ExecutionRole = newServiceRole(scope, "execution-role", p.Name+"-prometheus-exec", "ecs-tasks.amazonaws.com")
	s.ExecutionRolePolicy = Policy(
		// Streams are created per task under the "prometheus/" prefix.
		Statement{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{*s.LogGroup.Arn() + ":log-stream:" + logStreamPrefix + "/*"}},
		Statement{Sid: "Config", Effect: "Allow", Action: []string{"ssm:GetParameters"}, Resource: []string{*s.Config.Arn()}},
	)
	if auth != nil {
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, Statement{
			Sid: "BasicAuth", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{*auth.Secret.Arn()},
		})
	}
	if pull := ECRPullStatements(p.Image); pull != nil {
		// A private ECR image is pulled with the execution role.
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, pull...)
	}
	if p.KmsKeyArn != "" && auth != nil {
		// Reading a secret under a customer key needs Decrypt on that key.
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, Statement{
			Sid: "DecryptSecret", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{p.KmsKeyArn},
		})
	}
	newRolePolicy(scope, "execution-policy", s.ExecutionRole, "start-prometheus", s.ExecutionRolePolicy)

	// The task role is what Prometheus itself runs as: discovery only. These
	// two actions support no resource-level restriction, hence "*"; the
	// region condition keeps them to the discovered regions.
	s.TaskRole = newServiceRole(scope, "task-role", p.Name+"-prometheus-task", "ecs-tasks.amazonaws.com")
	s.TaskRolePolicy = Policy(Statement{
		Sid: "EC2Discovery", Effect: "Allow",
		Action:    []string{"ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"},
		Resource:  []string{"*"},
		Condition: map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": p.DiscoveryRegions}},
	})
	dataVolume := &ecstaskdefinition.EcsTaskDefinitionVolume{Name: jsii.String("data")}
	var dependsOn []cdktf.ITerraformDependable
	if p.EFS != nil {
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, p.EFS.attach(scope, s.SecurityGroup))
		dataVolume = p.EFS.volume("data")
		// A task started before its subnet's mount target exists fails.
		for _, mt := range p.EFS.MountTargets {
			dependsOn = append(dependsOn, mt)
		}
	}
	if p.Workspace != nil {
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, p.Workspace.remoteWriteStatement())
	}
	newRolePolicy(scope, "task-policy", s.TaskRole, "prometheus", s.TaskRolePolicy)

	s.TaskDefinition = ecstaskdefinition.NewEcsTaskDefinition(scope, jsii.String("task"), &ecstaskdefinition.EcsTaskDefinitionConfig{
		Family:                  jsii.String(p.Name + "-prometheus"),
		RequiresCompatibilities: jsii.Strings("FARGATE"),
		NetworkMode:             jsii.String("awsvpc"),
		Cpu:                     jsii.String(strconv.Itoa(p.Cpu)),
		Memory:                  jsii.String(strconv.Itoa(p.Memory)),
		ExecutionRoleArn:        s.ExecutionRole.Arn(),
		TaskRoleArn:             s.TaskRole.Arn(),
		RuntimePlatform: &ecstaskdefinition.EcsTaskDefinitionRuntimePlatform{
			OperatingSystemFamily: jsii.String("LINUX"),
			CpuArchitecture:       jsii.String("X86_64"),
		},
		// The TSDB volume (task-local or EFS); the scratch folder is a
		// tmpfs (containerDefinitions): the root filesystem stays read-only.
		Volume:               &[]*ecstaskdefinition.EcsTaskDefinitionVolume{dataVolume},
		ContainerDefinitions: jsii.String(containerDefinitions(p, *s.Config.Arn(), *s.LogGroup.Name(), auth)),
		Tags:                 nameTag(p.Name + "-prometheus"),
	})

	var loadBalancers *[]*ecsservice.EcsServiceLoadBalancer
	var gracePeriod *float64
	if lb := p.LoadBalancer; lb != nil {
		loadBalancers = &[]*ecsservice.EcsServiceLoadBalancer{{
			TargetGroupArn: lb.TargetGroup.Arn(), ContainerName: jsii.String(ContainerName), ContainerPort: jsii.Number(p.Port),
		}}
		// Time for a restarted task to replay its write-ahead log before
		// failed load balancer checks count against it.
		gracePeriod = jsii.Number(120)
		// ECS rejects a target group that no listener uses yet.
		dependsOn = append(dependsOn, lb.HTTPS)
	}
	// One task: stop the old before starting the new, so two never write
	// one TSDB (and a restart never costs an EFS lock fight). Replicas
	// (remote write only): replace them one at a time, half stay up.
	minHealthy := 0
	if p.DesiredCount > 1 {
		minHealthy = 50
	}
	s.Service = ecsservice.NewEcsService(scope, jsii.String("service"), &ecsservice.EcsServiceConfig{
		LoadBalancer:                    loadBalancers,
		HealthCheckGracePeriodSeconds:   gracePeriod,
		DependsOn:                       dependsOnOrNil(dependsOn),
		Name:                            jsii.String(p.Name + "-prometheus"),
		Cluster:                         s.Cluster.Id(),
		TaskDefinition:                  s.TaskDefinition.Arn(),
		LaunchType:                      jsii.String("FARGATE"),
		DesiredCount:                    jsii.Number(p.DesiredCount),
		DeploymentMinimumHealthyPercent: jsii.Number(minHealthy),
		DeploymentMaximumPercent:        jsii.Number(100),
		PropagateTags:                   jsii.String("SERVICE"),
		NetworkConfiguration: &ecsservice.EcsServiceNetworkConfiguration{
			Subnets:        p.SubnetIds,
			SecurityGroups: &[]*string{s.SecurityGroup.Id()},
			// No NAT gateway: the task pulls its image and calls AWS APIs
			// over its own public IP; the security group admits nobody.
			AssignPublicIp: jsii.Bool(true),
		},
		Tags: nameTag(p.Name + "-prometheus"),
	})
	return s
}

// containerDefinitions renders the one-container task as ECS JSON. The
// docker/entrypoint.sh script runs inline in the official image (sh -c), so
// the same script serves the custom image and the no-Docker deployment.
func containerDefinitions(p PrometheusFargateServiceProps, configArn, logGroup string, auth *basicAuth) string {
	sum := sha256.Sum256([]byte(p.ConfigYAML))
	env := []map[string]string{
		{"name": "PROMETHEUS_PORT", "value": strconv.Itoa(p.Port)},
		// A new hash means a new task definition revision, so a config
		// change rolls the task; the SSM value alone would not.
		{"name": "PROMETHEUS_CONFIG_SHA256", "value": hex.EncodeToString(sum[:])},
	}
	if p.Workspace != nil {
		// The hash covers the YAML before the id is filled in: a new
		// workspace must still roll the task.
		env = append(env, map[string]string{"name": "PROMETHEUS_AMP_WORKSPACE_ID", "value": *p.Workspace.Workspace.Id()})
	}
	if p.RulesYAML != "" {
		// Not secret, and too big for an SSM parameter (8 KB): a plain
		// variable, so a rules change is a new task definition revision.
		env = append(env, map[string]string{"name": "PROMETHEUS_RULES_YAML", "value": TerraformLiteral(p.RulesYAML)})
	}
	secrets := []map[string]string{{"name": "PROMETHEUS_CONFIG_YAML", "valueFrom": configArn}}
	health := fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d/-/healthy || exit 1", p.Port)
	if auth != nil {
		env = append(env, map[string]string{"name": "PROMETHEUS_BASIC_AUTH_USER", "value": auth.User})
		// JSON keys of the secret, resolved by ECS when the task starts.
		secrets = append(secrets,
			map[string]string{"name": "PROMETHEUS_WEB_CONFIG_YAML", "valueFrom": *auth.Secret.Arn() + ":web_config::"},
			map[string]string{"name": "PROMETHEUS_BASIC_AUTH_PASSWORD", "valueFrom": *auth.Secret.Arn() + ":password::"})
		health = fmt.Sprintf(`wget -q -O /dev/null "http://$PROMETHEUS_BASIC_AUTH_USER:$PROMETHEUS_BASIC_AUTH_PASSWORD@127.0.0.1:%d/-/healthy" || exit 1`, p.Port)
	}
	def := []map[string]any{{
		"name":       ContainerName,
		"image":      p.Image,
		"essential":  true,
		"user":       "65534:65534", // nobody, as in the official image
		"entryPoint": []string{"/bin/sh", "-c"},
		"command": []string{TerraformLiteral(docker.Entrypoint), "prometheus-entrypoint",
			"--storage.tsdb.retention.time=" + p.Retention},
		"readonlyRootFilesystem": true,
		"mountPoints": []map[string]any{
			{"sourceVolume": "data", "containerPath": StoragePath, "readOnly": false},
		},
		// The entrypoint writes the delivered files under /tmp. Fargate
		// creates a bind mount root-owned 0755 unless the image has a
		// VOLUME there (ECS developer guide, "Use bind mounts with Amazon
		// ECS"), and the official image declares only /prometheus, so the
		// task user (65534) could not write one; a tmpfs is writable by all
		// (mode 1777, as Docker's default) and lives in memory only, which
		// also keeps the delivered secrets off disk. Fargate mounts tmpfs
		// since 2026-01-06 (AWS what's new, "Amazon ECS supports tmpfs
		// mounts on AWS Fargate"); its size counts against task memory.
		"linuxParameters": map[string]any{
			"tmpfs": []map[string]any{{
				"containerPath": path.Dir(RuntimeDir), "size": RuntimeTmpfsMiB,
				"mountOptions": []string{"noexec", "nosuid", "nodev"},
			}},
		},
		"portMappings": []map[string]any{{"containerPort": p.Port, "hostPort": p.Port, "protocol": "tcp"}},
		"environment":  env,
		"secrets":      secrets,
		"healthCheck": map[string]any{
			"command":     []string{"CMD-SHELL", health},
			"interval":    30,
			"timeout":     5,
			"retries":     3,
			"startPeriod": 60,
		},
		"stopTimeout": 120, // time for the TSDB to close cleanly
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options": map[string]string{
				"awslogs-group":         logGroup,
				"awslogs-region":        p.Region,
				"awslogs-stream-prefix": logStreamPrefix,
			},
		},
	}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(def); err != nil {
		panic(err)
	}
	return string(bytes.TrimSpace(buf.Bytes()))
}

// configValue is the SSM parameter value: the generated YAML taken
// literally, except for the workspace id placeholder, which becomes the
// workspace's Terraform reference.
func configValue(p PrometheusFargateServiceProps) string {
	v := TerraformLiteral(p.ConfigYAML)
	if p.Workspace != nil {
		v = strings.ReplaceAll(v, promconfig.WorkspaceIDPlaceholder, *p.Workspace.Workspace.Id())
	}
	return v
}

func dependsOnOrNil(deps []cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable {
	if len(deps) == 0 {
		return nil
	}
	return &deps
}

// RuntimeTmpfsMiB sizes the task's /tmp (the delivered configuration,
// rules, web config and password: tens of KiB).
const RuntimeTmpfsMiB = 16

// SSM parameter value limits per tier (Systems Manager user guide,
// "Managing parameter tiers"): Standard 4 KB, Advanced 8 KB. SSM refuses a
// larger value at apply time; the emulator does not, so the stack refuses
// it at synth.
const (
	SSMStandardLimit = 4096
	SSMAdvancedLimit = 8192
)

// ampWorkspaceIDLength is the length of an AMP workspace id
// ("ws-" + a UUID), which replaces promconfig's placeholder at apply time.
const ampWorkspaceIDLength = 39

// ConfigParameterSize is the size the configuration parameter's value
// will have in SSM: the YAML, with the workspace id in place of its
// placeholder when remote writing to AMP.
func ConfigParameterSize(yaml string, amp bool) int {
	n := len(yaml)
	if amp {
		n += strings.Count(yaml, promconfig.WorkspaceIDPlaceholder) * (ampWorkspaceIDLength - len(promconfig.WorkspaceIDPlaceholder))
	}
	return n
}

// SSMTier is the cheapest tier that holds size bytes, or "" when none does.
func SSMTier(size int) string {
	switch {
	case size <= SSMStandardLimit:
		return "Standard"
	case size <= SSMAdvancedLimit:
		return "Advanced"
	}
	return ""
}

// mustSSMTier is the configuration parameter's tier; a value no tier holds
// is refused (the app checks the settings before; a library user gets this).
func mustSSMTier(id string, p PrometheusFargateServiceProps) string {
	size := ConfigParameterSize(p.ConfigYAML, p.Workspace != nil)
	tier := SSMTier(size)
	if tier == "" {
		panic(fmt.Sprintf("PrometheusFargateService %s: the configuration is %d bytes; an SSM parameter holds at most %d (Advanced tier)", id, size, SSMAdvancedLimit))
	}
	return tier
}

func intOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
