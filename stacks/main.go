// Package stacks assembles the constructs into Terraform stacks: the main
// stack of one environment (network, Prometheus, nodes), wired from the one
// settings value.
package stacks

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// NewApp adds every stack the settings call for to app: the main stack and,
// when a state bucket is configured, the bootstrap stack that creates it.
// One process synthesizes them all (the provider load is paid once).
func NewApp(app cdktf.App, s *config.Settings) (*Main, *Bootstrap, error) {
	m, err := NewMain(app, s)
	if err != nil {
		return nil, nil, err
	}
	var b *Bootstrap
	if s.RemoteState() {
		b = NewBootstrap(app, s)
	}
	return m, b, nil
}

// Main is the deployment of one environment.
type Main struct {
	Stack      cdktf.TerraformStack
	Network    *pconstructs.Network
	Prometheus *pconstructs.PrometheusFargateService
	Nodes      *pconstructs.NodeExporterInstance
	// LoadBalancer is nil unless TLS is configured.
	LoadBalancer *pconstructs.HTTPSLoadBalancer
	// EFS is set with storageMode efs, Workspace with amp; both nil with
	// ephemeral.
	EFS       *pconstructs.EFSStorage
	Workspace *pconstructs.AMPWorkspace
	// Alarms watch the Prometheus service; nil with alarms=false.
	Alarms *pconstructs.ServiceAlarms
	// PrometheusYAML is the configuration the task receives
	// (PrometheusConfig).
	PrometheusYAML string
}

// PrometheusConfig is the prometheus.yml the task receives for s (the
// local profile's overlay included), refused with the settings that grow
// it when no SSM parameter could hold it. It needs no jsii: the app checks
// it with the settings, before anything is synthesized.
func PrometheusConfig(s *config.Settings) (string, error) {
	c, err := promconfig.ForTask(s)
	if err != nil {
		return "", err
	}
	yaml, err := c.YAML()
	if err != nil {
		return "", err
	}
	size := pconstructs.ConfigParameterSize(string(yaml), s.StorageMode == config.StorageAMP)
	if pconstructs.SSMTier(size) == "" {
		regions, _ := config.FieldByKey("discoveryRegions")
		ams, _ := config.FieldByKey("alertmanagerUrls")
		return "", fmt.Errorf("%s (%s) and %s (%s): the generated prometheus.yml would be %d bytes, over the %d an SSM parameter holds (Advanced tier); discover fewer regions or name fewer Alertmanagers",
			regions.Key, regions.Env(), ams.Key, ams.Env(), size, pconstructs.SSMAdvancedLimit)
	}
	return string(yaml), nil
}

