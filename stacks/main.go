// Package stacks assembles the constructs into Terraform stacks: the main
// stack of one environment (network, Prometheus, nodes), wired from the one
// settings value.
package stacks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/amconfig"
	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/dashboards"
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
	// ImageCache pulls the task's images through ECR (pullThroughCache,
	// natGateways=none); nil otherwise.
	ImageCache *pconstructs.ImageCache
	// AlertTopic is the alarm topic when the stack creates it (no
	// alarmTopicArn) and alerts are delivered to it (no alertmanagerUrls);
	// ServiceAlarms then uses it too. Nil otherwise.
	AlertTopic snstopic.SnsTopic
	// AMPAlerting is the workspace's ruler and alert manager (storageMode
	// amp without alertmanagerUrls); nil otherwise.
	AMPAlerting *pconstructs.AMPAlerting
	// AlertmanagerYAML is the bundled Alertmanager's configuration, or the
	// AMP alert manager's (AlertConfig); "" with alertmanagerUrls.
	AlertmanagerYAML string
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

// AlertConfig is the alert delivery's configuration for s: the bundled
// Alertmanager's alertmanager.yml (the local overlay included) or the AMP
// alert manager's, sending to alarmTopicArn or the created topic (its
// placeholder); "" when alertmanagerUrls names the user's own.
func AlertConfig(s *config.Settings) (string, error) {
	if s.AlertDelivery() == config.AlertDeliveryExternal {
		return "", nil
	}
	o := amconfig.Options{TopicARN: s.AlarmTopicArn}
	if o.TopicARN == "" {
		o.TopicARN = amconfig.TopicARNPlaceholder
	}
	switch {
	case s.TLSDomain != "":
		o.PrometheusURL = "https://" + s.TLSDomain
	case s.TLS():
		o.PrometheusURL = amconfig.PrometheusURLPlaceholder
	}
	var c *amconfig.Config
	var err error
	if s.AlertDelivery() == config.AlertDeliveryAMP {
		// AWS's SNS only: AMP has no endpoint to point at an emulator.
		c, err = amconfig.Generate(s, o)
	} else {
		c, err = amconfig.ForTask(s, o)
	}
	if err != nil {
		return "", err
	}
	yaml, err := c.YAML()
	return string(yaml), err
}

// rules is the rules file the task evaluates: none with AMP's delivery
// (the workspace's ruler does), the local overlay's in the local profile.
func rules(s *config.Settings) (string, error) {
	if s.AlertDelivery() == config.AlertDeliveryAMP {
		return "", nil
	}
	r, err := alerting.ForTask(s.Local())
	if err == nil && s.ECSDiscovery {
		r = alerting.WithECS(r)
	}
	if err == nil && s.Grafana && s.TLS() {
		// Grafana has a URL people reach (the load balancer's, filled in
		// at apply): every alert links to the dashboard that shows it.
		r, err = alerting.WithDashboards(r, taskcontract.PrometheusURLPlaceholder+"/grafana", map[string]string{
			"prometheus-aws-nodes": dashboards.FleetUID, "prometheus-aws-prometheus": dashboards.PrometheusUID})
	}
	return string(r), err
}

