package constructs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecscluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecsservice"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecstaskdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsaccesspoint"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	cd "github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
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
	// NoPublicIp keeps the task off the internet: for private subnets,
	// whose route to the internet is a NAT gateway (and whose AWS APIs may
	// be VPC endpoints). Default: false (a public IP: public subnets, no
	// NAT).
	NoPublicIp bool
	// ConfigYAML is the prometheus.yml the task runs; its relative paths
	// resolve in taskcontract.RuntimeDir (rules: taskcontract.RuleFilesGlob).
	// It reaches the task through the config-sync sidecar, so a change
	// reloads in place. Required.
	ConfigYAML string
	// Image is the container image: the official image, or one built from
	// docker/ (the configuration is delivered either way). Default:
	// defaults.PrometheusImage (prom/prometheus, pinned).
	Image string
	// ConfigSyncImage runs the config-sync sidecar, which copies each new
	// version of the configuration's parameters into the task: an AWS CLI
	// v2 image (its aws command and a POSIX shell). Default:
	// defaults.ConfigSyncImage (the official AWS CLI v2 image, pinned).
	ConfigSyncImage string
	// ImageCache pulls the task's images that are among its Images through
	// ECR's pull-through cache (a VPC without internet then starts the
	// task from the ECR endpoints), and lets the execution role fill it.
	// Default: nil (images pulled from their registries).
	ImageCache *ImageCache
	// ConfigSyncEndpointURL is the SSM endpoint the sidecar calls: for an
	// emulator only (the local profile). Default: "" (the region's).
	ConfigSyncEndpointURL string
	// Port is Prometheus's web port. Default: 9090 (defaults.PrometheusPort).
	Port int
	// Cpu and Memory size the task (Fargate units / MiB). Default: 512 /
	// 1024 (defaults.TaskCpu, defaults.TaskMemory).
	Cpu    int
	Memory int
	// LogRetentionDays of the task log group. Default: 30
	// (defaults.LogRetentionDays).
	LogRetentionDays int
	// Retention is the TSDB retention flag value, e.g. "15d". Default:
	// "15d", or "1d" with Workspace, which keeps the history
	// (defaults.Retention, defaults.AMPRetention). None with Agent.
	Retention string
	// NoContainerInsights turns CloudWatch Container Insights off for the
	// cluster (it is billed as custom metrics); ServiceAlarms then needs
	// WithoutContainerInsights. Default: false (on).
	NoContainerInsights bool
	// Agent runs Prometheus in agent mode (taskcontract.FlagAgent): it
	// scrapes and remote-writes to Workspace, keeping only a WAL for that
	// (no TSDB, no rules, no alerts, no query API: the workspace's ruler
	// and Grafana's SigV4 data source take their place). Needs Workspace,
	// and a ConfigYAML, RulesYAML and alert delivery that agent mode
	// accepts: no rule_files, alerting or remote_read, no Alertmanager or
	// Alertmanagers. Default: false (a Prometheus server).
	Agent bool
	// DesiredCount is the number of tasks. More than one needs Workspace:
	// each task keeps its own TSDB and the workspace de-duplicates them
	// (EFS allows one writer). Default: 1.
	DesiredCount int
	// DiscoveryRegions are the regions the task role may call EC2 discovery
	// in (an aws:RequestedRegion condition), Region among them. Default:
	// Region alone.
	DiscoveryRegions []string
	// AdminCidrs may reach Port. Default: none (no ingress at all).
	AdminCidrs []string
	// BasicAuth puts basic auth on the UI and API, with a generated password
	// kept in Secrets Manager only. Default: nil (off).
	BasicAuth *BasicAuthProps
	// KmsKeyArn encrypts the log group and the basic auth secret with a
	// customer-managed key, and lets the execution role decrypt with it.
	// The key policy must admit CloudWatch Logs. Default: "" (AWS-managed
	// keys).
	KmsKeyArn string
	// RulesYAML is the alerting rules file. Each of its groups becomes a
	// parameter and a file of its own (RuleFiles; an SSM parameter holds
	// 8 KB), matched by the config's taskcontract.RuleFilesGlob, reloaded in
	// place like the config. Default: "" (no rules).
	RulesYAML string
	// EFS, when set, holds the TSDB: the data volume mounts its access point
	// (TLS in transit, IAM-authorized by the task role). Mutually exclusive
	// with Workspace. Default: nil (task storage, lost with the task).
	EFS *EFSStorage
	// Workspace, when set, receives every sample by remote write (SigV4,
	// task role allowed aps:RemoteWrite on it alone); the config's
	// taskcontract.WorkspaceIDPlaceholder becomes its id. Mutually exclusive
	// with EFS. Default: nil.
	Workspace *AMPWorkspace
	// LoadBalancer, when set, is the only way in: the task registers in its
	// target group and admits its security group alone. Mutually exclusive
	// with AdminCidrs (the ranges then belong on the load balancer).
	// Default: nil (no load balancer).
	LoadBalancer *HTTPSLoadBalancer
	// MachineSecurityGroupIds may reach the web ports of Prometheus and the
	// Alertmanager on the task directly, by security group reference (no
	// CIDR): scripts and tools that cannot sign in at the load balancer.
	// Default: none.
	MachineSecurityGroupIds []string
	// RemoteScrapePort, when set, lets the task connect out on this port to
	// any address: node_exporter on nodes outside the VPC (other regions),
	// whose own security groups decide who gets in. Default: 0 (the VPC's
	// nodes only, admitted by security group reference).
	RemoteScrapePort int
	// Alertmanagers receive the alerts; the task may connect out to each
	// one's port (its address alone if given as an IP; port 443 is open
	// anyway). Default: none.
	Alertmanagers []Endpoint
	// Alertmanager, when set, runs the bundled Alertmanager as the task's
	// second container (AlertmanagerProps); its state goes to an access
	// point of its own with EFS, to task storage otherwise. Only one task
	// may run it (DesiredCount 1: replicas would each notify). Default: nil.
	Alertmanager *AlertmanagerProps
	// ECSDiscovery, when set, lets Prometheus discover ECS tasks: the task
	// role reads ECS (ECSDiscoveryActions, in DiscoveryRegions, limited to
	// ClusterArns when given) and the task may connect out to ScrapePorts
	// within ScrapeCidr. Default: nil (nodes only).
	ECSDiscovery *ECSDiscoveryProps
	// Grafana, when set, runs Grafana OSS as a container of the task
	// (GrafanaProps): its data source (this Prometheus, or the workspace
	// through SigV4) and dashboards provisioned and kept current by
	// config-sync, reached like Prometheus under /grafana. Default: nil.
	Grafana *GrafanaProps
}

