package main

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/internal/synthtest"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func TestMain(m *testing.M) { synthtest.Main(m) }

// Given the whole stack with default props, when it is synthesized, then
// the defaults apply everywhere (two nodes, a 512/1024 task of the pinned
// image, node_exporter reachable from Prometheus alone), the policy checks
// hold and Terraform accepts it.
func TestWholeStackFromDefaults(t *testing.T) {
	d, dir := synthtest.Stack(t, "whole-stack", func(app cdktf.App) {
		NewWholeStack(app, "whole-stack", "eu-central-1", "10.8.0.0/24")
	})
	_, asg, _ := d.Only("aws_autoscaling_group")
	if policy.Num(asg["desired_capacity"]) != defaults.NodeCount {
		t.Errorf("nodes: %v, want the default %d", asg["desired_capacity"], defaults.NodeCount)
	}
	_, task, _ := d.Only("aws_ecs_task_definition")
	if task["cpu"] != "512" || task["memory"] != "1024" || !strings.Contains(policy.Str(task["container_definitions"]), defaults.PrometheusImage) {
		t.Errorf("task %v/%v: want the default size and image", task["cpu"], task["memory"])
	}
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(r["from_port"]) == defaults.NodeExporterPort && r["referenced_security_group_id"] == nil {
			t.Errorf("node_exporter must admit Prometheus's security group alone: %v", r)
		}
	}
	// A VPN's private range over plain HTTP: the explicit opt-in.
	if v := policy.Check(d, policy.Options{AllowPlainHTTPAdmin: true}); len(v) != 0 {
		t.Errorf("policy: %v", v)
	}
	synthtest.Validate(t, dir)
}
