package constructs_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func withAlertmanager() *pconstructs.PrometheusFargateServiceProps {
	p := prometheusProps()
	p.Alertmanager = &pconstructs.AlertmanagerProps{
		Image: "prom/alertmanager:v0.35.0", Port: 9093, TopicArn: jsii.String("arn:aws:sns:eu-central-1:123456789012:ops"),
		ConfigYAML: "route:\n  receiver: r\nreceivers:\n  - name: r\n    sns_configs:\n      - topic_arn: " + taskcontract.TopicARNPlaceholder + "\n",
	}
	return p
}

// Given an Alertmanager, when synthesized, then the task runs it as a
// second container of the task contract, its configuration in a parameter
// of its own with the topic filled in, the execution role reads both
// parameters and the task role may publish to that topic alone.
func TestAlertmanagerIsTheTasksSecondContainer(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewPrometheusFargateService(s, "prometheus", withAlertmanager())
	})
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(only(t, d, "aws_ecs_task_definition")["container_definitions"])), &defs); err != nil || len(defs) != 3 {
		t.Fatalf("want three containers (Prometheus, config-sync, Alertmanager): %v %d", err, len(defs))
	}
	am := defs[2]
	if am["name"] != taskcontract.AlertmanagerContainerName || am["essential"] != true || am["readonlyRootFilesystem"] != true {
		t.Errorf("alertmanager container: %v", am)
	}
	if count(d, "aws_ssm_parameter") != 2 {
		t.Errorf("want the configuration parameters of both containers, have %d", count(d, "aws_ssm_parameter"))
	}
	for _, p := range d.Of("aws_ssm_parameter") {
		if v := policy.Str(p["insecure_value"]); strings.Contains(v, "sns_configs") && !strings.Contains(v, "topic_arn: arn:aws:sns:eu-central-1:123456789012:ops") {
			t.Errorf("the topic ARN must replace the placeholder:\n%s", v)
		}
	}
	if sids := statements(t, d, "prometheus"); !strings.Contains(strings.Join(sids, ","), "PublishAlerts") {
		t.Errorf("task role statements %v: want PublishAlerts", sids)
	}
	if v := policy.Check(d, policy.Options{}); len(v) != 0 {
		t.Errorf("policy: %v", v)
	}
}

// Given contradicting or missing Alertmanager props, construction refuses
// with the prop to fix.
func TestAlertmanagerPropsRefused(t *testing.T) {
	refused(t, func(s cdktf.TerraformStack) {
		p := withAlertmanager()
		p.DesiredCount = 2
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "would send every alert 2 times")
	refused(t, func(s cdktf.TerraformStack) {
		p := withAlertmanager()
		p.Alertmanager.TopicArn = nil
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "TopicArn")
	refused(t, func(s cdktf.TerraformStack) {
		p := withAlertmanager()
		p.Alertmanager.Port = 9090
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "Prometheus's port too")
}
