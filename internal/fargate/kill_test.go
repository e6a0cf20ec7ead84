package fargate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kill: every container's processes get SIGKILL at once, a SIGTERM trap
// never runs however long the stopTimeout, ECS reports the task stopped
// with each container exited 137, and no process of the task is left
// behind (a background child included).
func TestKill(t *testing.T) {
	ctx := setup(t)
	// A marker no other process on the machine carries: the background
	// sleep's argument, on the command line of every process of the task
	// (the shell, the sleep), found in /proc if anything survives.
	marker := fmt.Sprintf("%d", 900000+time.Now().UnixNano()%99999)
	script := `trap 'echo got TERM; exit 0' TERM; sleep ` + marker + ` & echo up; while :; do sleep 1; done`
	first, second := busybox("first", script), busybox("second", script)
	first.StopTimeout, second.StopTimeout = seconds(120), seconds(120)
	task, err := runner.Run(ctx, taskDef(nil, first, second), RunOptions{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, task, task.Container("first"), "up")
	waitLog(t, ctx, task, task.Container("second"), "up")
	if n := processesWith(t, marker); n == 0 {
		t.Fatal("no process carries the marker before the kill: the check below would prove nothing")
	}
	start := time.Now()
	task.Kill("host died")
	select {
	case <-task.Done():
	case <-ctx.Done():
		t.Fatal("the killed task never stopped")
	}
	t.Logf("killed task stopped %s after Kill (stopTimeout 120 s)", time.Since(start).Round(time.Millisecond))
	for _, c := range task.Containers {
		if code := exitCode(t, c); code != 128+int(syscall.SIGKILL) {
			t.Errorf("container %s exited %d, want 137 (SIGKILL)", c.Name, code)
		}
		if log := c.LogTail(5); strings.Contains(log, "got TERM") {
			t.Errorf("container %s got SIGTERM; a kill sends none:\n%s", c.Name, log)
		}
	}
	if code, reason := task.StoppedReason(); code != "EssentialContainerExited" || reason != "host died" {
		t.Errorf("stop reason %s: %s, want EssentialContainerExited: host died", code, reason)
	}
	if api := task.API(); api.LastStatus != "STOPPED" || api.DesiredStatus != "STOPPED" {
		t.Errorf("ECS would report the task %s (desired %s), want STOPPED", api.LastStatus, api.DesiredStatus)
	}
	// Processes die as the kernel gets to them: wait for none, bounded by
	// the test's context.
	for n := processesWith(t, marker); n != 0; n = processesWith(t, marker) {
		select {
		case <-ctx.Done():
			t.Fatalf("%d process(es) of the killed task are left behind", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// processesWith counts the processes on this machine whose command line
// holds marker.
func processesWith(t *testing.T, marker string) int {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		if strings.Contains(strings.ReplaceAll(string(data), "\x00", " "), " "+marker) {
			n++
		}
	}
	return n
}