// NewMain builds the main stack, named s.StackName(), from validated settings.
func NewMain(scope constructs.Construct, s *config.Settings) (*Main, error) {
	yaml, err := PrometheusConfig(s)
	if err != nil {
		return nil, err
	}
	stack := newStack(scope, s.StackName(), s, s.Region)
	newBackend(stack, s)

	amYAML, err := AlertConfig(s)
	if err != nil {
		return nil, err
	}
	rulesYAML, err := rules(s)
	if err != nil {
		return nil, err
	}
	m := &Main{Stack: stack, PrometheusYAML: yaml, AlertmanagerYAML: amYAML}
	m.Network = pconstructs.NewNetwork(stack, "network", &pconstructs.NetworkProps{
		Name:                 s.Name("net"),
		CidrBlock:            s.VpcCidr,
		AzCount:              s.AzCount,
		AvailabilityZones:    s.AvailabilityZones,
		SubnetCidrs:          s.SubnetCidrs,
		FlowLogs:             s.FlowLogs,
		FlowLogKmsKeyArn:     s.KmsKeyArn,
		FlowLogRetentionDays: s.LogRetentionDays,
		Private:              privateNetwork(s),
	})
	adminCidrs := s.AdminCidrs
	if s.TLS() {
		// The admin ranges reach the load balancer; the task admits only it.
		adminCidrs = nil
		m.LoadBalancer = pconstructs.NewHTTPSLoadBalancer(stack, "load-balancer", &pconstructs.HTTPSLoadBalancerProps{
			Name:               s.StackName(),
			VpcId:              m.Network.Vpc.Id(),
			SubnetIds:          m.Network.PublicSubnetIds(),
			AdminCidrs:         s.AdminCidrs,
			CertificateArn:     s.TLSCertificateArn,
			Domain:             domain(s),
			TargetPort:         s.PrometheusPort,
			HealthCheckMatcher: map[bool]string{true: "200,401", false: "200"}[s.BasicAuth],
			SSO:                sso(s),
		})
	}
	switch s.StorageMode {
	case config.StorageEFS:
		m.EFS = pconstructs.NewEFSStorage(stack, "storage", &pconstructs.EFSStorageProps{
			Name:             s.StackName(),
			VpcId:            m.Network.Vpc.Id(),
			SubnetIds:        m.Network.SubnetIds(),
			KmsKeyArn:        s.KmsKeyArn,
			ThroughputMode:   s.EFSThroughputMode,
			ProvisionedMibps: s.EFSProvisionedMibps,
		})
	case config.StorageAMP:
		m.Workspace = pconstructs.NewAMPWorkspace(stack, "storage", &pconstructs.AMPWorkspaceProps{
			Name:          s.StackName(),
			Region:        s.Region,
			KmsKeyArn:     s.KmsKeyArn,
			RetentionDays: s.WorkspaceRetentionDays(),
		})
	}
	topicArn := m.alertTopic(s)
	m.ImageCache = imageCache(stack, s)
	m.Prometheus = pconstructs.NewPrometheusFargateService(stack, "prometheus", &pconstructs.PrometheusFargateServiceProps{
		Name:                    s.StackName(),
		Region:                  s.Region,
		VpcId:                   m.Network.Vpc.Id(),
		SubnetIds:               m.Network.SubnetIds(),
		NoPublicIp:              s.Private(),
		ConfigYAML:              m.PrometheusYAML,
		Image:                   s.PrometheusImage,
		ConfigSyncImage:         s.ConfigSyncImage,
		Port:                    s.PrometheusPort,
		Cpu:                     s.TaskCPU,
		Memory:                  s.TaskMemory,
		LogRetentionDays:        s.LogRetentionDays,
		AdminCidrs:              adminCidrs,
		Retention:               s.TSDBRetention(),
		Agent:                   s.AgentMode(),
		NoContainerInsights:     !s.ContainerInsights,
		EFS:                     m.EFS,
		Workspace:               m.Workspace,
		DesiredCount:            s.Replicas,
		BasicAuth:               basicAuthProps(s),
		KmsKeyArn:               s.KmsKeyArn,
		LoadBalancer:            m.LoadBalancer,
		MachineSecurityGroupIds: s.MachineSecurityGroupIDs,
		RulesYAML:               rulesYAML,
		DiscoveryRegions:        s.DiscoveredRegions(),
		RemoteScrapePort:        remoteScrapePort(s),
		Alertmanagers:           alertmanagerEndpoints(s),
		Alertmanager:            m.alertmanagerProps(s, topicArn),
		Grafana:                 grafanaProps(s),
		ECSDiscovery:            ecsDiscoveryProps(s),
		ImageCache:              m.ImageCache,
		// The local profile's, for the local runner's AWS CLI.
		ConfigSyncEndpointURL: configSyncEndpoint(s),
	})
	if s.AlertDelivery() == config.AlertDeliveryAMP {
		rules, err := ampRules(s)
		if err != nil {
			return nil, err
		}
		m.AMPAlerting = m.Workspace.AddAlerting(s.StackName(), string(rules), ampDefinition(amYAML), topicArn, m.prometheusURL())
	}
	if s.Alarms {
		m.Alarms = newAlarms(stack, s, m)
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
		DownloadBase:           s.NodeExporterDownloadBase,
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
	for i, addr := range m.Network.NatAddresses {
		// What remote nodes' security groups can admit (private mode).
		output(stack, fmt.Sprintf("nat_public_ip_%d", i), addr.PublicIp())
	}
	if m.Workspace != nil {
		output(stack, "amp_workspace_id", m.Workspace.Workspace.Id())
		output(stack, "amp_query_url", jsii.String(*m.Workspace.Workspace.PrometheusEndpoint()+"api/v1/query"))
	}
	if m.Alarms != nil {
		output(stack, "alarm_topic_arn", m.Alarms.TopicArn)
	}
	if m.Prometheus.AlertmanagerConfig != nil {
		output(stack, "alertmanager_config_parameter", m.Prometheus.AlertmanagerConfig.Name())
	}
	return m, nil
}

// alertTopic is the topic alerts are delivered to: alarmTopicArn, or the
// alarm topic created here, before the service that publishes to it (the
// alarms, built after the service they watch, then use it too). Nil with
// alertmanagerUrls.
func (m *Main) alertTopic(s *config.Settings) *string {
	switch {
	case s.AlertDelivery() == config.AlertDeliveryExternal:
		return nil
	case s.AlarmTopicArn != "":
		return jsii.String(s.AlarmTopicArn)
	}
	m.AlertTopic = pconstructs.NewAlarmTopic(m.Stack, "alert-topic", s.Name("prometheus"), s.KmsKeyArn)
	// Before alert delivery the alarms created the topic themselves: moved,
	// not replaced (a new topic would need its email subscription
	// confirmed again).
	m.AlertTopic.MoveFromId(jsii.String(LegacyAlarmTopicAddress))
	return m.AlertTopic.Arn()
}

// LegacyAlarmTopicAddress is where the alarm topic was before alert
// delivery (inside ServiceAlarms), which the created topic is moved from.
const LegacyAlarmTopicAddress = "aws_sns_topic.alarms_topic_CB6504A9"

// alertmanagerProps is the bundled Alertmanager; nil unless it delivers.
func (m *Main) alertmanagerProps(s *config.Settings, topicArn *string) *pconstructs.AlertmanagerProps {
	if s.AlertDelivery() != config.AlertDeliveryBundled {
		return nil
	}
	a := &pconstructs.AlertmanagerProps{Image: s.AlertmanagerImage, ConfigYAML: m.AlertmanagerYAML, Port: s.AlertmanagerPort,
		TopicArn: topicArn, PrometheusURL: m.prometheusURL()}
	if m.AlertTopic != nil {
		a.TopicKmsKeyArn = s.KmsKeyArn
	}
	return a
}

// prometheusURL is the load balancer's URL; nil without one.
func (m *Main) prometheusURL() *string {
	if m.LoadBalancer == nil {
		return nil
	}
	return m.LoadBalancer.URL
}

// ampDefinition wraps the configuration as an AMP alert manager definition.
func ampDefinition(yaml string) string {
	def, err := amconfig.WrapAMPDefinition(yaml)
	if err != nil {
		panic(err) // a string map always encodes
	}
	return def
}

// privateNetwork is networkMode=private's layout; nil in public mode.
func privateNetwork(s *config.Settings) *pconstructs.PrivateNetworkProps {
	if !s.Private() {
		return nil
	}
	p := &pconstructs.PrivateNetworkProps{Region: s.Region, SubnetCidrs: s.PrivateSubnetCidrs, NatPerZone: s.NatGateways == config.NatPerZone,
		NoNat: s.NatGateways == config.NatNone}
	for _, e := range s.Endpoints() {
		if e == "s3" {
			p.S3Endpoint = true
		} else {
			p.InterfaceEndpoints = append(p.InterfaceEndpoints, e)
		}
	}
	return p
}

// imageCache caches the task's images that are not in private ECR
// already; nil without the cache, or with nothing to cache.
func imageCache(stack constructs.Construct, s *config.Settings) *pconstructs.ImageCache {
	if !s.ImageCache() {
		return nil
	}
	var images []string
	for _, key := range slices.Sorted(maps.Keys(s.TaskImages())) {
		if image := s.TaskImages()[key]; !slices.Contains(images, image) {
			if _, private := imageref.PrivateECR(image); !private {
				images = append(images, image)
			}
		}
	}
	if len(images) == 0 {
		return nil
	}
	return pconstructs.NewImageCache(stack, "image-cache", &pconstructs.ImageCacheProps{Owner: s.StackName(), Images: images})
}

// domain is the load balancer's DNS name and zone (tlsDomain), if any.
// sso is single sign-on at the load balancer (sso=cognito or oidc), if any.
func sso(s *config.Settings) *pconstructs.SSO {
	switch s.SSO {
	case config.SSOCognito:
		return &pconstructs.SSO{SessionTimeout: s.SSOSessionTimeout,
			Cognito: &pconstructs.CognitoSSO{UserPoolId: s.CognitoUserPoolID, DomainPrefix: s.CognitoDomainPrefix()}}
	case config.SSOOIDC:
		o := &pconstructs.OIDCSSO{
			Issuer: s.OIDCIssuer, AuthorizationEndpoint: s.OIDCAuthorizationEndpoint, TokenEndpoint: s.OIDCTokenEndpoint,
			UserInfoEndpoint: s.OIDCUserInfoEndpoint, ClientId: s.OIDCClientID, ClientSecretArn: s.OIDCClientSecretArn, Scope: s.OIDCScope,
		}
		if s.Local() {
			// The AWS CLI that sets the client secret at apply goes where
			// the provider goes (newProvider), with the same credentials.
			o.CLIEnvironment = map[string]string{"AWS_ENDPOINT_URL": s.Endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
		}
		return &pconstructs.SSO{SessionTimeout: s.SSOSessionTimeout, OIDC: o}
	}
	return nil
}

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
func newAlarms(stack cdktf.TerraformStack, s *config.Settings, m *Main) *pconstructs.ServiceAlarms {
	prom, lb := m.Prometheus, m.LoadBalancer
	props := &pconstructs.ServiceAlarmsProps{
		Name:        s.Name("prometheus"),
		ClusterName: prom.Cluster.Name(),
		ClusterArn:  prom.Cluster.Arn(),
		ServiceName: prom.Service.Name(),
		// Every replica should run; one missing is a degraded HA pair.
		MinRunningTasks:          s.Replicas,
		WithoutContainerInsights: !s.ContainerInsights,
		Email:                    s.AlarmEmail,
		TopicArn:                 s.AlarmTopicArn,
		// Every parameter of the stack is /<stack>/<component>/<file>: a
		// change to any of them is a change to what the task runs.
		ParameterPrefix: "/" + s.StackName() + "/",
	}
	switch {
	case m.AlertTopic != nil:
		props.Topic = m.AlertTopic
	case s.AlarmTopicArn == "":
		props.KmsKeyArn = s.KmsKeyArn
	}
	if m.AMPAlerting != nil && m.AlertTopic != nil {
		props.WorkspaceArn = m.Workspace.Workspace.Arn()
	}
	if s.AlertDelivery() == config.AlertDeliveryBundled {
		// The bundled Alertmanager logs to the task's log group.
		props.DeliveryLogGroup = prom.LogGroup.Name()
	}
	// Every task runs config-sync, which logs to the task's log group.
	props.ConfigSyncLogGroup = prom.LogGroup.Name()
	if lb != nil {
		props.LoadBalancerArnSuffix = lb.LoadBalancer.ArnSuffix()
		props.TargetGroupArnSuffix = lb.TargetGroup.ArnSuffix()
	}
	return pconstructs.NewServiceAlarms(stack, "alarms", props)
}

// grafanaProps runs Grafana with the dashboards of dashboards/ (grafana=true).
func grafanaProps(s *config.Settings) *pconstructs.GrafanaProps {
	if !s.Grafana {
		return nil
	}
	all, err := dashboards.All()
	if err != nil {
		panic(err) // built from code: a test builds them too
	}
	g := &pconstructs.GrafanaProps{Image: s.GrafanaImage, Port: s.GrafanaPort, AdminUser: s.BasicAuthUser, Dashboards: map[string]string{}}
	for _, d := range all {
		data, err := dashboards.JSON(d.Dashboard)
		if err != nil {
			panic(err)
		}
		g.Dashboards[d.File] = string(data)
	}
	return g
}

func basicAuthProps(s *config.Settings) *pconstructs.BasicAuthProps {
	if !s.BasicAuth {
		return nil
	}
	return &pconstructs.BasicAuthProps{User: s.BasicAuthUser, PasswordVersion: s.BasicAuthPasswordVersion}
}

// newProvider configures the AWS provider; in the local profile it talks
// to the emulator, with static test credentials and no metadata lookups.
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
		localProvider(cfg)
	}
	return provider.NewAwsProvider(stack, jsii.String("aws"), cfg)
}

