package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/stacks"
)

// TestPrometheusIsWatched applies the default stack with an alarm email
// (no nodes: they play no part here) and checks, through the AWS APIs of
// the emulator, that an outage of Prometheus would reach someone: the
// running-task alarm on the service, the health check rule, both notifying
// the topic, the topic's publishers and the email subscription. The event
// pattern is tried on events shaped like ECS's: a task stopped for a failed
// health check matches, a deployment's stop does not.
func TestPrometheusIsWatched(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "alarms", map[string]string{"PROMAWS_NODE_COUNT": "0", "PROMAWS_ALARM_EMAIL": "ops@example.com"})

	step(t, "apply and re-plan clean", func(t *testing.T) {
		dep.apply(t)
		dep.assertCleanPlan(t)
	})

	out := dep.outputs(t)
	topic := out["alarm_topic_arn"]
	name := dep.Settings.Name("prometheus")
	if topic == "" {
		t.Fatalf("no alarm_topic_arn output: %v", out)
	}
	clusters, err := ecs.NewFromConfig(h.aws).DescribeClusters(h.ctx, &ecs.DescribeClustersInput{Clusters: []string{out["cluster_name"]}})
	if err != nil || len(clusters.Clusters) != 1 {
		t.Fatalf("cluster: %v", err)
	}
	cluster, service := aws.ToString(clusters.Clusters[0].ClusterArn), out["service_name"]

	step(t, "the running-task alarm watches the service and notifies the topic", func(t *testing.T) {
		alarms, err := cloudwatch.NewFromConfig(h.aws).DescribeAlarms(h.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		// Without a load balancer: the running-task alarm, the delivery
		// alarm (TestAlertDeliveryFailsForGood checks that one) and the
		// config-sync alarm (its line: TestAPIFaults).
		var running []cwtypes.MetricAlarm
		for _, a := range alarms.MetricAlarms {
			if aws.ToString(a.MetricName) == "RunningTaskCount" {
				running = append(running, a)
			}
		}
		if len(alarms.MetricAlarms) != 3 || len(running) != 1 {
			t.Fatalf("want the running-task, the delivery and the config-sync alarm without a load balancer, have %d alarms, %d on RunningTaskCount", len(alarms.MetricAlarms), len(running))
		}
		a := running[0]
		dims := map[string]string{}
		for _, d := range a.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		if aws.ToString(a.Namespace) != "ECS/ContainerInsights" || aws.ToString(a.MetricName) != "RunningTaskCount" ||
			dims["ClusterName"] != out["cluster_name"] || dims["ServiceName"] != out["service_name"] || len(dims) != 2 {
			t.Errorf("alarm must watch RunningTaskCount of %s/%s: %s %s %v", out["cluster_name"], out["service_name"], aws.ToString(a.Namespace), aws.ToString(a.MetricName), dims)
		}
		if a.ComparisonOperator != cwtypes.ComparisonOperatorLessThanThreshold || aws.ToFloat64(a.Threshold) != 1 ||
			aws.ToString(a.TreatMissingData) != "breaching" || aws.ToInt32(a.Period) != 60 || aws.ToInt32(a.EvaluationPeriods) != 5 {
			t.Errorf("alarm must fire after 5 minutes below one task, missing data counting as none: %s %v %v %v %v",
				a.ComparisonOperator, aws.ToFloat64(a.Threshold), aws.ToString(a.TreatMissingData), aws.ToInt32(a.Period), aws.ToInt32(a.EvaluationPeriods))
		}
		if !slices.Equal(a.AlarmActions, []string{topic}) || !slices.Equal(a.OKActions, []string{topic}) {
			t.Errorf("alarm and recovery must notify the topic %s: %v %v", topic, a.AlarmActions, a.OKActions)
		}
	})

	var pattern string
	step(t, "the health check rule watches the service and targets the topic", func(t *testing.T) {
		eb := eventbridge.NewFromConfig(h.aws)
		rule, err := eb.DescribeRule(h.ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name + "-unhealthy")})
		if err != nil {
			t.Fatal(err)
		}
		if rule.State != ebtypes.RuleStateEnabled {
			t.Errorf("rule state %s", rule.State)
		}
		pattern = aws.ToString(rule.EventPattern)
		var p struct {
			Detail struct {
				ClusterArn []string `json:"clusterArn"`
				Group      []string `json:"group"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(pattern), &p); err != nil {
			t.Fatalf("event pattern %q: %v", pattern, err)
		}
		if !slices.Equal(p.Detail.ClusterArn, []string{cluster}) || !slices.Equal(p.Detail.Group, []string{"service:" + service}) {
			t.Errorf("the rule must match this service's tasks only: %s", pattern)
		}
		targets, err := eb.ListTargetsByRule(h.ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
		if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != topic {
			t.Fatalf("the rule's one target must be the topic %s: %v %v", topic, targets, err)
		}
	})

	step(t, "only a health check failure of this service matches the rule", func(t *testing.T) {
		matched := matchedEvents(t, h, pattern, []map[string]any{
			taskEvent(cluster, service, "task/healthcheck", "STOPPED", "Task failed container health checks"),
			taskEvent(cluster, service, "task/elb", "STOPPED", "Task failed ELB health checks"),
			taskEvent(cluster, service, "task/stopping", "DEACTIVATING", "Task failed container health checks"),
			taskEvent(cluster, service, "task/deployment", "STOPPED", "Scaling activity initiated by (deployment ecs-svc/1234567890)"),
			taskEvent(cluster, "other-service", "task/other", "STOPPED", "Task failed container health checks"),
		})
		if !slices.Equal(matched, []string{"task/elb", "task/healthcheck"}) {
			t.Errorf("matched %v; want the two tasks stopped (final state) for a failed check of this service", matched)
		}
	})

	step(t, "only the alarms and the rule may publish, and the email is subscribed", func(t *testing.T) {
		c := sns.NewFromConfig(h.aws)
		attrs, err := c.GetTopicAttributes(h.ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
		if err != nil {
			t.Fatal(err)
		}
		var policy struct {
			Statement []struct {
				Principal struct{ Service string }
				Action    []string
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(attrs.Attributes["Policy"]), &policy); err != nil {
			t.Fatalf("topic policy %q: %v", attrs.Attributes["Policy"], err)
		}
		var principals []string
		for _, st := range policy.Statement {
			principals = append(principals, st.Principal.Service)
			if !slices.Equal(st.Action, []string{"sns:Publish"}) || st.Condition["ArnEquals"]["aws:SourceArn"] == nil || st.Condition["StringEquals"]["aws:SourceAccount"] == nil {
				t.Errorf("%s may only publish, for this stack's sources in this account: %+v", st.Principal.Service, st)
			}
		}
		slices.Sort(principals)
		if !slices.Equal(principals, []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}) {
			t.Errorf("publishers %v, want CloudWatch and EventBridge only", principals)
		}
		subs, err := c.ListSubscriptionsByTopic(h.ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
		if err != nil || len(subs.Subscriptions) != 1 || aws.ToString(subs.Subscriptions[0].Protocol) != "email" || aws.ToString(subs.Subscriptions[0].Endpoint) != "ops@example.com" {
			t.Errorf("want one email subscription for ops@example.com: %+v %v", subs, err)
		}
	})

	// A deployment made before alert delivery has the topic at the alarms'
	// address: the moved block must carry it (and its confirmed
	// subscriptions) over, not destroy and create it.
	step(t, "a deployment from before alert delivery keeps its topic: moved, not replaced", func(t *testing.T) {
		state, err := dep.State(h.ctx)
		if err != nil || state == nil {
			t.Fatalf("terraform state: %v (or nothing applied)", err)
		}
		current := ""
		for _, r := range state.Values.RootModule.Resources {
			if r.Type == "aws_sns_topic" {
				current = r.Address
			}
		}
		if err := dep.TF.StateMv(h.ctx, current, stacks.LegacyAlarmTopicAddress); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "plan.tfplan")
		if _, err := dep.TF.Plan(h.ctx, tfexec.Out(file)); err != nil {
			t.Fatal(err)
		}
		plan, err := dep.TF.ShowPlanFile(h.ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		moved := false
		for _, rc := range plan.ResourceChanges {
			if !rc.Change.Actions.NoOp() {
				t.Errorf("%s: %v; an upgraded deployment must change nothing", rc.Address, rc.Change.Actions)
			}
			moved = moved || (rc.Address == current && rc.PreviousAddress == stacks.LegacyAlarmTopicAddress)
		}
		if !moved {
			t.Errorf("the plan must move %s to %s", stacks.LegacyAlarmTopicAddress, current)
		}
	})

	step(t, "destroy removes alarms, rule and topic", func(t *testing.T) {
		dep.destroy(t)
		alarms, err := cloudwatch.NewFromConfig(h.aws).DescribeAlarms(h.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name)})
		if err != nil || len(alarms.MetricAlarms) != 0 {
			t.Errorf("alarms left after destroy: %v %v", alarms, err)
		}
		rules, err := eventbridge.NewFromConfig(h.aws).ListRules(h.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(name)})
		if err != nil || len(rules.Rules) != 0 {
			t.Errorf("rules left after destroy: %v %v", rules, err)
		}
		topics, err := sns.NewFromConfig(h.aws).ListTopics(h.ctx, &sns.ListTopicsInput{})
		if err != nil || len(topics.Topics) != 0 {
			t.Errorf("topics left after destroy: %v %v", topics, err)
		}
	})
}

// taskEvent is the detail of an "ECS Task State Change" event as ECS sends
// it for a task of a service.
func taskEvent(cluster, service, task, lastStatus, reason string) map[string]any {
	return map[string]any{
		"clusterArn":    cluster,
		"group":         "service:" + service,
		"taskArn":       task,
		"lastStatus":    lastStatus,
		"desiredStatus": "STOPPED",
		"stopCode":      "ServiceSchedulerInitiated",
		"stoppedReason": reason,
		"launchType":    "FARGATE",
	}
}

// matchedEvents puts details through pattern and returns the taskArns that
// matched, sorted. The emulator cannot deliver to SNS, so a copy of the
// pattern on a bus of its own forwards to a queue instead.
func matchedEvents(t *testing.T, h *harness, pattern string, details []map[string]any) []string {
	t.Helper()
	eb, q := eventbridge.NewFromConfig(h.aws), sqs.NewFromConfig(h.aws)
	queueURL, queueArn := h.queue(t, "pattern-check")
	bus := aws.String("pattern-check")
	if _, err := eb.CreateEventBus(h.ctx, &eventbridge.CreateEventBusInput{Name: bus}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(h.ctx, &eventbridge.PutRuleInput{Name: bus, EventBusName: bus, EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(h.ctx, &eventbridge.PutTargetsInput{Rule: bus, EventBusName: bus, Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueArn)}}}); err != nil {
		t.Fatal(err)
	}
	var entries []ebtypes.PutEventsRequestEntry
	for _, d := range details {
		detail, _ := json.Marshal(d)
		entries = append(entries, ebtypes.PutEventsRequestEntry{EventBusName: bus, Source: aws.String("aws.ecs"), DetailType: aws.String("ECS Task State Change"), Detail: aws.String(string(detail))})
	}
	if res, err := eb.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: entries}); err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("put events: %v %v", res, err)
	}
	msgs, err := q.ReceiveMessage(h.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []string
	for _, m := range msgs.Messages {
		var ev struct {
			Detail struct{ TaskArn string } `json:"detail"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
			t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
		}
		tasks = append(tasks, ev.Detail.TaskArn)
	}
	slices.Sort(tasks)
	return tasks
}
