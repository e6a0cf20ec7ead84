package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// checkAlarms: the stack's CloudWatch alarms (Prometheus itself down, no
// healthy target behind the load balancer) are OK. A fresh alarm without
// data yet warns; one in ALARM fails.
func checkAlarms(ctx context.Context, t *Target, _ Options) Result {
	var names []string
	for _, r := range resources(t.State, "aws_cloudwatch_metric_alarm") {
		names = append(names, str(r, "alarm_name"))
	}
	if len(names) == 0 {
		return skip("", "the stack has no CloudWatch alarms (alarms=false)")
	}
	out, err := cloudwatch.NewFromConfig(t.AWS).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		return fail("check the credentials' cloudwatch:DescribeAlarms permission", "reading the alarms: %v", err)
	}
	var alarm, noData []string
	for _, a := range out.MetricAlarms {
		switch a.StateValue {
		case cwtypes.StateValueAlarm:
			alarm = append(alarm, fmt.Sprintf("%s (%s)", aws.ToString(a.AlarmName), aws.ToString(a.StateReason)))
		case cwtypes.StateValueInsufficientData:
			noData = append(noData, aws.ToString(a.AlarmName))
		}
	}
	if len(out.MetricAlarms) != len(names) {
		return fail("apply the stack (make deploy)", "%d of the stack's %d alarms exist", len(out.MetricAlarms), len(names))
	}
	if len(alarm) > 0 {
		return fail("the other checks and the container log say why; the alarm clears itself once the cause is gone",
			"in ALARM: %s", strings.Join(alarm, "; "))
	}
	if len(noData) > 0 {
		return warn("a new alarm gets data within a few minutes (verify --wait 10m); if it stays, Container Insights may be off on the cluster",
			"no data yet: %s", strings.Join(noData, ", "))
	}
	return pass("%d alarm(s) OK", len(names))
}
