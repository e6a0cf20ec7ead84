package constructs

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventtarget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogmetricfilter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// ServiceAlarmsProps configures ServiceAlarms.
type ServiceAlarmsProps struct {
	// Name prefixes the topic, alarm and rule names (the rule name holds
	// at most 64 characters: keep Name within 49, for "-params-changed"). Required.
	Name string
	// ClusterName, ClusterArn and ServiceName identify the ECS service. The
	// cluster must have Container Insights on (the running-task metric
	// comes from it). Required.
	ClusterName *string
	ClusterArn  *string
	ServiceName *string
	// MinRunningTasks: fewer running tasks than this, for DownMinutes in a
	// row, is an outage. Follow the service's desired count here when it
	// runs more than one task. Default: 1.
	MinRunningTasks int
	// WithoutContainerInsights makes NotRunning read AWS/ECS's free
	// CPUUtilization (its SampleCount) instead of Container Insights'
	// RunningTaskCount: ECS reports it for a service only while a task of
	// it runs (Amazon ECS Developer Guide, "Amazon ECS CloudWatch
	// metrics"), so no data is no running task. It cannot count tasks, so
	// it needs MinRunningTasks 1. Default: false.
	WithoutContainerInsights bool
	// LoadBalancerArnSuffix and TargetGroupArnSuffix (the arn_suffix
	// attributes) name the load balancer in front of the service. When set,
	// a third alarm fires when the target group has fewer healthy targets
	// than MinRunningTasks. Set both or neither. Default: nil (no load
	// balancer, no alarm).
	LoadBalancerArnSuffix *string
	TargetGroupArnSuffix  *string
	// Email is subscribed to the topic notified (created or TopicArn). The
	// subscription stays
	// "pending confirmation" until the recipient follows the link AWS
	// mails; unconfirmed, nothing is delivered. Default: "" (no
	// subscription; subscribe whatever you like to the Topic).
	Email string
	// TopicArn is an existing SNS topic (same region) to notify instead of
	// creating one; its policy must let cloudwatch.amazonaws.com and
	// events.amazonaws.com publish. Mutually exclusive with KmsKeyArn
	// (that topic is yours to configure). Default: "" (a topic is
	// created).
	TopicArn string
	// Topic is a topic the caller created for these alarms (NewAlarmTopic),
	// e.g. to hand its ARN to something built before the alarms: its policy
	// is written here as for a created one. Mutually exclusive with TopicArn
	// and KmsKeyArn (encrypt it when creating it). Default: nil.
	Topic snstopic.SnsTopic
	// WorkspaceArn lets this AMP workspace's alert manager publish to the
	// created topic (or Topic) as well: aps.amazonaws.com, for this
	// workspace only. Default: nil.
	WorkspaceArn *string
	// DeliveryLogGroup is the log group the service's bundled Alertmanager
	// logs to: a metric filter counts its given-up notifications
	// (taskcontract.DeliveryFailedLog) and DeliveryFailing fires on the
	// first, so a person hears of alerts that cannot be delivered through
	// CloudWatch, not through the Alertmanager. Default: nil (no such
	// alarm: no bundled Alertmanager).
	DeliveryLogGroup *string
	// ConfigSyncLogGroup is the log group the service's config-sync sidecar
	// logs to: a metric filter counts its failed rounds
	// (taskcontract.ConfigSyncRoundFailedLog) and ConfigSyncFailing fires
	// when they go on for minutes (SSM throttled or failing, the task role,
	// a parameter gone): the running task keeps its last configuration,
	// but applied changes are not live. Default: nil (no such alarm).
	ConfigSyncLogGroup *string
	// KmsKeyArn encrypts the created topic with a customer-managed key; its
	// key policy must allow cloudwatch.amazonaws.com and
	// events.amazonaws.com kms:Decrypt and kms:GenerateDataKey*. Default: ""
	// (no at-rest encryption of the topic: the AWS-managed key alias/aws/sns
	// cannot be used, see NewServiceAlarms).
	KmsKeyArn string
	// ParameterPrefix is the path of the stack's SSM parameters ("/<stack>/"):
	// an EventBridge rule tells the topic of every change to a parameter
	// under it (ParameterChanged). Default: "" (no such rule).
	ParameterPrefix string
}

