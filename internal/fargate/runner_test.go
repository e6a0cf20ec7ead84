package fargate

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// One emulator and one runner for the package (make test runs it inside
// the loopback-only namespace, as root).
var (
	emu      *emulator.Emulator
	runner   *Runner
	images   *Images
	setupErr error
)

const region = "eu-central-1"

func TestMain(m *testing.M) {
	if os.Getenv(reapChildEnv) != "" {
		reapChild() // TestReaperEndsWhatAKilledRunnerLeaves's runner
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	dir, err := os.MkdirTemp("", "fargate-test-")
	if err != nil {
		panic(err)
	}
	setupErr = func() error {
		var err error
		if emu, err = emulator.Start(ctx, emulator.Options{}); err != nil {
			return err
		}
		images, err = Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, AlertmanagerImage: config.DefaultAlertmanagerImage, ToolsBin: tools.Bin(),
			DockerDir: "../../docker", CacheDir: filepath.Join(tools.Bin(), "..", "images")})
		if err != nil {
			return err
		}
		runner, err = New(ctx, Options{Images: images, AWS: emu.AWSConfig, Dir: dir})
		return err
	}()
	code := m.Run()
	if emu != nil {
		emu.Stop()
	}
	cancel()
	os.RemoveAll(dir)
	os.Exit(code)
}

