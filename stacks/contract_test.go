package stacks

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// TestContainerDefinitionsKeepTheContract fails when the synthesized ECS
// container definitions leave the task contract (constructs/taskcontract): names, user,
// script and its calling convention, mounts, variables, secret keys and
// flags. The script's side is checked against the same contract in
// taskcontract's own test; the Dockerfile's lines and the docker/ copy of
// the script in docker's.
func TestContainerDefinitionsKeepTheContract(t *testing.T) {
	known := append(slices.Clone(taskcontract.ScriptEnv), taskcontract.DefinitionOnlyEnv...)
	for _, v := range []*variant{byDefault, amp, remoteDDB, tlsCert, ecrImage} {
		c, task := container(t, v)
		s := v.settings(t)
		for key, want := range map[string]string{"name": taskcontract.ContainerName, "user": taskcontract.User} {
			if got := policy.Str(c[key]); got != want {
				t.Errorf("%s: container %s %q, the contract says %q", v, key, got, want)
			}
		}
		if got, want := mustJSON(t, c["entryPoint"]), mustJSON(t, []string{taskcontract.Shell, "-c"}); got != want {
			t.Errorf("%s: entryPoint %s, want %s", v, got, want)
		}
		command, _ := c["command"].([]any)
		flag := taskcontract.FlagRetention + s.TSDBRetention()
		if s.AgentMode() {
			flag = taskcontract.FlagAgent
		}
		if len(command) != 3 || unescape(policy.Str(command[0])) != taskcontract.Entrypoint || command[1] != taskcontract.ScriptName || command[2] != flag {
			t.Errorf("%s: command must be [script, %s, %s], got %d parts ending %v", v, taskcontract.ScriptName, flag, len(command), command[len(command)-1])
		}
		mounts := mustJSON(t, c["mountPoints"])
		if mounts != mustJSON(t, []map[string]any{{"containerPath": taskcontract.StoragePath, "readOnly": false, "sourceVolume": taskcontract.DataVolume},
			{"containerPath": taskcontract.ConfigDir, "readOnly": true, "sourceVolume": taskcontract.ConfigVolume}}) {
			t.Errorf("%s: mount points %s: the data volume at %s, config-sync's at %s read-only", v, mounts, taskcontract.StoragePath, taskcontract.ConfigDir)
		}
		if vols := mustJSON(t, task["volume"]); !strings.Contains(vols, `"name":"`+taskcontract.DataVolume+`"`) {
			t.Errorf("%s: the task has no %q volume: %s", v, taskcontract.DataVolume, vols)
		}
		if tmpfs := policy.Str(policy.Path(c, "linuxParameters", "tmpfs", "containerPath")); tmpfs != path.Dir(taskcontract.RuntimeDir) {
			t.Errorf("%s: tmpfs at %q, the runtime folder is %s", v, tmpfs, taskcontract.RuntimeDir)
		}
		names := map[string]string{}
		for _, kind := range []string{"environment", "secrets"} {
			list, _ := c[kind].([]any)
			for _, e := range list {
				name := policy.Str(policy.Path(e, "name"))
				names[name] = kind
				if !slices.Contains(known, name) {
					t.Errorf("%s: the definition sets %s, which no script reads and the contract does not state", v, name)
				}
				if from := policy.Str(policy.Path(e, "valueFrom")); strings.Contains(from, "secret") && strings.HasSuffix(from, "::") {
					// <secret arn>:<json key>:: (ECS "secrets" JSON key syntax).
					parts := strings.Split(from, ":")
					key := parts[len(parts)-3]
					// Never SecretPasswordKey: the people's password stays out
					// of the task (issue 34).
					if !slices.Contains([]string{taskcontract.SecretWebConfigKey, taskcontract.SecretMachinePasswordKey}, key) {
						t.Errorf("%s: %s reads secret key %q, not the web config or the machine password", v, name, key)
					}
				}
			}
		}
		if names[taskcontract.EnvConfigDir] != "environment" || names[taskcontract.EnvPort] != "environment" || names[taskcontract.EnvConfigYAML] != "" {
			t.Errorf("%s: the configuration's folder (config-sync's, not a value) and the port must be delivered: %v", v, names)
		}
		if s.BasicAuth != (names[taskcontract.EnvBasicAuthPassword] == "secrets" && names[taskcontract.EnvWebConfigYAML] == "secrets") {
			t.Errorf("%s: basic auth %v, but the password and web config delivered as %v", v, s.BasicAuth, names)
		}
		if policy.Str(policy.Path(c, "logConfiguration", "options", "awslogs-stream-prefix")) != taskcontract.LogStreamPrefix {
			t.Errorf("%s: log stream prefix must be %s (the execution role may write only there)", v, taskcontract.LogStreamPrefix)
		}
	}
}

// unescape undoes constructs.TerraformLiteral (Terraform does the same at
// apply time).
func unescape(s string) string { return strings.NewReplacer("$${", "${", "%%{", "%{").Replace(s) }