// ServiceAlarms notices that an ECS service is down or failing its health
// checks, and says so on an SNS topic:
//   - NotRunning: fewer running tasks than MinRunningTasks for DownMinutes
//     minutes in a row (no data counts as none running);
//   - HealthCheckFailed: an EventBridge rule on every task the service's
//     scheduler stops because a health check failed (container or load
//     balancer), which RunningTaskCount alone would miss;
//   - NoHealthyTarget (with a load balancer only): the load balancer has no
//     healthy target, i.e. users cannot reach Prometheus.
type ServiceAlarms struct {
	constructs.Construct
	// Topic is the created topic; nil when TopicArn was given.
	Topic snstopic.SnsTopic
	// TopicPolicy admits only the alarms and the rule; nil with TopicArn.
	TopicPolicy snstopicpolicy.SnsTopicPolicy
	// TopicArn is what the alarms and the rule notify (created or given).
	TopicArn *string
	// Subscription exists only when Email was given.
	Subscription      snstopicsubscription.SnsTopicSubscription
	NotRunning        cloudwatchmetricalarm.CloudwatchMetricAlarm
	HealthCheckFailed cloudwatcheventrule.CloudwatchEventRule
	HealthCheckTarget cloudwatcheventtarget.CloudwatchEventTarget
	// ParameterChanged forwards every change to the stack's parameters;
	// both exist only with ParameterPrefix.
	ParameterChanged       cloudwatcheventrule.CloudwatchEventRule
	ParameterChangedTarget cloudwatcheventtarget.CloudwatchEventTarget
	// NoHealthyTarget exists only with a load balancer.
	NoHealthyTarget cloudwatchmetricalarm.CloudwatchMetricAlarm
	// DeliveryFailures counts the Alertmanager's given-up notifications and
	// DeliveryFailing alarms on them; both exist only with DeliveryLogGroup.
	DeliveryFailures cloudwatchlogmetricfilter.CloudwatchLogMetricFilter
	DeliveryFailing  cloudwatchmetricalarm.CloudwatchMetricAlarm
	// ConfigSyncFailures counts config-sync's failed rounds and
	// ConfigSyncFailing alarms on them; both exist only with
	// ConfigSyncLogGroup.
	ConfigSyncFailures cloudwatchlogmetricfilter.CloudwatchLogMetricFilter
	ConfigSyncFailing  cloudwatchmetricalarm.CloudwatchMetricAlarm
}

// DownMinutes is how long the service may run fewer tasks than required
// before NotRunning fires. A deployment stops the old task before it
// starts the new one (minimum healthy 0%), so every deployment has a gap
// without a running task: the old task's stop (load balancer draining 30 s,
// TSDB close, at most its 120 s stopTimeout) plus the new task's start
// (ENI, image pull, start: typically one to two minutes). Five one-minute
// periods let that gap pass quietly; a gap longer than that is an outage
// whether a deployment caused it or not.
const DownMinutes = 5

// NoTargetMinutes is the same window for the load balancer: a new target
// also has to pass the target group's health check several times (ALB
// default: 5 checks 30 s apart) before it counts as healthy.
const NoTargetMinutes = 10

// healthCheckStopReasons are the stoppedReason prefixes ECS writes when
// its scheduler replaces a task because a health check failed: the
// container's own check (task definition healthCheck) or the load
// balancer's target health check.
var healthCheckStopReasons = []string{"Task failed container health checks", "Task failed ELB health checks"}

