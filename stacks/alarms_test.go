package stacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const testTopic = "arn:aws:sns:eu-central-1:123456789012:ops-alerts"

// alarmsByMetric returns the metric alarms of a variant by metric name.
func alarmsByMetric(d *policy.Doc) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range d.Of("aws_cloudwatch_metric_alarm") {
		out[policy.Str(a["metric_name"])] = a
	}
	return out
}

func TestRunningTaskAlarm(t *testing.T) {
	d := byDefault.doc(t)
	alarms := alarmsByMetric(d)
	if len(alarms) != 3 || alarms[pconstructs.DeliveryFailuresMetric] == nil || alarms[pconstructs.ConfigSyncFailuresMetric] == nil {
		t.Fatalf("without a load balancer the running-task, the delivery and the config-sync alarm are expected, have %v", d.Names("aws_cloudwatch_metric_alarm"))
	}
	a := alarms["RunningTaskCount"]
	cluster, _ := one(t, d, "aws_ecs_cluster")
	service, _ := one(t, d, "aws_ecs_service")
	topic, _ := one(t, d, "aws_sns_topic")
	want := map[string]any{
		"namespace": "ECS/ContainerInsights", "comparison_operator": "LessThanThreshold", "threshold": 1.0,
		"treat_missing_data": "breaching", "period": 60.0, "evaluation_periods": 5.0, "datapoints_to_alarm": 5.0,
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("running-task alarm %s = %v, want %v", k, a[k], v)
		}
	}
	dims, _ := a["dimensions"].(map[string]any)
	if len(dims) != 2 || dims["ClusterName"] != policy.Ref("aws_ecs_cluster", cluster, "name") || dims["ServiceName"] != policy.Ref("aws_ecs_service", service, "name") {
		t.Errorf("the alarm must watch this cluster's Prometheus service: %v", dims)
	}
	topicArn := policy.Ref("aws_sns_topic", topic, "arn")
	if !slices.Equal(policy.Strings(a["alarm_actions"]), []string{topicArn}) || !slices.Equal(policy.Strings(a["ok_actions"]), []string{topicArn}) {
		t.Errorf("alarm and recovery must notify the topic: %v %v", a["alarm_actions"], a["ok_actions"])
	}
	if got := policy.Str(policy.Path(d.Raw, "output", "alarm_topic_arn", "value")); got != topicArn {
		t.Errorf("output alarm_topic_arn = %q, want the topic", got)
	}
}

// containerInsights=false: the cluster reports no Container Insights
// metrics (none billed), and the running-task alarm reads AWS/ECS's free
// CPUUtilization, which ECS reports for the service only while a task
// runs: a minute without a sample is a minute without a running task.
var noContainerInsights = declare("no-container-insights", env{"PROMAWS_CONTAINER_INSIGHTS": "false"})

func TestRunningTaskAlarmWithoutContainerInsights(t *testing.T) {
	d := noContainerInsights.doc(t)
	_, cluster := one(t, d, "aws_ecs_cluster")
	if s := mustJSON(t, cluster["setting"]); !strings.Contains(s, `"name":"containerInsights","value":"disabled"`) {
		t.Errorf("Container Insights must be off: %s", s)
	}
	a := alarmsByMetric(d)["CPUUtilization"]
	want := map[string]any{
		"namespace": "AWS/ECS", "statistic": "SampleCount", "comparison_operator": "LessThanThreshold", "threshold": 1.0,
		"treat_missing_data": "breaching", "period": 60.0, "evaluation_periods": 5.0, "datapoints_to_alarm": 5.0,
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("running-task alarm %s = %v, want %v", k, a[k], v)
		}
	}
	clusterName, _ := one(t, d, "aws_ecs_cluster")
	service, _ := one(t, d, "aws_ecs_service")
	if dims, _ := a["dimensions"].(map[string]any); len(dims) != 2 || dims["ServiceName"] != policy.Ref("aws_ecs_service", service, "name") || dims["ClusterName"] != policy.Ref("aws_ecs_cluster", clusterName, "name") {
		t.Errorf("the alarm must watch this cluster's Prometheus service: %v", dims)
	}
	if alarmsByMetric(d)["RunningTaskCount"] != nil {
		t.Error("no alarm may read Container Insights when it is off")
	}
	_, def := one(t, byDefault.doc(t), "aws_ecs_cluster")
	if s := mustJSON(t, def["setting"]); !strings.Contains(s, `"value":"enabled"`) {
		t.Errorf("Container Insights is on by default: %s", s)
	}
}

