package fargate

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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
	volumes := map[string]bool{}
	for _, v := range def.Volumes {
		volumes[aws.ToString(v.Name)] = true
		if v.Host != nil && aws.ToString(v.Host.SourcePath) != "" {
			bad("volume %s: host sourcePath is not supported on Fargate", aws.ToString(v.Name))
		}
		if v.DockerVolumeConfiguration != nil {
			bad("volume %s: Docker volumes are not supported on Fargate", aws.ToString(v.Name))
		}
	}
	names := map[string]bool{}
	essential := false
	for _, c := range def.ContainerDefinitions {
		name := aws.ToString(c.Name)
		names[name] = true
		essential = essential || c.Essential == nil || *c.Essential
		for _, pm := range c.PortMappings {
			if hp := aws.ToInt32(pm.HostPort); hp != 0 && hp != aws.ToInt32(pm.ContainerPort) {
				bad("container %s: with awsvpc the hostPort (%d) must equal the containerPort (%d)", name, hp, aws.ToInt32(pm.ContainerPort))
			}
		}
		if st := aws.ToInt32(c.StopTimeout); st > 120 {
			bad("container %s: stopTimeout %d is above Fargate's maximum of 120 seconds", name, st)
		}
		for _, mp := range c.MountPoints {
			if !volumes[aws.ToString(mp.SourceVolume)] {
				bad("container %s: mount point names unknown volume %q", name, aws.ToString(mp.SourceVolume))
			}
			if !path.IsAbs(aws.ToString(mp.ContainerPath)) {
				bad("container %s: mount point path %q is not absolute", name, aws.ToString(mp.ContainerPath))
			}
		}
		if len(c.VolumesFrom) > 0 {
			bad("container %s: volumesFrom is not replicated by the local runner", name)
		}
		if hc := c.HealthCheck; hc != nil {
			checkRange := func(what string, v *int32, lo, hi int32) {
				if v != nil && (*v < lo || *v > hi) {
					bad("container %s: healthCheck %s %d is outside %d-%d", name, what, *v, lo, hi)
				}
			}
			checkRange("interval", hc.Interval, 5, 300)
			checkRange("timeout", hc.Timeout, 2, 120)
			checkRange("retries", hc.Retries, 1, 10)
			checkRange("startPeriod", hc.StartPeriod, 0, 300)
			if len(hc.Command) < 2 || (hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL") {
				bad("container %s: healthCheck command must start with CMD or CMD-SHELL", name)
			}
		}
		if lp := c.LinuxParameters; lp != nil {
			if len(lp.Devices) > 0 || lp.SharedMemorySize != nil || lp.Swappiness != nil || lp.MaxSwap != nil {
				bad("container %s: devices, sharedMemorySize, swappiness and maxSwap are not supported on Fargate", name)
			}
			if caps := lp.Capabilities; caps != nil {
				for _, add := range caps.Add {
					if add != "SYS_PTRACE" {
						bad("container %s: on Fargate only SYS_PTRACE can be added (got %s)", name, add)
					}
				}
			}
			for _, tf := range lp.Tmpfs {
				if tf.Size <= 0 {
					bad("container %s: tmpfs %s needs a size (MiB) above 0", name, aws.ToString(tf.ContainerPath))
				}
			}
		}
	}
	if aws.ToString(def.ExecutionRoleArn) == "" {
		// The agent reads secrets and writes awslogs as the execution role.
		for _, c := range def.ContainerDefinitions {
			if len(c.Secrets) > 0 || c.LogConfiguration != nil && c.LogConfiguration.LogDriver == ecstypes.LogDriverAwslogs {
				bad("container %s uses secrets or the awslogs driver, which need the task execution role (executionRoleArn)", aws.ToString(c.Name))
			}
		}
	}
	if !essential {
		bad("at least one container must be essential")
	}
	for _, c := range def.ContainerDefinitions {
		for _, d := range c.DependsOn {
			if !names[aws.ToString(d.ContainerName)] {
				bad("container %s depends on unknown container %s", aws.ToString(c.Name), aws.ToString(d.ContainerName))
			}
		}
	}
	if cycle := dependencyCycle(def.ContainerDefinitions); cycle != "" {
		bad("container dependencies form a cycle: %s", cycle)
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

func dependencyCycle(defs []ecstypes.ContainerDefinition) string {
	deps := map[string][]string{}
	for _, c := range defs {
		for _, d := range c.DependsOn {
			deps[aws.ToString(c.Name)] = append(deps[aws.ToString(c.Name)], aws.ToString(d.ContainerName))
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var stack []string
	var visit func(n string) string
	visit = func(n string) string {
		switch state[n] {
		case 1:
			return strings.Join(append(stack, n), " -> ")
		case 2:
			return ""
		}
		state[n] = 1
		stack = append(stack, n)
		for _, d := range deps[n] {
			if c := visit(d); c != "" {
				return c
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return ""
	}
	for _, c := range defs {
		if cyc := visit(aws.ToString(c.Name)); cyc != "" {
			return cyc
		}
	}
	return ""
}