func setup(t *testing.T) context.Context {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("runner setup: %v", setupErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// busybox is a container definition on the busybox base image running a
// shell script, as the task user 65534 unless user is given.
func busybox(name, script string) ecstypes.ContainerDefinition {
	return ecstypes.ContainerDefinition{
		Name: aws.String(name), Image: aws.String(PrometheusBase), User: aws.String("65534:65534"),
		Essential: aws.Bool(true), ReadonlyRootFilesystem: aws.Bool(true),
		EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{script},
	}
}

func taskDef(volumes []ecstypes.Volume, containers ...ecstypes.ContainerDefinition) *ecstypes.TaskDefinition {
	return &ecstypes.TaskDefinition{
		Family: aws.String("runner-test"), Revision: 1, Cpu: aws.String("256"), Memory: aws.String("512"),
		TaskDefinitionArn:       aws.String("arn:aws:ecs:eu-central-1:123456789012:task-definition/runner-test:1"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, NetworkMode: ecstypes.NetworkModeAwsvpc,
		Volumes: volumes, ContainerDefinitions: containers,
	}
}

// runToEnd runs a task whose containers exit by themselves and returns
// it stopped.
func runToEnd(t *testing.T, ctx context.Context, def *ecstypes.TaskDefinition, o RunOptions) *Task {
	t.Helper()
	if o.Region == "" {
		o.Region = region
	}
	task, err := runner.Run(ctx, def, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	select {
	case <-task.Done():
	case <-ctx.Done():
		task.Stop("test timeout")
		t.Fatalf("task did not stop by itself; log:\n%s", task.Containers[0].LogTail(30))
	}
	return task
}

// waitLog waits until c's log holds want and returns the log; the task
// stopping or ctx ending first fails the test.
func waitLog(t *testing.T, ctx context.Context, task *Task, c *Container, want string) string {
	t.Helper()
	for {
		log := c.LogTail(50)
		if strings.Contains(log, want) {
			return log
		}
		select {
		case <-task.Done():
			if log = c.LogTail(50); strings.Contains(log, want) {
				return log
			}
			t.Fatalf("the task stopped before container %s said %q:\n%s", c.Name, want, log)
		case <-ctx.Done():
			t.Fatalf("container %s never said %q (%v):\n%s", c.Name, want, ctx.Err(), log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func exitCode(t *testing.T, c *Container) int {
	t.Helper()
	code, ok := c.ExitCode()
	if !ok {
		t.Fatalf("container %s has not exited", c.Name)
	}
	return code
}

// Fargate creates a bind mount empty, root-owned, mode 0755, unless the
// image has a VOLUME there (ECS developer guide, "Use bind mounts with
// Amazon ECS"): the task user cannot write it. This is the failure the
// Prometheus task had with /tmp on a bind mount.
func TestBindMountIsRootOwnedForANonRootUser(t *testing.T) {
	ctx := setup(t)
	c := busybox("writer", `ls -ld /tmp; mkdir /tmp/prometheus`)
	c.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("runtime"), ContainerPath: aws.String("/tmp")}}
	task := runToEnd(t, ctx, taskDef([]ecstypes.Volume{{Name: aws.String("runtime")}}, c), RunOptions{})
	log := task.Containers[0].LogTail(10)
	if exitCode(t, task.Containers[0]) == 0 || !strings.Contains(log, "mkdir: can't create directory '/tmp/prometheus': Permission denied") ||
		!strings.Contains(log, "drwxr-xr-x    2 root     root") {
		t.Fatalf("uid 65534 must not write a root-owned 0755 bind mount; got exit %d:\n%s", exitCode(t, task.Containers[0]), log)
	}
	if code, reason := task.StoppedReason(); code != "EssentialContainerExited" || reason != "Essential container in task exited" {
		t.Errorf("stop reason %s: %s", code, reason)
	}
}

// The same write succeeds on a tmpfs (mode 1777, Docker's default) and on
// the image's own VOLUME (/prometheus, owned by nobody in the official
// image: its contents and owner are copied into the bind mount).
func TestTmpfsAndImageVolumeAreWritable(t *testing.T) {
	ctx := setup(t)
	c := busybox("writer", `set -e; mkdir /tmp/prometheus; echo ok > /prometheus/probe; stat -c '%a %U' /tmp /prometheus; grep ' /tmp ' /proc/mounts`)
	c.Image = aws.String(config.DefaultPrometheusImage)
	c.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/prometheus")}}
	c.LinuxParameters = &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 16, MountOptions: []string{"noexec", "nosuid", "nodev"}}}}
	task := runToEnd(t, ctx, taskDef([]ecstypes.Volume{{Name: aws.String("data")}}, c), RunOptions{})
	log := task.Containers[0].LogTail(10)
	if exitCode(t, task.Containers[0]) != 0 || !strings.Contains(log, "1777 root") || !strings.Contains(log, "775 nobody") ||
		!strings.Contains(log, "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec") || !strings.Contains(log, "size=16384k") {
		t.Fatalf("tmpfs and image VOLUME must be writable by 65534, with the declared options:\n%s", log)
	}
}

func TestReadOnlyRootFilesystem(t *testing.T) {
	ctx := setup(t)
	task := runToEnd(t, ctx, taskDef(nil, busybox("c", `touch /etc/x`)), RunOptions{})
	if log := task.Containers[0].LogTail(5); exitCode(t, task.Containers[0]) == 0 || !strings.Contains(log, "Read-only file system") {
		t.Fatalf("a read-only root must refuse writes:\n%s", log)
	}
	rw := busybox("c", `touch /etc/x && echo wrote`)
	rw.ReadonlyRootFilesystem = aws.Bool(false)
	rw.User = nil // root, the image's default... of the busybox base
	task = runToEnd(t, ctx, taskDef(nil, rw), RunOptions{})
	if log := task.Containers[0].LogTail(5); exitCode(t, task.Containers[0]) != 0 || !strings.Contains(log, "wrote") {
		t.Fatalf("a writable root takes writes (in the container's own copy):\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(images.built[PrometheusBase].Root, "etc", "x")); err == nil {
		t.Fatal("a container wrote into the image replica")
	}
}

// Secrets as the ECS agent resolves them: an SSM parameter by ARN, a
// Secrets Manager secret whole and by JSON key.
func TestSecretsResolveLikeECS(t *testing.T) {
	ctx := setup(t)
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	param, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/runner-test/config"), Value: aws.String("line one\nline two"), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	if err != nil || param == nil {
		t.Fatal(err)
	}
	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("runner-test-" + newID()[:6]), SecretString: aws.String(`{"password":"s3cret","n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	execRole := role(t, ctx, "exec")
	paramArn := "arn:aws:ssm:eu-central-1:123456789012:parameter/runner-test/config"
	c := busybox("c", `echo "cfg=$CFG"; echo "pw=$PW"; echo "n=$N"; echo "all=$ALL"`)
	c.Secrets = []ecstypes.Secret{
		{Name: aws.String("CFG"), ValueFrom: aws.String(paramArn)},
		{Name: aws.String("PW"), ValueFrom: aws.String(aws.ToString(sec.ARN) + ":password::")},
		{Name: aws.String("N"), ValueFrom: aws.String(aws.ToString(sec.ARN) + ":n::")},
		{Name: aws.String("ALL"), ValueFrom: sec.ARN},
	}
	def := taskDef(nil, c)
	def.ExecutionRoleArn = execRole
	task := runToEnd(t, ctx, def, RunOptions{})
	log := task.Containers[0].LogTail(10)
	for _, want := range []string{"cfg=line one\nline two", "pw=s3cret", "n=3", `all={"password":"s3cret","n":3}`} {
		if !strings.Contains(log, want) {
			t.Errorf("container env lacks %q:\n%s", want, log)
		}
	}

	// A missing parameter or JSON key fails the start like ECS: stopped,
	// TaskFailedToStart, no container run.
	for name, valueFrom := range map[string]string{
		"missing parameter": "arn:aws:ssm:eu-central-1:123456789012:parameter/runner-test/absent",
		"missing JSON key":  aws.ToString(sec.ARN) + ":web_config::",
		"missing secret":    "arn:aws:secretsmanager:eu-central-1:123456789012:secret:absent-AbCdEf",
	} {
		t.Run(name, func(t *testing.T) {
			c := busybox("c", `echo started`)
			c.Secrets = []ecstypes.Secret{{Name: aws.String("X"), ValueFrom: aws.String(valueFrom)}}
			def := taskDef(nil, c)
			def.ExecutionRoleArn = execRole
			task, err := runner.Run(ctx, def, RunOptions{Region: region})
			if err == nil || !strings.Contains(err.Error(), "ResourceInitializationError: unable to pull secrets") {
				t.Fatalf("want ECS's ResourceInitializationError, got %v", err)
			}
			if name == "missing JSON key" && !strings.Contains(err.Error(), "did not contain json key web_config") {
				t.Errorf("the error must name the key: %v", err)
			}
			if code, _ := task.StoppedReason(); task.LastStatus() != "STOPPED" || code != "TaskFailedToStart" {
				t.Errorf("task %s, stop code %s; want STOPPED, TaskFailedToStart", task.LastStatus(), code)
			}
			if task.Containers[0].Status() != "PENDING" || strings.Contains(task.Containers[0].LogTail(5), "started") {
				t.Error("no container may start when a secret is missing")
			}
		})
	}
}

func seconds(n int32) *int32 { return &n }

// Health checks run inside the container with Docker's timing: HEALTHY
// after a passing probe, UNHEALTHY after retries failing ones.
func TestHealthCheck(t *testing.T) {
	ctx := setup(t)
	for _, c := range []struct {
		name, check, want string
	}{
		{"passing", `test "$(id -u)" = 65534 && wget -q -O /dev/null http://127.0.0.1:8080/`, "HEALTHY"},
		{"failing", `wget -q -O /dev/null http://127.0.0.1:8081/`, "UNHEALTHY"},
		{"timing out", `sleep 30`, "UNHEALTHY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			def := busybox("web", `mkdir -p /tmp/www && echo hi > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www`)
			def.LinuxParameters = &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 4}}}
			def.StopTimeout = seconds(1)
			def.HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", c.check}, Interval: seconds(5), Timeout: seconds(2), Retries: seconds(1), StartPeriod: seconds(0)}
			task, err := runner.Run(ctx, taskDef(nil, def), RunOptions{Region: region})
			if err != nil {
				t.Fatal(err)
			}
			defer task.Stop("test over")
			if task.HealthStatus() != "UNKNOWN" {
				t.Errorf("before the first probe the health is UNKNOWN, got %s", task.HealthStatus())
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := task.WaitHealth(wctx, c.want); err != nil {
				t.Fatalf("%v (container health %s, last probe %q)\n%s", err, task.Containers[0].Health(), task.Containers[0].healthOutput, task.Containers[0].LogTail(10))
			}
		})
	}
}