// NewServiceAlarms creates the topic (unless TopicArn is given), its policy
// and optional email subscription, the alarms and the health check rule.
//
// Why these signals: ECS publishes no per-container health metric. A
// failing container health check makes the scheduler stop the task and
// start a new one, so RunningTaskCount stays at 1 most of the time and an
// alarm on it would never see a Prometheus that fails its check every few
// minutes. The scheduler's stop is an "ECS Task State Change" event whose
// stoppedReason names the failed check: that is the signal, and the rule
// forwards each one to the topic. With a load balancer, HealthyHostCount
// additionally measures what users see.
//
// Why not alias/aws/sns: its key policy (AWS-managed, not editable) does
// not let CloudWatch or EventBridge use the key, so alarms and rules could
// not publish to a topic encrypted with it, and would fail silently. A
// topic is encrypted with KmsKeyArn, a key whose policy the owner controls.
func NewServiceAlarms(scope constructs.Construct, id string, props *ServiceAlarmsProps) *ServiceAlarms {
	p := *props
	requireProps("ServiceAlarms", id, need("Name", p.Name == ""), need("ClusterName", p.ClusterName == nil),
		need("ClusterArn", p.ClusterArn == nil), need("ServiceName", p.ServiceName == nil))
	switch {
	case (p.LoadBalancerArnSuffix == nil) != (p.TargetGroupArnSuffix == nil):
		panic(fmt.Sprintf("ServiceAlarms %s: set both LoadBalancerArnSuffix and TargetGroupArnSuffix, or neither", id))
	case p.TopicArn != "" && p.KmsKeyArn != "":
		panic(fmt.Sprintf("ServiceAlarms %s: TopicArn and KmsKeyArn are mutually exclusive; encryption of your own topic is configured on it", id))
	case p.Topic != nil && (p.TopicArn != "" || p.KmsKeyArn != ""):
		panic(fmt.Sprintf("ServiceAlarms %s: Topic excludes TopicArn and KmsKeyArn; encrypt the topic when creating it", id))
	case p.MinRunningTasks < 0:
		panic(fmt.Sprintf("ServiceAlarms %s: MinRunningTasks %d is negative", id, p.MinRunningTasks))
	case p.WithoutContainerInsights && p.MinRunningTasks > 1:
		panic(fmt.Sprintf("ServiceAlarms %s: WithoutContainerInsights tells no running task from some, not %d from fewer; use Container Insights", id, p.MinRunningTasks))
	}
	p.MinRunningTasks = intOr(p.MinRunningTasks, 1)

	scope = constructs.NewConstruct(scope, jsii.String(id))
	a := &ServiceAlarms{Construct: scope, TopicArn: optional(p.TopicArn)}
	switch {
	case p.Topic != nil:
		a.Topic = p.Topic
		a.TopicArn = a.Topic.Arn()
	case p.TopicArn == "":
		a.Topic = NewAlarmTopic(scope, "topic", p.Name, p.KmsKeyArn)
		a.TopicArn = a.Topic.Arn()
	}
	actions := &[]*string{a.TopicArn}

	a.NotRunning = notRunningAlarm(scope, &p, actions)
	if p.LoadBalancerArnSuffix != nil {
		a.NoHealthyTarget = newBelowAlarm(scope, "no-healthy-target", &belowAlarm{
			name: p.Name + "-no-healthy-target",
			description: fmt.Sprintf("The load balancer of %s has had fewer than %d healthy target(s) for %d minutes: "+
				"Prometheus cannot be reached. See the target group's health check results.", p.Name, p.MinRunningTasks, NoTargetMinutes),
			namespace: "AWS/ApplicationELB", metric: "HealthyHostCount",
			dimensions: &map[string]*string{"LoadBalancer": p.LoadBalancerArnSuffix, "TargetGroup": p.TargetGroupArnSuffix},
			threshold:  p.MinRunningTasks, minutes: NoTargetMinutes, actions: actions,
		})
	}

	a.healthCheckRule(scope, &p)
	if p.ParameterPrefix != "" {
		a.parameterRule(scope, &p)
	}
	if p.DeliveryLogGroup != nil {
		a.deliveryAlarm(scope, &p, actions)
	}
	if p.ConfigSyncLogGroup != nil {
		a.configSyncAlarm(scope, &p, actions)
	}

	if a.Topic != nil {
		a.TopicPolicy = snstopicpolicy.NewSnsTopicPolicy(scope, jsii.String("topic-policy"), &snstopicpolicy.SnsTopicPolicyConfig{
			Arn:    a.Topic.Arn(),
			Policy: a.publishers(p.WorkspaceArn).JSON(),
		})
	}
	if p.Email != "" {
		a.Subscription = snstopicsubscription.NewSnsTopicSubscription(scope, jsii.String("email"), &snstopicsubscription.SnsTopicSubscriptionConfig{
			TopicArn: a.TopicArn,
			Protocol: jsii.String("email"),
			Endpoint: jsii.String(p.Email),
		})
	}
	return a
}

