package fargate

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// What ECS's API says of a task the runner runs: DescribeTasks' shape, so
// an emulator that runs no tasks can answer for these (internal/harness).

// APITask is a task as DescribeTasks returns it (JSON protocol), with the
// fields this project reads.
type APITask struct {
	TaskArn           string         `json:"taskArn"`
	ClusterArn        string         `json:"clusterArn"`
	TaskDefinitionArn string         `json:"taskDefinitionArn"`
	Group             string         `json:"group,omitempty"`
	LaunchType        string         `json:"launchType"`
	LastStatus        string         `json:"lastStatus"`
	DesiredStatus     string         `json:"desiredStatus"`
	HealthStatus      string         `json:"healthStatus"`
	StopCode          string         `json:"stopCode,omitempty"`
	StoppedReason     string         `json:"stoppedReason,omitempty"`
	Cpu               string         `json:"cpu,omitempty"`
	Memory            string         `json:"memory,omitempty"`
	Containers        []APIContainer `json:"containers"`
}

// APIContainer is one container of an APITask.
type APIContainer struct {
	ContainerArn string `json:"containerArn"`
	TaskArn      string `json:"taskArn"`
	Name         string `json:"name"`
	Image        string `json:"image"`
	LastStatus   string `json:"lastStatus"`
	HealthStatus string `json:"healthStatus"`
	ExitCode     *int   `json:"exitCode,omitempty"`
}

// Group is the task's ECS group ("service:<name>" for a service's task).
func (t *Task) Group() string { return t.opts.Group }

// API describes the task as DescribeTasks would.
func (t *Task) API() APITask {
	code, reason := t.StoppedReason()
	last := t.LastStatus()
	desired := "RUNNING"
	if code != "" {
		desired = "STOPPED"
	}
	a := APITask{
		TaskArn: t.ARN, ClusterArn: fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", t.region, accountOf(t.def), t.Cluster),
		TaskDefinitionArn: aws.ToString(t.def.TaskDefinitionArn), Group: t.opts.Group, LaunchType: "FARGATE",
		LastStatus: last, DesiredStatus: desired, HealthStatus: t.HealthStatus(), StopCode: code, StoppedReason: reason,
		Cpu: aws.ToString(t.def.Cpu), Memory: aws.ToString(t.def.Memory),
	}
	for _, c := range t.Containers {
		health := c.Health()
		if health == "" {
			health = "UNKNOWN"
		}
		ac := APIContainer{ContainerArn: t.ARN + "/" + c.ID, TaskArn: t.ARN, Name: c.Name, Image: c.Image,
			LastStatus: c.Status(), HealthStatus: health}
		if code, exited := c.ExitCode(); exited {
			ac.ExitCode = &code
		}
		a.Containers = append(a.Containers, ac)
	}
	return a
}

// Tasks are every task this runner started, running or stopped, oldest
// first.
func (r *Runner) Tasks() []*Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Task(nil), r.tasks...)
}
