package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/flowlog"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
)

// FlowLogs records the VPC's accepted and rejected traffic in CloudWatch
// Logs: who tried to reach the nodes or Prometheus, for audits and
// incident response. Opt-in (it costs per GB ingested).
type FlowLogs struct {
	LogGroup cloudwatchloggroup.CloudwatchLogGroup
	Role     iamrole.IamRole
	FlowLog  flowlog.FlowLog
}

func newFlowLogs(scope constructs.Construct, name string, vpcID *string, retentionDays int, kmsKeyArn string) *FlowLogs {
	f := &FlowLogs{}
	f.LogGroup = cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String("flow-logs"), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            jsii.String("/vpc/" + name + "/flow-logs"),
		RetentionInDays: jsii.Number(retentionDays),
		KmsKeyId:        optional(kmsKeyArn),
		Tags:            nameTag(name + "-flow-logs"),
	})
	f.Role = newServiceRole(scope, "flow-logs-role", name+"-flow-logs", "vpc-flow-logs.amazonaws.com")
	newRolePolicy(scope, "flow-logs-policy", f.Role, "write-flow-logs", Policy(Statement{
		Sid: "FlowLogs", Effect: "Allow",
		Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		Resource: []string{*f.LogGroup.Arn() + ":*"},
	}))
	f.FlowLog = flowlog.NewFlowLog(scope, jsii.String("flow-log"), &flowlog.FlowLogConfig{
		VpcId:              vpcID,
		TrafficType:        jsii.String("ALL"),
		LogDestinationType: jsii.String("cloud-watch-logs"),
		LogDestination:     f.LogGroup.Arn(),
		IamRoleArn:         f.Role.Arn(),
		Tags:               nameTag(name + "-flow-log"),
	})
	return f
}