// PrometheusFargateService runs Prometheus on ECS Fargate. With one task,
// the deployment settings (0% minimum healthy, 100% maximum) stop the old
// task before the new one starts, so two tasks never write one TSDB.
type PrometheusFargateService struct {
	constructs.Construct
	Cluster       ecscluster.EcsCluster
	LogGroup      cloudwatchloggroup.CloudwatchLogGroup
	ExecutionRole iamrole.IamRole
	TaskRole      iamrole.IamRole
	Config        ssmparameter.SsmParameter
	// RuleParameters hold the rule groups, one each (RulesYAML).
	RuleParameters []ssmparameter.SsmParameter
	TaskDefinition ecstaskdefinition.EcsTaskDefinition
	Service        ecsservice.EcsService
	SecurityGroup  securitygroup.SecurityGroup
	// BasicAuthSecret holds username, password and web config; nil without
	// basic auth.
	BasicAuthSecret secretsmanagersecret.SecretsmanagerSecret
	// AlertmanagerConfig holds alertmanager.yml and AlertmanagerAccessPoint
	// its state's folder on EFS; nil without Alertmanager (the access point
	// also without EFS).
	AlertmanagerConfig      ssmparameter.SsmParameter
	AlertmanagerAccessPoint efsaccesspoint.EfsAccessPoint
	// AlertmanagerRoute serves the Alertmanager under
	// taskcontract.AlertmanagerRoutePrefix on the load balancer; nil
	// without both.
	AlertmanagerRoute *PathRoute
	// GrafanaAdminSecret holds Grafana's generated admin password (key
	// password) and GrafanaRoute serves it under /grafana on the load
	// balancer; nil without Grafana (the route also without a load
	// balancer).
	GrafanaAdminSecret secretsmanagersecret.SecretsmanagerSecret
	GrafanaRoute       *PathRoute
	// Egress are the outbound rules beyond HTTPS: to remote nodes and to
	// Alertmanagers (RemoteScrapePort, Alertmanagers). Empty by default.
	Egress []vpcsecuritygroupegressrule.VpcSecurityGroupEgressRule
	// TaskRolePolicy and ExecutionRolePolicy are the documents attached, for
	// tests and reviewers.
	TaskRolePolicy      *PolicyDocument
	ExecutionRolePolicy *PolicyDocument

	props   PrometheusFargateServiceProps
	auth    *basicAuth
	rules   []syncedFile
	grafana []syncedFile
	account dataawscalleridentity.DataAwsCallerIdentity
}

