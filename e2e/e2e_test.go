// Package e2e proves the product end to end without an AWS account: the
// synthesized stack is applied with the real AWS provider to the moto
// emulator, and the Prometheus task the stack's service names is run the
// way Fargate runs it (internal/fargate: the task definition as the
// emulator holds it, the official image's replica, its secrets, volumes,
// task role and health check), and discovers the emulated nodes.
//
// Everything runs inside a loopback-only network namespace (make test wraps
// go test in scripts/netns.sh); the harness refuses to run elsewhere.
//
// Scenarios (each on an emulator of its own, side by side: go test
// -parallel sets how many at once; a faster suite must keep every one, with
// the same assertions):
//   - TestLifecycle (default settings, efs): apply; clean second plan;
//     exactly the tagged running nodes discovered (untagged and stopped
//     instances made before the task starts, a refresh that saw them awaited);
//     the task HEALTHY by its own health check; the shipped rules loaded;
//     basic auth (401 without or with a wrong password, the password absent
//     from plan and state, secret_string_wo write-only, EFS IAM
//     authorization); scale 2 -> 3 nodes without a restart; a config change
//     read as YAML lines in the plan; destroy and an immediate re-apply.
//   - TestAlertsReachTheTopic (default, one node): Prometheus and the
//     bundled Alertmanager run from the task definition; basic auth on the
//     Alertmanager; a stopped node_exporter fires NodeDown into an SQS queue
//     subscribed to the alarm topic, and its return the resolved message.
//   - TestPrivateNetwork (networkMode=private): NAT, private subnets and
//     endpoints applied, clean re-plan, discovery and scrapes as in public
//     mode, no public IP on any node, destroy leaves nothing.
//   - TestAMPRemoteWrite (amp, 2 replicas): workspace, task role limited to
//     it, remote_write URL; the task's writes SigV4-verified with the task
//     role's credentials (a tampered body refused), cluster and __replica__
//     decoded from the write request; the tasks in agent mode (query API
//     refused), the workspace's retention (15 days) and ruler (rules.yml
//     less alerting.ServerOnly), every series those rules read received,
//     verify's configuration and discovery checks passing on an agent.
//   - TestSecureAccess: HTTPS load balancer with a DNS-validated
//     certificate, customer KMS key, flow logs: apply, clean re-plan,
//     destroy.
//   - TestRemoteState: bootstrap bucket, state only in S3, a concurrent
//     apply refused by the lock, two environments apart; the task runs from
//     the prod stack (ephemeral storage).
//   - TestMultiRegionDiscovery: a node in a second region found with its
//     region label; with scrapeAddress=public a node without a public IP
//     dropped; basic auth off.
//   - TestPrometheusIsWatched: the running-task alarm, the health check rule
//     and its event pattern, the topic's publishers, the email subscription.
//   - TestECSDiscovery (ecsDiscovery, ecsScrapePorts=8080): a user's cluster
//     with a service that opts in (prometheus:scrape-port on the service) and
//     one that does not, their tasks (node_exporter's image) run by the local
//     runner and reported by the emulator's ECS API; the opted-in task
//     scraped up with ecs_cluster, service, task_definition_family and
//     revision, container, availability_zone, launch_type, region; the
//     other's and Prometheus's own task not scraped; the service scaled to
//     zero, its target gone.
//   - TestUnavailableZoneFailsAtPlan: a zone the region lacks refused at
//     plan, nothing created.
//   - TestCdktfDeployDiffDestroy: cdktf deploy (the first one, behind the
//     provider mirror), diff with no changes, destroy to an empty state.
//
// planpreview/e2e adds the plan-preview walk (create, no-op, config update,
// replacement, destroy) and the fixtures' drift check.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// TestLifecycle walks the product's promise in order: apply, clean re-plan,
// discovery, scale-out, destroy and re-apply. Each step needs the one before,
// so the first failure stops the walk.
func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "lifecycle", map[string]string{"PROMAWS_NODE_COUNT": "2"})

	step(t, "apply creates the stack", func(t *testing.T) {
		dep.apply(t)
		assertStackResources(t, h, dep)
	})
	step(t, "second plan is clean", func(t *testing.T) {
		dep.assertCleanPlan(t)
	})

	// The instances Prometheus must ignore exist before it starts, so every
	// discovery it answers with came from a refresh that saw them.
	noise := h.createNoiseInstances(t, dep)
	prom := h.startPrometheus(t, dep.Settings)
	step(t, "prometheus discovers exactly the tagged running nodes", func(t *testing.T) {
		want := dep.groupInstances(t)
		if len(want) != 2 {
			t.Fatalf("node group runs %d instances, want 2", len(want))
		}
		targets := prom.waitForNodes(t, want)
		for _, tg := range targets {
			for _, id := range noise {
				if tg.Labels["instance_id"] == id {
					t.Errorf("instance %s (untagged or stopped) must not be a target", id)
				}
			}
			assertTargetLabels(t, dep, tg)
		}
	})
	step(t, "the task ECS would run is HEALTHY: its container health check passes", func(t *testing.T) {
		prom.waitHealthy(t)
		c := prom.task.Container()
		if c.Status() != "RUNNING" || prom.task.Task.LastStatus() != "RUNNING" {
			t.Errorf("task %s, container %s: want both RUNNING", prom.task.Task.LastStatus(), c.Status())
		}
	})
	step(t, "the shipped alerting rules are loaded", func(t *testing.T) {
		groups, alerts, err := prom.api.RuleGroups(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(groups, []string{"prometheus-aws-nodes", "prometheus-aws-prometheus"}) || alerts["prometheus-aws-nodes"] == 0 || alerts["prometheus-aws-prometheus"] == 0 {
			t.Errorf("rule groups %v with alerts %v: want the two groups of alerting/rules.yml", groups, alerts)
		}
	})
	step(t, "basic auth guards the API and its password stays out of state and plans", func(t *testing.T) {
		resp, err := http.Get(prom.api.BaseURL + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unauthenticated API call answered %d, want 401", resp.StatusCode)
		}
		wrong := *prom.api
		wrong.Password = "not-the-password"
		var se *promapi.StatusError
		if _, err := wrong.Targets(h.ctx, ""); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
			t.Errorf("a wrong password must get 401, got %v", err)
		}
		if _, err := prom.api.Targets(h.ctx, ""); err != nil {
			t.Errorf("the right credentials must get in: %v", err)
		}
		password := prom.api.Password
		state, err := os.ReadFile(dep.StateFile())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(state), password) {
			t.Error("the basic auth password is in the Terraform state")
		}
		// The guarantee behind it: the version was written through the
		// write-only attribute, which Terraform never stores; a new plan
		// would open a new ephemeral value, so the plan check alone proves
		// little.
		var st struct {
			Resources []struct {
				Type      string
				Instances []struct{ Attributes map[string]any }
			}
		}
		if err := json.Unmarshal(state, &st); err != nil {
			t.Fatal(err)
		}
		versions := 0
		for _, r := range st.Resources {
			if r.Type != "aws_secretsmanager_secret_version" {
				continue
			}
			for _, in := range r.Instances {
				versions++
				a := in.Attributes
				if a["secret_string_wo"] != nil || a["secret_string"] != "" || a["secret_string_wo_version"] != float64(dep.Settings.BasicAuthPasswordVersion) {
					t.Errorf("the secret version must be written write-only (secret_string_wo null, secret_string empty, wo version %d): %v %q %v",
						dep.Settings.BasicAuthPasswordVersion, a["secret_string_wo"], a["secret_string"], a["secret_string_wo_version"])
				}
			}
		}
		if versions != 1 {
			t.Errorf("want one basic auth secret version in the state, have %d", versions)
		}
		if plan := dep.planJSON(t); strings.Contains(plan, password) {
			t.Error("the basic auth password is in the plan JSON")
		}
	})
	step(t, "scale from 2 to 3 nodes without restarting prometheus", func(t *testing.T) {
		before := prom.identity(t)
		dep.resynth(t, map[string]string{"PROMAWS_NODE_COUNT": "3"})
		dep.apply(t)
		want := dep.groupInstances(t)
		if len(want) != 3 {
			t.Fatalf("node group runs %d instances after scaling, want 3", len(want))
		}
		prom.waitForNodes(t, want)
		prom.assertSameProcess(t, before, prom.identity(t), "discovery must pick nodes up live")
	})
	step(t, "a config change reads as YAML lines in the plan", func(t *testing.T) {
		dep.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "15s"})
		plan := dep.planText(t)
		for _, want := range []string{"aws_ssm_parameter.", "-   scrape_interval: 5s", "+   scrape_interval: 15s"} {
			if !strings.Contains(plan, want) {
				t.Errorf("plan lacks %q (a reviewer must see the changed YAML):\n%s", want, plan)
			}
		}
		// The change reloads in place (TestConfigReloadsInPlace): no new
		// task definition revision.
		if strings.Contains(plan, "aws_ecs_task_definition.") {
			t.Errorf("a configuration change must not touch the task definition:\n%s", plan)
		}
		dep.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "5s"})
		dep.assertCleanPlan(t)
	})
	step(t, "destroy removes everything and an immediate re-apply works", func(t *testing.T) {
		h.terminate(t, noise)
		dep.destroy(t)
		assertStackGone(t, h, dep)
		dep.apply(t)
		dep.assertCleanPlan(t)
		// No second destroy: it would assert what the first did, and the
		// test's emulator goes with it.
	})
}

