package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const testECRImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/prometheus-aws:3.16.0-1"

// container is the Prometheus container definition of a variant.
func container(t *testing.T, v *variant) (map[string]any, map[string]any) {
	t.Helper()
	return containerNamed(t, v, taskcontract.ContainerName)
}

// containerNamed is one container of the variant's task, and the task.
func containerNamed(t *testing.T, v *variant, name string) (map[string]any, map[string]any) {
	t.Helper()
	_, task := one(t, v.doc(t), "aws_ecs_task_definition")
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
		t.Fatalf("%s: container_definitions: %v", v, err)
	}
	for _, d := range defs {
		if d["name"] == name {
			return d, task
		}
	}
	t.Fatalf("%s: no container %s in the task", v, name)
	return nil, nil
}

// Fargate creates a bind mount root-owned 0755 (the official image
// declares VOLUME /prometheus only), so the task user could not write
// /tmp on one: the runtime folder is a tmpfs, in every storage mode.
func TestRuntimeFolderIsATmpfs(t *testing.T) {
	for _, v := range []*variant{byDefault, ephemeral, amp, remoteDDB} {
		c, task := container(t, v)
		tmpfs := mustJSON(t, policy.Path(c, "linuxParameters", "tmpfs"))
		if tmpfs != `[{"containerPath":"/tmp","mountOptions":["noexec","nosuid","nodev"],"size":16}]` {
			t.Errorf("%s: /tmp must be a 16 MiB noexec tmpfs, got %s", v, tmpfs)
		}
		for _, mp := range c["mountPoints"].([]any) {
			if p := policy.Str(policy.Path(mp, "containerPath")); p != "/prometheus" && (p != taskcontract.ConfigDir || policy.Path(mp, "readOnly") != true) {
				t.Errorf("%s: only the TSDB is a writable volume mount (config-sync's is read-only), got %s", v, p)
			}
		}
		if vols := mustJSON(t, task["volume"]); strings.Contains(vols, `"runtime"`) {
			t.Errorf("%s: the runtime bind volume is gone: %s", v, vols)
		}
	}
}

// Fargate's largest size, 16 vCPU and 120 GiB (issue 32): for a fleet of
// tens of thousands of targets in one task.
var task16vCPU = declare("task-16vcpu", env{"PROMAWS_TASK_CPU": "16384", "PROMAWS_TASK_MEMORY": "122880", "PROMAWS_NODE_COUNT": "0"})

// TestLargestFargateSize: 16 vCPU and 120 GiB reach the task definition as
// given, and the service pins no platform version: 8 and 16 vCPU need Linux
// platform version 1.4.0 or later, and an unset version is LATEST, which is
// 1.4.0 on Linux (ECS developer guide, "Fargate Linux platform versions for
// Amazon ECS"; task definition parameters, Task size).
func TestLargestFargateSize(t *testing.T) {
	_, task := one(t, task16vCPU.doc(t), "aws_ecs_task_definition")
	if task["cpu"] != "16384" || task["memory"] != "122880" {
		t.Errorf("task size cpu=%v memory=%v, want 16384 / 122880", task["cpu"], task["memory"])
	}
	for _, v := range []*variant{byDefault, task16vCPU} {
		_, svc := one(t, v.doc(t), "aws_ecs_service")
		if pv, ok := svc["platform_version"]; ok && pv != "LATEST" && pv != "1.4.0" {
			t.Errorf("%s: platform_version %v; 8 and 16 vCPU need LATEST (1.4.0) or 1.4.0", v, pv)
		}
	}
}

// executionStatements are the execution role's policy statements.
// The config-sync sidecar's HOME is its own exec-able tmpfs (AWS CLI v2
// fails on a noexec one: taskcontract.ConfigSyncHomeOptions), the mount
// internal/fargate's TestConfigSyncHomeIsExecutable runs the CLI on.
func TestConfigSyncHomeIsAnExecutableTmpfs(t *testing.T) {
	c, _ := containerNamed(t, byDefault, taskcontract.ConfigSyncContainerName)
	want := mustJSON(t, []map[string]any{{"containerPath": taskcontract.ConfigSyncHome,
		"mountOptions": taskcontract.ConfigSyncHomeOptions(), "size": taskcontract.RuntimeTmpfsMiB}})
	if got := mustJSON(t, policy.Path(c, "linuxParameters", "tmpfs")); got != want {
		t.Errorf("config-sync's tmpfs is %s, want %s", got, want)
	}
	home := ""
	for _, e := range c["environment"].([]any) {
		if policy.Str(policy.Path(e, "name")) == "HOME" {
			home = policy.Str(policy.Path(e, "value"))
		}
	}
	if home != taskcontract.ConfigSyncHome {
		t.Errorf("config-sync's HOME is %q, want its tmpfs %s", home, taskcontract.ConfigSyncHome)
	}
}