// notRunningAlarm fires when the service has run fewer than
// MinRunningTasks tasks for DownMinutes. Container Insights publishes
// RunningTaskCount once a minute per service. No data is breaching: a
// service with no task may report nothing at all. Without it, AWS/ECS's
// CPUUtilization has a sample a minute while a task runs and none
// otherwise.
func notRunningAlarm(scope constructs.Construct, p *ServiceAlarmsProps, actions *[]*string) cloudwatchmetricalarm.CloudwatchMetricAlarm {
	running := &belowAlarm{
		name: p.Name + "-not-running",
		description: fmt.Sprintf("%s has run fewer than %d task(s) for %d minutes: Prometheus is down. "+
			"See the service's events and stopped tasks in the ECS console.", p.Name, p.MinRunningTasks, DownMinutes),
		namespace: "ECS/ContainerInsights", metric: "RunningTaskCount", statistic: "Maximum",
		dimensions: &map[string]*string{"ClusterName": p.ClusterName, "ServiceName": p.ServiceName},
		threshold:  p.MinRunningTasks, minutes: DownMinutes, actions: actions,
	}
	if p.WithoutContainerInsights {
		running.namespace, running.metric, running.statistic = "AWS/ECS", "CPUUtilization", "SampleCount"
	}
	return newBelowAlarm(scope, "not-running", running)
}

// healthCheckRule forwards each task the scheduler stops for a failed
// health check to the topic, as one readable line.
func (a *ServiceAlarms) healthCheckRule(scope constructs.Construct, p *ServiceAlarmsProps) {
	a.HealthCheckFailed = cloudwatcheventrule.NewCloudwatchEventRule(scope, jsii.String("health-check-failed"), &cloudwatcheventrule.CloudwatchEventRuleConfig{
		Name:         jsii.String(p.Name + "-unhealthy"),
		Description:  jsii.String("ECS stopped a task of " + p.Name + " because it failed a health check"),
		EventPattern: jsii.String(healthCheckPattern(p.ClusterArn, p.ServiceName)),
		Tags:         nameTag(p.Name + "-unhealthy"),
	})
	// One readable line per stopped task instead of the raw event JSON.
	a.HealthCheckTarget = cloudwatcheventtarget.NewCloudwatchEventTarget(scope, jsii.String("health-check-failed-target"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
		Rule:     a.HealthCheckFailed.Name(),
		TargetId: jsii.String("alarm-topic"),
		Arn:      a.TopicArn,
		InputTransformer: &cloudwatcheventtarget.CloudwatchEventTargetInputTransformer{
			InputPaths: &map[string]*string{
				"time": jsii.String("$.time"), "task": jsii.String("$.detail.taskArn"), "reason": jsii.String("$.detail.stoppedReason"),
			},
			InputTemplate: jsii.String(`"<time>: ECS stopped task <task> of ` + p.Name + `: <reason>. ECS starts a replacement; if this repeats, read the task's logs."`),
		},
	})
}

