package containerdef

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Task is what the container rules need of a task definition.
type Task struct {
	Containers []Container
	// Volumes are the names of the task's volumes.
	Volumes []string
	// ExecutionRole: the task has one (secrets and awslogs need it).
	ExecutionRole bool
}

// Check returns every rule of ECS on Fargate the containers break, each
// naming the container and the fix, joined; nil when none. The rules are
// ECS's (developer guide, "Amazon ECS task definition parameters for
// Fargate", "Container dependency"; API reference, HealthCheck): the
// emulator accepts what AWS refuses, so they are checked here.
func (t Task) Check() error {
	var errs []error
	bad := func(c, format string, args ...any) {
		errs = append(errs, fmt.Errorf("container %s: %s", c, fmt.Sprintf(format, args...)))
	}
	byName := map[string]Container{}
	ports := map[int]string{}
	essential := false
	for _, c := range t.Containers {
		if c.Name == "" || c.Image == "" {
			bad(c.Name, "needs a name and an image")
		}
		if _, dup := byName[c.Name]; dup {
			bad(c.Name, "the name is used twice in the task")
		}
		byName[c.Name] = c
		essential = essential || c.Essential
		for _, pm := range c.PortMappings {
			if pm.HostPort != 0 && pm.HostPort != pm.ContainerPort {
				bad(c.Name, "with awsvpc the hostPort (%d) must equal the containerPort (%d)", pm.HostPort, pm.ContainerPort)
			}
			if other, taken := ports[pm.ContainerPort]; taken {
				bad(c.Name, "port %d is container %s's too (the task has one network interface)", pm.ContainerPort, other)
			}
			ports[pm.ContainerPort] = c.Name
		}
		if c.StopTimeout > 120 {
			bad(c.Name, "stopTimeout %d is above Fargate's maximum of 120 seconds", c.StopTimeout)
		}
		for _, mp := range c.MountPoints {
			if !slices.Contains(t.Volumes, mp.SourceVolume) {
				bad(c.Name, "mount point names unknown volume %q (the task has %s)", mp.SourceVolume, strings.Join(t.Volumes, ", "))
			}
			if !path.IsAbs(mp.ContainerPath) {
				bad(c.Name, "mount point path %q is not absolute", mp.ContainerPath)
			}
		}
		checkHealth(c, bad)
		if rp := c.RestartPolicy; rp != nil && rp.RestartAttemptPeriod != 0 && (rp.RestartAttemptPeriod < 60 || rp.RestartAttemptPeriod > 1800) {
			bad(c.Name, "restartPolicy restartAttemptPeriod %d is outside 60-1800", rp.RestartAttemptPeriod)
		}
		if lp := c.LinuxParameters; lp != nil {
			if lp.Capabilities != nil {
				for _, add := range lp.Capabilities.Add {
					if add != "SYS_PTRACE" {
						bad(c.Name, "on Fargate only SYS_PTRACE can be added (got %s)", add)
					}
				}
			}
			for _, tf := range lp.Tmpfs {
				if tf.Size <= 0 || !path.IsAbs(tf.ContainerPath) {
					bad(c.Name, "tmpfs %q needs an absolute path and a size (MiB) above 0", tf.ContainerPath)
				}
			}
		}
		if !t.ExecutionRole && (len(c.Secrets) > 0 || c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "awslogs") {
			bad(c.Name, "uses secrets or the awslogs driver, which need the task execution role (executionRoleArn)")
		}
	}
	if len(t.Containers) > 0 && !essential {
		errs = append(errs, errors.New("at least one container must be essential"))
	}
	checkDependencies(t.Containers, byName, bad)
	if cycle := dependencyCycle(t.Containers); cycle != "" {
		errs = append(errs, fmt.Errorf("container dependencies form a cycle: %s", cycle))
	}
	return errors.Join(errs...)
}

// checkDependencies holds each dependsOn to what ECS accepts: a known
// container, a condition it can reach.
func checkDependencies(cs []Container, byName map[string]Container, bad func(c, format string, args ...any)) {
	for _, c := range cs {
		for _, d := range c.DependsOn {
			target, ok := byName[d.ContainerName]
			switch {
			case !ok:
				bad(c.Name, "depends on unknown container %s", d.ContainerName)
			case d.Condition == "HEALTHY" && target.HealthCheck == nil:
				bad(c.Name, "waits for %s to be HEALTHY, which has no health check", d.ContainerName)
			case (d.Condition == "COMPLETE" || d.Condition == "SUCCESS") && target.Essential:
				bad(c.Name, "waits for %s to %s, which is essential (its exit stops the task)", d.ContainerName, d.Condition)
			case !slices.Contains([]string{"START", "COMPLETE", "SUCCESS", "HEALTHY"}, d.Condition):
				bad(c.Name, "dependsOn condition %q is not START, COMPLETE, SUCCESS or HEALTHY", d.Condition)
			}
		}
	}
}

// checkHealth holds a health check to ECS's bounds.
func checkHealth(c Container, bad func(c, format string, args ...any)) {
	hc := c.HealthCheck
	if hc == nil {
		return
	}
	for _, r := range []struct {
		what      string
		v, lo, hi int
	}{{"interval", hc.Interval, 5, 300}, {"timeout", hc.Timeout, 2, 120}, {"retries", hc.Retries, 1, 10}, {"startPeriod", hc.StartPeriod, 0, 300}} {
		if r.v < r.lo || r.v > r.hi {
			bad(c.Name, "healthCheck %s %d is outside %d-%d", r.what, r.v, r.lo, r.hi)
		}
	}
	if len(hc.Command) < 2 || (hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL") {
		bad(c.Name, "healthCheck command must start with CMD or CMD-SHELL")
	}
}

func dependencyCycle(cs []Container) string {
	deps := map[string][]string{}
	for _, c := range cs {
		for _, d := range c.DependsOn {
			deps[c.Name] = append(deps[c.Name], d.ContainerName)
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
	for _, c := range cs {
		if cyc := visit(c.Name); cyc != "" {
			return cyc
		}
	}
	return ""
}