// NewPrometheusFargateService creates the service's network access, its
// cluster and logs, the configuration parameter, both roles, the task
// definition and the service.
func NewPrometheusFargateService(scope constructs.Construct, id string, props *PrometheusFargateServiceProps) *PrometheusFargateService {
	p := *props
	checkPrometheusProps(id, &p)
	scope = constructs.NewConstruct(scope, jsii.String(id))
	s := &PrometheusFargateService{Construct: scope, props: p}

	s.networkAccess(scope)
	s.Cluster = ecscluster.NewEcsCluster(scope, jsii.String("cluster"), &ecscluster.EcsClusterConfig{
		Name: jsii.String(p.Name),
		Setting: &[]*ecscluster.EcsClusterSetting{{
			Name: jsii.String("containerInsights"), Value: jsii.String(map[bool]string{false: "enabled", true: "disabled"}[p.NoContainerInsights]),
		}},
		Tags: nameTag(p.Name),
	})
	s.LogGroup = cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String("logs"), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            jsii.String("/ecs/" + p.Name + "/prometheus"),
		RetentionInDays: jsii.Number(p.LogRetentionDays),
		KmsKeyId:        optional(p.KmsKeyArn),
		Tags:            nameTag(p.Name + "-prometheus-logs"),
	})
	s.Config = newConfigParameter(scope, id, &p, s.accountID(scope, configValue(p)))
	s.rules = newRuleParameters(scope, id, &p)
	for _, r := range s.rules {
		s.RuleParameters = append(s.RuleParameters, r.Parameter)
	}
	if p.Alertmanager != nil {
		s.AlertmanagerConfig = newAlertmanagerConfigParameter(scope, id, p.Name, p.Alertmanager)
	}
	if p.BasicAuth != nil {
		ba := *p.BasicAuth
		ba.KmsKeyArn = orDefault(ba.KmsKeyArn, p.KmsKeyArn)
		s.auth = newBasicAuth(scope, p.Name, &ba)
		s.BasicAuthSecret = s.auth.Secret
	}
	if g := p.Grafana; g != nil {
		s.grafana = s.grafanaFiles(scope, id)
		s.GrafanaAdminSecret, _ = generatedSecret(scope, "grafana-admin", p.Name+"-grafana-admin", "grafana_password_"+p.Name,
			"Grafana admin password (key password)", p.KmsKeyArn, g.PasswordVersion,
			func(pw string) string {
				return fmt.Sprintf("${jsonencode({%q = %s})}", taskcontract.SecretPasswordKey, pw)
			})
	}
	s.checkSyncedFiles(id)
	s.executionRole(scope)
	dataVolume, dependsOn := s.taskRole(scope)
	s.TaskDefinition = s.taskDefinition(scope, dataVolume)
	s.Service = s.service(scope, dependsOn)
	return s
}