// parameterRule tells the topic of every change to the stack's parameters.
// Whoever may write them may change what the task runs (a scrape job, a
// remote_write anywhere, the rules and the routing gone), so a change is
// worth a message. EventBridge cannot tell a deploy from a change made
// outside one: the "Parameter Store Change" event names the parameter and
// the operation, not who made it (Systems Manager user guide, "Monitoring
// Systems Manager events with Amazon EventBridge"). Every change notifies,
// and the message says that one during a deploy is expected.
func (a *ServiceAlarms) parameterRule(scope constructs.Construct, p *ServiceAlarmsProps) {
	name := p.Name + "-params-changed"
	a.ParameterChanged = cloudwatcheventrule.NewCloudwatchEventRule(scope, jsii.String("parameter-changed"), &cloudwatcheventrule.CloudwatchEventRuleConfig{
		Name:         jsii.String(name),
		Description:  jsii.String("A parameter under " + p.ParameterPrefix + " (the configuration of " + p.Name + ") changed"),
		EventPattern: jsii.String(ParameterChangePattern(p.ParameterPrefix)),
		Tags:         nameTag(name),
	})
	a.ParameterChangedTarget = cloudwatcheventtarget.NewCloudwatchEventTarget(scope, jsii.String("parameter-changed-target"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
		Rule:     a.ParameterChanged.Name(),
		TargetId: jsii.String("alarm-topic"),
		Arn:      a.TopicArn,
		InputTransformer: &cloudwatcheventtarget.CloudwatchEventTargetInputTransformer{
			InputPaths: &map[string]*string{
				"time": jsii.String("$.time"), "parameter": jsii.String("$.detail.name"), "operation": jsii.String("$.detail.operation"),
			},
			InputTemplate: jsii.String(`"<time>: SSM parameter <parameter> of ` + p.Name + `: <operation>. Expected during a deploy (terraform apply); ` +
				`if nobody deployed, someone changed the running configuration outside one: write access to these parameters is deploy-level access. ` +
				`terraform plan shows the difference from the settings."`),
		},
	})
}

// ParameterChangePattern matches every Parameter Store change (create,
// update, delete, label) of a parameter whose name starts with prefix.
func ParameterChangePattern(prefix string) string {
	b, err := json.Marshal(map[string]any{
		"source":      []string{"aws.ssm"},
		"detail-type": []string{"Parameter Store Change"},
		"detail":      map[string]any{"name": []map[string]string{{"prefix": prefix}}},
	})
	if err != nil {
		panic(err) // strings and maps only
	}
	return string(b)
}

// DeliveryMetricNamespace holds the log-derived counts of a service's
// faults, per alarm name (ServiceAlarmsProps.Name).
func DeliveryMetricNamespace(name string) string { return "PrometheusAWS/" + name }

// DeliveryFailuresMetric is the metric DeliveryFailures counts into.
const DeliveryFailuresMetric = "AlertDeliveryFailures"

// deliveryAlarm counts the lines the Alertmanager logs when it gives up on
// a notification (its own retries exhausted: publishing denied, the topic
// gone, SNS unreachable) and alarms on the first within a minute. The
// count is CloudWatch's, from the log, so it reaches the topic even when
// the task's own publishing is what fails (CloudWatch publishes as
// cloudwatch.amazonaws.com); a deleted topic silences this too, which
// make verify's alert path check reports.
func (a *ServiceAlarms) deliveryAlarm(scope constructs.Construct, p *ServiceAlarmsProps, actions *[]*string) {
	a.DeliveryFailures, a.DeliveryFailing = newLogCountAlarm(scope, &logCountAlarm{
		id: "delivery", name: p.Name + "-alert-delivery", logGroup: p.DeliveryLogGroup,
		line: taskcontract.DeliveryFailedLog, namespace: DeliveryMetricNamespace(p.Name), metric: DeliveryFailuresMetric,
		description: fmt.Sprintf("The Alertmanager of %s gave up delivering a notification: alerts are not reaching the topic. "+
			"Its log (%q) says why: publishing denied (the task role, the topic or key policy), the topic gone, SNS unreachable.", p.Name, taskcontract.DeliveryFailedLog),
		periods: 1, datapoints: 1, actions: actions,
	})
}

// ConfigSyncFailuresMetric is the metric ConfigSyncFailures counts into.
const ConfigSyncFailuresMetric = "ConfigSyncFailures"

// ConfigSyncFailingMinutes is how many of the last five minutes must see a
// failed config-sync round before ConfigSyncFailing fires: one throttled
// call is retried 15 s later and is no news; minutes of them mean changes
// are not arriving.
const ConfigSyncFailingMinutes = 3

