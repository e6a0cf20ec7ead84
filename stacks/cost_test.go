package stacks

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/cost"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// TestCostModelSeesWhatIsDeployed holds the cost model's inventory (what
// docs/cost.md prices) to the synthesized stack, variant by variant: tasks
// and their addresses, EFS or the workspace (its retention, and Prometheus
// in agent mode), Advanced parameters, secrets,
// alarms, Container Insights, NAT gateways, interface endpoints per zone,
// the load balancer and its addresses. A resource the stack gains or loses
// fails here until cost.InventoryOf (and so the page) follows.
func TestCostModelSeesWhatIsDeployed(t *testing.T) {
	for _, v := range everyVariant() {
		t.Run(v.name, func(t *testing.T) {
			inv, err := cost.InventoryOf(v.settings(t))
			if err != nil {
				t.Fatal(err)
			}
			got := inventory(v.doc(t))
			if got != inv {
				t.Errorf("synthesized %+v\n    model says %+v", got, inv)
			}
		})
	}
}

// inventory counts in the synthesized JSON what cost.Inventory holds.
func inventory(d *policy.Doc) cost.Inventory {
	var inv cost.Inventory
	for _, svc := range d.Of("aws_ecs_service") {
		n := int(policy.Path(svc, "desired_count").(float64))
		inv.Tasks += n
		if policy.Path(svc, "network_configuration", "assign_public_ip") == true {
			inv.PublicTaskIPs += n
		}
	}
	inv.EFS = len(d.Of("aws_efs_file_system")) > 0
	for _, fs := range d.Of("aws_efs_file_system") {
		inv.EFSThroughputMode = policy.Str(fs["throughput_mode"])
		inv.EFSProvisionedMibps = int(policy.Num(fs["provisioned_throughput_in_mibps"]))
	}
	inv.AMP = len(d.Of("aws_prometheus_workspace")) > 0
	for _, c := range d.Of("aws_prometheus_workspace_configuration") {
		inv.WorkspaceRetentionDays = int(policy.Num(c["retention_period_in_days"]))
	}
	for _, task := range d.Of("aws_ecs_task_definition") {
		var defs []struct {
			Name    string   `json:"name"`
			Command []string `json:"command"`
		}
		if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
			panic(err)
		}
		for _, c := range defs {
			if c.Name == taskcontract.ContainerName && slices.Contains(c.Command, taskcontract.FlagAgent) {
				inv.Agent = true
			}
		}
	}
	for _, p := range d.Of("aws_ssm_parameter") {
		if policy.Str(p["tier"]) == "Advanced" {
			inv.AdvancedParameters++
		}
	}
	inv.Secrets = len(d.Of("aws_secretsmanager_secret"))
	inv.Alarms = len(d.Of("aws_cloudwatch_metric_alarm"))
	for _, c := range d.Of("aws_ecs_cluster") {
		for _, s := range c["setting"].([]any) {
			if policy.Str(policy.Path(s, "name")) == "containerInsights" && policy.Str(policy.Path(s, "value")) == "enabled" {
				inv.ContainerInsights = true
			}
		}
	}
	inv.NATGateways = len(d.Of("aws_nat_gateway"))
	for _, e := range d.Of("aws_vpc_endpoint") {
		if policy.Str(e["vpc_endpoint_type"]) == "Interface" {
			inv.EndpointZones += len(e["subnet_ids"].([]any))
		}
	}
	for _, lb := range d.Of("aws_lb") {
		inv.LoadBalancer = true
		if lb["internal"] != true {
			inv.LBAddresses += len(lb["subnets"].([]any))
		}
	}
	return inv
}