// step runs one stage; a failed stage ends the test.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

func assertStackResources(t *testing.T, h *harness, dep *deployment) {
	ctx := h.ctx
	out := dep.outputs(t)
	ec2c := ec2.NewFromConfig(h.aws)
	vpcs, err := ec2c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{out["vpc_id"]}})
	if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) != dep.Settings.VpcCidr {
		t.Fatalf("VPC %s: %v %v", out["vpc_id"], vpcs, err)
	}
	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{out["vpc_id"]}}}})
	if err != nil || len(subnets.Subnets) != dep.Settings.AzCount {
		t.Fatalf("want %d subnets: %v", dep.Settings.AzCount, err)
	}
	for _, sn := range subnets.Subnets {
		if !aws.ToBool(sn.MapPublicIpOnLaunch) {
			t.Errorf("subnet %s must map public IPs", aws.ToString(sn.SubnetId))
		}
	}

	// The node SG admits the node_exporter port from the Prometheus SG only.
	sgs, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{out["node_security_group_id"]}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		t.Fatalf("node SG: %v", err)
	}
	perms := sgs.SecurityGroups[0].IpPermissions
	if len(perms) != 1 || aws.ToInt32(perms[0].FromPort) != int32(dep.Settings.NodeExporterPort) || len(perms[0].IpRanges) != 0 ||
		len(perms[0].UserIdGroupPairs) != 1 || aws.ToString(perms[0].UserIdGroupPairs[0].GroupId) != out["prometheus_security_group_id"] {
		t.Errorf("node SG ingress must be port %d from %s only: %+v", dep.Settings.NodeExporterPort, out["prometheus_security_group_id"], perms)
	}
	psg, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{out["prometheus_security_group_id"]}})
	if err != nil || len(psg.SecurityGroups) != 1 || len(psg.SecurityGroups[0].IpPermissions) != 0 {
		t.Errorf("Prometheus SG must admit nothing by default: %+v %v", psg, err)
	}

	ecsc := ecs.NewFromConfig(h.aws)
	svcs, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(out["cluster_name"]), Services: []string{out["service_name"]}})
	if err != nil || len(svcs.Services) != 1 || string(svcs.Services[0].LaunchType) != "FARGATE" {
		t.Fatalf("ECS service: %+v %v", svcs, err)
	}
	td, err := ecsc.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svcs.Services[0].TaskDefinition})
	if err != nil || aws.ToString(td.TaskDefinition.TaskRoleArn) == "" || td.TaskDefinition.TaskRoleArn == td.TaskDefinition.ExecutionRoleArn {
		t.Fatalf("task definition needs its own task role: %v", err)
	}

	assertEFSStorage(t, h, out, dep.Settings.AzCount, td.TaskDefinition.Volumes)

	iamc := iam.NewFromConfig(h.aws)
	for _, role := range []string{dep.Settings.StackName() + "-prometheus-task", dep.Settings.StackName() + "-prometheus-exec", dep.Settings.Name("node") + "-role"} {
		if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); err != nil {
			t.Errorf("IAM role %s: %v", role, err)
		}
	}
	param, err := ssm.NewFromConfig(h.aws).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(out["prometheus_config_parameter"])})
	if err != nil || !strings.Contains(aws.ToString(param.Parameter.Value), "region: "+dep.Settings.Region) {
		t.Errorf("config parameter must hold the generated YAML: %v", err)
	}

	// moto's Auto Scaling does not copy a launch template's metadata options
	// onto the instances it starts, so IMDSv2 is checked where the stack
	// sets it, on the template every node is launched from.
	lt, err := ec2c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(dep.Settings.Name("node")), Versions: []string{"$Latest"},
	})
	if err != nil || len(lt.LaunchTemplateVersions) != 1 {
		t.Fatalf("launch template: %v", err)
	}
	data := lt.LaunchTemplateVersions[0].LaunchTemplateData
	if data.MetadataOptions == nil || data.MetadataOptions.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(data.MetadataOptions.HttpPutResponseHopLimit) != 1 {
		t.Errorf("launch template must require IMDSv2 with hop limit 1: %+v", data.MetadataOptions)
	}
	if len(data.BlockDeviceMappings) != 1 || !aws.ToBool(data.BlockDeviceMappings[0].Ebs.Encrypted) {
		t.Errorf("launch template root volume must be encrypted: %+v", data.BlockDeviceMappings)
	}
	ltID := aws.ToString(lt.LaunchTemplateVersions[0].LaunchTemplateId)
	for _, id := range dep.groupInstances(t) {
		inst := h.instance(t, id)
		if tagValue(inst.Tags, dep.Settings.DiscoveryTagKey) != dep.Settings.DiscoveryTagValue {
			t.Errorf("instance %s lacks the discovery tag: %v", id, inst.Tags)
		}
		if tagValue(inst.Tags, "aws:ec2launchtemplate:id") != ltID {
			t.Errorf("instance %s was not launched from the hardened template %s", id, ltID)
		}
	}
}

