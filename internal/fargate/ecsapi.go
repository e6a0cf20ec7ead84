package fargate

import (
	"fmt"
	"sort"

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
	AvailabilityZone  string         `json:"availabilityZone,omitempty"`
	// Attachments hold the task's ENI (awsvpc, as every Fargate task):
	// its private address is ENIAddress, where the runner's tasks are
	// reached (their published ports, through the egress a task is given).
	Attachments []APIAttachment `json:"attachments"`
	// Tags are set only for DescribeTasks with include TAGS (WithTags).
	Tags []APITag `json:"tags,omitempty"`
}

// APIAttachment is an attachment of an APITask.
type APIAttachment struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Status  string      `json:"status"`
	Details []APIDetail `json:"details"`
}

// APIDetail is a name and value of an attachment.
type APIDetail struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// APITag is an ECS tag.
type APITag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ENIAddress is the private IPv4 address DescribeTasks gives every task
// of the runner: each task has only loopback, and what reaches a task's
// port mapping from another task is that task's egress to 127.0.0.1:<port>
// (RunOptions.Egress, HostPorts). The ENI has no id: on AWS a client may
// look it up in EC2 (DescribeNetworkInterfaces, for its public IP), and no
// such interface exists in the emulator.
const ENIAddress = "127.0.0.1"

// APIContainer is one container of an APITask.
type APIContainer struct {
	ContainerArn string `json:"containerArn"`
	TaskArn      string `json:"taskArn"`
	Name         string `json:"name"`
	Image        string `json:"image"`
	LastStatus   string `json:"lastStatus"`
	HealthStatus string `json:"healthStatus"`
	ExitCode     *int   `json:"exitCode,omitempty"`
	// Reason is why the container stopped, e.g. OutOfMemoryError.
	Reason string `json:"reason,omitempty"`
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
		Cpu: aws.ToString(t.def.Cpu), Memory: aws.ToString(t.def.Memory), AvailabilityZone: t.opts.AvailabilityZone,
	}
	eni := APIAttachment{ID: "eni-attachment-" + t.ID[:8], Type: "ElasticNetworkInterface", Status: "ATTACHED",
		Details: []APIDetail{{Name: "privateIPv4Address", Value: ENIAddress}}}
	if code != "" {
		eni.Status = "DELETED"
	}
	if t.opts.Subnet != "" {
		eni.Details = append(eni.Details, APIDetail{Name: "subnetId", Value: t.opts.Subnet})
	}
	a.Attachments = []APIAttachment{eni}
	for _, c := range t.Containers {
		health := c.Health()
		if health == "" {
			health = "UNKNOWN"
		}
		ac := APIContainer{ContainerArn: t.ARN + "/" + c.ID, TaskArn: t.ARN, Name: c.Name, Image: c.Image,
			LastStatus: c.Status(), HealthStatus: health, Reason: c.Reason()}
		if code, exited := c.ExitCode(); exited {
			ac.ExitCode = &code
		}
		a.Containers = append(a.Containers, ac)
	}
	return a
}

// WithTags is a with its tags, sorted by key, as DescribeTasks returns it
// with include TAGS.
func (t *Task) WithTags(a APITask) APITask {
	keys := make([]string, 0, len(t.opts.Tags))
	for k := range t.opts.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a.Tags = []APITag{}
	for _, k := range keys {
		a.Tags = append(a.Tags, APITag{Key: k, Value: t.opts.Tags[k]})
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
