package verify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/prometheus/common/model"

	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// checkDiscovery: every InService instance of the node group and every
// running instance with the discovery tag in the discovery regions is a
// target of the node job and up; discovery refreshes are not failing.
func checkDiscovery(ctx context.Context, t *Target, _ Options) Result {
	s := t.Settings
	want := map[string]string{} // instance id -> where it was found
	if asg := first(t.State, "aws_autoscaling_group"); asg != nil {
		out, err := autoscaling.NewFromConfig(t.AWS).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: []string{str(asg, "name")}})
		if err != nil {
			return fail("check the credentials' autoscaling:DescribeAutoScalingGroups permission", "reading the node group: %v", err)
		}
		for _, g := range out.AutoScalingGroups {
			for _, i := range g.Instances {
				if i.LifecycleState == "InService" {
					want[aws.ToString(i.InstanceId)] = "node group " + str(asg, "name")
				}
			}
		}
	}
	launched := map[string]time.Time{}
	for _, region := range s.DiscoveredRegions() {
		cfg := t.AWS.Copy()
		cfg.Region = region
		p := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + s.DiscoveryTagKey), Values: []string{s.DiscoveryTagValue}},
			{Name: aws.String("instance-state-name"), Values: []string{"running"}},
		}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fail("check the credentials' ec2:DescribeInstances permission in "+region, "listing tagged instances in %s: %v", region, err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					id := aws.ToString(i.InstanceId)
					if _, ok := want[id]; !ok {
						want[id] = fmt.Sprintf("tagged %s=%s in %s", s.DiscoveryTagKey, s.DiscoveryTagValue, region)
					}
					launched[id] = aws.ToTime(i.LaunchTime)
				}
			}
		}
	}
	if t.Prometheus == nil {
		return skip(t.Unreachable, "%d instance(s) should be targets; whether they are was not checked (Prometheus not reachable)", len(want))
	}
	targets, err := t.Prometheus.Targets(ctx, promconfig.NodeJob)
	if err != nil {
		return fail("", "reading Prometheus's targets: %v", err)
	}
	got := map[string]string{}
	lastErr := map[string]string{}
	for _, tg := range targets {
		got[tg.Labels["instance_id"]] = tg.Health
		lastErr[tg.Labels["instance_id"]] = tg.LastError
	}
	var missing, down []string
	for _, id := range slices.Sorted(maps.Keys(want)) {
		switch health, ok := got[id]; {
		case !ok:
			missing = append(missing, id+" ("+want[id]+age(launched[id])+")")
		case health != "up":
			down = append(down, fmt.Sprintf("%s %s: %s", id, health, lastErr[id]))
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Sprintf("a node launched in the last %s is found at the next refresh (verify --wait 5m); else check the task role's ec2:DescribeInstances and the tag %s=%s",
			s.RefreshInterval, s.DiscoveryTagKey, s.DiscoveryTagValue), "not a target: %s", strings.Join(missing, ", "))
	}
	if len(down) > 0 {
		return fail(fmt.Sprintf("node_exporter must answer on port %d from the Prometheus security group (is it installed and running? the node's user-data log says)", s.NodeExporterPort),
			"targets down: %s", strings.Join(down, "; "))
	}
	window := recentWindow(s.RefreshInterval, s.ScrapeInterval)
	var n float64
	if s.AgentMode() {
		// No query API in agent mode: the counter read from /metrics
		// twice, a refresh apart (at once when it never moved).
		refresh, _ := model.ParseDuration(s.RefreshInterval)
		window = refresh
		n, err = agentIncrease(ctx, t.Prometheus, "prometheus_sd_refresh_failures_total", map[string]string{"mechanism": "ec2"}, time.Duration(refresh))
		if err != nil {
			return fail("", "reading prometheus_sd_refresh_failures_total: %v", err)
		}
	} else {
		failures, err := t.Prometheus.Scalar(ctx, fmt.Sprintf(`sum(increase(prometheus_sd_refresh_failures_total{mechanism="ec2"}[%s])) or vector(0)`, window))
		if err != nil {
			return fail("", "reading prometheus_sd_refresh_failures_total: %v", err)
		}
		n, _ = strconv.ParseFloat(failures, 64)
	}
	if n > 0 {
		return fail("the container log names the error (throttling, permissions, an unreachable region)",
			"EC2 discovery refreshes failed %.0f times in the last %s", n, window)
	}
	return pass("%d instance(s) discovered and up in %s", len(want), strings.Join(s.DiscoveredRegions(), ", "))
}

// age says how long ago an instance launched.
func age(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return fmt.Sprintf(", launched %s ago", time.Since(at).Round(time.Second))
}

// recentWindow is the range "now" means for a counter: two discovery
// refreshes, and at least three scrapes (increase needs two samples), so
// an outage that is over stops failing the check once discovery works
// again.
func recentWindow(refresh, scrape string) model.Duration {
	r, _ := model.ParseDuration(refresh)
	sc, _ := model.ParseDuration(scrape)
	return max(2*r, 3*sc, model.Duration(time.Minute/2))
}