// StopTask: SIGTERM to the container's first process, SIGKILL after its
// stopTimeout. A shell as PID 1 without a trap ignores SIGTERM (as in
// Docker), so it is killed; a process that handles SIGTERM exits itself.
func TestStopTimeout(t *testing.T) {
	ctx := setup(t)
	ignoring := busybox("ignoring", `echo up; while :; do sleep 1; done`)
	ignoring.StopTimeout = seconds(2)
	handling := busybox("handling", `trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 1; done`)
	handling.StopTimeout = seconds(60)
	task, err := runner.Run(ctx, taskDef(nil, ignoring, handling), RunOptions{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	// Both shells up, the trap set: each says so.
	waitLog(t, ctx, task, task.Container("ignoring"), "up")
	waitLog(t, ctx, task, task.Container("handling"), "up")
	task.Stop("test")
	<-task.Done()
	if code := exitCode(t, task.Container("ignoring")); code != 128+int(syscall.SIGKILL) {
		t.Errorf("a container ignoring SIGTERM must be SIGKILLed after stopTimeout: exit %d", code)
	}
	if code := exitCode(t, task.Container("handling")); code != 0 || !strings.Contains(task.Container("handling").LogTail(3), "got TERM") {
		t.Errorf("a container handling SIGTERM exits by itself: exit %d\n%s", code, task.Container("handling").LogTail(3))
	}
	if code, reason := task.StoppedReason(); code != "UserInitiated" || reason != "test" {
		t.Errorf("stop reason %s: %s", code, reason)
	}
}

// dependsOn: a container waiting on another's SUCCESS starts after it
// exits 0; a non-essential container's exit leaves the task running, an
// essential one's stops it.
func TestDependsOnAndEssential(t *testing.T) {
	ctx := setup(t)
	init := busybox("init", `echo initialised`)
	init.Essential = aws.Bool(false)
	// main exits once the sidecar answers on the task's loopback: the
	// sidecar is running when the task stops.
	main := busybox("main", `until wget -q -O /dev/null http://127.0.0.1:8080/hostname; do sleep 0.1; done; echo main ran`)
	main.DependsOn = []ecstypes.ContainerDependency{{ContainerName: aws.String("init"), Condition: ecstypes.ContainerConditionSuccess}}
	sidecar := busybox("sidecar", `exec httpd -f -p 127.0.0.1:8080 -h /etc`)
	sidecar.StopTimeout = seconds(1)
	task := runToEnd(t, ctx, taskDef(nil, init, main, sidecar), RunOptions{})
	if exitCode(t, task.Container("init")) != 0 || !strings.Contains(task.Container("main").LogTail(2), "main ran") {
		t.Fatalf("main must run after init succeeded:\n%s\n%s", task.Container("init").LogTail(3), task.Container("main").LogTail(3))
	}
	if code, _ := task.StoppedReason(); code != "EssentialContainerExited" {
		t.Errorf("the essential main exiting stops the task: %s", code)
	}
	// httpd as PID 1 ignores SIGTERM: the stop kills it after its
	// stopTimeout.
	if code := exitCode(t, task.Container("sidecar")); task.Container("sidecar").Status() != "STOPPED" || code != 128+int(syscall.SIGKILL) {
		t.Errorf("stopping the task stops the running sidecar: %s, exit %d", task.Container("sidecar").Status(), code)
	}

	failing := busybox("init", `exit 3`)
	failing.Essential = aws.Bool(false)
	task, err := runner.Run(ctx, taskDef(nil, failing, main), RunOptions{Region: region})
	if err == nil || !strings.Contains(err.Error(), "depends on init exiting 0 (SUCCESS); it exited 3") {
		t.Fatalf("a SUCCESS dependency that fails must fail the start: %v", err)
	}
	if task.Container("main").Status() != "PENDING" {
		t.Error("main must not start")
	}
}

// One network namespace per task: containers share localhost, a port
// mapping is reachable from outside, egress reaches only the forwarded
// loopback addresses, and the metadata and credentials endpoints answer.
func TestTaskNetworkAndEndpoints(t *testing.T) {
	ctx := setup(t)
	outside, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(outside, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "from outside") }))
	defer outside.Close()

	web := busybox("web", `mkdir -p /tmp/www && echo served > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`)
	web.LinuxParameters = &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 4}}}
	web.PortMappings = []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(8080)}}
	// The client waits for its neighbour, not for a second; an
	// unforwarded port must refuse the connection, not time out.
	client := busybox("client", `until wget -q -O /dev/null http://127.0.0.1:8080/; do sleep 0.1; done
wget -q -O - http://127.0.0.1:8080/ | sed 's/^/neighbour: /'
wget -q -O - http://127.0.0.1:7000/ | sed 's/^/egress: /'; echo
wget -q -O - http://127.0.0.1:7001/ 2>&1 | sed 's/^/unforwarded: /'
wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task"; echo
wget -q -O - "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo
while :; do sleep 1; done`)
	client.Essential = aws.Bool(false)
	// Both ignore SIGTERM as PID 1 (busybox httpd and sh install no
	// handler): a short stopTimeout ends the test quickly.
	web.StopTimeout, client.StopTimeout = seconds(1), seconds(1)
	def := taskDef(nil, web, client)
	def.TaskRoleArn = role(t, ctx, "task")
	task, err := runner.Run(ctx, def, RunOptions{Region: region, Cluster: "test", Egress: map[int]string{7000: outside.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Stop("test over")
	// Until httpd listens: the port mapping forwards from the start, so
	// only an answer ends the wait.
	var body []byte
	for {
		resp, err := http.Get("http://" + task.Endpoint(8080) + "/")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		select {
		case <-task.Done():
			t.Fatalf("the task stopped before its port mapping answered (%v)\n%s", err, task.Container("web").LogTail(10))
		case <-ctx.Done():
			t.Fatalf("the port mapping never answered (%v)\n%s", err, task.Container("web").LogTail(10))
		case <-time.After(100 * time.Millisecond):
		}
	}
	if strings.TrimSpace(string(body)) != "served" {
		t.Errorf("port mapping answered %q\n%s", body, task.Container("web").LogTail(10))
	}
	log := waitLog(t, ctx, task, task.Container("client"), `"Expiration"`)
	for _, want := range []string{"neighbour: served", "egress: from outside", "unforwarded: wget: can't connect to remote host (127.0.0.1): Connection refused",
		`"TaskARN":"` + task.ARN + `"`, `"LaunchType":"FARGATE"`, `"Cluster":"test"`,
		`"RoleArn":"` + aws.ToString(def.TaskRoleArn) + `"`, `"AccessKeyId":"`, `"Token":"`} {
		if !strings.Contains(log, want) {
			t.Errorf("client output lacks %q:\n%s", want, log)
		}
	}
}

// What ECS refuses for Fargate, the runner refuses too.
func TestFargateValidation(t *testing.T) {
	setup(t)
	for name, edit := range map[string]func(*ecstypes.TaskDefinition){
		"cpu/memory":     func(d *ecstypes.TaskDefinition) { d.Cpu, d.Memory = aws.String("256"), aws.String("4096") },
		"bridge network": func(d *ecstypes.TaskDefinition) { d.NetworkMode = ecstypes.NetworkModeBridge },
		"host port": func(d *ecstypes.TaskDefinition) {
			d.ContainerDefinitions[0].PortMappings = []ecstypes.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}}
		},
		"host source path": func(d *ecstypes.TaskDefinition) {
			d.Volumes = []ecstypes.Volume{{Name: aws.String("v"), Host: &ecstypes.HostVolumeProperties{SourcePath: aws.String("/var")}}}
		},
		"stop timeout": func(d *ecstypes.TaskDefinition) { d.ContainerDefinitions[0].StopTimeout = seconds(121) },
		"tmpfs size": func(d *ecstypes.TaskDefinition) {
			d.ContainerDefinitions[0].LinuxParameters = &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String("/tmp")}}}
		},
		"no essential": func(d *ecstypes.TaskDefinition) { d.ContainerDefinitions[0].Essential = aws.Bool(false) },
		"secrets without execution role": func(d *ecstypes.TaskDefinition) {
			d.ContainerDefinitions[0].Secrets = []ecstypes.Secret{{Name: aws.String("X"), ValueFrom: aws.String("/p")}}
		},
	} {
		def := taskDef(nil, busybox("c", "true"))
		edit(def)
		if _, err := runner.Run(context.Background(), def, RunOptions{Region: region}); err == nil || !strings.HasPrefix(err.Error(), "ClientException: ") {
			t.Errorf("%s: want a ClientException, got %v", name, err)
		}
	}
}