// checkAgentProps refuses what agent mode cannot run: Prometheus refuses
// rule_files, alerting and remote_read in the configuration ("field ... is
// not allowed in agent mode") and every TSDB flag, and an agent's only
// output is remote write.
func checkAgentProps(id string, p *PrometheusFargateServiceProps) {
	var wrong []string
	if p.Workspace == nil {
		wrong = append(wrong, "no Workspace to remote-write to")
	}
	if p.Retention != "" {
		wrong = append(wrong, "Retention "+p.Retention+" (no TSDB: the workspace keeps the samples, AMPWorkspaceProps.RetentionDays)")
	}
	if p.RulesYAML != "" || p.Alertmanager != nil || len(p.Alertmanagers) > 0 {
		wrong = append(wrong, "rules or Alertmanagers (no rules are evaluated: give them to the workspace, AMPWorkspace.AddAlerting)")
	}
	for _, key := range []string{"rule_files", "alerting", "remote_read"} {
		if regexp.MustCompile(`(?m)^` + key + `:`).MatchString(p.ConfigYAML) {
			wrong = append(wrong, "ConfigYAML has "+key)
		}
	}
	if len(wrong) > 0 {
		panic(fmt.Sprintf("PrometheusFargateService %s: Agent (agent mode) cannot run with %s", id, strings.Join(wrong, "; ")))
	}
}

// checkPrometheusProps refuses props a program got wrong: required values
// unset, or two ways of doing one thing.
func checkPrometheusProps(id string, p *PrometheusFargateServiceProps) {
	requireProps("PrometheusFargateService", id,
		need("Name", p.Name == ""), need("Region", p.Region == ""), need("VpcId", p.VpcId == nil),
		need("SubnetIds", p.SubnetIds == nil), need("ConfigYAML", p.ConfigYAML == ""))
	p.Image = orDefault(p.Image, defaults.PrometheusImage)
	p.ConfigSyncImage = orDefault(p.ConfigSyncImage, defaults.ConfigSyncImage)
	p.Port = intOr(p.Port, defaults.PrometheusPort)
	p.Cpu = intOr(p.Cpu, defaults.TaskCpu)
	p.Memory = intOr(p.Memory, defaults.TaskMemory)
	p.LogRetentionDays = intOr(p.LogRetentionDays, defaults.LogRetentionDays)
	if p.Agent {
		checkAgentProps(id, p)
	} else if p.Retention == "" {
		p.Retention = defaults.Retention
		if p.Workspace != nil {
			p.Retention = defaults.AMPRetention
		}
	}
	p.DesiredCount = intOr(p.DesiredCount, defaults.DesiredCount)
	if len(p.DiscoveryRegions) == 0 {
		p.DiscoveryRegions = []string{p.Region}
	}
	checkECSDiscovery(id, p.ECSDiscovery)
	if p.EFS != nil && p.Workspace != nil {
		panic(fmt.Sprintf("PrometheusFargateService %s: EFS and Workspace are mutually exclusive storage modes; pick one", id))
	}
	if p.LoadBalancer != nil && len(p.AdminCidrs) > 0 {
		panic(fmt.Sprintf("PrometheusFargateService %s: LoadBalancer and AdminCidrs are mutually exclusive; give the admin ranges to the load balancer", id))
	}
	if p.Grafana != nil {
		g := *p.Grafana // as the Alertmanager's below
		ports := []int{p.Port}
		if p.Alertmanager != nil {
			ports = append(ports, intOr(p.Alertmanager.Port, defaults.AlertmanagerPort))
		}
		checkGrafanaProps(id, &g, ports...)
		p.Grafana = &g
	}
	if p.Alertmanager != nil {
		a := *p.Alertmanager // defaults go on a copy, never the caller's props
		checkAlertmanagerProps(id, &a)
		p.Alertmanager = &a
		if p.DesiredCount > 1 {
			panic(fmt.Sprintf("PrometheusFargateService %s: an Alertmanager in each of %d tasks would send every alert %d times; use one task, or an AMP workspace's alert manager", id, p.DesiredCount, p.DesiredCount))
		}
		if p.Alertmanager.Port == p.Port {
			panic(fmt.Sprintf("PrometheusFargateService %s: Alertmanager.Port %d is Prometheus's port too", id, p.Port))
		}
	}
	if c := p.ImageCache; c != nil {
		for _, image := range []*string{&p.Image, &p.ConfigSyncImage, alertmanagerImage(p), grafanaImage(p)} {
			if image != nil && c.Has(*image) {
				*image = c.Image(*image)
			}
		}
	}
}

