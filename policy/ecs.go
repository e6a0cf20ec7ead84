package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/constructs"
)

// ecsDiscoveryReadOnly: a role ECS tasks assume may call ECS only to
// discover (the read calls Prometheus's ECS discovery makes,
// constructs.ECSDiscoveryActions), and an ECS grant or EC2's
// DescribeNetworkInterfaces on every resource ("*") holds only under a
// condition that narrows it: the discovered regions (aws:RequestedRegion)
// or the listed clusters (ecs:cluster). A task that could update services
// or run tasks could start anything with any role ECS may pass.
func ecsDiscoveryReadOnly(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_iam_role_policy") {
		p := d.Of("aws_iam_role_policy")[name]
		role := d.Of("aws_iam_role")[roleOf(Str(p["role"]))]
		if role == nil || !strings.Contains(Str(role["assume_role_policy"]), "ecs-tasks.amazonaws.com") {
			continue
		}
		sts, err := statements(Str(p["policy"]))
		if err != nil {
			continue
		}
		res := "aws_iam_role_policy." + name
		for _, st := range sts {
			if st.Effect != "Allow" {
				continue
			}
			scoped := false
			for _, a := range Strings(st.Action) {
				switch {
				case strings.HasPrefix(strings.ToLower(a), "ecs:"):
					if !slices.Contains(constructs.ECSDiscoveryActions, a) {
						out = append(out, Violation{"ecs-discovery-read-only", res, fmt.Sprintf("a task role may call %s; ECS discovery needs only %s", a, strings.Join(constructs.ECSDiscoveryActions, ", "))})
					}
					scoped = true
				case strings.EqualFold(a, "ec2:DescribeNetworkInterfaces"):
					scoped = true
				}
			}
			if !scoped || !slices.Contains(Strings(st.Resource), "*") {
				continue
			}
			if len(conditionValues(st, "", "aws:RequestedRegion")) == 0 && len(conditionValues(st, "", "ecs:cluster")) == 0 {
				out = append(out, Violation{"ecs-discovery-read-only", res, fmt.Sprintf("statement %q grants %v on every resource of every region; condition it on aws:RequestedRegion (the discovered regions) or ecs:cluster (the listed clusters)", st.Sid, Strings(st.Action))})
			}
		}
	}
	return out
}