// EFS through an access point: the root directory is created with the
// access point's owner and permissions, and the data outlives the task.
func TestEFSAccessPoint(t *testing.T) {
	ctx := setup(t)
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	c := efs.NewFromConfig(cfg)
	fs, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("runner-test-" + newID()[:6]), Encrypted: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	ap, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: fs.FileSystemId,
		PosixUser: &efstypes.PosixUser{Uid: aws.Int64(65534), Gid: aws.Int64(65534)},
		RootDirectory: &efstypes.RootDirectory{Path: aws.String("/prometheus"),
			CreationInfo: &efstypes.CreationInfo{OwnerUid: aws.Int64(65534), OwnerGid: aws.Int64(65534), Permissions: aws.String("0750")}}})
	if err != nil {
		t.Fatal(err)
	}
	vol := []ecstypes.Volume{{Name: aws.String("data"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{
		FileSystemId: fs.FileSystemId, TransitEncryption: ecstypes.EFSTransitEncryptionEnabled,
		AuthorizationConfig: &ecstypes.EFSAuthorizationConfig{AccessPointId: ap.AccessPointId, Iam: ecstypes.EFSAuthorizationConfigIAMDisabled}}}}
	writer := busybox("c", `stat -c '%a %u' /data; echo kept > /data/file`)
	writer.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data")}}
	task := runToEnd(t, ctx, taskDef(vol, writer), RunOptions{})
	if log := task.Containers[0].LogTail(5); exitCode(t, task.Containers[0]) != 0 || !strings.Contains(log, "750 65534") {
		t.Fatalf("the access point's root directory must be created 0750 for 65534:\n%s", log)
	}
	reader := busybox("c", `cat /data/file`)
	reader.MountPoints = writer.MountPoints
	task = runToEnd(t, ctx, taskDef(vol, reader), RunOptions{})
	if log := task.Containers[0].LogTail(5); !strings.Contains(log, "kept") {
		t.Fatalf("EFS data must outlive the task:\n%s", log)
	}

	// IAM authorization: the task role must allow mounting and writing
	// through this access point, or the mount is refused.
	vol[0].EfsVolumeConfiguration.AuthorizationConfig.Iam = ecstypes.EFSAuthorizationConfigIAMEnabled
	def := taskDef(vol, reader)
	def.TaskRoleArn = role(t, ctx, "efs")
	if _, err := runner.Run(ctx, def, RunOptions{Region: region}); err == nil || !strings.Contains(err.Error(), "access denied by server") {
		t.Fatalf("a task role without elasticfilesystem:ClientMount must not mount: %v", err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"],`+
		`"Resource":"%s","Condition":{"StringEquals":{"elasticfilesystem:AccessPointArn":"%s"}}}]}`, aws.ToString(fs.FileSystemArn), aws.ToString(ap.AccessPointArn))
	name := aws.ToString(def.TaskRoleArn)[strings.LastIndex(aws.ToString(def.TaskRoleArn), "/")+1:]
	if _, err := iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("efs"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if task = runToEnd(t, ctx, def, RunOptions{}); !strings.Contains(task.Containers[0].LogTail(5), "kept") {
		t.Fatalf("with the grant the task mounts its data:\n%s", task.Containers[0].LogTail(5))
	}
}

// prometheusContainer is the Prometheus container as the stack defines it
// (official image, entrypoint inline, user 65534, read-only root, the TSDB
// on the data volume), with /tmp as a bind mount (before the fix) or as a
// tmpfs (the fix).
func prometheusContainer(tmpOnBindMount bool) ecstypes.ContainerDefinition {
	c := ecstypes.ContainerDefinition{
		Name: aws.String("prometheus"), Image: aws.String(config.DefaultPrometheusImage), Essential: aws.Bool(true),
		User: aws.String("65534:65534"), ReadonlyRootFilesystem: aws.Bool(true),
		EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{taskcontract.Entrypoint, taskcontract.ScriptName, taskcontract.FlagRetention + "1d"},
		Environment:  []ecstypes.KeyValuePair{{Name: aws.String("PROMETHEUS_CONFIG_YAML"), Value: aws.String("global:\n  scrape_interval: 15s\nrule_files: [rules.yml]\n")}},
		MountPoints:  []ecstypes.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/prometheus")}},
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(9090), HostPort: aws.Int32(9090)}},
		HealthCheck: &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:9090/-/healthy || exit 1"},
			Interval: seconds(5), Timeout: seconds(5), Retries: seconds(3), StartPeriod: seconds(60)},
		StopTimeout: seconds(30),
	}
	if tmpOnBindMount {
		c.MountPoints = append(c.MountPoints, ecstypes.MountPoint{SourceVolume: aws.String("runtime"), ContainerPath: aws.String("/tmp")})
	} else {
		c.LinuxParameters = &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 16, MountOptions: []string{"noexec", "nosuid", "nodev"}}}}
	}
	return c
}

