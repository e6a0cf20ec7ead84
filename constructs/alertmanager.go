package constructs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecstaskdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"

	cd "github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	tc "github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// AlertmanagerProps configures the bundled Alertmanager, the Prometheus
// task's second container: Prometheus sends it alerts over the task's
// loopback, it publishes them to an SNS topic with the task role.
type AlertmanagerProps struct {
	// Image is the container image: the official one, unmodified (the
	// configuration is delivered at start). Default:
	// defaults.AlertmanagerImage (prom/alertmanager, pinned).
	Image string
	// ConfigYAML is its alertmanager.yml (amconfig); taskcontract's
	// TopicARNPlaceholder in it becomes TopicArn. Required.
	ConfigYAML string
	// Port is its web/API port, reachable exactly like Prometheus's: the
	// admin ranges, and the same basic auth when it is on. Default: 9093
	// (defaults.AlertmanagerPort).
	Port int
	// TopicArn is the SNS topic it publishes to; the task role may
	// sns:Publish to it and nothing else. Required.
	TopicArn *string
	// PrometheusURL replaces taskcontract's PrometheusURLPlaceholder in
	// ConfigYAML (the load balancer's URL, known after apply). Default: nil
	// (the configuration must not hold the placeholder).
	PrometheusURL *string
	// TopicKmsKeyArn is the customer key the topic is encrypted with:
	// publishing needs kms:GenerateDataKey* and kms:Decrypt on it. Default:
	// "" (an unencrypted topic).
	TopicKmsKeyArn string
}

func checkAlertmanagerProps(id string, a *AlertmanagerProps) {
	requireProps("PrometheusFargateService", id+" Alertmanager", need("ConfigYAML", a.ConfigYAML == ""), need("TopicArn", a.TopicArn == nil))
	a.Image = orDefault(a.Image, defaults.AlertmanagerImage)
	a.Port = intOr(a.Port, defaults.AlertmanagerPort)
}

// newAlertmanagerConfigParameter holds alertmanager.yml, readable in a
// plan like prometheus.yml, with the topic's ARN filled in at apply.
func newAlertmanagerConfigParameter(scope constructs.Construct, id, name string, a *AlertmanagerProps) ssmparameter.SsmParameter {
	size := filledInSize(a.ConfigYAML)
	tier := SSMTier(size)
	if tier == "" {
		panic(fmt.Sprintf("PrometheusFargateService %s: the Alertmanager configuration is %d bytes; an SSM parameter holds at most %d (Advanced tier)", id, size, SSMAdvancedLimit))
	}
	return newGeneratedParameter(scope, "alertmanager-config", name, "alertmanager", "alertmanager.yml", tier, fillIn(a.ConfigYAML, a.TopicArn, a.PrometheusURL))
}

// fillIn is an alert delivery configuration as a Terraform string: taken
// literally, but for its placeholders, which become the topic's ARN and the
// Prometheus URL (Terraform references when created by the stack).
func fillIn(yaml string, topicArn, prometheusURL *string) string {
	v := strings.ReplaceAll(TerraformLiteral(yaml), tc.TopicARNPlaceholder, *topicArn)
	if strings.Contains(v, tc.PrometheusURLPlaceholder) {
		if prometheusURL == nil {
			panic("the alert delivery's configuration links " + tc.PrometheusURLPlaceholder + " but no PrometheusURL was given")
		}
		v = strings.ReplaceAll(v, tc.PrometheusURLPlaceholder, *prometheusURL)
	}
	return v
}

// filledInSize bounds the size of yaml once filled in: a topic ARN holds at
// most 256 characters, a load balancer's URL about 100.
func filledInSize(yaml string) int {
	return len(yaml) + strings.Count(yaml, tc.TopicARNPlaceholder)*(256-len(tc.TopicARNPlaceholder)) +
		strings.Count(yaml, tc.PrometheusURLPlaceholder)*(128-len(tc.PrometheusURLPlaceholder))
}