// alertmanagerImage and grafanaImage point at the optional containers'
// images (on the props' own copies), nil without the container.
func alertmanagerImage(p *PrometheusFargateServiceProps) *string {
	if p.Alertmanager == nil {
		return nil
	}
	return &p.Alertmanager.Image
}

func grafanaImage(p *PrometheusFargateServiceProps) *string {
	if p.Grafana == nil {
		return nil
	}
	return &p.Grafana.Image
}

// networkAccess creates the task's security group: the web port for the
// admin ranges or the load balancer, HTTPS out, and the extra egress.
func (s *PrometheusFargateService) networkAccess(scope constructs.Construct) {
	p := &s.props
	s.SecurityGroup = newSecurityGroup(scope, p.Name+"-prometheus-sg", "Prometheus task: web port for admin ranges only", p.VpcId)
	cidrIngress(scope, "admin", s.SecurityGroup, p.AdminCidrs, p.Port, "Prometheus web/API from an admin range")
	if p.Alertmanager != nil {
		// The admin ranges, as for Prometheus, but never the whole
		// internet: allowWorldOpenAdmin opens Prometheus's port alone.
		cidrIngress(scope, "alertmanager-admin", s.SecurityGroup, withoutWorld(p.AdminCidrs), p.Alertmanager.Port, "Alertmanager web/API from an admin range")
	}
	if p.LoadBalancer != nil {
		p.LoadBalancer.admit(scope, s.SecurityGroup, p.Port)
		if a := p.Alertmanager; a != nil {
			// The same load balancer, TLS and admin ranges, under its path.
			allowTCP(scope, "alertmanager-from-load-balancer", "load-balancer-to-alertmanager", p.LoadBalancer.SecurityGroup.Id(), s.SecurityGroup.Id(), a.Port)
			s.AlertmanagerRoute = p.LoadBalancer.addPath(scope, "alertmanager", p.Name+"-alertmanager", taskcontract.AlertmanagerRoutePrefix,
				taskcontract.AlertmanagerRoutePrefix+"/-/healthy", a.Port, p.LoadBalancer.healthCheckMatcher, p.VpcId, 100)
		}
		if g := p.Grafana; g != nil {
			allowTCP(scope, "grafana-from-load-balancer", "load-balancer-to-grafana", p.LoadBalancer.SecurityGroup.Id(), s.SecurityGroup.Id(), g.Port)
			s.GrafanaRoute = p.LoadBalancer.addPath(scope, "grafana", p.Name+"-grafana", grafanaPrefix, grafanaPrefix+"/api/health", g.Port, "200", p.VpcId, 110)
		}
	}
	for i, id := range p.MachineSecurityGroupIds {
		// Ingress only: the machines' groups are not ours to give egress.
		machineIngress(scope, fmt.Sprintf("machine-%d", i), s.SecurityGroup, id, p.Port)
		if a := p.Alertmanager; a != nil {
			machineIngress(scope, fmt.Sprintf("machine-alertmanager-%d", i), s.SecurityGroup, id, a.Port)
		}
	}
	if g := p.Grafana; g != nil {
		// Like the Alertmanager's: the admin ranges, never the internet.
		cidrIngress(scope, "grafana-admin", s.SecurityGroup, withoutWorld(p.AdminCidrs), g.Port, "Grafana from an admin range")
	}
	// HTTPS out: EC2 discovery API, CloudWatch Logs, SSM and the image pull.
	httpsEgress(scope, s.SecurityGroup, "HTTPS to AWS APIs and the image registry")
	var ecsPorts []int
	var ecsCidr string
	if e := p.ECSDiscovery; e != nil {
		ecsPorts, ecsCidr = e.ScrapePorts, e.ScrapeCidr
	}
	s.Egress = newEgressRules(scope, s.SecurityGroup, prometheusEgress(p.RemoteScrapePort, p.Alertmanagers, ecsPorts, ecsCidr))
}

