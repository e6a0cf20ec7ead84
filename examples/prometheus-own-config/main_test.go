package main

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/synthtest"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func TestMain(m *testing.M) { synthtest.Main(m) }

// Given the example app, when it is synthesized, then the task receives
// the hand-written configuration verbatim, is sized and retained as the
// props say, admits only the admin range, and Terraform accepts it.
func TestTaskRunsTheHandWrittenConfig(t *testing.T) {
	d, dir := synthtest.Stack(t, "prometheus", func(app cdktf.App) {
		NewPrometheus(app, "prometheus", "eu-central-1", "10.8.0.0/24")
	})

	_, param, _ := d.Only("aws_ssm_parameter")
	if policy.Str(param["insecure_value"]) != ConfigYAML || param["tier"] != "Standard" {
		t.Errorf("the configuration parameter must hold prometheus.yml as written (tier %v)", param["tier"])
	}
	_, task, _ := d.Only("aws_ecs_task_definition")
	if task["cpu"] != "256" || task["memory"] != "512" {
		t.Errorf("task size %v/%v, want 256/512", task["cpu"], task["memory"])
	}
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil || len(defs) != 2 || defs[1]["name"] != taskcontract.ConfigSyncContainerName {
		t.Fatalf("container definitions: want Prometheus and its config-sync sidecar: %v", err)
	}
	command, _ := defs[0]["command"].([]any)
	if defs[0]["image"] != defaults.PrometheusImage || len(command) != 3 || command[2] != taskcontract.FlagRetention+"7d" {
		t.Errorf("container: image %v, command flags %v", defs[0]["image"], command[2:])
	}
	if n := len(d.Names("aws_efs_file_system")) + len(d.Names("aws_prometheus_workspace")) + len(d.Names("aws_secretsmanager_secret")); n != 0 {
		t.Errorf("task storage and no basic auth were asked for; %d storage/secret resources created", n)
	}
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if r["cidr_ipv4"] != nil && (r["cidr_ipv4"] != "10.8.0.0/24" || r["from_port"] != 9090.0) {
			t.Errorf("ingress %v: only the admin range on 9090", r)
		}
	}
	synthtest.Validate(t, dir)
}
