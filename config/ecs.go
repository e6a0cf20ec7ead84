package config

import (
	"regexp"
	"slices"
	"strconv"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// ECS discovery opt-in: the tags a user's task or service carries so the
// ecs job scrapes it (README, docs/operations.md). Prometheus's ECS
// discovery (3.16) labels tasks with their own tags, their service's and
// their cluster's (__meta_ecs_tag_task_<key>, __meta_ecs_tag_service_<key>),
// and with nothing from the task definition (no docker labels, no
// container names), so the opt-in is a tag.
const (
	// ECSPortTag names the port to scrape, on the task's ENI address: it is
	// the opt-in.
	ECSPortTag = "prometheus:scrape-port"
	// ECSPathTag names the metrics path (default /metrics).
	ECSPathTag = "prometheus:scrape-path"
	// ECSContainerTag names the container that serves the metrics, for the
	// container label (discovery reports tasks, not containers).
	ECSContainerTag = "prometheus:scrape-container"
)

var (
	// ecsClusterNameRE is ECS's rule for cluster names (CreateCluster: up to
	// 255 letters, digits, underscores and hyphens).
	ecsClusterNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	ecsClusterARNRE  = regexp.MustCompile(`^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):([0-9]{12}):cluster/([A-Za-z0-9_-]{1,255})$`)
)

// Partition names the AWS partition of a (well-formed) region.
func Partition(region string) string { return partition(region) }

// ECSClusterARNs are the ecsClusters of validated settings by region, as
// ARNs: a name is a cluster of Region in the deployment's account, written
// with taskcontract.AccountIDPlaceholder for the account (the construct
// puts the real one in). Prometheus's ECS discovery needs ARNs: given a
// name, 3.16 dereferences a cluster it keyed by ARN and panics. Empty
// (nil) means every cluster of every discovered region.
func (s *Settings) ECSClusterARNs() map[string][]string {
	if len(s.ECSClusters) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, c := range s.ECSClusters {
		if m := ecsClusterARNRE.FindStringSubmatch(c); m != nil {
			out[m[2]] = append(out[m[2]], c)
			continue
		}
		out[s.Region] = append(out[s.Region], ECSClusterARN(s.Region, taskcontract.AccountIDPlaceholder, c))
	}
	return out
}

// ECSClusterARN is the ARN of cluster name in region and account.
func ECSClusterARN(region, account, name string) string {
	return "arn:" + partition(region) + ":ecs:" + region + ":" + account + ":cluster/" + name
}

// ECSScrapePortNumbers are the parsed ecsScrapePorts (validated settings).
func (s *Settings) ECSScrapePortNumbers() []int {
	var out []int
	for _, p := range s.ECSScrapePorts {
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// ecs checks ecsDiscovery, ecsClusters and ecsScrapePorts.
func (v *validator) ecs(s *Settings) {
	if !s.ECSDiscovery {
		for key, set := range map[string]bool{"ecsClusters": len(s.ECSClusters) > 0, "ecsScrapePorts": len(s.ECSScrapePorts) > 0} {
			if set {
				v.fail(key, "is set but ecsDiscovery is off, so nothing would use it; set ecsDiscovery=true, or clear %s", key)
			}
		}
		return
	}
	regions := s.DiscoveredRegions()
	seen := map[string]bool{}
	for _, c := range s.ECSClusters {
		if m := ecsClusterARNRE.FindStringSubmatch(c); m != nil {
			switch {
			case !slices.Contains(regions, m[2]):
				v.fail("ecsClusters", "%q is in region %s, which is not discovered (%v); add %s to discoveryRegions, or remove the cluster", c, m[2], regions, m[2])
			case regionRE.MatchString(m[2]) && m[1] != partition(m[2]):
				v.fail("ecsClusters", "%q names partition %s, but region %s is in %s; copy the ARN from the ECS console or `aws ecs describe-clusters`", c, m[1], m[2], partition(m[2]))
			}
		} else if !ecsClusterNameRE.MatchString(c) {
			v.fail("ecsClusters", "%q is neither an ECS cluster name (1 to 255 letters, digits, hyphens and underscores) nor a cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>); a list looks like orders,arn:aws:ecs:eu-west-1:123456789012:cluster/batch", c)
		}
		if seen[c] {
			v.fail("ecsClusters", "%q is listed twice; list each cluster once", c)
		}
		seen[c] = true
	}
	if len(s.ECSScrapePorts) == 0 {
		v.fail("ecsScrapePorts", "ecsDiscovery is on but the task may connect out to no port of the ECS tasks; list the ports their %s tags name, e.g. ecsScrapePorts=8080,9100", ECSPortTag)
	}
	ports := map[string]bool{}
	for _, p := range s.ECSScrapePorts {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil || n < 1 || n > 65535:
			v.fail("ecsScrapePorts", "%q is not a TCP port; use 1 to 65535, e.g. ecsScrapePorts=8080,9100", p)
		case n == 443:
			v.fail("ecsScrapePorts", "443 is open to every address already (HTTPS to the AWS APIs); remove it")
		case ports[p]:
			v.fail("ecsScrapePorts", "%d is listed twice; list each port once", n)
		}
		ports[p] = true
	}
}
