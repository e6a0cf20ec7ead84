package promconfig

import (
	"github.com/prometheus-aws/prometheus-aws/config"
)

// ECSJob is the job name of the ECS tasks (ecsDiscovery).
const ECSJob = "ecs"

// ecsTagLabel is the meta label ECS discovery sets from a tag of the
// task (kind "task") or of its service ("service"), keys sanitised as for
// EC2: prometheus:scrape-port -> __meta_ecs_tag_task_prometheus_scrape_port.
func ecsTagLabel(kind, key string) string { return "__meta_ecs_tag_" + kind + "_" + SanitizeLabel(key) }

// Temporary labels of the ecs job's relabelling (__tmp_ is Prometheus's
// reserved prefix for them: never stored).
const (
	ecsPortLabel = "__tmp_ecs_port"
)

// ecsScrapeConfig is the ecs job: one ECS discovery per discovered region
// (or per region of the listed clusters), and relabelling that keeps the
// tasks that opt in with config.ECSPortTag (on the task, or on its
// service; the task's wins), scrapes them on their ENI address at that
// port and config.ECSPathTag's path, and labels them as a person names
// them. Prometheus 3.16's ECS discovery gives one target per task (no
// container names, no task definition labels), hence the container tag.
func ecsScrapeConfig(s *config.Settings) ScrapeConfig {
	var sds []AWSSDConfig
	arns := s.ECSClusterARNs()
	for _, region := range s.DiscoveredRegions() {
		sd := AWSSDConfig{Role: "ecs", Region: region, Port: 80, RefreshInterval: s.RefreshInterval}
		if arns != nil {
			if len(arns[region]) == 0 {
				continue
			}
			sd.Clusters = arns[region]
		}
		sds = append(sds, sd)
	}
	fromTags := func(key, target, regex string) []RelabelConfig {
		var out []RelabelConfig
		for _, kind := range []string{"service", "task"} { // the task's last: it wins
			out = append(out, RelabelConfig{SourceLabels: []string{ecsTagLabel(kind, key)}, Regex: regex, TargetLabel: target})
		}
		return out
	}
	var relabel []RelabelConfig
	// The opt-in: a port tag, a number.
	relabel = append(relabel, fromTags(config.ECSPortTag, ecsPortLabel, "([0-9]{1,5})")...)
	relabel = append(relabel,
		RelabelConfig{SourceLabels: []string{ecsPortLabel}, Regex: "[0-9]{1,5}", Action: "keep"},
		// ListTasks lists tasks meant to run; one being stopped is dropped
		// (as the node job drops instances not running).
		RelabelConfig{SourceLabels: []string{"__meta_ecs_desired_status"}, Regex: "RUNNING", Action: "keep"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_ip_address", ecsPortLabel}, Separator: ":", TargetLabel: "__address__"},
	)
	relabel = append(relabel, fromTags(config.ECSPathTag, "__metrics_path__", "(/.*)")...)
	relabel = append(relabel, fromTags(config.ECSContainerTag, "container", "(.+)")...)
	relabel = append(relabel,
		// ecs_cluster, not cluster: with storageMode=amp, cluster is the
		// external label the workspace de-duplicates replicas by.
		RelabelConfig{SourceLabels: []string{"__meta_ecs_cluster"}, TargetLabel: "ecs_cluster"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_service"}, TargetLabel: "service"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_task_definition"}, Regex: ".*:task-definition/(.+):([0-9]+)", TargetLabel: "task_definition_family", Replacement: "$1"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_task_definition"}, Regex: ".*:task-definition/(.+):([0-9]+)", TargetLabel: "task_definition_revision", Replacement: "$2"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_task_arn"}, Regex: ".*/([^/]+)", TargetLabel: "task_id", Replacement: "$1"},
		// instance = "<family>/<task id>": readable, and unique (a
		// replaced task is a new id), as the node job's "<Name>/<id>".
		RelabelConfig{SourceLabels: []string{"task_definition_family", "task_id"}, Separator: "/", TargetLabel: "instance"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_availability_zone"}, TargetLabel: "availability_zone"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_launch_type"}, TargetLabel: "launch_type"},
		RelabelConfig{SourceLabels: []string{"__meta_ecs_region"}, TargetLabel: "region"},
	)
	return ScrapeConfig{JobName: ECSJob, AWSSDConfigs: sds, RelabelConfigs: relabel}
}
