package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type ecsTask = ecstypes.Task

func clusterName(t *Target) string {
	if c := first(t.State, "aws_ecs_cluster"); c != nil {
		return str(c, "name")
	}
	return t.Settings.StackName()
}

func serviceName(t *Target) string {
	if s := first(t.State, "aws_ecs_service"); s != nil {
		return str(s, "name")
	}
	return t.Settings.Name("prometheus")
}

// stateTaskDefinition is the task definition ARN (with its revision) the
// state holds.
func stateTaskDefinition(t *Target) string {
	if td := first(t.State, "aws_ecs_task_definition"); td != nil {
		return str(td, "arn")
	}
	return ""
}

func ecsDesired(s string) ecstypes.DesiredStatus { return ecstypes.DesiredStatus(s) }

// revision is family:revision of a task definition ARN.
func revision(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// checkService: running = desired, the primary deployment completed on the
// task definition the state holds, no rollback, and no task of it stopped
// by a failed health check or an essential container's exit.
func checkService(ctx context.Context, t *Target, _ Options) Result {
	c := ecs.NewFromConfig(t.AWS)
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(clusterName(t)), Services: []string{serviceName(t)}})
	if err != nil {
		return fail("check the credentials' ecs:DescribeServices permission and the region", "describing service %s: %v", serviceName(t), err)
	}
	if len(out.Services) != 1 || aws.ToString(out.Services[0].Status) != "ACTIVE" {
		return fail("apply the stack (make deploy)", "service %s in cluster %s does not exist", serviceName(t), clusterName(t))
	}
	svc := out.Services[0]
	want := stateTaskDefinition(t)
	var primary *ecstypes.Deployment
	for i, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			primary = &svc.Deployments[i]
		}
		if d.RolloutState == ecstypes.DeploymentRolloutStateFailed {
			return fail("read the stopped tasks' reasons (aws ecs describe-tasks) and the container log; fix and deploy again",
				"deployment %s of %s failed: %s", aws.ToString(d.Id), revision(aws.ToString(d.TaskDefinition)), aws.ToString(d.RolloutStateReason))
		}
	}
	if primary == nil {
		return fail("apply the stack (make deploy)", "service %s has no primary deployment", serviceName(t))
	}
	if got := aws.ToString(primary.TaskDefinition); want != "" && got != want {
		return fail("read the service's events (aws ecs describe-services); deploy again once the cause is fixed",
			"the service runs %s, the stack applied %s: the deployment was rolled back (circuit breaker) or the service changed outside Terraform",
			revision(got), revision(want))
	}
	stopped, err := serviceTasks(ctx, t, "STOPPED")
	if err != nil {
		return fail("check the credentials' ecs:ListTasks and ecs:DescribeTasks permissions", "%v", err)
	}
	for _, task := range stopped {
		if aws.ToString(task.TaskDefinitionArn) != aws.ToString(primary.TaskDefinition) || !failedStop(task) {
			continue
		}
		return fail("read the container log (log group "+logGroup(t)+") for why it stopped; fix and deploy again",
			"task %s of %s stopped: %s%s", revision(aws.ToString(task.TaskArn)), revision(aws.ToString(task.TaskDefinitionArn)),
			aws.ToString(task.StoppedReason), containerExits(task))
	}
	running, desired := svc.RunningCount, svc.DesiredCount
	if running != desired {
		return fail("wait for ECS to start the tasks (verify --wait 10m), or read the service's events",
			"%d of %d desired tasks running (%d pending)", running, desired, svc.PendingCount)
	}
	if primary.RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		return fail("wait for the deployment to complete (verify --wait 10m)", "the deployment of %s is %s: %s",
			revision(aws.ToString(primary.TaskDefinition)), primary.RolloutState, aws.ToString(primary.RolloutStateReason))
	}
	tasks, err := serviceTasks(ctx, t, "RUNNING")
	if err != nil {
		return fail("check the credentials' ecs:ListTasks and ecs:DescribeTasks permissions", "%v", err)
	}
	for _, task := range tasks {
		if got := aws.ToString(task.TaskDefinitionArn); want != "" && got != want {
			return fail("wait for the deployment to replace it (verify --wait 10m)", "task %s runs %s, not %s",
				revision(aws.ToString(task.TaskArn)), revision(got), revision(want))
		}
	}
	return pass("%d of %d tasks running %s, deployment completed", running, desired, revision(aws.ToString(primary.TaskDefinition)))
}

// failedStop reports whether a stopped task stopped for a fault rather
// than a deployment or a scale-in.
func failedStop(task ecsTask) bool {
	switch task.StopCode {
	case ecstypes.TaskStopCodeEssentialContainerExited, ecstypes.TaskStopCodeTaskFailedToStart:
		return true
	}
	return strings.Contains(strings.ToLower(aws.ToString(task.StoppedReason)), "health check")
}

// containerExits names the containers that exited, with their codes.
func containerExits(task ecsTask) string {
	var parts []string
	for _, c := range task.Containers {
		if c.ExitCode != nil {
			s := fmt.Sprintf("%s exited %d", aws.ToString(c.Name), *c.ExitCode)
			if r := aws.ToString(c.Reason); r != "" {
				s += " (" + r + ")"
			}
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

func logGroup(t *Target) string {
	if lg := first(t.State, "aws_cloudwatch_log_group"); lg != nil {
		return str(lg, "name")
	}
	return "?"
}

// checkContainers: every running task HEALTHY, each container with a
// health check HEALTHY.
func checkContainers(ctx context.Context, t *Target, _ Options) Result {
	tasks, err := serviceTasks(ctx, t, "RUNNING")
	if err != nil {
		return fail("check the credentials' ecs:ListTasks and ecs:DescribeTasks permissions", "%v", err)
	}
	if len(tasks) == 0 {
		return fail("see the service check", "no running task of service %s", serviceName(t))
	}
	var names []string
	for _, task := range tasks {
		if task.HealthStatus == ecstypes.HealthStatusHealthy {
			for _, c := range task.Containers {
				names = append(names, aws.ToString(c.Name))
			}
			continue
		}
		var bad []string
		for _, c := range task.Containers {
			if c.HealthStatus != ecstypes.HealthStatusHealthy {
				bad = append(bad, fmt.Sprintf("%s %s (%s)", aws.ToString(c.Name), c.HealthStatus, aws.ToString(c.LastStatus)))
			}
		}
		return fail("a fresh task becomes healthy within its start period (verify --wait 10m); else read the container log (log group "+logGroup(t)+")",
			"task %s is %s: %s", revision(aws.ToString(task.TaskArn)), task.HealthStatus, strings.Join(bad, ", "))
	}
	return pass("%d task(s) HEALTHY (%s)", len(tasks), strings.Join(names, ", "))
}
