package stacks

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// scrape15s is the default stack with another scrape interval and
// Alertmanager grouping.
var scrape15s = declare("scrape-15s", env{"PROMAWS_SCRAPE_INTERVAL": "15s", "PROMAWS_ALERT_GROUP_WAIT": "1m"})

// A configuration change is a change of parameters alone: two synths that
// differ in scrapeInterval and alertGroupWait differ in the parameters
// holding prometheus.yml and alertmanager.yml, and in nothing else (the
// task definition and the service stay, so no task is replaced; the
// config-sync sidecar carries the change).
func TestConfigurationChangesOnlyParameters(t *testing.T) {
	before, after := byDefault.doc(t).Raw["resource"].(map[string]any), scrape15s.doc(t).Raw["resource"].(map[string]any)
	var changed []string
	for typ, rs := range after {
		for name, r := range rs.(map[string]any) {
			old, ok := before[typ].(map[string]any)[name]
			if !ok || mustJSON(t, old) != mustJSON(t, r) {
				changed = append(changed, typ+"."+name)
			}
		}
	}
	for typ, rs := range before {
		for name := range rs.(map[string]any) {
			if _, ok := after[typ].(map[string]any)[name]; !ok {
				changed = append(changed, typ+"."+name+" (gone)")
			}
		}
	}
	sort.Strings(changed)
	var params []string
	for _, c := range changed {
		if !strings.HasPrefix(c, "aws_ssm_parameter.") {
			t.Errorf("%s changed with the configuration; only its parameters may", c)
		} else {
			params = append(params, c)
		}
	}
	if len(params) != 2 {
		t.Errorf("want prometheus.yml's and alertmanager.yml's parameters changed, have %v", params)
	}
	for _, p := range params {
		v := policy.Str(scrape15s.doc(t).Of("aws_ssm_parameter")[strings.TrimPrefix(p, "aws_ssm_parameter.")]["insecure_value"])
		if !strings.Contains(v, "scrape_interval: 15s") && !strings.Contains(v, "group_wait: 1m") {
			t.Errorf("%s changed, but not to the new setting:\n%s", p, v)
		}
	}
}

// The sidecar: the official AWS CLI image, running the contract's script
// as root (Fargate's bind mount is root-owned) with a read-only root,
// keeping every generated file from its parameter, which the task role
// may read and nothing else of SSM; Prometheus and the Alertmanager start
// after it and read its volume read-only.
func TestConfigSyncSidecar(t *testing.T) {
	for _, v := range []*variant{byDefault, localProfile, amp, remote} {
		c, task := containerNamed(t, v, taskcontract.ConfigSyncContainerName)
		if c["image"] != v.settings(t).ConfigSyncImage || c["user"] != "0" || c["readonlyRootFilesystem"] != true || c["essential"] != true {
			t.Errorf("%s: config-sync: image %v, user %v, read-only root %v, essential %v", v, c["image"], c["user"], c["readonlyRootFilesystem"], c["essential"])
		}
		command, _ := c["command"].([]any)
		if len(command) != 2 || unescape(policy.Str(command[0])) != taskcontract.ConfigSyncScript || command[1] != taskcontract.ConfigSyncScriptName {
			t.Errorf("%s: command must be [config-sync.sh, %s]", v, taskcontract.ConfigSyncScriptName)
		}
		env := map[string]string{}
		for _, e := range c["environment"].([]any) {
			env[policy.Str(policy.Path(e, "name"))] = policy.Str(policy.Path(e, "value"))
		}
		var files []string
		for _, line := range strings.Split(env[taskcontract.EnvConfigSyncFiles], "\n") {
			file, param, _ := strings.Cut(line, " ")
			files = append(files, file)
			if !strings.HasPrefix(param, "${aws_ssm_parameter.") {
				t.Errorf("%s: %s must come from a parameter of the stack, not %q", v, file, param)
			}
		}
		want := map[*variant]string{byDefault: "prometheus.yml,rules/prometheus-aws-nodes.yml,rules/prometheus-aws-prometheus.yml,alertmanager.yml",
			localProfile: "prometheus.yml,rules/prometheus-aws-nodes.yml,rules/prometheus-aws-prometheus.yml,alertmanager.yml",
			amp:          "prometheus.yml", remote: "prometheus.yml,rules/prometheus-aws-nodes.yml,rules/prometheus-aws-prometheus.yml"}[v]
		if strings.Join(files, ",") != want {
			t.Errorf("%s: config-sync keeps %v, want %s", v, files, want)
		}
		if (env[taskcontract.EnvConfigSyncEndpointURL] != "") != v.settings(t).Local() {
			t.Errorf("%s: only the local profile points the sidecar at an endpoint: %q", v, env[taskcontract.EnvConfigSyncEndpointURL])
		}
		if !strings.Contains(mustJSON(t, task["volume"]), `"name":"`+taskcontract.ConfigVolume+`"`) {
			t.Errorf("%s: no %s volume", v, taskcontract.ConfigVolume)
		}
		var defs []map[string]any
		if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
			t.Fatal(err)
		}
		for _, d := range defs {
			if d["name"] == taskcontract.ConfigSyncContainerName {
				continue
			}
			if !strings.Contains(mustJSON(t, d["dependsOn"]), `"containerName":"config-sync"`) ||
				!strings.Contains(mustJSON(t, d["mountPoints"]), `{"containerPath":"/config","readOnly":true,"sourceVolume":"config"}`) {
				t.Errorf("%s: %v must start after config-sync and read its volume read-only", v, d["name"])
			}
		}
	}
}