func executionStatements(t *testing.T, v *variant) []map[string]any {
	t.Helper()
	d := v.doc(t)
	for _, name := range d.Names("aws_iam_role_policy") {
		p := d.Of("aws_iam_role_policy")[name]
		if policy.Str(p["name"]) != "start-prometheus" {
			continue
		}
		var doc struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(policy.Str(p["policy"])), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Statement
	}
	t.Fatalf("%s: no execution role policy", v)
	return nil
}

// The images in private ECR repositories (built from docker/Dockerfile).
var ecrImage = declare("ecr", env{"PROMAWS_PROMETHEUS_IMAGE": testECRImage, "PROMAWS_ALERTMANAGER_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/alertmanager:v0.35.0"})

func TestECRPullOnlyForAnECRImage(t *testing.T) {
	var pull []string
	for _, st := range executionStatements(t, ecrImage) {
		for _, a := range policy.Strings(st["Action"]) {
			if strings.HasPrefix(a, "ecr:") {
				pull = append(pull, a+" on "+strings.Join(policy.Strings(st["Resource"]), ","))
			}
		}
	}
	// Both containers' images, each repository exactly.
	repo := "arn:aws:ecr:eu-west-1:123456789012:repository/team/prometheus-aws,arn:aws:ecr:eu-west-1:123456789012:repository/mirror/alertmanager"
	want := []string{"ecr:GetAuthorizationToken on *", "ecr:BatchCheckLayerAvailability on " + repo,
		"ecr:GetDownloadUrlForLayer on " + repo, "ecr:BatchGetImage on " + repo}
	if strings.Join(pull, "; ") != strings.Join(want, "; ") {
		t.Errorf("ECR image: execution role ECR grants\n%v\nwant\n%v", pull, want)
	}
	for _, v := range []*variant{byDefault, amp, moreRegions} {
		for _, st := range executionStatements(t, v) {
			for _, a := range policy.Strings(st["Action"]) {
				if strings.HasPrefix(a, "ecr:") {
					t.Errorf("%s (image %s): no ECR permission without an ECR image, got %s", v, config.DefaultPrometheusImage, a)
				}
			}
		}
	}
}

// SSM refuses values over 8 KB at apply time (the emulator does not):
// settings that generate more are refused before anything is written,
// naming them; the tier follows the size.
func TestConfigParameterFitsSSM(t *testing.T) {
	regions := "eu-west-1,eu-west-2,eu-west-3,eu-north-1,eu-south-1,us-east-1,us-east-2,us-west-1,us-west-2,ap-south-1,ap-northeast-1,ap-northeast-2,ap-southeast-1,ap-southeast-2,ca-central-1,sa-east-1,me-south-1,af-south-1,ap-east-1,eu-central-2,ap-south-2,ap-southeast-3,me-central-1,il-central-1,ca-west-1,mx-central-1"
	s, err := config.Load(nil, map[string]string{"PROMAWS_DISCOVERY_REGIONS": regions})
	if err != nil {
		t.Fatal(err)
	}
	_, err = PrometheusConfig(s)
	if err == nil || !strings.Contains(err.Error(), "discoveryRegions (PROMAWS_DISCOVERY_REGIONS)") || !strings.Contains(err.Error(), "8192") {
		t.Fatalf("26 discovery regions overflow the Advanced tier and must be refused by name: %v", err)
	}
	for v, tier := range map[*variant]string{byDefault: "Standard", moreRegions: "Standard"} {
		_, param := configParam(t, v.doc(t))
		if param["tier"] != tier {
			t.Errorf("%s: tier %v, want %s", v, param["tier"], tier)
		}
	}
	big, err := config.Load(nil, map[string]string{"PROMAWS_DISCOVERY_REGIONS": strings.Join(strings.Split(regions, ",")[:12], ",")})
	if err != nil {
		t.Fatal(err)
	}
	if yaml, err := PrometheusConfig(big); err != nil || len(yaml) <= 4096 {
		t.Errorf("12 regions should need the Advanced tier (%d bytes): %v", len(yaml), err)
	}
}