func TestHealthCheckRule(t *testing.T) {
	d := byDefault.doc(t)
	rule, r := named(t, d, "aws_cloudwatch_event_rule", "-unhealthy")
	cluster, _ := one(t, d, "aws_ecs_cluster")
	service, _ := one(t, d, "aws_ecs_service")
	var p struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			ClusterArn    []string            `json:"clusterArn"`
			Group         []string            `json:"group"`
			LastStatus    []string            `json:"lastStatus"`
			StoppedReason []map[string]string `json:"stoppedReason"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(policy.Str(r["event_pattern"])), &p); err != nil {
		t.Fatalf("event pattern: %v", err)
	}
	var reasons []string
	for _, m := range p.Detail.StoppedReason {
		reasons = append(reasons, m["prefix"])
	}
	if !slices.Equal(p.Source, []string{"aws.ecs"}) || !slices.Equal(p.DetailType, []string{"ECS Task State Change"}) ||
		!slices.Equal(p.Detail.ClusterArn, []string{policy.Ref("aws_ecs_cluster", cluster, "arn")}) ||
		!slices.Equal(p.Detail.Group, []string{"service:" + policy.Ref("aws_ecs_service", service, "name")}) ||
		!slices.Equal(p.Detail.LastStatus, []string{"STOPPED"}) ||
		!slices.Equal(reasons, []string{"Task failed container health checks", "Task failed ELB health checks"}) {
		t.Errorf("the rule must match this service's tasks stopped for a failed health check: %+v", p)
	}
	_, target := withAttr(t, d, "aws_cloudwatch_event_target", "rule", policy.Ref("aws_cloudwatch_event_rule", rule, "name"))
	topic, _ := one(t, d, "aws_sns_topic")
	if target["arn"] != policy.Ref("aws_sns_topic", topic, "arn") || target["rule"] != policy.Ref("aws_cloudwatch_event_rule", rule, "name") {
		t.Errorf("the rule must notify the topic: %v", target)
	}
}

// TestAlarmTopicPublishers: only CloudWatch (for these alarms) and
// EventBridge (for this rule) may publish, each pinned to its sources.
func TestAlarmTopicPublishers(t *testing.T) {
	for _, v := range []*variant{byDefault, tlsCert} {
		d := v.doc(t)
		topic, _ := one(t, d, "aws_sns_topic")
		_, pol := one(t, d, "aws_sns_topic_policy")
		if pol["arn"] != policy.Ref("aws_sns_topic", topic, "arn") {
			t.Errorf("%s: the policy must be the topic's: %v", v, pol["arn"])
		}
		var doc struct {
			Statement []struct {
				Effect    string
				Principal map[string]string
				Action    []string
				Resource  []string
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(policy.Str(pol["policy"])), &doc); err != nil {
			t.Fatal(err)
		}
		var alarms []string
		for name := range d.Of("aws_cloudwatch_metric_alarm") {
			alarms = append(alarms, policy.Ref("aws_cloudwatch_metric_alarm", name, "arn"))
		}
		var rules []string
		for name := range d.Of("aws_cloudwatch_event_rule") {
			rules = append(rules, policy.Ref("aws_cloudwatch_event_rule", name, "arn"))
		}
		if len(rules) != 2 {
			t.Fatalf("%s: want the health check and the parameter rule, have %v", v, rules)
		}
		want := map[string][]string{
			"cloudwatch.amazonaws.com": alarms,
			"events.amazonaws.com":     rules,
		}
		if len(doc.Statement) != len(want) {
			t.Fatalf("%s: want one statement per publisher, have %d", v, len(doc.Statement))
		}
		for _, st := range doc.Statement {
			service := st.Principal["Service"]
			sources := policy.Strings(anyList(st.Condition["ArnEquals"]["aws:SourceArn"]))
			slices.Sort(sources)
			slices.Sort(want[service])
			if st.Effect != "Allow" || !slices.Equal(st.Action, []string{"sns:Publish"}) || !slices.Equal(st.Resource, []string{policy.Ref("aws_sns_topic", topic, "arn")}) {
				t.Errorf("%s: %s may only publish to the topic: %+v", v, service, st)
			}
			if want[service] == nil || !slices.Equal(sources, want[service]) {
				t.Errorf("%s: %s must be pinned to %v, is pinned to %v", v, service, want[service], sources)
			}
			if st.Condition["StringEquals"]["aws:SourceAccount"] != policy.Ref("aws_sns_topic", topic, "owner") {
				t.Errorf("%s: %s must be pinned to this account: %v", v, service, st.Condition)
			}
		}
	}
}

func anyList(v any) any {
	if l, ok := v.([]any); ok {
		return l
	}
	return v
}

func TestAlarmTopicEncryption(t *testing.T) {
	// Never alias/aws/sns: CloudWatch and EventBridge cannot use that key,
	// so their notifications would be dropped (policy rule sns-key-usable).
	for v, want := range map[*variant]any{byDefault: nil, tlsCert: nil, tlsDomainLocal: testKey} {
		_, topic := one(t, v.doc(t), "aws_sns_topic")
		if topic["kms_master_key_id"] != want {
			t.Errorf("%s: topic kms_master_key_id = %v, want %v", v, topic["kms_master_key_id"], want)
		}
	}
}

// Alarm notifications: an email on the created topic; an existing topic
// (the customer key then encrypts nothing of ours).
var (
	alarmEmail = declare("alarm-email", env{"PROMAWS_ALARM_EMAIL": "ops@example.com"})
	alarmTopic = declare("alarm-topic", env{"PROMAWS_ALARM_TOPIC_ARN": testTopic, "PROMAWS_KMS_KEY_ARN": testKey})
)

func TestAlarmEmailOnlyWhenSet(t *testing.T) {
	if n := len(byDefault.doc(t).Of("aws_sns_topic_subscription")); n != 0 {
		t.Errorf("no subscription without alarmEmail, have %d", n)
	}
	d := alarmEmail.doc(t)
	_, sub := one(t, d, "aws_sns_topic_subscription")
	topic, _ := one(t, d, "aws_sns_topic")
	if sub["protocol"] != "email" || sub["endpoint"] != "ops@example.com" || sub["topic_arn"] != policy.Ref("aws_sns_topic", topic, "arn") {
		t.Errorf("email subscription: %v", sub)
	}
}

func TestLoadBalancerAlarmOnlyWithTLS(t *testing.T) {
	if _, ok := alarmsByMetric(byDefault.doc(t))["HealthyHostCount"]; ok {
		t.Error("no load balancer alarm without a load balancer")
	}
	for _, v := range []*variant{tlsCert, tlsDomainLocal} {
		d := v.doc(t)
		a, ok := alarmsByMetric(d)["HealthyHostCount"]
		if !ok {
			t.Fatalf("%s: no HealthyHostCount alarm", v)
		}
		lb, _ := one(t, d, "aws_lb")
		tg, _ := named(t, d, "aws_lb_target_group", "-prometheus")
		dims, _ := a["dimensions"].(map[string]any)
		if a["namespace"] != "AWS/ApplicationELB" || a["comparison_operator"] != "LessThanThreshold" || a["threshold"] != 1.0 || a["treat_missing_data"] != "breaching" ||
			len(dims) != 2 || dims["LoadBalancer"] != policy.Ref("aws_lb", lb, "arn_suffix") || dims["TargetGroup"] != policy.Ref("aws_lb_target_group", tg, "arn_suffix") {
			t.Errorf("%s: the alarm must fire when this target group has no healthy target: %v", v, a)
		}
		// docs/operations.md: "no healthy target for 10 minutes" (a new
		// target also passes the target group's checks before it counts),
		// every period of them, where the running-task alarm waits 5.
		if window := policy.Num(a["period"]) * policy.Num(a["evaluation_periods"]); window != 600 || a["datapoints_to_alarm"] != a["evaluation_periods"] {
			t.Errorf("%s: the alarm must fire after 10 minutes in a row (600 s, every period breaching); it has period %v x %v evaluation periods = %v s, %v datapoints to alarm",
				v, a["period"], a["evaluation_periods"], window, a["datapoints_to_alarm"])
		}
	}
}

// TestAlarmThresholdsAreTheReplicas: with replicas=N every one of the N
// tasks should run ("one missing is a degraded HA pair"): the running-task
// alarm, and with a load balancer the healthy-target alarm, fire below N.
// The amp variant runs 2.
func TestAlarmThresholdsAreTheReplicas(t *testing.T) {
	if amp.settings(t).Replicas != 2 {
		t.Fatalf("the amp variant must run 2 replicas for this test, runs %d", amp.settings(t).Replicas)
	}
	if got := alarmsByMetric(amp.doc(t))["RunningTaskCount"]["threshold"]; got != 2.0 {
		t.Errorf("amp (2 replicas): the running-task alarm's threshold is %v, want 2: one task of two down must alarm", got)
	}
	checked := 0
	for _, v := range everyVariant() {
		for metric, a := range alarmsByMetric(v.doc(t)) {
			if metric != "RunningTaskCount" && metric != "HealthyHostCount" {
				continue // a count of failures, not of tasks
			}
			if want := float64(v.settings(t).Replicas); a["threshold"] != want {
				t.Errorf("%s: %s alarm threshold %v, want the replicas, %v", v, metric, a["threshold"], want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no alarm in any variant")
	}
}

func TestExistingAlarmTopic(t *testing.T) {
	d := alarmTopic.doc(t)
	for _, typ := range []string{"aws_sns_topic", "aws_sns_topic_policy", "aws_sns_topic_subscription"} {
		if n := len(d.Of(typ)); n != 0 {
			t.Errorf("alarmTopicArn uses the given topic: %d %s created", n, typ)
		}
	}
	for name, a := range d.Of("aws_cloudwatch_metric_alarm") {
		if !slices.Equal(policy.Strings(a["alarm_actions"]), []string{testTopic}) {
			t.Errorf("%s must notify the given topic: %v", name, a["alarm_actions"])
		}
	}
	for name, target := range d.Of("aws_cloudwatch_event_target") {
		if target["arn"] != testTopic {
			t.Errorf("rule target %s must notify the given topic: %v", name, target["arn"])
		}
	}
	if got := policy.Str(policy.Path(d.Raw, "output", "alarm_topic_arn", "value")); got != testTopic {
		t.Errorf("output alarm_topic_arn = %q", got)
	}
}

func TestAlarmsOff(t *testing.T) {
	d := remote.doc(t)
	for _, typ := range []string{"aws_sns_topic", "aws_cloudwatch_metric_alarm", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"} {
		if n := len(d.Of(typ)); n != 0 {
			t.Errorf("alarms=false: %d %s", n, typ)
		}
	}
	if policy.Path(d.Raw, "output", "alarm_topic_arn") != nil {
		t.Error("alarms=false: no topic output")
	}
}

// TestServiceAlarmsRejectsContradictions: the construct panics early, with
// the clashing props named, for inputs the settings layer cannot produce.
func TestServiceAlarmsRejectsContradictions(t *testing.T) {
	s := jsii.String
	valid := func() *pconstructs.ServiceAlarmsProps {
		return &pconstructs.ServiceAlarmsProps{Name: "x", ClusterName: s("c"), ClusterArn: s("arn:c"), ServiceName: s("svc")}
	}
	cases := map[string]struct {
		change func(p *pconstructs.ServiceAlarmsProps)
		want   string
	}{
		"missing service":       {func(p *pconstructs.ServiceAlarmsProps) { p.ServiceName = nil }, "required"},
		"half a load balancer":  {func(p *pconstructs.ServiceAlarmsProps) { p.TargetGroupArnSuffix = s("tg") }, "LoadBalancerArnSuffix and TargetGroupArnSuffix"},
		"topic and key":         {func(p *pconstructs.ServiceAlarmsProps) { p.TopicArn, p.KmsKeyArn = testTopic, testKey }, "TopicArn and KmsKeyArn"},
		"negative running task": {func(p *pconstructs.ServiceAlarmsProps) { p.MinRunningTasks = -1 }, "MinRunningTasks"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := cdktf.NewTerraformStack(cdktf.NewApp(nil), s("alarms"))
			p := valid()
			c.change(p)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("want a panic naming %q, got %v", c.want, r)
				}
			}()
			pconstructs.NewServiceAlarms(stack, "alarms", p)
		})
	}
}

// amp with a customer key: the key's owner says its policy admits
// aps.amazonaws.com (policy rule amp-alerts-key-usable).
var ampKMS = declare("amp-kms", env{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_KMS_KEY_ARN": testKey, "PROMAWS_KMS_KEY_ALLOWS_APS": "true"})

// amp with a customer key: the synthesized alert manager publishes to the
// encrypted topic, so without the owner's word that the key admits
// aps.amazonaws.com the policy refuses it (config refuses it earlier).
func TestAMPAlertsOnAnEncryptedTopicNeedTheKeyOwnersWord(t *testing.T) {
	// With kmsKeyAllowsAps it passes: TestPoliciesHoldForEveryVariant.
	d := ampKMS.doc(t)
	var fired bool
	for _, v := range policy.Check(d, policy.Options{}) {
		fired = fired || v.Rule == "amp-alerts-key-usable"
	}
	if !fired {
		t.Error("amp-alerts-key-usable must flag the synthesized alert manager publishing to the topic encrypted with kmsKeyArn")
	}
}

// The bundled Alertmanager's given-up notifications are counted from its
// log by CloudWatch and alarm on the topic within a minute, a path that
// does not depend on the Alertmanager's own delivery; without the bundled
// Alertmanager (AMP's, your own) there is no such alarm.
func TestDeliveryFailureAlarm(t *testing.T) {
	d := byDefault.doc(t)
	filter := filterCounting(t, d, taskcontract.DeliveryFailedLog)
	logGroup, _ := one(t, d, "aws_cloudwatch_log_group")
	if filter["log_group_name"] != policy.Ref("aws_cloudwatch_log_group", logGroup, "name") {
		t.Errorf("the filter must count %q in the task's log group: %v", taskcontract.DeliveryFailedLog, filter)
	}
	a := alarmsByMetric(d)[pconstructs.DeliveryFailuresMetric]
	topic, _ := one(t, d, "aws_sns_topic")
	want := map[string]any{"namespace": policy.Path(filter, "metric_transformation", "namespace"), "statistic": "Sum", "period": 60.0,
		"evaluation_periods": 1.0, "threshold": 1.0, "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("delivery alarm %s = %v, want %v", k, a[k], v)
		}
	}
	if !slices.Equal(policy.Strings(a["alarm_actions"]), []string{policy.Ref("aws_sns_topic", topic, "arn")}) {
		t.Errorf("the delivery alarm must notify the topic: %v", a["alarm_actions"])
	}
	_, tp := one(t, d, "aws_sns_topic_policy")
	if !strings.Contains(policy.Str(tp["policy"]), "delivery-failing") {
		t.Error("the topic policy must let CloudWatch publish for the delivery alarm")
	}
	for _, v := range []*variant{amp, remote} {
		if f := filtersCounting(v.doc(t), taskcontract.DeliveryFailedLog); len(f) != 0 {
			t.Errorf("%s: no bundled Alertmanager, so no delivery filter; have %v", v, f)
		}
	}
}

// config-sync's failed rounds are counted from the task's log in every
// storage mode (alarms=true), and an alarm notifies the topic when they go
// on for minutes (one throttled call, retried 15 s later, does not).
func TestConfigSyncFailureAlarm(t *testing.T) {
	for _, v := range []*variant{byDefault, amp} {
		t.Run(v.name, func(t *testing.T) {
			d := v.doc(t)
			filter := filterCounting(t, d, taskcontract.ConfigSyncRoundFailedLog)
			logGroup, _ := one(t, d, "aws_cloudwatch_log_group")
			if filter["log_group_name"] != policy.Ref("aws_cloudwatch_log_group", logGroup, "name") {
				t.Errorf("the filter must read the task's log group: %v", filter["log_group_name"])
			}
			a := alarmsByMetric(d)[pconstructs.ConfigSyncFailuresMetric]
			if a == nil {
				t.Fatalf("no alarm on %s", pconstructs.ConfigSyncFailuresMetric)
			}
			want := map[string]any{"namespace": policy.Path(filter, "metric_transformation", "namespace"), "statistic": "Sum", "period": 60.0,
				"evaluation_periods": 5.0, "datapoints_to_alarm": float64(pconstructs.ConfigSyncFailingMinutes), "threshold": 1.0,
				"comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching"}
			for k, w := range want {
				if a[k] != w {
					t.Errorf("config-sync alarm %s = %v, want %v", k, a[k], w)
				}
			}
			if len(policy.Strings(a["alarm_actions"])) != 1 {
				t.Errorf("the config-sync alarm must notify the alarm topic: %v", a["alarm_actions"])
			}
			if tps := d.Names("aws_sns_topic_policy"); len(tps) > 0 {
				if !strings.Contains(policy.Str(d.Of("aws_sns_topic_policy")[tps[0]]["policy"]), "config-sync-failing") {
					t.Error("the topic policy must let CloudWatch publish for the config-sync alarm")
				}
			}
		})
	}
}

// filtersCounting are the metric filters whose pattern is the quoted line.
func filtersCounting(d *policy.Doc, line string) []map[string]any {
	var out []map[string]any
	for _, name := range d.Names("aws_cloudwatch_log_metric_filter") {
		if f := d.Of("aws_cloudwatch_log_metric_filter")[name]; f["pattern"] == `"`+line+`"` {
			out = append(out, f)
		}
	}
	return out
}

// filterCounting is the one metric filter counting line.
func filterCounting(t *testing.T, d *policy.Doc, line string) map[string]any {
	t.Helper()
	f := filtersCounting(d, line)
	if len(f) != 1 {
		t.Fatalf("want one metric filter counting %q, have %d", line, len(f))
	}
	return f[0]
}

// Write access to the stack's parameters is deploy-level access (whoever
// writes prometheus.yml chooses what the task scrapes and where it
// writes), so every change to one of them is told to the alarm topic.
func TestParameterChangesNotify(t *testing.T) {
	// Given the default stack, whose parameters all live under /<stack>/
	d := byDefault.doc(t)
	prefix := "/" + byDefault.settings(t).StackName() + "/"
	for _, p := range d.Of("aws_ssm_parameter") {
		if !strings.HasPrefix(policy.Str(p["name"]), prefix) {
			t.Errorf("parameter %s is outside %s, so the rule would not see its changes", p["name"], prefix)
		}
	}
	// When a parameter under that path is created, updated or deleted
	rule, r := named(t, d, "aws_cloudwatch_event_rule", "-params-changed")
	var p struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     map[string][]map[string]string
	}
	if err := json.Unmarshal([]byte(policy.Str(r["event_pattern"])), &p); err != nil {
		t.Fatalf("event pattern: %v", err)
	}
	if !slices.Equal(p.Source, []string{"aws.ssm"}) || !slices.Equal(p.DetailType, []string{"Parameter Store Change"}) ||
		len(p.Detail) != 1 || len(p.Detail["name"]) != 1 || p.Detail["name"][0]["prefix"] != prefix {
		t.Errorf("the rule must match every Parameter Store change under %s: %s", prefix, r["event_pattern"])
	}
	// Then the topic hears of it, in a sentence naming the parameter and
	// the operation and saying a deploy explains it
	_, target := withAttr(t, d, "aws_cloudwatch_event_target", "rule", policy.Ref("aws_cloudwatch_event_rule", rule, "name"))
	topic, _ := one(t, d, "aws_sns_topic")
	if target["arn"] != policy.Ref("aws_sns_topic", topic, "arn") {
		t.Errorf("the parameter rule must notify the alarm topic: %v", target["arn"])
	}
	paths := policy.Path(target, "input_transformer", "input_paths")
	tmpl := policy.Str(policy.Path(target, "input_transformer", "input_template"))
	if policy.Str(policy.Path(paths, "parameter")) != "$.detail.name" || policy.Str(policy.Path(paths, "operation")) != "$.detail.operation" ||
		!strings.Contains(tmpl, "<parameter>") || !strings.Contains(tmpl, "<operation>") || !strings.Contains(tmpl, "Expected during a deploy") {
		t.Errorf("the message must name the parameter and the operation and mention deploys: %v %q", paths, tmpl)
	}
	// And EventBridge may publish for it (TestAlarmTopicPublishers checks
	// the topic policy names both rules).
}
