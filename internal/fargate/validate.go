package fargate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
)

// validate refuses what ECS refuses for a Fargate task that the emulator
// lets through (ECS developer guide, "Amazon ECS task definition parameters
// for Fargate" and "Amazon ECS task definition differences for Fargate").
func validate(def *ecstypes.TaskDefinition) error {
	if def == nil {
		return errors.New("fargate.Run: no task definition")
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !slices.Contains(def.RequiresCompatibilities, ecstypes.CompatibilityFargate) {
		bad("requiresCompatibilities must include FARGATE")
	}
	if def.NetworkMode != ecstypes.NetworkModeAwsvpc {
		bad("networkMode must be awsvpc on Fargate (got %q)", def.NetworkMode)
	}
	if err := fargateSize(aws.ToString(def.Cpu), aws.ToString(def.Memory)); err != nil {
		bad("%v", err)
	}
	var volumes []string
	for _, v := range def.Volumes {
		volumes = append(volumes, aws.ToString(v.Name))
		if v.Host != nil && aws.ToString(v.Host.SourcePath) != "" {
			bad("volume %s: host sourcePath is not supported on Fargate", aws.ToString(v.Name))
		}
		if v.DockerVolumeConfiguration != nil {
			bad("volume %s: Docker volumes are not supported on Fargate", aws.ToString(v.Name))
		}
	}
	for _, c := range def.ContainerDefinitions {
		name := aws.ToString(c.Name)
		if len(c.VolumesFrom) > 0 {
			bad("container %s: volumesFrom is not replicated by the local runner", name)
		}
		if lp := c.LinuxParameters; lp != nil && (len(lp.Devices) > 0 || lp.SharedMemorySize != nil || lp.Swappiness != nil || lp.MaxSwap != nil) {
			bad("container %s: devices, sharedMemorySize, swappiness and maxSwap are not supported on Fargate", name)
		}
	}
	// The container rules are containerdef's, the ones the constructs are
	// held to at synth.
	task := containerdef.Task{Containers: containers(def.ContainerDefinitions), Volumes: volumes, ExecutionRole: aws.ToString(def.ExecutionRoleArn) != ""}
	if err := task.Check(); err != nil {
		errs = append(errs, strings.Split(err.Error(), "\n")...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("ClientException: %s", strings.Join(errs, "; "))
	}
	return nil
}

// fargateSize checks the task's cpu and memory against the combinations
// Fargate offers ("Task CPU and memory" in the task definition reference).
func fargateSize(cpu, memory string) error {
	c, err1 := strconv.Atoi(cpu)
	m, err2 := strconv.Atoi(memory)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("task cpu %q and memory %q must be set as numbers on Fargate", cpu, memory)
	}
	type span struct{ lo, hi, step int }
	sizes := map[int][]span{
		256:   {{512, 512, 1}, {1024, 1024, 1}, {2048, 2048, 1}},
		512:   {{1024, 4096, 1024}},
		1024:  {{2048, 8192, 1024}},
		2048:  {{4096, 16384, 1024}},
		4096:  {{8192, 30720, 1024}},
		8192:  {{16384, 61440, 4096}},
		16384: {{32768, 122880, 8192}},
	}
	spans, ok := sizes[c]
	if !ok {
		return fmt.Errorf("no Fargate configuration exists for cpu %d (256, 512, 1024, 2048, 4096, 8192 or 16384)", c)
	}
	for _, s := range spans {
		if m >= s.lo && m <= s.hi && (m-s.lo)%s.step == 0 {
			return nil
		}
	}
	return fmt.Errorf("no Fargate configuration exists for cpu %d with memory %d MiB", c, m)
}

// containers are the SDK's container definitions as containerdef's, with
// ECS's defaults where a field is unset (essential true; health check
// every 30 s, 5 s timeout, 3 retries).
func containers(defs []ecstypes.ContainerDefinition) []containerdef.Container {
	var out []containerdef.Container
	for _, c := range defs {
		cc := containerdef.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image), Essential: c.Essential == nil || *c.Essential,
			StopTimeout: int(aws.ToInt32(c.StopTimeout)), User: aws.ToString(c.User)}
		for _, pm := range c.PortMappings {
			cc.PortMappings = append(cc.PortMappings, containerdef.PortMapping{ContainerPort: int(aws.ToInt32(pm.ContainerPort)), HostPort: int(aws.ToInt32(pm.HostPort))})
		}
		for _, mp := range c.MountPoints {
			cc.MountPoints = append(cc.MountPoints, containerdef.MountPoint{SourceVolume: aws.ToString(mp.SourceVolume), ContainerPath: aws.ToString(mp.ContainerPath), ReadOnly: aws.ToBool(mp.ReadOnly)})
		}
		if hc := c.HealthCheck; hc != nil {
			or := func(v *int32, d int) int {
				if v == nil {
					return d
				}
				return int(*v)
			}
			cc.HealthCheck = &containerdef.HealthCheck{Command: hc.Command, Interval: or(hc.Interval, 30), Timeout: or(hc.Timeout, 5),
				Retries: or(hc.Retries, 3), StartPeriod: or(hc.StartPeriod, 0)}
		}
		if lp := c.LinuxParameters; lp != nil {
			cc.LinuxParameters = &containerdef.LinuxParameters{}
			if lp.Capabilities != nil {
				cc.LinuxParameters.Capabilities = &containerdef.Capabilities{Add: lp.Capabilities.Add, Drop: lp.Capabilities.Drop}
			}
			for _, tf := range lp.Tmpfs {
				cc.LinuxParameters.Tmpfs = append(cc.LinuxParameters.Tmpfs, containerdef.Tmpfs{ContainerPath: aws.ToString(tf.ContainerPath), MountOptions: tf.MountOptions, Size: int(tf.Size)})
			}
		}
		for _, sc := range c.Secrets {
			cc.Secrets = append(cc.Secrets, containerdef.Secret{Name: aws.ToString(sc.Name), ValueFrom: aws.ToString(sc.ValueFrom)})
		}
		if lc := c.LogConfiguration; lc != nil {
			cc.LogConfiguration = &containerdef.LogConfiguration{LogDriver: string(lc.LogDriver)}
		}
		for _, d := range c.DependsOn {
			cc.DependsOn = append(cc.DependsOn, containerdef.Dependency{ContainerName: aws.ToString(d.ContainerName), Condition: string(d.Condition)})
		}
		out = append(out, cc)
	}
	return out
}