func output(stack cdktf.TerraformStack, name string, value any) {
	cdktf.NewTerraformOutput(stack, jsii.String(name), &cdktf.TerraformOutputConfig{Value: value})
}

// ecsDiscoveryProps are the ECS discovery of the settings (ecsDiscovery),
// nil when off: the listed clusters' ARNs in region order, the scrape
// ports, the VPC's range.
func ecsDiscoveryProps(s *config.Settings) *pconstructs.ECSDiscoveryProps {
	if !s.ECSDiscovery {
		return nil
	}
	var arns []string
	byRegion := s.ECSClusterARNs()
	for _, r := range s.DiscoveredRegions() {
		arns = append(arns, byRegion[r]...)
	}
	return &pconstructs.ECSDiscoveryProps{ClusterArns: arns, ScrapePorts: s.ECSScrapePortNumbers(), ScrapeCidr: s.VpcCidr}
}

// ampRules are the rules the workspace's ruler evaluates: rules.yml, with
// ECS discovery's group when it is on, without the alerts that read a
// server's TSDB when the tasks run in agent mode (alerting.ServerOnly).
func ampRules(s *config.Settings) ([]byte, error) {
	r := alerting.Rules()
	if s.ECSDiscovery {
		r = alerting.WithECS(r)
	}
	if s.AgentMode() {
		return alerting.ForAgent(r)
	}
	return r, nil
}
