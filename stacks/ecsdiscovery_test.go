package stacks

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// ECS discovery (issue 31): every cluster of two regions; and listed
// clusters (a name in region, an ARN in another) against the emulator.
var (
	ecsDiscovery = declare("ecs", env{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "8080,9100", "PROMAWS_DISCOVERY_REGIONS": "eu-west-1"})
	ecsClusters  = declare("ecs-clusters-local", env{"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": "9101", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000",
		"PROMAWS_DISCOVERY_REGIONS": "eu-west-1", "PROMAWS_ECS_CLUSTERS": "orders,arn:aws:ecs:eu-west-1:123456789012:cluster/batch"})
)

// TestECSDiscoveryGrants: with ecsDiscovery the task role gains exactly
// the ECS discovery calls (and EC2's DescribeNetworkInterfaces), limited
// to the discovered regions, or to the listed clusters by ARN (and the
// default cluster Prometheus probes its credentials on); the task may
// connect out to the scrape ports within the VPC only.
func TestECSDiscoveryGrants(t *testing.T) {
	type grant struct {
		actions, resources, condition string
	}
	ecsStatements := func(v *variant) map[string]grant {
		d := v.doc(t)
		name, _ := findRole(t, d, "prometheus-task")
		out := map[string]grant{}
		for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
			sid := policy.Str(policy.Path(st, "Sid"))
			if !strings.HasPrefix(sid, "ECS") {
				continue
			}
			out[sid] = grant{strings.Join(policy.Strings(policy.Path(st, "Action")), ","), strings.Join(policy.Strings(policy.Path(st, "Resource")), ","), mustJSON(t, policy.Path(st, "Condition"))}
		}
		return out
	}
	if got := ecsStatements(byDefault); len(got) != 0 {
		t.Errorf("default: ECS grants without ecsDiscovery: %v", got)
	}
	regions := `{"StringEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}`
	want := map[string]grant{
		"ECSDiscovery":                  {"ecs:ListClusters,ecs:DescribeClusters,ecs:ListServices,ecs:DescribeServices,ecs:ListTasks,ecs:DescribeTasks,ecs:DescribeContainerInstances", "*", regions},
		"ECSDiscoveryNetworkInterfaces": {"ec2:DescribeNetworkInterfaces", "*", regions},
	}
	if got := ecsStatements(ecsDiscovery); !reflect.DeepEqual(got, want) {
		t.Errorf("ecs: task role ECS grants\n got %v\nwant %v", got, want)
	}
	account := "${data.aws_caller_identity.prometheus_account_"
	got := ecsStatements(ecsClusters)
	orders := got["ECSDiscoveryClusters"].resources
	if !strings.HasPrefix(orders, "arn:aws:ecs:eu-central-1:"+account) || !strings.Contains(orders, ":cluster/orders,arn:aws:ecs:eu-west-1:123456789012:cluster/batch,arn:aws:ecs:eu-central-1:") ||
		!strings.HasSuffix(orders, ":cluster/default,arn:aws:ecs:eu-west-1:123456789012:cluster/default") {
		t.Errorf("ecs-clusters-local: DescribeClusters on %s; want the two clusters and each region's default cluster, the account from the caller identity", orders)
	}
	in := got["ECSDiscoveryInClusters"]
	if in.actions != "ecs:ListServices,ecs:DescribeServices,ecs:ListTasks,ecs:DescribeTasks,ecs:DescribeContainerInstances" || in.resources != "*" ||
		!strings.HasPrefix(in.condition, `{"ArnEquals":{"ecs:cluster":["arn:aws:ecs:eu-central-1:`) || strings.Count(in.condition, "cluster/") != 2 {
		t.Errorf("ecs-clusters-local: in-cluster grants %+v; want the five calls under ecs:cluster = the two ARNs", in)
	}
	if len(got) != 3 || got["ECSDiscoveryNetworkInterfaces"].actions != "ec2:DescribeNetworkInterfaces" {
		t.Errorf("ecs-clusters-local: want exactly three ECS statements: %v", got)
	}
	// The account placeholder never reaches AWS: the configuration carries
	// the caller identity's reference.
	d := ecsClusters.doc(t)
	for _, n := range d.Names("aws_ssm_parameter") {
		v := policy.Str(d.Of("aws_ssm_parameter")[n]["insecure_value"])
		if strings.Contains(v, taskcontract.AccountIDPlaceholder) {
			t.Errorf("%s keeps the account placeholder", n)
		}
		if strings.Contains(v, "role: ecs") && !strings.Contains(v, account) {
			t.Errorf("%s: the ecs discovery's cluster ARNs lack the account: %s", n, v)
		}
	}
	// The ECS discovery alert ships with it, and only with it.
	for v, want := range map[*variant]bool{byDefault: false, ecsDiscovery: true, ecsClusters: true} {
		found := false
		for _, n := range v.doc(t).Names("aws_ssm_parameter") {
			found = found || strings.Contains(policy.Str(v.doc(t).Of("aws_ssm_parameter")[n]["insecure_value"]), "alert: PrometheusECSDiscoveryFailing")
		}
		if found != want {
			t.Errorf("%s: PrometheusECSDiscoveryFailing in the rules: %v, want %v", v, found, want)
		}
	}
	// Egress: the scrape ports, to the VPC's range only.
	// (ecs: 9100 is open to every address already, for the nodes of the
	// other region, so no narrower rule is added.)
	for v, ports := range map[*variant][]string{ecsDiscovery: {"8080"}, ecsClusters: {"9101"}} {
		d := v.doc(t)
		var found []string
		for _, n := range d.Names("aws_vpc_security_group_egress_rule") {
			r := d.Of("aws_vpc_security_group_egress_rule")[n]
			if strings.Contains(policy.Str(r["description"]), "ECS") {
				if policy.Str(r["cidr_ipv4"]) != "10.0.0.0/16" {
					t.Errorf("%s: %s opens the ECS scrape port to %v, want the VPC's range", v, n, r["cidr_ipv4"])
				}
				found = append(found, fmt.Sprint(policy.Num(r["from_port"])))
			}
		}
		sort.Strings(found)
		if !reflect.DeepEqual(found, ports) {
			t.Errorf("%s: ECS egress ports %v, want %v", v, found, ports)
		}
	}
}