func assertTargetLabels(t *testing.T, dep *deployment, tg promapi.Target) {
	t.Helper()
	l := tg.Labels
	id := l["instance_id"]
	if l["job"] != "node" || !strings.HasPrefix(id, "i-") {
		t.Errorf("target labels: %v", l)
	}
	if l["instance"] != dep.Settings.Name("node")+"/"+id {
		t.Errorf("instance label %q, want <Name tag>/<instance id>", l["instance"])
	}
	if l["region"] != dep.Settings.Region || !strings.HasPrefix(l["availability_zone"], dep.Settings.Region) || l["instance_type"] != dep.Settings.NodeInstanceType {
		t.Errorf("region/zone/type labels: %v", l)
	}
	if tg.Health != "up" {
		t.Errorf("target %s is %s: %s", l["instance"], tg.Health, tg.LastError)
	}
}

func assertStackGone(t *testing.T, h *harness, dep *deployment) {
	ctx := h.ctx
	vpcs, err := ec2.NewFromConfig(h.aws).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:project"), Values: []string{dep.Settings.Project}}}})
	if err != nil || len(vpcs.Vpcs) != 0 {
		t.Errorf("VPCs left after destroy: %d %v", len(vpcs.Vpcs), err)
	}
	groups, err := autoscaling.NewFromConfig(h.aws).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{dep.Settings.Name("node")}})
	if err != nil || len(groups.AutoScalingGroups) != 0 {
		t.Errorf("node group left after destroy: %v", err)
	}
	if _, err := iam.NewFromConfig(h.aws).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(dep.Settings.StackName() + "-prometheus-task")}); err == nil {
		t.Error("task role left after destroy")
	}
	running, err := ec2.NewFromConfig(h.aws).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + dep.Settings.DiscoveryTagKey), Values: []string{dep.Settings.DiscoveryTagValue}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
	}})
	if err != nil || countInstances(running) != 0 {
		t.Errorf("tagged instances still running after destroy: %d %v", countInstances(running), err)
	}
}

