package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// The ECS discovery test's workload: a user's own cluster with two
// services of one task definition, node_exporter's official image standing
// in for their application (listening on appPort, as an application would).
const (
	appCluster   = "shop"
	appService   = "shop-api"   // opts in: the scrape-port tag on the service
	otherService = "shop-batch" // does not
	appFamily    = "shop-api"
	appContainer = "app"
	appPort      = 8080
)

// TestECSDiscovery: with ecsDiscovery on, the stack's Prometheus finds, through
// the emulator's ECS API, a task the local runner runs for a user's service
// that opts in with config.ECSPortTag (on the service; the path tag on the
// task), scrapes it up with the promised labels and ignores a task of a
// service that does not opt in; the service scaled to zero (its task
// stopped), the target disappears. The emulator runs no ECS tasks: the
// runner's are reported by the harness (internal/harness/ecsview.go, named
// in docs/DESIGN.md), the scrape configuration is the one that ships.
func TestECSDiscovery(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "ecs", map[string]string{"PROMAWS_NODE_COUNT": "0", "PROMAWS_STORAGE_MODE": "ephemeral",
		"PROMAWS_ECS_DISCOVERY": "true", "PROMAWS_ECS_SCRAPE_PORTS": strconv.Itoa(appPort)})
	dep.apply(t)
	s := dep.Settings
	if !slices.Contains(s.ECSScrapePortNumbers(), appPort) {
		t.Fatalf("ecsScrapePorts %v: the task may not connect out to the workload's port %d", s.ECSScrapePortNumbers(), appPort)
	}

	// The user's side, through the SDK as they would make it: a cluster, a
	// task definition, a service that opts in and one that does not.
	cfg, err := dep.AWSConfig(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := ecs.NewFromConfig(cfg)
	subnet := dep.outputsList(t, "subnet_ids")[0]
	subnets, err := ec2.NewFromConfig(cfg).DescribeSubnets(h.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil || len(subnets.Subnets) != 1 {
		t.Fatalf("subnet %s: %v", subnet, err)
	}
	zone := aws.ToString(subnets.Subnets[0].AvailabilityZone)
	// The service's security group lets Prometheus's in on the port, as the
	// README's rule does (the runner does not enforce groups: the
	// Prometheus task's egress below is what reaches the port).
	e := ec2.NewFromConfig(cfg)
	sg, err := e.CreateSecurityGroup(h.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(appService), Description: aws.String("shop-api tasks"),
		VpcId: subnets.Subnets[0].VpcId})
	if err != nil {
		t.Fatal(err)
	}
	promSG := dep.outputs(t)["prometheus_security_group_id"]
	if _, err := e.AuthorizeSecurityGroupIngress(h.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(appPort), ToPort: aws.Int32(appPort),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(promSG)}}}}}); err != nil {
		t.Fatalf("ingress from Prometheus's group %q: %v", promSG, err)
	}
	if _, err := c.CreateCluster(h.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(appCluster)}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterTaskDefinition(h.ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(appFamily), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String(appContainer), Image: aws.String(rig.NodeExporterImage), Essential: aws.Bool(true),
			// Its own metrics only (node_exporter_build_info, go_*,
			// process_*): the host collectors read what a sandbox without
			// /sys's CPU files lacks (the cpu collector panics there).
			Command:      []string{"--web.listen-address=:" + strconv.Itoa(appPort), "--collector.disable-defaults"},
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(appPort), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	def := reg.TaskDefinition
	service := func(name string, tags map[string]string) {
		in := &ecs.CreateServiceInput{Cluster: aws.String(appCluster), ServiceName: aws.String(name),
			TaskDefinition: def.TaskDefinitionArn, DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{aws.ToString(sg.GroupId)}}}}
		for k, v := range tags {
			in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := c.CreateService(h.ctx, in); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
	}
	service(appService, map[string]string{config.ECSPortTag: strconv.Itoa(appPort), config.ECSContainerTag: appContainer})
	service(otherService, nil)

	// What ECS would run for them, run by the runner. The opted-in task's
	// port is published where the Prometheus task's egress to its ENI
	// address on appPort leads.
	hostPort, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	run := func(svc string, hostPort int, tags map[string]string) *fargate.Task {
		task, err := h.fargate(t).Runner.Run(h.ctx, def, fargate.RunOptions{Region: s.Region, Cluster: appCluster,
			Group: "service:" + svc, HostPorts: map[int]int{appPort: hostPort}, AvailabilityZone: zone, Subnet: subnet, Tags: tags})
		if err != nil {
			t.Fatalf("task of %s: %v", svc, err)
		}
		t.Cleanup(func() { task.Stop("test over") })
		return task
	}
	app := run(appService, hostPort, map[string]string{config.ECSPathTag: "/metrics"})
	other := run(otherService, 0, nil)
	prom := h.startPrometheusWith(t, s, rig.TaskOptions{Egress: map[int]string{appPort: net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort))}})

	step(t, "the opted-in task is discovered and scraped up with its labels; the other is not", func(t *testing.T) {
		prom.diagnose = func() string {
			var b strings.Builder
			for _, task := range []*fargate.Task{app, other} {
				code, reason := task.StoppedReason()
				fmt.Fprintf(&b, "\ntask %s of %s: %s %s %s; %s's log:\n%s", task.ID, task.Group(), task.LastStatus(), code, reason, appContainer, task.Container(appContainer).LogTail(10))
			}
			return b.String()
		}
		targets := prom.waitForECS(t, func(ts []promapi.Target) bool {
			return slices.ContainsFunc(ts, func(tg promapi.Target) bool { return tg.Labels["task_id"] == app.ID && tg.Health == "up" })
		})
		// Every task of the region was in the refresh that found it: the
		// other service's and Prometheus's own are absent, not late.
		var ids []string
		for _, tg := range targets {
			ids = append(ids, tg.Labels["task_id"])
		}
		if len(targets) != 1 {
			t.Fatalf("ecs targets are tasks %v, want only %s (%s's); %s's task %s and Prometheus's %s carry no %s tag", ids, app.ID, appService, otherService, other.ID, prom.task.Task.ID, config.ECSPortTag)
		}
		tg := targets[0]
		want := map[string]string{
			"job": promconfig.ECSJob, "ecs_cluster": appCluster, "service": appService,
			"task_definition_family": appFamily, "task_definition_revision": strconv.Itoa(int(def.Revision)),
			"task_id": app.ID, "instance": appFamily + "/" + app.ID, "container": appContainer,
			"availability_zone": zone, "launch_type": "FARGATE", "region": s.Region,
		}
		for k, v := range want {
			if tg.Labels[k] != v {
				t.Errorf("label %s = %q, want %q (labels %v)", k, tg.Labels[k], v, tg.Labels)
			}
		}
		if u, err := url.Parse(tg.ScrapeURL); err != nil || u.Host != net.JoinHostPort(fargate.ENIAddress, strconv.Itoa(appPort)) || u.Path != "/metrics" {
			t.Errorf("scrape URL %q: want the task's ENI address on its tagged port, path /metrics", tg.ScrapeURL)
		}
		// The series are the workload's own, under the same labels.
		sel := fmt.Sprintf(`{job=%q,ecs_cluster=%q,service=%q,task_definition_family=%q,task_definition_revision=%q,container=%q,availability_zone=%q,launch_type="FARGATE"}`,
			promconfig.ECSJob, appCluster, appService, appFamily, want["task_definition_revision"], appContainer, zone)
		for _, q := range []string{"up" + sel + " == 1", "node_exporter_build_info" + sel} {
			prom.waitForSeries(t, q, 1)
		}
	})

	step(t, "the service scaled to zero, its target disappears", func(t *testing.T) {
		if _, err := c.UpdateService(h.ctx, &ecs.UpdateServiceInput{Cluster: aws.String(appCluster), Service: aws.String(appService), DesiredCount: aws.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		app.Stop("scaled in: desired count 0")
		<-app.Done()
		prom.waitForECS(t, func(ts []promapi.Target) bool { return len(ts) == 0 })
		prom.waitForSeries(t, `up{job="ecs"}`, 0)
		out, err := c.DescribeServices(h.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(appCluster), Services: []string{appService}})
		if err != nil || len(out.Services) != 1 || out.Services[0].RunningCount != 0 || out.Services[0].DesiredCount != 0 {
			t.Errorf("service %s after scaling in: %+v, %v; want desired and running 0", appService, out, err)
		}
	})
}

