package fargate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate/cgroup"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// reapChildEnv makes the test binary a runner that starts one task, prints
// its container's PID and its cgroup folder, and waits to be killed.
const reapChildEnv = "FARGATE_TEST_REAP_CHILD"

func reapChild() {
	fail := func(err error) { fmt.Println("error:", err); os.Exit(1) }
	dir := os.Getenv(reapChildEnv)
	imgs, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, AlertmanagerImage: config.DefaultAlertmanagerImage,
		ToolsBin: tools.Bin(), DockerDir: "../../docker", CacheDir: filepath.Join(tools.Bin(), "..", "images")})
	if err != nil {
		fail(err)
	}
	noAWS := func(context.Context, string) (aws.Config, error) { return aws.Config{}, errors.New("no AWS here") }
	r, err := New(context.Background(), Options{Images: imgs, AWS: noAWS, Dir: dir})
	if err != nil {
		fail(err)
	}
	task, err := r.Run(context.Background(), taskDef(nil, busybox("c", "echo up; while :; do sleep 1; done")), RunOptions{Region: region})
	if err != nil {
		fail(err)
	}
	fmt.Println(task.Containers[0].PID(), task.cgroup.Dir("memory"))
	select {}
}

// A runner whose process is killed (a test killed by its timeout, an
// interrupted demo) leaves nothing running: runc's containers outlive a
// killed runc, and the runner's reaper kills them and removes the
// runner's cgroup. Must-fail: without the reaper the container is left
// running (this test then kills it by its PID).
func TestReaperEndsWhatAKilledRunnerLeaves(t *testing.T) {
	ctx := setup(t)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), reapChildEnv+"="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error:") {
		_ = cmd.Process.Kill()
		t.Fatalf("the child runner did not start its task: %q %v", line, err)
	}
	fields := strings.Fields(line)
	pid, _ := strconv.Atoi(fields[0])
	taskCgroup := fields[1]
	if pid == 0 || syscall.Kill(pid, 0) != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("the container's process %q must run before the runner is killed", line)
	}
	_ = cmd.Process.Kill() // SIGKILL: nothing of the runner's own code runs
	_ = cmd.Wait()
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the container's process %d outlived its killed runner", pid)
		case <-time.After(100 * time.Millisecond):
		}
	}
	runnerCgroup := filepath.Dir(taskCgroup)
	for {
		if _, err := os.Stat(runnerCgroup); errors.Is(err, os.ErrNotExist) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the killed runner's cgroup %s must be removed (processes left: %v)", runnerCgroup, cgroup.PIDs(runnerCgroup))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