// configSyncAlarm counts config-sync's failed rounds (one log line each,
// every 15 s while failing) and alarms when ConfigSyncFailingMinutes of
// the last five minutes saw one.
func (a *ServiceAlarms) configSyncAlarm(scope constructs.Construct, p *ServiceAlarmsProps, actions *[]*string) {
	a.ConfigSyncFailures, a.ConfigSyncFailing = newLogCountAlarm(scope, &logCountAlarm{
		id: "config-sync", name: p.Name + "-config-sync", logGroup: p.ConfigSyncLogGroup,
		line: taskcontract.ConfigSyncRoundFailedLog, namespace: DeliveryMetricNamespace(p.Name), metric: ConfigSyncFailuresMetric,
		description: fmt.Sprintf("The config-sync sidecar of %s failed to bring its configuration up to date in %d of the last 5 minutes: "+
			"the task runs on its last configuration, and changes applied since are not live. Its log (%q and the lines before) says why: "+
			"SSM throttling or failing, the task role, a parameter deleted.", p.Name, ConfigSyncFailingMinutes, taskcontract.ConfigSyncRoundFailedLog),
		periods: 5, datapoints: ConfigSyncFailingMinutes, actions: actions,
	})
}

// logCountAlarm is a metric filter counting one log line and an alarm on
// that count: id-failures and id-failing, named name-failures and
// name-failing.
type logCountAlarm struct {
	id, name, line, namespace, metric, description string
	logGroup                                       *string
	// The alarm fires when datapoints of the last periods minutes saw the
	// line at least once.
	periods, datapoints int
	actions             *[]*string
}

func newLogCountAlarm(scope constructs.Construct, l *logCountAlarm) (cloudwatchlogmetricfilter.CloudwatchLogMetricFilter, cloudwatchmetricalarm.CloudwatchMetricAlarm) {
	filter := cloudwatchlogmetricfilter.NewCloudwatchLogMetricFilter(scope, jsii.String(l.id+"-failures"), &cloudwatchlogmetricfilter.CloudwatchLogMetricFilterConfig{
		Name:         jsii.String(l.name + "-failures"),
		LogGroupName: l.logGroup,
		// A quoted term matches the exact phrase anywhere in the line
		// (CloudWatch Logs user guide, "Filter pattern syntax for metric
		// filters": unstructured log events).
		Pattern: jsii.String(strconv.Quote(l.line)),
		MetricTransformation: &cloudwatchlogmetricfilter.CloudwatchLogMetricFilterMetricTransformation{
			Name: jsii.String(l.metric), Namespace: jsii.String(l.namespace), Value: jsii.String("1"), Unit: jsii.String("Count"),
		},
	})
	name := l.name + "-failing"
	alarm := cloudwatchmetricalarm.NewCloudwatchMetricAlarm(scope, jsii.String(l.id+"-failing"), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:        jsii.String(name),
		AlarmDescription: jsii.String(l.description),
		Namespace:        jsii.String(l.namespace), MetricName: jsii.String(l.metric),
		Statistic: jsii.String("Sum"), Period: jsii.Number(60), EvaluationPeriods: jsii.Number(l.periods), DatapointsToAlarm: jsii.Number(l.datapoints),
		ComparisonOperator: jsii.String("GreaterThanOrEqualToThreshold"), Threshold: jsii.Number(1),
		// No failure logged, no data: that is the good case.
		TreatMissingData: jsii.String("notBreaching"),
		AlarmActions:     l.actions, OkActions: l.actions,
		Tags: nameTag(name),
	})
	return filter, alarm
}

// belowAlarm is an alarm on a count that must not fall below threshold.
type belowAlarm struct {
	name, description, namespace, metric string
	dimensions                           *map[string]*string
	// statistic of the metric; default Maximum.
	statistic          string
	threshold, minutes int
	actions            *[]*string
}

// newBelowAlarm alarms when every one-minute period of the last minutes
// saw fewer than threshold (Maximum: a minute counts as down only if no
// sample in it saw enough). Missing data is breaching: no report means
// nothing to count. The actions hear of the alarm and of the recovery.
func newBelowAlarm(scope constructs.Construct, id string, b *belowAlarm) cloudwatchmetricalarm.CloudwatchMetricAlarm {
	return cloudwatchmetricalarm.NewCloudwatchMetricAlarm(scope, jsii.String(id), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:          jsii.String(b.name),
		AlarmDescription:   jsii.String(b.description),
		Namespace:          jsii.String(b.namespace),
		MetricName:         jsii.String(b.metric),
		Dimensions:         b.dimensions,
		Statistic:          jsii.String(orDefault(b.statistic, "Maximum")),
		Period:             jsii.Number(60),
		EvaluationPeriods:  jsii.Number(b.minutes),
		DatapointsToAlarm:  jsii.Number(b.minutes),
		ComparisonOperator: jsii.String("LessThanThreshold"),
		Threshold:          jsii.Number(float64(b.threshold)),
		TreatMissingData:   jsii.String("breaching"),
		AlarmActions:       b.actions,
		OkActions:          b.actions,
		Tags:               nameTag(b.name),
	})
}