// executionRole is what ECS starts the task with: write its logs, read
// the basic auth secret, pull a private ECR image. (The configuration is
// the config-sync sidecar's, read with the task role.)
func (s *PrometheusFargateService) executionRole(scope constructs.Construct) {
	p := &s.props
	s.ExecutionRole = newServiceRole(scope, "execution-role", p.Name+"-prometheus-exec", "ecs-tasks.amazonaws.com")
	s.ExecutionRolePolicy = Policy(
		// Streams are created per task under the log stream prefix.
		Statement{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{*s.LogGroup.Arn() + ":log-stream:" + taskcontract.LogStreamPrefix + "/*"}},
	)
	if s.auth != nil {
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, Statement{
			Sid: "BasicAuth", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{*s.auth.Secret.Arn()},
		})
	}
	if s.GrafanaAdminSecret != nil {
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, Statement{
			Sid: "GrafanaAdmin", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{*s.GrafanaAdminSecret.Arn()},
		})
	}
	images := []string{p.Image, p.ConfigSyncImage}
	if p.Alertmanager != nil {
		images = append(images, p.Alertmanager.Image)
	}
	if p.Grafana != nil {
		images = append(images, p.Grafana.Image)
	}
	if pull := ECRPullStatements(images...); pull != nil {
		// A private ECR image is pulled with the execution role.
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, pull...)
	}
	if p.ImageCache != nil {
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, p.ImageCache.PullStatements(images...)...)
	}
	if p.KmsKeyArn != "" && (s.auth != nil || s.GrafanaAdminSecret != nil) {
		// Reading a secret under a customer key needs Decrypt on that key.
		s.ExecutionRolePolicy.Statement = append(s.ExecutionRolePolicy.Statement, Statement{
			Sid: "DecryptSecret", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{p.KmsKeyArn},
			// Only through Secrets Manager, which decrypts the secrets for ECS.
			Condition: ViaService(p.Region, "secretsmanager"),
		})
	}
	newRolePolicy(scope, "execution-policy", s.ExecutionRole, "start-prometheus", s.ExecutionRolePolicy)
}

