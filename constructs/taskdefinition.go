package constructs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"

	tc "github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// prometheusContainer is the Prometheus container of the task, every
// name, path and flag from the task contract. The entrypoint script runs
// inline in the official image (sh -c), so the same script serves the
// custom image and the no-Docker deployment.
func prometheusContainer(p PrometheusFargateServiceProps, logGroup string, auth *basicAuth) map[string]any {
	env, secrets, health := containerEnvironment(p, auth)
	return map[string]any{
		"name":       tc.ContainerName,
		"image":      p.Image,
		"essential":  true,
		"user":       tc.User, // nobody, as in the official image
		"entryPoint": []string{tc.Shell, "-c"},
		"command": []string{TerraformLiteral(tc.Entrypoint), tc.ScriptName,
			tc.FlagRetention + p.Retention},
		"readonlyRootFilesystem": true,
		"mountPoints": []map[string]any{
			{"sourceVolume": tc.DataVolume, "containerPath": tc.StoragePath, "readOnly": false},
			configMount(),
		},
		"dependsOn": afterConfigSync(),
		// The entrypoint writes the delivered files under /tmp. Fargate
		// creates a bind mount root-owned 0755 unless the image has a
		// VOLUME there (ECS developer guide, "Use bind mounts with Amazon
		// ECS"), and the official image declares only /prometheus, so the
		// task user (65534) could not write one; a tmpfs is writable by all
		// (mode 1777, as Docker's default) and lives in memory only, which
		// also keeps the delivered secrets off disk. Fargate mounts tmpfs
		// since 2026-01-06 (AWS what's new, "Amazon ECS supports tmpfs
		// mounts on AWS Fargate"); its size counts against task memory.
		"linuxParameters":  runtimeTmpfs(tc.RuntimeDir),
		"portMappings":     []map[string]any{{"containerPort": p.Port, "hostPort": p.Port, "protocol": "tcp"}},
		"environment":      env,
		"secrets":          orNone(secrets),
		"healthCheck":      healthCheck(health, prometheusStartPeriod),
		"stopTimeout":      120, // time for the TSDB to close cleanly
		"logConfiguration": awslogs(logGroup, p.Region, tc.LogStreamPrefix),
	}
}

// prometheusStartPeriod is the health check's start period: ECS's maximum
// (300 s; ECS API reference, HealthCheck), room for the entrypoint's wait
// for the TSDB lock (at most 150 s, while a replaced task still stops) and
// a write-ahead log replay, so neither counts as a failed check nor trips
// the deployment circuit breaker.
const prometheusStartPeriod = 300

// runtimeTmpfs is the tmpfs at dir's parent that a container's script
// writes its delivered files to (see prometheusContainer on why a tmpfs).
func runtimeTmpfs(dir string) map[string]any {
	return map[string]any{
		"tmpfs": []map[string]any{{
			"containerPath": path.Dir(dir), "size": tc.RuntimeTmpfsMiB,
			"mountOptions": []string{"noexec", "nosuid", "nodev"},
		}},
	}
}

// healthCheck runs command in the container with ECS's timing: every 30 s,
// 5 s to answer, 3 failures in a row, none counted for startPeriod seconds.
func healthCheck(command string, startPeriod int) map[string]any {
	return map[string]any{
		"command": []string{"CMD-SHELL", command}, "interval": 30, "timeout": 5, "retries": 3, "startPeriod": startPeriod,
	}
}

// orNone leaves a container's secrets out when there are none (ECS
// stores no empty list, so one would show as a change on every plan).
func orNone(secrets []map[string]string) any {
	if len(secrets) == 0 {
		return nil
	}
	return secrets
}

// awslogs sends a container's output to the task's log group.
func awslogs(group, region, prefix string) map[string]any {
	return map[string]any{
		"logDriver": "awslogs",
		"options":   map[string]string{"awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": prefix},
	}
}