// publishers is the topic policy: CloudWatch may publish for these alarms
// and EventBridge for this rule, in this account; nobody else is granted
// anything (the account's own principals manage the topic through IAM).
func (a *ServiceAlarms) publishers(workspaceArn *string) *PolicyDocument {
	// The topic's owner is this account: no data source needed.
	account := *a.Topic.Owner()
	alarms := []string{*a.NotRunning.Arn()}
	if a.DeliveryFailing != nil {
		alarms = append(alarms, *a.DeliveryFailing.Arn())
	}
	if a.ConfigSyncFailing != nil {
		alarms = append(alarms, *a.ConfigSyncFailing.Arn())
	}
	if a.NoHealthyTarget != nil {
		alarms = append(alarms, *a.NoHealthyTarget.Arn())
	}
	publish := func(sid, service string, sources []string) Statement {
		return Statement{
			Sid: sid, Effect: "Allow",
			Principal: map[string]string{"Service": service},
			Action:    []string{"sns:Publish"},
			Resource:  []string{*a.Topic.Arn()},
			Condition: map[string]any{
				"StringEquals": map[string]string{"aws:SourceAccount": account},
				"ArnEquals":    map[string][]string{"aws:SourceArn": sources},
			},
		}
	}
	rules := []string{*a.HealthCheckFailed.Arn()}
	if a.ParameterChanged != nil {
		rules = append(rules, *a.ParameterChanged.Arn())
	}
	doc := Policy(
		publish("CloudWatchAlarms", "cloudwatch.amazonaws.com", alarms),
		publish("EventBridgeRule", "events.amazonaws.com", rules),
	)
	if workspaceArn != nil {
		// AMP user guide, "Permission to send alert messages to your Amazon
		// SNS topic": Publish and GetTopicAttributes, for the workspace.
		st := publish("AMPAlertManager", "aps.amazonaws.com", []string{*workspaceArn})
		st.Action = []string{"sns:Publish", "sns:GetTopicAttributes"}
		doc.Statement = append(doc.Statement, st)
	}
	return doc
}

// NewAlarmTopic is the alarm topic: named <name>-alarms, encrypted with
// kmsKeyArn when given (see NewServiceAlarms on why not alias/aws/sns).
func NewAlarmTopic(scope constructs.Construct, id, name, kmsKeyArn string) snstopic.SnsTopic {
	return snstopic.NewSnsTopic(scope, jsii.String(id), &snstopic.SnsTopicConfig{
		Name:           jsii.String(name + "-alarms"),
		KmsMasterKeyId: optional(kmsKeyArn),
		Tags:           nameTag(name + "-alarms"),
	})
}

// healthCheckPattern matches the final state change ("STOPPED") of a task
// that the service's scheduler stopped for a failed health check. The
// reason is matched by prefix: ECS may append details.
func healthCheckPattern(clusterArn, serviceName *string) string {
	var reasons []map[string]string
	for _, r := range healthCheckStopReasons {
		reasons = append(reasons, map[string]string{"prefix": r})
	}
	b, err := json.Marshal(map[string]any{
		"source":      []string{"aws.ecs"},
		"detail-type": []string{"ECS Task State Change"},
		"detail": map[string]any{
			"clusterArn":    []string{*clusterArn},
			"group":         []string{"service:" + *serviceName},
			"lastStatus":    []string{"STOPPED"},
			"stoppedReason": reasons,
		},
	})
	if err != nil {
		panic(err) // strings and maps only
	}
	return string(b)
}