// taskRole is what Prometheus itself runs as: discovery, and the storage
// it writes (EFS mount or AMP remote write). It returns the TSDB volume
// and what the service must wait for.
func (s *PrometheusFargateService) taskRole(scope constructs.Construct) (*ecstaskdefinition.EcsTaskDefinitionVolume, []cdktf.ITerraformDependable) {
	p := &s.props
	s.TaskRole = newServiceRole(scope, "task-role", p.Name+"-prometheus-task", "ecs-tasks.amazonaws.com")
	// These two actions support no resource-level restriction, hence "*";
	// the region condition keeps them to the discovered regions.
	s.TaskRolePolicy = Policy(Statement{
		Sid: "EC2Discovery", Effect: "Allow",
		Action:    []string{"ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"},
		Resource:  []string{"*"},
		Condition: map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": p.DiscoveryRegions}},
	}, s.configSyncStatement())
	if e := p.ECSDiscovery; e != nil {
		var arns []string
		for _, arn := range e.ClusterArns {
			arns = append(arns, s.accountID(scope, arn))
		}
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, ecsDiscoveryStatements(p.DiscoveryRegions, arns)...)
	}
	dataVolume := &ecstaskdefinition.EcsTaskDefinitionVolume{Name: jsii.String(taskcontract.DataVolume)}
	var dependsOn []cdktf.ITerraformDependable
	if p.Alertmanager != nil {
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, p.Alertmanager.publishStatements()...)
	}
	if p.EFS != nil {
		if p.Alertmanager != nil {
			s.AlertmanagerAccessPoint = p.EFS.AddAccessPoint("alertmanager-access-point", taskcontract.AlertmanagerStoragePath)
		}
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, p.EFS.attach(scope, s.SecurityGroup))
		dataVolume = p.EFS.volume(taskcontract.DataVolume)
		// A task started before its subnet's mount target exists fails.
		for _, mt := range p.EFS.MountTargets {
			dependsOn = append(dependsOn, mt)
		}
	}
	if p.Workspace != nil {
		s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, p.Workspace.remoteWriteStatement())
		if p.Grafana != nil {
			s.TaskRolePolicy.Statement = append(s.TaskRolePolicy.Statement, s.grafanaQueryStatement())
		}
	}
	newRolePolicy(scope, "task-policy", s.TaskRole, "prometheus", s.TaskRolePolicy)
	return dataVolume, dependsOn
}

// taskDefinition is the Fargate task: one container (containerDefinitions)
// and the TSDB volume; the scratch folder is a tmpfs, so the root
// filesystem stays read-only.
func (s *PrometheusFargateService) taskDefinition(scope constructs.Construct, dataVolume *ecstaskdefinition.EcsTaskDefinitionVolume) ecstaskdefinition.EcsTaskDefinition {
	p := &s.props
	volumes := s.volumes(dataVolume)
	return ecstaskdefinition.NewEcsTaskDefinition(scope, jsii.String("task"), &ecstaskdefinition.EcsTaskDefinitionConfig{
		Family:                  jsii.String(p.Name + "-prometheus"),
		RequiresCompatibilities: jsii.Strings("FARGATE"),
		NetworkMode:             jsii.String("awsvpc"),
		Cpu:                     jsii.String(fmt.Sprint(p.Cpu)),
		Memory:                  jsii.String(fmt.Sprint(p.Memory)),
		ExecutionRoleArn:        s.ExecutionRole.Arn(),
		TaskRoleArn:             s.TaskRole.Arn(),
		RuntimePlatform: &ecstaskdefinition.EcsTaskDefinitionRuntimePlatform{
			OperatingSystemFamily: jsii.String("LINUX"),
			CpuArchitecture:       jsii.String("X86_64"),
		},
		Volume:               volumes,
		ContainerDefinitions: jsii.String(s.containerDefinitions(*volumes)),
		Tags:                 nameTag(p.Name + "-prometheus"),
	})
}

// volumes are the TSDB's, the synced configuration's and, with the bundled
// Alertmanager, its state's.
func (s *PrometheusFargateService) volumes(data *ecstaskdefinition.EcsTaskDefinitionVolume) *[]*ecstaskdefinition.EcsTaskDefinitionVolume {
	v := []*ecstaskdefinition.EcsTaskDefinitionVolume{data, {Name: jsii.String(taskcontract.ConfigVolume)}}
	if s.props.Alertmanager != nil {
		v = append(v, s.alertmanagerVolume())
	}
	return &v
}