// NewMain builds the main stack, named s.StackName(), from validated settings.
func NewMain(scope constructs.Construct, s *config.Settings) (*Main, error) {
	yaml, err := PrometheusConfig(s)
	if err != nil {
		return nil, err
	}
	stack := newStack(scope, s.StackName(), s, s.Region)
	newBackend(stack, s)

	m := &Main{Stack: stack, PrometheusYAML: yaml}
	m.Network = pconstructs.NewNetwork(stack, "network", &pconstructs.NetworkProps{
		Name:                 s.Name("net"),
		CidrBlock:            s.VpcCidr,
		AzCount:              s.AzCount,
		AvailabilityZones:    s.AvailabilityZones,
		SubnetCidrs:          s.SubnetCidrs,
		FlowLogs:             s.FlowLogs,
		FlowLogKmsKeyArn:     s.KmsKeyArn,
		FlowLogRetentionDays: s.LogRetentionDays,
	})
	adminCidrs := s.AdminCidrs
	if s.TLS() {
		// The admin ranges reach the load balancer; the task admits only it.
		adminCidrs = nil
		m.LoadBalancer = pconstructs.NewHTTPSLoadBalancer(stack, "load-balancer", &pconstructs.HTTPSLoadBalancerProps{
			Name:               s.StackName(),
			VpcId:              m.Network.Vpc.Id(),
			SubnetIds:          m.Network.SubnetIds(),
			AdminCidrs:         s.AdminCidrs,
			CertificateArn:     s.TLSCertificateArn,
			Domain:             domain(s),
			TargetPort:         s.PrometheusPort,
			HealthCheckMatcher: map[bool]string{true: "200,401", false: "200"}[s.BasicAuth],
		})
	}
	switch s.StorageMode {
	case config.StorageEFS:
		m.EFS = pconstructs.NewEFSStorage(stack, "storage", &pconstructs.EFSStorageProps{
			Name:      s.StackName(),
			VpcId:     m.Network.Vpc.Id(),
			SubnetIds: m.Network.SubnetIds(),
			KmsKeyArn: s.KmsKeyArn,
		})
	case config.StorageAMP:
		m.Workspace = pconstructs.NewAMPWorkspace(stack, "storage", &pconstructs.AMPWorkspaceProps{
			Name:      s.StackName(),
			Region:    s.Region,
			KmsKeyArn: s.KmsKeyArn,
		})
	}
	m.Prometheus = pconstructs.NewPrometheusFargateService(stack, "prometheus", &pconstructs.PrometheusFargateServiceProps{
		Name:             s.StackName(),
		Region:           s.Region,
		VpcId:            m.Network.Vpc.Id(),
		SubnetIds:        m.Network.SubnetIds(),
		ConfigYAML:       m.PrometheusYAML,
		Image:            s.PrometheusImage,
		Port:             s.PrometheusPort,
		Cpu:              s.TaskCPU,
		Memory:           s.TaskMemory,
		LogRetentionDays: s.LogRetentionDays,
		AdminCidrs:       adminCidrs,
		Retention:        s.TSDBRetention(),
		EFS:              m.EFS,
		Workspace:        m.Workspace,
		DesiredCount:     s.Replicas,
		BasicAuth:        basicAuthProps(s),
		KmsKeyArn:        s.KmsKeyArn,
		LoadBalancer:     m.LoadBalancer,
		RulesYAML:        string(alerting.Rules()),
		DiscoveryRegions: s.DiscoveredRegions(),
		RemoteScrapePort: remoteScrapePort(s),
		Alertmanagers:    alertmanagerEndpoints(s),
	})
	if s.Alarms {
		m.Alarms = newAlarms(stack, s, m.Prometheus, m.LoadBalancer)
	}
	count := s.NodeCount
	m.Nodes = pconstructs.NewNodeExporterInstance(stack, "nodes", &pconstructs.NodeExporterInstanceProps{
		Name:                   s.Name("node"),
		VpcId:                  m.Network.Vpc.Id(),
		SubnetIds:              m.Network.SubnetIds(),
		ScraperSecurityGroupId: m.Prometheus.SecurityGroup.Id(),
		Count:                  &count,
		InstanceType:           s.NodeInstanceType,
		AmiId:                  s.NodeAmiID,
		Port:                   s.NodeExporterPort,
		DiscoveryTagKey:        s.DiscoveryTagKey,
		DiscoveryTagValue:      s.DiscoveryTagValue,
		SSH:                    sshAccess(s),
		KmsKeyArn:              s.KmsKeyArn,
	})

	if s.Local() {
		m.emulatorGaps()
	}

	output(stack, "vpc_id", m.Network.Vpc.Id())
	output(stack, "subnet_ids", m.Network.SubnetIds())
	output(stack, "cluster_name", m.Prometheus.Cluster.Name())
	output(stack, "service_name", m.Prometheus.Service.Name())
	output(stack, "prometheus_security_group_id", m.Prometheus.SecurityGroup.Id())
	output(stack, "node_security_group_id", m.Nodes.SecurityGroup.Id())
	output(stack, "node_group_name", m.Nodes.AutoScalingGroup.Name())
	output(stack, "prometheus_config_parameter", m.Prometheus.Config.Name())
	output(stack, "log_group", m.Prometheus.LogGroup.Name())
	if m.LoadBalancer != nil {
		output(stack, "prometheus_url", m.LoadBalancer.URL)
	}
	if m.EFS != nil {
		output(stack, "tsdb_file_system_id", m.EFS.FileSystem.Id())
	}
	if m.Workspace != nil {
		output(stack, "amp_workspace_id", m.Workspace.Workspace.Id())
		output(stack, "amp_query_url", jsii.String(*m.Workspace.Workspace.PrometheusEndpoint()+"api/v1/query"))
	}
	if m.Alarms != nil {
		output(stack, "alarm_topic_arn", m.Alarms.TopicArn)
	}
	return m, nil
}

// domain is the load balancer's DNS name and zone (tlsDomain), if any.
func domain(s *config.Settings) *pconstructs.Domain {
	if s.TLSDomain == "" {
		return nil
	}
	return &pconstructs.Domain{Name: s.TLSDomain, ZoneId: s.TLSZoneID}
}

