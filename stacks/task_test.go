package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const testECRImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/prometheus-aws:3.16.0-1"

// container is the Prometheus container definition of a variant.
func container(t *testing.T, variant string) (map[string]any, map[string]any) {
	t.Helper()
	return containerNamed(t, variant, taskcontract.ContainerName)
}

// containerNamed is one container of the variant's task, and the task.
func containerNamed(t *testing.T, variant, name string) (map[string]any, map[string]any) {
	t.Helper()
	_, task := one(t, synthed[variant], "aws_ecs_task_definition")
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
		t.Fatalf("%s: container_definitions: %v", variant, err)
	}
	for _, d := range defs {
		if d["name"] == name {
			return d, task
		}
	}
	t.Fatalf("%s: no container %s in the task", variant, name)
	return nil, nil
}

// Fargate creates a bind mount root-owned 0755 (the official image
// declares VOLUME /prometheus only), so the task user could not write
// /tmp on one: the runtime folder is a tmpfs, in every storage mode.
func TestRuntimeFolderIsATmpfs(t *testing.T) {
	for _, variant := range []string{"default", "ephemeral", "amp", "remote-ddb"} {
		c, task := container(t, variant)
		tmpfs := mustJSON(t, policy.Path(c, "linuxParameters", "tmpfs"))
		if tmpfs != `[{"containerPath":"/tmp","mountOptions":["noexec","nosuid","nodev"],"size":16}]` {
			t.Errorf("%s: /tmp must be a 16 MiB noexec tmpfs, got %s", variant, tmpfs)
		}
		for _, mp := range c["mountPoints"].([]any) {
			if p := policy.Str(policy.Path(mp, "containerPath")); p != "/prometheus" && (p != taskcontract.ConfigDir || policy.Path(mp, "readOnly") != true) {
				t.Errorf("%s: only the TSDB is a writable volume mount (config-sync's is read-only), got %s", variant, p)
			}
		}
		if vols := mustJSON(t, task["volume"]); strings.Contains(vols, `"runtime"`) {
			t.Errorf("%s: the runtime bind volume is gone: %s", variant, vols)
		}
	}
}

// executionStatements are the execution role's policy statements.
func executionStatements(t *testing.T, variant string) []map[string]any {
	t.Helper()
	for _, name := range synthed[variant].Names("aws_iam_role_policy") {
		p := synthed[variant].Of("aws_iam_role_policy")[name]
		if policy.Str(p["name"]) != "start-prometheus" {
			continue
		}
		var doc struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(policy.Str(p["policy"])), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Statement
	}
	t.Fatalf("%s: no execution role policy", variant)
	return nil
}

func TestECRPullOnlyForAnECRImage(t *testing.T) {
	var pull []string
	for _, st := range executionStatements(t, "ecr") {
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
	for _, variant := range []string{"default", "amp", "regions"} {
		for _, st := range executionStatements(t, variant) {
			for _, a := range policy.Strings(st["Action"]) {
				if strings.HasPrefix(a, "ecr:") {
					t.Errorf("%s (image %s): no ECR permission without an ECR image, got %s", variant, config.DefaultPrometheusImage, a)
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
	for variant, tier := range map[string]string{"default": "Standard", "regions": "Standard"} {
		_, param := configParam(t, synthed[variant])
		if param["tier"] != tier {
			t.Errorf("%s: tier %v, want %s", variant, param["tier"], tier)
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
	_, local := configParam(t, synthed["local"])
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
	_, aws := configParam(t, synthed["default"])
	if v := policy.Str(aws["insecure_value"]); strings.Contains(v, "127.0.0.1:9100") || strings.Contains(v, "endpoint:") {
		t.Errorf("the AWS profile's parameter must carry nothing local:\n%s", v)
	}
	lc, _ := container(t, "local")
	dc, _ := container(t, "default")
	delete(lc, "environment") // the config hash differs with the overlay
	delete(dc, "environment")
	if mustJSON(t, lc) != mustJSON(t, dc) {
		t.Errorf("the local profile must run the same container definition:\n%s\n%s", mustJSON(t, lc), mustJSON(t, dc))
	}
}

// Zones given by name are checked at plan against the region's zone list
// (the settings can check their shape only); derived zones come from it.
func TestGivenZonesAreCheckedAtPlan(t *testing.T) {
	d := synthed["opened"]
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
	for _, name := range synthed["default"].Names("aws_subnet") {
		if policy.Path(synthed["default"].Of("aws_subnet")[name], "lifecycle") != nil {
			t.Errorf("derived zones need no precondition: %s", name)
		}
	}
}
