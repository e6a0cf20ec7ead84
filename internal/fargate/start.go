package fargate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// startContainers starts every container once the conditions of its
// dependsOn hold (START, COMPLETE, SUCCESS, HEALTHY), in definition order
// otherwise, waiting at most each container's startTimeout (default 3
// minutes) for them. A condition that can no longer hold fails the task.
func (t *Task) startContainers(ctx context.Context) error {
	started := map[string]bool{}
	for len(started) < len(t.Containers) {
		progressed := false
		for _, c := range t.Containers {
			if started[c.Name] {
				continue
			}
			ready, err := t.dependenciesMet(c)
			if err != nil {
				return err
			}
			if !ready {
				continue
			}
			if err := c.start(ctx); err != nil {
				return err
			}
			started[c.Name] = true
			progressed = true
		}
		if progressed {
			continue
		}
		if err := t.waitForDependencies(ctx, started); err != nil {
			return err
		}
	}
	return nil
}

// waitForDependencies blocks until some waiting container may start.
func (t *Task) waitForDependencies(ctx context.Context, started map[string]bool) error {
	deadline := time.Now().Add(3 * time.Minute)
	for _, c := range t.Containers {
		if !started[c.Name] && c.def.StartTimeout != nil {
			if d := time.Now().Add(time.Duration(*c.def.StartTimeout) * time.Second); d.Before(deadline) {
				deadline = d
			}
		}
	}
	for time.Now().Before(deadline) {
		for _, c := range t.Containers {
			if started[c.Name] {
				continue
			}
			ready, err := t.dependenciesMet(c)
			if err != nil || ready {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("CannotStartContainerError: dependency conditions of the task's containers were not met within their start timeout")
}

// dependenciesMet reports whether c may start; an error when one of its
// conditions can never hold.
func (t *Task) dependenciesMet(c *Container) (bool, error) {
	for _, d := range c.def.DependsOn {
		dep := t.Container(aws.ToString(d.ContainerName))
		status := dep.Status()
		code, exited := dep.ExitCode()
		switch d.Condition {
		case ecstypes.ContainerConditionStart:
			if status == "PENDING" {
				return false, nil
			}
		case ecstypes.ContainerConditionComplete:
			if !exited {
				return false, nil
			}
		case ecstypes.ContainerConditionSuccess:
			if !exited {
				return false, nil
			}
			if code != 0 {
				return false, fmt.Errorf("CannotStartContainerError: container %s depends on %s exiting 0 (SUCCESS); it exited %d", c.Name, dep.Name, code)
			}
		case ecstypes.ContainerConditionHealthy:
			switch dep.Health() {
			case "HEALTHY":
			case "UNHEALTHY":
				return false, fmt.Errorf("CannotStartContainerError: container %s depends on %s being HEALTHY; it is UNHEALTHY", c.Name, dep.Name)
			default:
				if exited {
					return false, fmt.Errorf("CannotStartContainerError: container %s depends on %s being HEALTHY; it exited %d", c.Name, dep.Name, code)
				}
				return false, nil
			}
		}
	}
	return true, nil
}