// The task as it was synthesized before: its entrypoint's first write, in
// /tmp on a root-owned bind mount, fails and the essential container
// exits (ECS would replace the task again and again). With the tmpfs the
// same container starts Prometheus, which becomes ready and HEALTHY.
func TestPrometheusTaskOnFargate(t *testing.T) {
	ctx := setup(t)
	volumes := []ecstypes.Volume{{Name: aws.String("data")}, {Name: aws.String("runtime")}}
	broken := runToEnd(t, ctx, taskDef(volumes, prometheusContainer(true)), RunOptions{})
	if log := broken.Containers[0].LogTail(10); exitCode(t, broken.Containers[0]) == 0 ||
		!strings.Contains(log, "mkdir: can't create directory '/tmp/prometheus': Permission denied") {
		t.Fatalf("the bind-mounted /tmp must refuse the entrypoint as Fargate would:\n%s", log)
	}

	def := taskDef(volumes[:1], prometheusContainer(false))
	def.Cpu, def.Memory = aws.String("512"), aws.String("1024")
	task, err := runner.Run(ctx, def, RunOptions{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Stop("test over")
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := task.WaitHealth(wctx, "HEALTHY"); err != nil {
		t.Fatalf("%v\n%s", err, task.Containers[0].LogTail(20))
	}
	resp, err := http.Get("http://" + task.Endpoint(9090) + "/-/ready")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Prometheus not ready through the port mapping: %v %v", resp, err)
	}
	resp.Body.Close()
	if log := task.Containers[0].LogTail(40); !strings.Contains(log, "replica "+task.ID) {
		t.Errorf("the entrypoint must name the replica after the task id from the metadata endpoint:\n%s", log)
	}
	// Prometheus handles SIGTERM: it shuts down within the stop timeout.
	task.Stop("test over")
	if code := exitCode(t, task.Containers[0]); code != 0 {
		t.Errorf("Prometheus must exit cleanly on SIGTERM, got %d\n%s", code, task.Containers[0].LogTail(10))
	}
}

// The policy package's knowledge of the official image (VOLUME
// /prometheus owned by nobody) is what the replica, built from the image's
// own Dockerfile, has.
func TestOfficialImageVolumeMatchesThePolicy(t *testing.T) {
	ctx := setup(t)
	img, err := images.Get(ctx, config.DefaultPrometheusImage)
	if err != nil {
		t.Fatal(err)
	}
	var got []policy.ImageVolume
	for _, v := range img.Config.Volumes {
		st, err := os.Stat(filepath.Join(img.Root, v))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, policy.ImageVolume{Path: v, UID: int(st.Sys().(*syscall.Stat_t).Uid)})
	}
	if fmt.Sprint(got) != fmt.Sprint(policy.OfficialImageVolumes) {
		t.Errorf("image %s declares %v; policy.OfficialImageVolumes says %v", config.DefaultPrometheusImage, got, policy.OfficialImageVolumes)
	}
	if img.Config.User != "nobody" || img.Config.WorkingDir != "/prometheus" || fmt.Sprint(img.Config.Entrypoint) != "[/bin/prometheus]" {
		t.Errorf("image config %+v", img.Config)
	}
}