// containerDefinitions are Prometheus, the config-sync sidecar and, when
// bundled, the Alertmanager. They name the configuration's parameters,
// never their values: a configuration change leaves them as they are.
// Each is checked against ECS's rules for Fargate (containerdef) before
// anything is synthesized.
func (s *PrometheusFargateService) containerDefinitions(volumes []*ecstaskdefinition.EcsTaskDefinitionVolume) string {
	task := cd.Task{ExecutionRole: true, Containers: []cd.Container{prometheusContainer(s.props, *s.LogGroup.Name(), s.auth), s.configSyncContainer()}}
	if s.props.Alertmanager != nil {
		task.Containers = append(task.Containers, alertmanagerContainer(s.props, *s.LogGroup.Name(), s.auth))
	}
	if s.props.Grafana != nil {
		task.Containers = append(task.Containers, s.grafanaContainer(s.GrafanaAdminSecret))
	}
	for _, v := range volumes {
		task.Volumes = append(task.Volumes, *v.Name)
	}
	if err := task.Check(); err != nil {
		panic(fmt.Sprintf("PrometheusFargateService %s: the task definition breaks ECS's rules for Fargate:\n%v", *s.Node().Id(), err))
	}
	return cd.Render(task.Containers)
}

// service keeps DesiredCount tasks running, behind the load balancer if
// there is one.
func (s *PrometheusFargateService) service(scope constructs.Construct, dependsOn []cdktf.ITerraformDependable) ecsservice.EcsService {
	p := &s.props
	var loadBalancers *[]*ecsservice.EcsServiceLoadBalancer
	var gracePeriod *float64
	if lb := p.LoadBalancer; lb != nil {
		loadBalancers = &[]*ecsservice.EcsServiceLoadBalancer{{
			TargetGroupArn: lb.TargetGroup.Arn(), ContainerName: jsii.String(taskcontract.ContainerName), ContainerPort: jsii.Number(p.Port),
		}}
		if r := s.AlertmanagerRoute; r != nil {
			*loadBalancers = append(*loadBalancers, &ecsservice.EcsServiceLoadBalancer{
				TargetGroupArn: r.TargetGroup.Arn(), ContainerName: jsii.String(taskcontract.AlertmanagerContainerName), ContainerPort: jsii.Number(p.Alertmanager.Port),
			})
			dependsOn = append(dependsOn, r.Rule)
		}
		if r := s.GrafanaRoute; r != nil {
			*loadBalancers = append(*loadBalancers, &ecsservice.EcsServiceLoadBalancer{
				TargetGroupArn: r.TargetGroup.Arn(), ContainerName: jsii.String(grafanaContainer), ContainerPort: jsii.Number(p.Grafana.Port),
			})
			dependsOn = append(dependsOn, r.Rule)
		}
		// Time for a restarted task to wait for the TSDB lock and replay
		// its write-ahead log before failed load balancer checks count
		// against it: the container health check's start period.
		gracePeriod = jsii.Number(prometheusStartPeriod)
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
	return ecsservice.NewEcsService(scope, jsii.String("service"), &ecsservice.EcsServiceConfig{
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
		// A revision whose tasks cannot start (a bad image tag, a
		// configuration the entrypoint refuses) rolls back to the last one
		// that ran, instead of ECS retrying it forever with no task up
		// (minimum healthy 0%). ECS developer guide, "How the Amazon ECS
		// deployment circuit breaker detects failures": a task that stops
		// before RUNNING, or fails its health checks, counts as a failure.
		DeploymentCircuitBreaker: &ecsservice.EcsServiceDeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		PropagateTags:            jsii.String("SERVICE"),
		NetworkConfiguration: &ecsservice.EcsServiceNetworkConfiguration{
			Subnets:        p.SubnetIds,
			SecurityGroups: &[]*string{s.SecurityGroup.Id()},
			// Public subnets have no NAT gateway: the task pulls its image
			// and calls AWS APIs over its own public IP; the security group
			// admits nobody. Private subnets go through NAT.
			AssignPublicIp: jsii.Bool(!p.NoPublicIp),
		},
		Tags: nameTag(p.Name + "-prometheus"),
	})
}