// waitForECS polls the ecs job's active targets until done says so; the
// bound is generous (a refresh is 5 s), never the thing tested.
func (p *prometheus) waitForECS(t *testing.T, done func([]promapi.Target) bool) []promapi.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	var last []promapi.Target
	var lastErr error
	for {
		last, lastErr = p.api.Targets(ctx, promconfig.ECSJob)
		if lastErr == nil && done(last) {
			return last
		}
		select {
		case <-ctx.Done():
			var seen []string
			for _, tg := range last {
				seen = append(seen, fmt.Sprintf("%v=%s(%s)", tg.Labels, tg.Health, tg.LastError))
			}
			t.Fatalf("ecs targets never as wanted; last: [%s] (error %v)\n%s\nprometheus log:\n%s", strings.Join(seen, " "), lastErr, p.ecsDiagnosis(), p.logTail())
		case <-time.After(2 * time.Second):
		}
	}
}

// waitForSeries polls an instant query until it answers n series.
func (p *prometheus) waitForSeries(t *testing.T, query string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	for {
		got, err := p.api.Query(ctx, query)
		if err == nil && len(got) == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("query %s never answered %d series; last %v (error %v)", query, n, got, err)
		case <-time.After(2 * time.Second):
		}
	}
}

// ecsDiagnosis says what the ecs job discovered and dropped, and Prometheus's
// own count of its discovery's failures.
func (p *prometheus) ecsDiagnosis() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var dropped struct {
		DroppedTargets []struct {
			DiscoveredLabels map[string]string `json:"discoveredLabels"`
		} `json:"droppedTargets"`
	}
	err := p.api.Get(ctx, "/api/v1/targets?state=dropped&scrapePool="+promconfig.ECSJob, &dropped)
	var b strings.Builder
	fmt.Fprintf(&b, "dropped ecs targets (error %v):", err)
	for _, d := range dropped.DroppedTargets {
		fmt.Fprintf(&b, "\n  %v", d.DiscoveredLabels)
	}
	for _, q := range []string{`prometheus_sd_discovered_targets{config="ecs"}`, `prometheus_sd_refresh_failures_total{mechanism="ecs"}`} {
		got, err := p.api.Query(ctx, q)
		fmt.Fprintf(&b, "\n%s: %v (error %v)", q, got, err)
	}
	if p.diagnose != nil {
		b.WriteString(p.diagnose())
	}
	return b.String()
}