// The local profile's differences reach the task through its parameter,
// as anything would on AWS: the emulator endpoint and the loopback scrape
// address; no keys (the task role's credentials are served to the task).
func TestLocalProfileReachesTheTaskThroughItsParameter(t *testing.T) {
	_, local := configParam(t, localProfile.doc(t))
	yaml := policy.Str(local["insecure_value"])
	for _, want := range []string{"endpoint: http://127.0.0.1:5000", "replacement: 127.0.0.1:9100", "# Local profile overlay"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("local config parameter lacks %q:\n%s", want, yaml)
		}
	}
	for _, banned := range []string{"access_key", "secret_key", "ca_file"} {
		if strings.Contains(yaml, banned) {
			t.Errorf("local config parameter must hold no %s", banned)
		}
	}
	_, aws := configParam(t, byDefault.doc(t))
	if v := policy.Str(aws["insecure_value"]); strings.Contains(v, "127.0.0.1:9100") || strings.Contains(v, "endpoint:") {
		t.Errorf("the AWS profile's parameter must carry nothing local:\n%s", v)
	}
	// The whole task definition, every container, is the AWS profile's
	// but for the differences the local profile is documented to make
	// (stacks/local.go), each named and checked to be there.
	localTask, awsTask := taskDefinition(t, localProfile), taskDefinition(t, byDefault)
	localOnlyEnv := map[string]map[string]string{
		// configSyncEndpoint: the local runner's AWS CLI predates
		// AWS_ENDPOINT_URL, so config-sync is given the emulator's.
		taskcontract.ConfigSyncContainerName: {taskcontract.EnvConfigSyncEndpointURL: localProfile.settings(t).Endpoint},
	}
	for name, env := range localOnlyEnv {
		for key, value := range env {
			if got, ok := takeEnv(localTask, name, key); !ok || got != value {
				t.Errorf("local: container %s must set %s=%s (stacks/local.go), has %q (set: %v)", name, key, value, got, ok)
			}
			if got, ok := takeEnv(awsTask, name, key); ok {
				t.Errorf("default: container %s must not set %s on AWS, has %q", name, key, got)
			}
		}
	}
	if diff := jsonDifferences("task", localTask, awsTask); len(diff) > 0 {
		t.Errorf("the local profile must run the AWS profile's task definition but for its named differences; it also differs in\n%s",
			strings.Join(diff, "\n"))
	}
}

// jsonDifferences lists where a and b (decoded JSON) differ, one line per
// innermost difference, containers named by their name.
func jsonDifferences(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			out = append(out, jsonDifferences(path+"."+k, am[k], bm[k])...)
		}
		return out
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if an, bn := byName(al), byName(bl); aok && bok && an != nil && bn != nil {
		// Containers, variables: by name, in order.
		if order := jsonDifferences(path+"(names in order)", names(al), names(bl)); len(order) > 0 && len(al) == len(bl) {
			return order
		}
		return jsonDifferences(path, an, bn)
	}
	if aok && bok && len(al) == len(bl) {
		var out []string
		for i := range al {
			out = append(out, jsonDifferences(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i])...)
		}
		return out
	}
	if ja, jb := jsonString(a), jsonString(b); ja != jb {
		return []string{fmt.Sprintf("  %s: local %.300s, aws %.300s", path, ja, jb)}
	}
	return nil
}

// byName is a list of objects keyed by their distinct "name"s, or nil.
func byName(l []any) map[string]any {
	out := map[string]any{}
	for _, e := range l {
		name, ok := policy.Path(e, "name").(string)
		if _, dup := out[name]; !ok || dup {
			return nil
		}
		out[name] = e
	}
	return out
}

func names(l []any) []any {
	var out []any
	for _, e := range l {
		out = append(out, policy.Path(e, "name"))
	}
	return out
}

func jsonString(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// taskDefinition is the variant's one task definition with its container
// definitions decoded.
func taskDefinition(t *testing.T, v *variant) map[string]any {
	t.Helper()
	_, task := one(t, v.doc(t), "aws_ecs_task_definition")
	var defs []any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
		t.Fatalf("%s: container_definitions: %v", v, err)
	}
	out := map[string]any{}
	for k, v := range task {
		out[k] = v
	}
	out["container_definitions"] = defs
	return out
}

// takeEnv removes the variable key from the environment of container name
// in task (as taskDefinition returns it), returning its value.
func takeEnv(task map[string]any, name, key string) (string, bool) {
	for _, c := range task["container_definitions"].([]any) {
		def, _ := c.(map[string]any)
		if def["name"] != name {
			continue
		}
		env, _ := def["environment"].([]any)
		for i, e := range env {
			if policy.Str(policy.Path(e, "name")) == key {
				def["environment"] = append(env[:i:i], env[i+1:]...)
				return policy.Str(policy.Path(e, "value")), true
			}
		}
	}
	return "", false
}

// Zones given by name are checked at plan against the region's zone list
// (the settings can check their shape only); derived zones come from it.
func TestGivenZonesAreCheckedAtPlan(t *testing.T) {
	d := opened.doc(t)
	if policy.Path(d.Raw, "data", "aws_availability_zones", "network_zones_2241F3F0") == nil {
		t.Fatal("the zone list must be read when zones are given")
	}
	for _, name := range d.Names("aws_subnet") {
		sn := d.Of("aws_subnet")[name]
		az := policy.Str(sn["availability_zone"])
		cond := policy.Str(policy.Path(sn, "lifecycle", "precondition", "condition"))
		if !strings.HasPrefix(az, "eu-central-1") || cond != `${contains(data.aws_availability_zones.network_zones_2241F3F0.names, "`+az+`")}` {
			t.Errorf("subnet %s in %s: precondition %q", name, az, cond)
		}
	}
	for _, name := range byDefault.doc(t).Names("aws_subnet") {
		if policy.Path(byDefault.doc(t).Of("aws_subnet")[name], "lifecycle") != nil {
			t.Errorf("derived zones need no precondition: %s", name)
		}
	}
}
