package fargate

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"
)

// The task metadata endpoint v4 and the container credentials endpoint,
// in the shapes the ECS agent serves them (ECS developer guide, "Amazon
// ECS task metadata endpoint version 4 for tasks on Fargate" and "Amazon
// ECS task IAM role"). Containers find them through
// ECS_CONTAINER_METADATA_URI_V4 and AWS_CONTAINER_CREDENTIALS_FULL_URI.

type containerMetadata struct {
	DockerId      string            `json:"DockerId"`
	Name          string            `json:"Name"`
	DockerName    string            `json:"DockerName"`
	Image         string            `json:"Image"`
	Labels        map[string]string `json:"Labels"`
	DesiredStatus string            `json:"DesiredStatus"`
	KnownStatus   string            `json:"KnownStatus"`
	ExitCode      *int              `json:"ExitCode,omitempty"`
	Health        *healthMetadata   `json:"Health,omitempty"`
	CreatedAt     string            `json:"CreatedAt,omitempty"`
	StartedAt     string            `json:"StartedAt,omitempty"`
	Type          string            `json:"Type"`
	ContainerARN  string            `json:"ContainerARN"`
	LogDriver     string            `json:"LogDriver,omitempty"`
	LogOptions    map[string]string `json:"LogOptions,omitempty"`
	Networks      []map[string]any  `json:"Networks"`
}

type healthMetadata struct {
	Status   string `json:"status"`
	StatusAt string `json:"statusSince,omitempty"`
	Output   string `json:"output,omitempty"`
}

type taskMetadata struct {
	Cluster          string              `json:"Cluster"`
	TaskARN          string              `json:"TaskARN"`
	Family           string              `json:"Family"`
	Revision         string              `json:"Revision"`
	DesiredStatus    string              `json:"DesiredStatus"`
	KnownStatus      string              `json:"KnownStatus"`
	Limits           map[string]float64  `json:"Limits"`
	PullStartedAt    string              `json:"PullStartedAt,omitempty"`
	PullStoppedAt    string              `json:"PullStoppedAt,omitempty"`
	AvailabilityZone string              `json:"AvailabilityZone"`
	LaunchType       string              `json:"LaunchType"`
	Containers       []containerMetadata `json:"Containers"`
	ClockDrift       map[string]any      `json:"ClockDrift"`
	EphemeralStorage map[string]any      `json:"EphemeralStorageMetrics"`
}

// serveMetadata answers on l until it is closed.
func (t *Task) serveMetadata(l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/credentials/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/v2/credentials/")
		t.mu.Lock()
		creds, ok := t.taskCreds, t.credsID != "" && id == t.credsID
		t.mu.Unlock()
		if !ok {
			http.Error(w, `{"code":"NotFound","message":"credentials not found"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]string{
			"RoleArn": creds.RoleArn, "AccessKeyId": creds.AccessKeyId, "SecretAccessKey": creds.SecretAccessKey,
			"Token": creds.Token, "Expiration": creds.Expiration.UTC().Format(time.RFC3339),
		})
	})
	for _, version := range []string{"/v3/", "/v4/"} {
		mux.HandleFunc(version, func(w http.ResponseWriter, r *http.Request) {
			rest := strings.TrimPrefix(r.URL.Path, version)
			id, sub, _ := strings.Cut(rest, "/")
			c := t.containerByID(id)
			if c == nil {
				http.NotFound(w, r)
				return
			}
			switch sub {
			case "":
				writeJSON(w, t.containerMetadata(c))
			case "task":
				writeJSON(w, t.metadata())
			default:
				http.NotFound(w, r)
			}
		})
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.Serve(l)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (t *Task) containerByID(id string) *Container {
	for _, c := range t.Containers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (t *Task) containerMetadata(c *Container) containerMetadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := containerMetadata{
		DockerId: c.ID, Name: c.Name, DockerName: "ecs-" + t.Family + "-" + c.Name, Image: c.Image,
		Labels: map[string]string{
			"com.amazonaws.ecs.cluster": t.Cluster, "com.amazonaws.ecs.container-name": c.Name,
			"com.amazonaws.ecs.task-arn": t.ARN, "com.amazonaws.ecs.task-definition-family": t.Family,
			"com.amazonaws.ecs.task-definition-version": t.Revision,
		},
		DesiredStatus: "RUNNING", KnownStatus: c.status, Type: "NORMAL",
		ContainerARN: t.ARN[:strings.Index(t.ARN, ":task/")] + ":container/" + t.Cluster + "/" + t.ID + "/" + c.ID,
		LogDriver:    c.logDriver, LogOptions: c.logOptions,
		Networks: []map[string]any{{"NetworkMode": "awsvpc", "IPv4Addresses": []string{"127.0.0.1"}}},
	}
	if !c.startedAt.IsZero() {
		m.StartedAt = c.startedAt.UTC().Format(time.RFC3339Nano)
	}
	if c.exited {
		code := c.exitCode
		m.ExitCode = &code
	}
	if c.health != "" {
		m.Health = &healthMetadata{Status: c.health, Output: c.healthOutput}
	}
	return m
}

func (t *Task) metadata() taskMetadata {
	m := taskMetadata{
		Cluster: t.Cluster, TaskARN: t.ARN, Family: t.Family, Revision: t.Revision,
		DesiredStatus: "RUNNING", KnownStatus: t.LastStatus(), LaunchType: "FARGATE",
		AvailabilityZone: t.region + "a",
		Limits:           map[string]float64{"CPU": t.cpu / 1024, "Memory": t.memory},
		ClockDrift:       map[string]any{"ClockErrorBound": 0.5, "ReferenceTimestamp": time.Now().UTC().Format(time.RFC3339), "ClockSynchronizationStatus": "SYNCHRONIZED"},
		EphemeralStorage: map[string]any{"Utilized": 0, "Reserved": 20496},
	}
	for _, c := range t.Containers {
		m.Containers = append(m.Containers, t.containerMetadata(c))
	}
	return m
}