// role creates an IAM role ECS tasks may assume, in the emulator.
func role(t *testing.T, ctx context.Context, kind string) *string {
	t.Helper()
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	out, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("runner-test-" + kind + "-" + newID()[:6]),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Role.Arn
}

// Like Docker and Fargate, the runtime gives every container a hosts file
// that resolves localhost and the task's hostname, both on the task's
// loopback: ping (as root, which keeps Docker's CAP_NET_RAW) gets an
// answer from each name.
func TestHostsFile(t *testing.T) {
	ctx := setup(t)
	c := busybox("c", `cat /etc/hostname; grep -c localhost /etc/hosts
for name in localhost "$(hostname)"; do
  if ping -c1 -W5 "$name"; then echo "ping $name: ok"; else echo "ping $name: failed"; fi
done`)
	c.User = nil // root: the task user has no CAP_NET_RAW for ping
	task := runToEnd(t, ctx, taskDef(nil, c), RunOptions{})
	log := task.Containers[0].LogTail(20)
	if !strings.Contains(log, task.hostname()+"\n") || !strings.Contains(log, "\n2\n") {
		t.Fatalf("hosts and hostname files:\n%s", log)
	}
	for _, name := range []string{"localhost", task.hostname()} {
		if !strings.Contains(log, "PING "+name+" (127.0.0.1)") || !strings.Contains(log, "ping "+name+": ok") {
			t.Errorf("%s must resolve to the task's loopback and answer a ping:\n%s", name, log)
		}
	}
}