// publishStatements are the task role's rights for the delivery: publish
// to the one topic, and use its key when it has one.
func (a *AlertmanagerProps) publishStatements() []Statement {
	st := []Statement{{Sid: "PublishAlerts", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{*a.TopicArn}}}
	if a.TopicKmsKeyArn != "" {
		// SNS encrypts what a publisher sends with the topic's key, on the
		// publisher's behalf (SNS developer guide, "Encryption at rest").
		st = append(st, Statement{Sid: "PublishAlertsEncrypted", Effect: "Allow",
			Action: []string{"kms:GenerateDataKey*", "kms:Decrypt"}, Resource: []string{a.TopicKmsKeyArn},
			// Only through SNS, which encrypts the message for the publisher.
			Condition: ViaServiceOfKey(a.TopicKmsKeyArn, "sns")})
	}
	return st
}

// alertmanagerContainer is the second container of the task, every name and
// path from the task contract. Like Prometheus's: read-only root, the
// delivered files on a tmpfs, its state on its own volume (the image's
// VOLUME), the same log group, a health check on its own port.
func alertmanagerContainer(p PrometheusFargateServiceProps, logGroup string, auth *basicAuth) cd.Container {
	a := p.Alertmanager
	env := []cd.KeyValue{
		{Name: tc.EnvAlertmanagerPort, Value: strconv.Itoa(a.Port)},
		{Name: tc.EnvAlertmanagerConfigDir, Value: tc.ConfigDir},
	}
	var secrets []cd.Secret
	// No credential in the check: a 401 is an answer (tc.HealthCheckCommand).
	health := tc.HealthCheckCommand(fmt.Sprintf("http://127.0.0.1:%d%s/-/healthy", a.Port, tc.AlertmanagerRoutePrefix))
	if auth != nil {
		// The same users as Prometheus: one web config. Not the password:
		// nothing in this container needs it (no process of the task keeps
		// it, issue 34).
		secrets = auth.webConfigSecret(tc.EnvAlertmanagerWebConfigYAML)
	}
	return cd.Container{
		Name:                   tc.AlertmanagerContainerName,
		Image:                  a.Image,
		Essential:              true, // no Alertmanager, no alert reaches anyone: ECS replaces the task
		User:                   tc.User,
		EntryPoint:             []string{tc.Shell, "-c"},
		Command:                alertmanagerCommand(p),
		ReadonlyRootFilesystem: true,
		MountPoints: []cd.MountPoint{
			{SourceVolume: tc.AlertmanagerVolume, ContainerPath: tc.AlertmanagerStoragePath},
			configMount(),
		},
		DependsOn: afterConfigSync(),
		// As Prometheus's (see prometheusContainer): /tmp is a tmpfs.
		LinuxParameters:  runtimeTmpfs(tc.AlertmanagerRuntimeDir), // and no capability
		PortMappings:     []cd.PortMapping{{ContainerPort: a.Port, HostPort: a.Port, Protocol: "tcp"}},
		Environment:      env,
		Secrets:          secrets,
		HealthCheck:      healthCheck(health, 30),
		StopTimeout:      30, // time to write the silences and notification log
		LogConfiguration: awslogs(logGroup, p.Region, tc.AlertmanagerLogStreamPrefix),
	}
}

// alertmanagerCommand runs its script with the route prefix and, behind
// the load balancer, the URL people reach it at (its links).
func alertmanagerCommand(p PrometheusFargateServiceProps) []string {
	cmd := []string{TerraformLiteral(tc.AlertmanagerEntrypoint), tc.AlertmanagerScriptName, tc.FlagRoutePrefix + tc.AlertmanagerRoutePrefix}
	if p.LoadBalancer != nil {
		cmd = append(cmd, tc.FlagExternalURL+*p.LoadBalancer.URL+tc.AlertmanagerRoutePrefix)
	}
	return cmd
}

// alertmanagerVolume is where its state lives: an access point of its own
// on the TSDB's file system (kept across task replacements), or task
// storage.
func (s *PrometheusFargateService) alertmanagerVolume() *ecstaskdefinition.EcsTaskDefinitionVolume {
	if s.AlertmanagerAccessPoint != nil {
		return s.props.EFS.volumeAt(tc.AlertmanagerVolume, s.AlertmanagerAccessPoint)
	}
	return &ecstaskdefinition.EcsTaskDefinitionVolume{Name: jsii.String(tc.AlertmanagerVolume)}
}
