package constructs_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
)

func alarmProps() *pconstructs.ServiceAlarmsProps {
	return &pconstructs.ServiceAlarmsProps{Name: "p", ClusterName: jsii.String("c"), ClusterArn: jsii.String("arn:c"), ServiceName: jsii.String("svc")}
}

// Given the required props, when synthesized, then a topic only the
// alarms and the rule may publish to, an alarm below one running task, and
// the health check rule; no subscription and no load balancer alarm.
func TestServiceAlarmsDefaults(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) { pconstructs.NewServiceAlarms(s, "alarms", alarmProps()) })
	only(t, d, "aws_sns_topic")
	only(t, d, "aws_sns_topic_policy")
	alarm := only(t, d, "aws_cloudwatch_metric_alarm")
	if alarm["metric_name"] != "RunningTaskCount" || alarm["threshold"] != 1.0 || alarm["comparison_operator"] != "LessThanThreshold" {
		t.Errorf("alarm %v", alarm)
	}
	only(t, d, "aws_cloudwatch_event_rule")
	only(t, d, "aws_cloudwatch_event_target")
	if count(d, "aws_sns_topic_subscription") != 0 {
		t.Error("no subscription without Email")
	}
}

// Given an existing topic and an email, when synthesized, then no topic
// of its own, and the address subscribed to the given topic.
func TestServiceAlarmsOnAGivenTopic(t *testing.T) {
	const topic = "arn:aws:sns:eu-central-1:123456789012:ops"
	d := given(t, func(s cdktf.TerraformStack) {
		p := alarmProps()
		p.TopicArn, p.Email = topic, "ops@example.com"
		pconstructs.NewServiceAlarms(s, "alarms", p)
	})
	if count(d, "aws_sns_topic") != 0 || count(d, "aws_sns_topic_policy") != 0 {
		t.Error("a given topic is not created or re-policied")
	}
	if sub := only(t, d, "aws_sns_topic_subscription"); sub["topic_arn"] != topic || sub["endpoint"] != "ops@example.com" {
		t.Errorf("subscription %v", sub)
	}
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewServiceAlarms(s, "alarms", &pconstructs.ServiceAlarmsProps{Name: "p"})
	}, "ClusterName", "ClusterArn", "ServiceName")
}

// Given two tasks to keep running behind a load balancer, when
// synthesized, then both the running-task and the healthy-target alarm
// fire below two: one task of an HA pair down is news.
func TestServiceAlarmsWatchEveryReplica(t *testing.T) {
	p := alarmProps()
	p.MinRunningTasks = 2
	p.LoadBalancerArnSuffix, p.TargetGroupArnSuffix = jsii.String("app/lb/1"), jsii.String("targetgroup/tg/2")
	d := given(t, func(s cdktf.TerraformStack) { pconstructs.NewServiceAlarms(s, "alarms", p) })
	seen := map[string]bool{}
	for _, a := range d.Of("aws_cloudwatch_metric_alarm") {
		metric := a["metric_name"].(string)
		seen[metric] = true
		if a["threshold"] != 2.0 || a["comparison_operator"] != "LessThanThreshold" {
			t.Errorf("%s alarm: threshold %v %v, want LessThanThreshold 2 (MinRunningTasks)", metric, a["comparison_operator"], a["threshold"])
		}
	}
	if !seen["RunningTaskCount"] || !seen["HealthyHostCount"] {
		t.Errorf("want the running-task and the healthy-target alarm, have %v", seen)
	}
}