// containerJSON renders container definitions as ECS JSON.
// Keys whose value is nil are left out.
func containerJSON(def []map[string]any) string {
	for _, c := range def {
		for k, v := range c {
			if v == nil {
				delete(c, k)
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(def); err != nil {
		panic(err)
	}
	return string(bytes.TrimSpace(buf.Bytes()))
}

// containerEnvironment is what the container receives: plain variables,
// ECS secrets (resolved when the task starts) and the health check, which
// carries the basic auth credentials when they are on. The configuration
// is not among them: the config-sync sidecar delivers it into
// taskcontract.ConfigDir, and a change of it changes no task definition.
func containerEnvironment(p PrometheusFargateServiceProps, auth *basicAuth) (env, secrets []map[string]string, health string) {
	env = []map[string]string{
		{"name": tc.EnvPort, "value": strconv.Itoa(p.Port)},
		{"name": tc.EnvConfigDir, "value": tc.ConfigDir},
	}
	health = fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d/-/healthy || exit 1", p.Port)
	if auth != nil {
		env = append(env, map[string]string{"name": tc.EnvBasicAuthUser, "value": auth.User})
		// JSON keys of the secret.
		secrets = append(secrets,
			map[string]string{"name": tc.EnvWebConfigYAML, "valueFrom": *auth.Secret.Arn() + ":" + tc.SecretWebConfigKey + "::"},
			map[string]string{"name": tc.EnvBasicAuthPassword, "valueFrom": *auth.Secret.Arn() + ":" + tc.SecretPasswordKey + "::"})
		health = fmt.Sprintf(`wget -q -O /dev/null "http://$%s:$%s@127.0.0.1:%d/-/healthy" || exit 1`, tc.EnvBasicAuthUser, tc.EnvBasicAuthPassword, p.Port)
	}
	return env, secrets, health
}

// newConfigParameter holds the configuration. It travels as a plain SSM
// parameter so that a change shows up in `terraform plan` as readable YAML
// lines, and reaches the running task through the config-sync sidecar.
func newConfigParameter(scope constructs.Construct, id string, p *PrometheusFargateServiceProps) ssmparameter.SsmParameter {
	return newGeneratedParameter(scope, "config", p.Name, "prometheus", "prometheus.yml", mustSSMTier(id, *p), configValue(*p))
}

// newGeneratedParameter is /<name>/<component>/<file>, a plain String
// parameter holding a generated file: readable in a plan, at tier.
func newGeneratedParameter(scope constructs.Construct, id, name, component, file, tier, value string) ssmparameter.SsmParameter {
	return ssmparameter.NewSsmParameter(scope, jsii.String(id), &ssmparameter.SsmParameterConfig{
		Name:          jsii.String("/" + name + "/" + component + "/" + file),
		Description:   jsii.String("Generated " + file + " (edit the settings, not this value)"),
		Type:          jsii.String("String"),
		Tier:          jsii.String(tier),
		InsecureValue: jsii.String(value),
		Tags:          nameTag(name + "-" + component + "-config"),
	})
}

// configValue is the SSM parameter value: the YAML taken literally, except
// for the workspace id placeholder, which becomes the workspace's
// Terraform reference.
func configValue(p PrometheusFargateServiceProps) string {
	v := TerraformLiteral(p.ConfigYAML)
	if p.Workspace != nil {
		v = strings.ReplaceAll(v, tc.WorkspaceIDPlaceholder, *p.Workspace.Workspace.Id())
	}
	return v
}

// SSM parameter value limits per tier (Systems Manager user guide,
// "Managing parameter tiers"): Standard 4 KB, Advanced 8 KB. SSM refuses a
// larger value at apply time; the emulator does not, so the stack refuses
// it at synth.
const (
	SSMStandardLimit = 4096
	SSMAdvancedLimit = 8192
)

// ampWorkspaceIDLength is the length of an AMP workspace id
// ("ws-" + a UUID), which replaces the placeholder at apply time.
const ampWorkspaceIDLength = 39

// ConfigParameterSize is the size the configuration parameter's value
// will have in SSM: the YAML, with the workspace id in place of its
// placeholder when remote writing to AMP.
func ConfigParameterSize(yaml string, amp bool) int {
	n := len(yaml)
	if amp {
		n += strings.Count(yaml, tc.WorkspaceIDPlaceholder) * (ampWorkspaceIDLength - len(tc.WorkspaceIDPlaceholder))
	}
	return n
}

// SSMTier is the cheapest tier that holds size bytes, or "" when none does.
func SSMTier(size int) string {
	switch {
	case size <= SSMStandardLimit:
		return "Standard"
	case size <= SSMAdvancedLimit:
		return "Advanced"
	}
	return ""
}

// mustSSMTier is the configuration parameter's tier; a value no tier holds
// is refused (the app checks the settings before; a library user gets this).
func mustSSMTier(id string, p PrometheusFargateServiceProps) string {
	size := ConfigParameterSize(p.ConfigYAML, p.Workspace != nil)
	tier := SSMTier(size)
	if tier == "" {
		panic(fmt.Sprintf("PrometheusFargateService %s: the configuration is %d bytes; an SSM parameter holds at most %d (Advanced tier)", id, size, SSMAdvancedLimit))
	}
	return tier
}