// sshAccess is the nodes' SSH opt-in (sshKeyName with sshCidrs), if any.
func sshAccess(s *config.Settings) *pconstructs.SSHAccess {
	if s.SSHKeyName == "" {
		return nil
	}
	return &pconstructs.SSHAccess{KeyName: s.SSHKeyName, Cidrs: s.SSHCidrs}
}

// alertmanagerEndpoints are the alertmanagerUrls' hosts and ports, which
// the task connects out to.
func alertmanagerEndpoints(s *config.Settings) []pconstructs.Endpoint {
	var out []pconstructs.Endpoint
	for _, am := range s.Alertmanagers() {
		out = append(out, pconstructs.Endpoint{Host: am.Host, Port: am.Port})
	}
	return out
}

// remoteScrapePort is the node_exporter port when nodes outside the VPC
// (other discovery regions) are scraped, and 0 otherwise.
func remoteScrapePort(s *config.Settings) int {
	if len(s.RemoteRegions()) == 0 {
		return 0
	}
	return s.NodeExporterPort
}

// newAlarms watches the Prometheus service (and its load balancer, if any).
func newAlarms(stack cdktf.TerraformStack, s *config.Settings, prom *pconstructs.PrometheusFargateService, lb *pconstructs.HTTPSLoadBalancer) *pconstructs.ServiceAlarms {
	props := &pconstructs.ServiceAlarmsProps{
		Name:        s.Name("prometheus"),
		ClusterName: prom.Cluster.Name(),
		ClusterArn:  prom.Cluster.Arn(),
		ServiceName: prom.Service.Name(),
		// Every replica should run; one missing is a degraded HA pair.
		MinRunningTasks: s.Replicas,
		Email:           s.AlarmEmail,
		TopicArn:        s.AlarmTopicArn,
	}
	if s.AlarmTopicArn == "" {
		props.KmsKeyArn = s.KmsKeyArn
	}
	if lb != nil {
		props.LoadBalancerArnSuffix = lb.LoadBalancer.ArnSuffix()
		props.TargetGroupArnSuffix = lb.TargetGroup.ArnSuffix()
	}
	return pconstructs.NewServiceAlarms(stack, "alarms", props)
}

func basicAuthProps(s *config.Settings) *pconstructs.BasicAuthProps {
	if !s.BasicAuth {
		return nil
	}
	return &pconstructs.BasicAuthProps{User: s.BasicAuthUser, PasswordVersion: s.BasicAuthPasswordVersion}
}

// newProvider configures the AWS provider; with an endpoint set (the local
// profile) every service the stack uses is pointed at the emulator, with
// static test credentials and no metadata lookups.
func newProvider(stack cdktf.TerraformStack, s *config.Settings, region string) provider.AwsProvider {
	cfg := &provider.AwsProviderConfig{
		Region: jsii.String(region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{Tags: &map[string]*string{
			"project":     jsii.String(s.Project),
			"environment": jsii.String(s.Environment),
			"managed-by":  jsii.String("prometheus-aws"),
		}}},
	}
	if s.Local() {
		e := jsii.String(s.Endpoint)
		cfg.AccessKey = jsii.String("test")
		cfg.SecretKey = jsii.String("test")
		cfg.SkipCredentialsValidation = jsii.Bool(true)
		cfg.SkipMetadataApiCheck = jsii.String("true")
		cfg.SkipRequestingAccountId = jsii.Bool(false) // the emulator's STS answers
		cfg.S3UsePathStyle = jsii.Bool(true)
		cfg.Endpoints = &[]*provider.AwsProviderEndpoints{{
			Acm: e, Autoscaling: e, Cloudwatch: e, Cloudwatchlogs: e, Dynamodb: e, Ec2: e, Ecr: e, Ecs: e,
			Efs: e, Elbv2: e, Events: e, Iam: e, Kms: e, Amp: e, Route53: e, S3: e, Secretsmanager: e, Sns: e, Ssm: e, Sts: e,
		}}
		// A service missing above would be sent to AWS itself; inside the
		// test namespace that fails, and with the default 25 retries it
		// would take most of an hour to say so.
		cfg.MaxRetries = jsii.Number(2)
	}
	return provider.NewAwsProvider(stack, jsii.String("aws"), cfg)
}

func output(stack cdktf.TerraformStack, name string, value any) {
	cdktf.NewTerraformOutput(stack, jsii.String(name), &cdktf.TerraformOutputConfig{Value: value})
}
