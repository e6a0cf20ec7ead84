package constructs

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"

	cd "github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	tc "github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// prometheusContainer is the Prometheus container of the task, every
// name, path and flag from the task contract. The entrypoint script runs
// inline in the official image (sh -c), so the same script serves the
// custom image and the no-Docker deployment.
func prometheusContainer(p PrometheusFargateServiceProps, logGroup string, auth *basicAuth) cd.Container {
	env, secrets, health := containerEnvironment(p, auth)
	// The extra flags: the TSDB's retention, or agent mode, where the
	// entrypoint keeps the agent's WAL in the data volume instead.
	flag := tc.FlagRetention + p.Retention
	if p.Agent {
		flag = tc.FlagAgent
	}
	return cd.Container{
		Name:                   tc.ContainerName,
		Image:                  p.Image,
		Essential:              true,
		User:                   tc.User, // nobody, as in the official image
		EntryPoint:             []string{tc.Shell, "-c"},
		Command:                []string{TerraformLiteral(tc.Entrypoint), tc.ScriptName, flag},
		ReadonlyRootFilesystem: true,
		MountPoints: []cd.MountPoint{
			{SourceVolume: tc.DataVolume, ContainerPath: tc.StoragePath},
			configMount(),
		},
		DependsOn: afterConfigSync(),
		// The entrypoint writes the delivered files under /tmp. Fargate
		// creates a bind mount root-owned 0755 unless the image has a
		// VOLUME there (ECS developer guide, "Use bind mounts with Amazon
		// ECS"), and the official image declares only /prometheus, so the
		// task user (65534) could not write one; a tmpfs is writable by all
		// (mode 1777, as Docker's default) and lives in memory only, which
		// also keeps the delivered secrets off disk. Fargate mounts tmpfs
		// since 2026-01-06 (AWS what's new, "Amazon ECS supports tmpfs
		// mounts on AWS Fargate"); its size counts against task memory.
		LinuxParameters:  runtimeTmpfs(tc.RuntimeDir),
		PortMappings:     []cd.PortMapping{{ContainerPort: p.Port, HostPort: p.Port, Protocol: "tcp"}},
		Environment:      env,
		Secrets:          secrets,
		HealthCheck:      healthCheck(health, prometheusStartPeriod),
		StopTimeout:      120, // time for the TSDB to close cleanly
		LogConfiguration: awslogs(logGroup, p.Region, tc.LogStreamPrefix),
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
// It drops every capability too (see dropAll).
func runtimeTmpfs(dir string) *cd.LinuxParameters {
	return &cd.LinuxParameters{Capabilities: dropAll(), Tmpfs: []cd.Tmpfs{{
		ContainerPath: path.Dir(dir), Size: tc.RuntimeTmpfsMiB, MountOptions: []string{"noexec", "nosuid", "nodev"},
	}}}
}

// dropAll is every container's capability set: none. Prometheus, the
// Alertmanager and Grafana run as non-root users (who lose Docker's
// default set on changing uid anyway) and bind unprivileged ports; the
// config-sync sidecar runs as root but only writes files it owns in the
// folder it owns (no CAP_DAC_OVERRIDE, CAP_CHOWN or CAP_FOWNER needed).
// Dropped explicitly so that no runtime's default set applies, and the
// policy rule least-capability holds it.
func dropAll() *cd.Capabilities {
	return &cd.Capabilities{Drop: []string{"ALL"}}
}

// healthCheck runs command in the container with ECS's timing: every 30 s,
// 5 s to answer, 3 failures in a row, none counted for startPeriod seconds.
func healthCheck(command string, startPeriod int) *cd.HealthCheck {
	return &cd.HealthCheck{Command: []string{"CMD-SHELL", command}, Interval: 30, Timeout: 5, Retries: 3, StartPeriod: startPeriod}
}

// awslogs sends a container's output to the task's log group.
func awslogs(group, region, prefix string) *cd.LogConfiguration {
	return &cd.LogConfiguration{LogDriver: "awslogs",
		Options: map[string]string{"awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": prefix}}
}

// containerEnvironment is what the container receives: plain variables,
// ECS secrets (resolved when the task starts) and the health check, which
// carries the basic auth credentials when they are on. The configuration
// is not among them: the config-sync sidecar delivers it into
// taskcontract.ConfigDir, and a change of it changes no task definition.
func containerEnvironment(p PrometheusFargateServiceProps, auth *basicAuth) (env []cd.KeyValue, secrets []cd.Secret, health string) {
	env = []cd.KeyValue{
		{Name: tc.EnvPort, Value: strconv.Itoa(p.Port)},
		{Name: tc.EnvConfigDir, Value: tc.ConfigDir},
	}
	// No credential in the check: a 401 is an answer (tc.HealthCheckCommand).
	health = tc.HealthCheckCommand(fmt.Sprintf("http://127.0.0.1:%d/-/healthy", p.Port))
	if auth != nil {
		// The web config (both users' hashes) and the machine credential's
		// password, for the self-scrape and the Alertmanager: not the
		// human user's (issue 34).
		secrets = auth.secrets(tc.EnvWebConfigYAML)
	}
	return env, secrets, health
}

// newConfigParameter holds the configuration. It travels as a plain SSM
// parameter so that a change shows up in `terraform plan` as readable YAML
// lines, and reaches the running task through the config-sync sidecar.
func newConfigParameter(scope constructs.Construct, id string, p *PrometheusFargateServiceProps, value string) ssmparameter.SsmParameter {
	return newGeneratedParameter(scope, "config", p.Name, "prometheus", "prometheus.yml", mustSSMTier(id, *p), value)
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
