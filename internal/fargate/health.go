package fargate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

// healthParams are a container health check's timings with ECS's defaults
// (interval 30 s, timeout 5 s, retries 3, no start period).
func (c *Container) healthParams() (interval, timeout time.Duration, retries int, startPeriod time.Duration) {
	hc := c.def.HealthCheck
	interval, timeout, retries = 30*time.Second, 5*time.Second, 3
	if hc.Interval != nil {
		interval = time.Duration(*hc.Interval) * time.Second
	}
	if hc.Timeout != nil {
		timeout = time.Duration(*hc.Timeout) * time.Second
	}
	if hc.Retries != nil {
		retries = int(*hc.Retries)
	}
	if hc.StartPeriod != nil {
		startPeriod = time.Duration(*hc.StartPeriod) * time.Second
	}
	return
}

// watchHealth runs the health check as Docker runs it for ECS: the first
// probe one interval after the start, then every interval; a probe that
// fails or outlasts its timeout is a failure; failures inside the start
// period do not count, and a success ends the start period; retries
// consecutive failures make the container UNHEALTHY, one success HEALTHY.
func (c *Container) watchHealth() {
	interval, timeout, retries, startPeriod := c.healthParams()
	started := time.Now()
	failures := 0
	inStart := startPeriod > 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		ok, out := c.probe(timeout)
		c.mu.Lock()
		c.healthOutput = out
		switch {
		case ok:
			c.health, failures, inStart = "HEALTHY", 0, false
		case inStart && time.Since(started) < startPeriod:
			// does not count
		default:
			inStart = false
			failures++
			if failures >= retries {
				c.health = "UNHEALTHY"
			}
		}
		c.mu.Unlock()
	}
}

// probe runs the health check command inside the container: its mount,
// network, PID, IPC and UTS namespaces, its root and working directory,
// its user and environment.
func (c *Container) probe(timeout time.Duration) (bool, string) {
	test := c.def.HealthCheck.Command
	var argv []string
	switch {
	case len(test) >= 2 && test[0] == "CMD-SHELL":
		argv = []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	case len(test) >= 2 && test[0] == "CMD":
		argv = test[1:]
	default:
		return false, "unsupported health check command " + strings.Join(test, " ")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// runc exec runs it as config.json's process (the container's user,
	// working directory and environment, as docker exec does for ECS);
	// runc itself has the runner's environment.
	pidFile := filepath.Join(c.bundleDir, "probe-"+newID()[:8]+".pid")
	defer os.Remove(pidFile)
	cmd := c.t.r.runc.command(append([]string{"exec", "--pid-file", pidFile, c.ID}, argv...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return false, err.Error()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err == nil, lastBytes(out.String(), 4096)
	case <-ctx.Done():
		// Killing runc exec leaves the check running in the container:
		// kill the check itself too.
		if pid, err := proc.ReadPIDFile(pidFile); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return false, "health check timed out after " + timeout.String()
	}
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