func countInstances(out *ec2.DescribeInstancesOutput) int {
	n := 0
	if out != nil {
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
	}
	return n
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, tag := range tags {
		if aws.ToString(tag.Key) == key {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}

// waitForNodes waits until the node targets are exactly ids, all up, all
// scraped on loopback.
func (p *prometheus) waitForNodes(t *testing.T, ids []string) []promapi.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	targets, err := p.api.WaitForTargets(ctx, "node", ids)
	if err != nil {
		t.Fatalf("%v\nprometheus log:\n%s", err, p.logTail())
	}
	return targets
}

// identity is what stays the same while Prometheus is not restarted: the
// task definition its service runs (a new revision makes ECS replace the
// task), the service's running tasks as ECS lists them, and the start of
// the Prometheus process serving the API (runtimeinfo's startTime, never
// the self-scraped process_start_time_seconds, which a restart on the same
// EFS data serves from the old process's samples until its first
// self-scrape).
type identity struct {
	TaskDefinition string
	Tasks          []string
	Started        time.Time
}

func (p *prometheus) identity(t *testing.T) identity {
	t.Helper()
	def, err := p.h.runner.ServiceTaskDefinition(p.ctx, p.s)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := p.h.emu.AWSConfig(p.ctx, p.s.Region)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := ecs.NewFromConfig(cfg).ListTasks(p.ctx, &ecs.ListTasksInput{Cluster: aws.String(p.s.StackName()), ServiceName: aws.String(rig.ServiceName(p.s))})
	if err != nil {
		t.Fatalf("the service's running tasks: %v", err)
	}
	return identity{TaskDefinition: aws.ToString(def.TaskDefinitionArn), Tasks: tasks.TaskArns, Started: p.startTime(t)}
}

// assertSameProcess fails unless now is the identity before, of the one
// task this harness runs: the same task definition, the same single task,
// the same Prometheus process.
func (p *prometheus) assertSameProcess(t *testing.T, before, now identity, why string) {
	t.Helper()
	if before.TaskDefinition == "" || now.TaskDefinition != before.TaskDefinition {
		t.Errorf("the service's task definition changed (%s -> %s): ECS would replace the task; %s", before.TaskDefinition, now.TaskDefinition, why)
	}
	if !slices.Equal(before.Tasks, []string{p.task.Task.ARN}) {
		t.Errorf("before, the service ran tasks %v, want only %s (the task the runner started)", before.Tasks, p.task.Task.ARN)
	}
	if !slices.Equal(now.Tasks, before.Tasks) {
		t.Errorf("the service's running tasks changed (%v -> %v): the task was replaced; %s", before.Tasks, now.Tasks, why)
	}
	if now.Started.IsZero() || !now.Started.Equal(before.Started) {
		t.Errorf("prometheus restarted (start time %s -> %s); %s", before.Started.Format(time.RFC3339Nano), now.Started.Format(time.RFC3339Nano), why)
	}
}

// startTime is the start of the Prometheus process serving the API, from
// /api/v1/status/runtimeinfo.
func (p *prometheus) startTime(t *testing.T) time.Time {
	t.Helper()
	info, err := p.api.RuntimeInfo(p.ctx)
	if err != nil {
		t.Fatalf("prometheus start time: %v", err)
	}
	return info.StartTime
}

// assertEFSStorage checks the default storage mode in the emulator: an
// encrypted file system with a mount target in every subnet behind the EFS
// security group, an access point owned by the image's user, and the task's
// data volume mounting that access point with TLS and IAM.
func assertEFSStorage(t *testing.T, h *harness, out map[string]string, subnets int, volumes []ecstypes.Volume) {
	t.Helper()
	fsID := out["tsdb_file_system_id"]
	efsc := efs.NewFromConfig(h.aws)
	fss, err := efsc.DescribeFileSystems(h.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(fsID)})
	if err != nil || len(fss.FileSystems) != 1 || !aws.ToBool(fss.FileSystems[0].Encrypted) {
		t.Fatalf("TSDB file system %q must exist, encrypted: %+v %v", fsID, fss, err)
	}
	mts, err := efsc.DescribeMountTargets(h.ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(fsID)})
	if err != nil || len(mts.MountTargets) != subnets {
		t.Errorf("want a mount target in each of the %d subnets: %+v %v", subnets, mts, err)
	}
	aps, err := efsc.DescribeAccessPoints(h.ctx, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(fsID)})
	if err != nil {
		t.Fatal(err)
	}
	// The TSDB's and the bundled Alertmanager's folders, each behind an
	// access point acting as the task user.
	byPath := map[string]string{}
	for _, ap := range aps.AccessPoints {
		if aws.ToInt64(ap.PosixUser.Uid) != 65534 || ap.RootDirectory == nil {
			t.Fatalf("access point %s must act as uid 65534: %+v", aws.ToString(ap.AccessPointId), ap)
		}
		byPath[aws.ToString(ap.RootDirectory.Path)] = aws.ToString(ap.AccessPointId)
	}
	want := map[string]string{taskcontract.DataVolume: taskcontract.StoragePath, taskcontract.AlertmanagerVolume: taskcontract.AlertmanagerStoragePath}
	if len(aps.AccessPoints) != len(want) {
		t.Fatalf("want access points at %v, have %v", want, byPath)
	}
	for volume, path := range want {
		var mounted bool
		for _, v := range volumes {
			if c := v.EfsVolumeConfiguration; c != nil && aws.ToString(v.Name) == volume {
				mounted = aws.ToString(c.FileSystemId) == fsID && c.TransitEncryption == ecstypes.EFSTransitEncryptionEnabled &&
					c.AuthorizationConfig != nil && aws.ToString(c.AuthorizationConfig.AccessPointId) == byPath[path] &&
					// IAM-authorized: the runner then mounts only if the task
					// role allows it through this access point.
					c.AuthorizationConfig.Iam == ecstypes.EFSAuthorizationConfigIAMEnabled
			}
		}
		if !mounted {
			t.Errorf("the task's volume %s must mount access point %s (%s) of %s with TLS and IAM authorization: %+v", volume, byPath[path], path, fsID, volumes)
		}
	}
}
