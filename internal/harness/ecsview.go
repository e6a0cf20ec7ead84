package harness

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
)

// ECS in the emulator runs no tasks: a service's deployment stays
// IN_PROGRESS with runningCount 0 forever, and RunTask of a Fargate task
// fails. The tasks the local runner runs are the ones Fargate would run,
// so the emulator's ECS API answers for them here (the emulator's front,
// internal/emulator/front.go): ListTasks and DescribeTasks list them (with
// their zone, tags and an ENI whose address is fargate.ENIAddress, without
// an ENI id: what ECS discovery reads), and
// DescribeServices counts them and completes the primary deployment once
// every desired task runs and is healthy, as ECS does. Everything else is
// moto's. Named in docs/DESIGN.md (the local profile and its emulator).

const ecsTarget = "AmazonEC2ContainerServiceV20141113."

// ecsView is the override that answers ECS's task calls from the runner.
func ecsView(r *fargate.Runner) emulator.Override {
	return func(req *emulator.Request) (emulator.Answer, bool) {
		op, ok := strings.CutPrefix(req.Target, ecsTarget)
		if !ok {
			return emulator.Answer{}, false
		}
		switch op {
		case "ListTasks":
			return listTasks(req, r.Tasks())
		case "DescribeTasks":
			return describeTasks(req, r.Tasks())
		case "DescribeServices":
			return describeServices(req, r.Tasks())
		}
		return emulator.Answer{}, false
	}
}

// clusterMatches reports whether a request's cluster (name, ARN or empty
// for "default") names the task's cluster.
func clusterMatches(cluster string, t *fargate.Task) bool {
	if cluster == "" {
		cluster = "default"
	}
	return cluster == t.Cluster || strings.HasSuffix(cluster, ":cluster/"+t.Cluster)
}

func listTasks(req *emulator.Request, tasks []*fargate.Task) (emulator.Answer, bool) {
	var in struct {
		Cluster, ServiceName, DesiredStatus, Family string
	}
	if json.Unmarshal(req.Body, &in) != nil {
		return emulator.Answer{}, false
	}
	resp, body, err := req.Forward()
	if err != nil || resp.StatusCode != 200 {
		return emulator.Answer{}, false
	}
	var out struct {
		TaskArns []string `json:"taskArns"`
	}
	if json.Unmarshal(body, &out) != nil {
		return emulator.Answer{}, false
	}
	for _, t := range tasks {
		a := t.API()
		desired := in.DesiredStatus
		if desired == "" {
			desired = "RUNNING"
		}
		if !clusterMatches(in.Cluster, t) || a.DesiredStatus != desired ||
			(in.ServiceName != "" && a.Group != "service:"+in.ServiceName) || (in.Family != "" && t.Family != in.Family) {
			continue
		}
		out.TaskArns = append(out.TaskArns, t.ARN)
	}
	return answer(out)
}

func describeTasks(req *emulator.Request, tasks []*fargate.Task) (emulator.Answer, bool) {
	var in struct {
		Cluster string
		Tasks   []string
		Include []string
	}
	if json.Unmarshal(req.Body, &in) != nil {
		return emulator.Answer{}, false
	}
	var found []fargate.APITask
	var rest []string
	for _, want := range in.Tasks {
		i := slices.IndexFunc(tasks, func(t *fargate.Task) bool {
			return clusterMatches(in.Cluster, t) && (want == t.ARN || want == t.ID)
		})
		if i < 0 {
			rest = append(rest, want)
			continue
		}
		a := tasks[i].API()
		if slices.Contains(in.Include, "TAGS") {
			a = tasks[i].WithTags(a)
		}
		found = append(found, a)
	}
	if len(found) == 0 {
		return emulator.Answer{}, false
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Tasks    []fargate.APITask `json:"tasks"`
		Failures []failure         `json:"failures"`
	}{Tasks: found, Failures: []failure{}}
	for _, arn := range rest {
		out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
	}
	return answer(out)
}

// describeServices asks moto, then counts the runner's tasks of each
// service and settles its primary deployment as ECS would.
func describeServices(req *emulator.Request, tasks []*fargate.Task) (emulator.Answer, bool) {
	resp, body, err := req.Forward()
	if err != nil || resp.StatusCode != 200 {
		return emulator.Answer{}, false
	}
	var out map[string]any
	if json.Unmarshal(body, &out) != nil {
		return emulator.Answer{}, false
	}
	services, _ := out["services"].([]any)
	for _, v := range services {
		svc, _ := v.(map[string]any)
		name, _ := svc["serviceName"].(string)
		clusterArn, _ := svc["clusterArn"].(string)
		desired, _ := svc["desiredCount"].(float64)
		running, pending, healthy := 0, 0, true
		for _, t := range tasks {
			a := t.API()
			if a.Group != "service:"+name || !clusterMatches(clusterArn, t) || a.DesiredStatus != "RUNNING" {
				continue
			}
			switch a.LastStatus {
			case "RUNNING":
				running++
				healthy = healthy && a.HealthStatus != "UNHEALTHY" && a.HealthStatus != "UNKNOWN"
			default:
				pending++
			}
		}
		svc["runningCount"], svc["pendingCount"] = running, pending
		deployments, _ := svc["deployments"].([]any)
		for _, d := range deployments {
			dep, _ := d.(map[string]any)
			if dep["status"] != "PRIMARY" {
				continue
			}
			dep["runningCount"], dep["pendingCount"] = running, pending
			if running == int(desired) && pending == 0 && healthy {
				dep["rolloutState"], dep["rolloutStateReason"] = "COMPLETED", "ECS deployment completed."
			}
		}
	}
	return answer(out)
}

func answer(v any) (emulator.Answer, bool) {
	data, err := json.Marshal(v)
	if err != nil {
		return emulator.Answer{}, false
	}
	return emulator.Answer{Body: data}, true
}
