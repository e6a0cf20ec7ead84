package fargate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Issue 29: the task's memory is a hard limit on its containers together,
// a container's own memory a hard limit on it, as Fargate enforces them; a
// container killed for memory is reported as ECS reports it (exit 137,
// reason OutOfMemoryError), and its essential exit stops the task. The
// same program within the limit runs to the end: what kills it is the
// limit, nothing else (the runner before issue 29 enforced none, so the
// first two cases exited 0 there).
func TestMemoryLimitLikeFargate(t *testing.T) {
	ctx := setup(t)
	// dd reads a block of the given size into one buffer it allocates:
	// its memory is the block. exec makes it the container's process.
	hog := func(block string) string {
		return "echo up; exec dd if=/dev/zero of=/dev/null bs=" + block + " count=1"
	}
	for _, c := range []struct {
		name           string
		taskMemory     string
		containerLimit int32 // MiB, 0: none
		block          string
		oom            bool
	}{
		{"past the task's memory", "512", 0, "700M", true},
		{"past the container's memory, within the task's", "1024", 128, "200M", true},
		{"within the task's memory", "1024", 0, "700M", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			def := taskDef(nil, busybox("hog", hog(c.block)))
			def.Memory = aws.String(c.taskMemory)
			if c.containerLimit > 0 {
				def.ContainerDefinitions[0].Memory = aws.Int32(c.containerLimit)
			}
			task := runToEnd(t, ctx, def, RunOptions{})
			hogC := task.Container("hog")
			code := exitCode(t, hogC)
			api := task.API()
			stopCode, _ := task.StoppedReason()
			if !c.oom {
				if code != 0 || hogC.Reason() != "" {
					t.Fatalf("dd of %s within %s MiB must run to the end: exit %d, reason %q\n%s", c.block, c.taskMemory, code, hogC.Reason(), hogC.LogTail(5))
				}
				return
			}
			if code != 137 || hogC.Reason() != oomReason {
				t.Fatalf("dd of %s in %s MiB (container limit %d MiB) must be killed for memory: exit %d, reason %q, want 137 and %q\n%s",
					c.block, c.taskMemory, c.containerLimit, code, hogC.Reason(), oomReason, hogC.LogTail(5))
			}
			if len(api.Containers) != 1 || api.Containers[0].Reason != oomReason || api.Containers[0].ExitCode == nil || *api.Containers[0].ExitCode != 137 {
				t.Errorf("DescribeTasks must report the container's exit 137 and reason %q: %+v", oomReason, api.Containers)
			}
			if stopCode != "EssentialContainerExited" {
				t.Errorf("the task must stop as an essential container exited, not %q", stopCode)
			}
		})
	}
}

// The task's cpu is a CFS quota on its cgroup (256 units: a quarter of a
// CPU's time per period), its memory the cgroup's limit; the container's
// cgroup sits below the task's, and reads the task's memory as its limit.
func TestTaskSizeIsTheCgroupLimit(t *testing.T) {
	ctx := setup(t)
	task, err := runner.Run(ctx, taskDef(nil, busybox("c", "trap 'exit 0' TERM; echo up; cat /proc/self/cgroup; echo limit $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); while :; do sleep 1; done")), RunOptions{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Stop("test over")
	log := waitLog(t, ctx, task, task.Container("c"), "limit ")
	read := func(ctrl, file string) string {
		b, err := os.ReadFile(filepath.Join(task.cgroup.Dir(ctrl), file))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("cpu", "cpu.cfs_quota_us"); got != "25000" {
		t.Errorf("cpu 256 must be a quota of 25000 us per 100000 us period, got %s", got)
	}
	if got := read("memory", "memory.limit_in_bytes"); got != "536870912" {
		t.Errorf("memory 512 must be a limit of 536870912 bytes, got %s", got)
	}
	// Inside, the container reads the task's memory as its limit, as a
	// program on Fargate reads its VM's (Prometheus sets GOMEMLIMIT so).
	if !strings.Contains(log, "limit 536870912") {
		t.Errorf("the container must read the task's 512 MiB as its memory limit:\n%s", log)
	}
	if !strings.Contains(log, "memory:"+task.cgroup.Container("c")) {
		t.Errorf("the container's process must be in the container's cgroup %s, below the task's:\n%s", task.cgroup.Container("c"), log)
	}
}
