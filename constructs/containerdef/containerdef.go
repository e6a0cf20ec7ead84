// Package containerdef is the one typed home of an ECS container
// definition (as terraform-aws-modules' container-definition module is):
// the fields this project's containers use, rendered as the JSON ECS's
// RegisterTaskDefinition takes, and the rules ECS applies to them on
// Fargate, checked before anything is synthesized or run. The constructs
// build their containers with it, the policy checks read synthesized JSON
// back with it, and the local runner checks a task against the same rules.
//
// It is a leaf: no jsii, no Terraform, so any of those can import it.
package containerdef

import (
	"bytes"
	"encoding/json"
)

// Container is one container definition. The fields are declared in the
// alphabetical order of their JSON keys, so the rendering is stable and
// reads like ECS's own.
type Container struct {
	Command          []string          `json:"command,omitempty"`
	DependsOn        []Dependency      `json:"dependsOn,omitempty"`
	EntryPoint       []string          `json:"entryPoint,omitempty"`
	Environment      []KeyValue        `json:"environment,omitempty"`
	Essential        bool              `json:"essential"`
	HealthCheck      *HealthCheck      `json:"healthCheck,omitempty"`
	Image            string            `json:"image"`
	LinuxParameters  *LinuxParameters  `json:"linuxParameters,omitempty"`
	LogConfiguration *LogConfiguration `json:"logConfiguration,omitempty"`
	MountPoints      []MountPoint      `json:"mountPoints,omitempty"`
	Name             string            `json:"name"`
	PortMappings     []PortMapping     `json:"portMappings,omitempty"`
	// ReadonlyRootFilesystem: the container writes only to its mounts.
	ReadonlyRootFilesystem bool `json:"readonlyRootFilesystem"`
	// RestartPolicy restarts a container that exits, in place, without
	// replacing the task (for a non-essential one whose exit must not stop
	// the task).
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
	Secrets       []Secret       `json:"secrets,omitempty"`
	// StopTimeout is the seconds between SIGTERM and SIGKILL (Fargate: at
	// most 120).
	StopTimeout int    `json:"stopTimeout,omitempty"`
	User        string `json:"user,omitempty"`
}

// Dependency starts a container after another reaches Condition: START,
// COMPLETE, SUCCESS or HEALTHY.
type Dependency struct {
	Condition     string `json:"condition"`
	ContainerName string `json:"containerName"`
}

// KeyValue is an environment variable.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Secret is an environment variable ECS fills from Secrets Manager or SSM
// when the task starts (ValueFrom: an ARN, with ":<json key>::" for one
// key of a JSON secret).
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// RestartPolicy is ECS's container restart policy (developer guide,
// "Restart individual containers in Amazon ECS tasks with container restart
// policies"): restarted after an exit, once it has run
// RestartAttemptPeriod seconds (60 to 1800).
type RestartPolicy struct {
	Enabled              bool `json:"enabled"`
	RestartAttemptPeriod int  `json:"restartAttemptPeriod,omitempty"`
}

// HealthCheck runs Command (CMD or CMD-SHELL first) every Interval seconds.
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    int      `json:"interval"`
	Retries     int      `json:"retries"`
	StartPeriod int      `json:"startPeriod"`
	Timeout     int      `json:"timeout"`
}

// LinuxParameters are the kernel capabilities and tmpfs mounts.
type LinuxParameters struct {
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	Tmpfs        []Tmpfs       `json:"tmpfs,omitempty"`
}

// Capabilities added to or dropped from the container's default set.
type Capabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Tmpfs is an in-memory mount of Size MiB (it counts against the task's
// memory).
type Tmpfs struct {
	ContainerPath string   `json:"containerPath"`
	MountOptions  []string `json:"mountOptions,omitempty"`
	Size          int      `json:"size"`
}

// LogConfiguration is the log driver and its options.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options,omitempty"`
}

// MountPoint mounts a task volume.
type MountPoint struct {
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly"`
	SourceVolume  string `json:"sourceVolume"`
}

// PortMapping publishes a port on the task's network interface (awsvpc:
// HostPort equals ContainerPort).
type PortMapping struct {
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

// Env is the value of the container's environment variable name ("" when
// unset).
func (c Container) Env(name string) string {
	for _, e := range c.Environment {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// Render is the containers as the JSON of a task definition's
// container_definitions (no HTML escaping: shell scripts stay readable).
func Render(cs []Container) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cs); err != nil {
		panic(err) // only strings, numbers and slices: cannot fail
	}
	return string(bytes.TrimSpace(buf.Bytes()))
}

// Parse reads container_definitions JSON back.
func Parse(data string) ([]Container, error) {
	var cs []Container
	err := json.Unmarshal([]byte(data), &cs)
	return cs, err
}
