package fargate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/prometheus-aws/prometheus-aws/internal/fargate/cgroup"
)

// Runner runs ECS task definitions the way Fargate runs them, without a
// Docker engine. See the package documentation for what it reproduces.
type Runner struct {
	images *Images
	cloud  cloud
	dir    string
	// helper is fargate-helper (the task network's pause process, the
	// reaper); runc runs the containers.
	helper string
	runc   runc
	// cgroup is this runner's cgroup (below each controller's root): every
	// task's cgroup is inside, and the reaper empties and removes it when
	// the runner's process ends, however it ends.
	cgroup string
	reaper *os.File // the write end of the reaper's stdin, never written

	mu    sync.Mutex
	tasks []*Task // every task Run started (Tasks)
}

// Options configure New.
type Options struct {
	// Images are the replicas the task definitions may name. Required.
	Images *Images
	// AWS returns an SDK configuration for the emulator in a region, with
	// its static test credentials; the runner uses it only to assume the
	// task's roles and reads everything else as those roles. Required.
	AWS func(ctx context.Context, region string) (aws.Config, error)
	// Dir holds task folders and the EFS file systems' data. Required.
	Dir string
	// Helper is a built fargate-helper; default: built now from this
	// module (internal/fargate/helper) into Dir.
	Helper string
}

// New checks the machine and prepares a runner.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Images == nil || o.AWS == nil || o.Dir == "" {
		return nil, errors.New("fargate.New: Images, AWS and Dir are required")
	}
	if err := CheckRealRoot(); err != nil {
		return nil, err
	}
	if err := cgroup.Check(); err != nil {
		return nil, err
	}
	bin, err := exec.LookPath("runc")
	if err != nil {
		return nil, errors.New("the local Fargate runner runs containers with runc, the OCI runtime: apt-get install runc (make tools installs it)")
	}
	id := newID()[:12]
	r := &Runner{images: o.Images, cloud: cloud{base: o.AWS}, dir: o.Dir, helper: o.Helper,
		runc: runc{bin: bin, root: filepath.Join(o.Dir, "runc-"+id)}, cgroup: "/promaws-" + id}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	if r.helper == "" {
		if r.helper, err = BuildHelper(ctx, o.Dir); err != nil {
			return nil, err
		}
	}
	if err := r.startReaper(); err != nil {
		return nil, err
	}
	return r, nil
}

// startReaper starts fargate-helper reap in a session of its own, reading
// a pipe whose write end only this process holds: when this process ends,
// even killed, the pipe closes and the reaper kills what is left in the
// runner's cgroup (runc's containers outlive a killed runc) and removes
// it and runc's state. Without it a test killed by its timeout would leave
// its containers running.
func (r *Runner) startReaper() error {
	rd, w, err := os.Pipe()
	if err != nil {
		return err
	}
	args := []string{"reap", "-state", r.runc.root}
	for _, h := range cgroup.Hierarchies() {
		args = append(args, filepath.Join(h, r.cgroup))
	}
	cmd := exec.Command(r.helper, args...)
	cmd.Stdin, cmd.Env = rd, runnerEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	rd.Close()
	if err != nil {
		w.Close()
		return fmt.Errorf("start the runner's reaper: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	r.reaper = w
	return nil
}

// CheckRealRoot returns an error unless this process is root outside any
// user namespace: only then do file owners (uid 65534, root-owned bind
// mounts) behave as they do on Fargate. Inside `unshare -r` a root-owned
// folder looks owned by the mapped user and every uid but one is missing.
func CheckRealRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("the local Fargate runner needs root (it mounts and changes users like a container runtime): run make test/make demo as root")
	}
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return err
	}
	f := strings.Fields(string(data))
	if len(f) != 3 || f[0] != "0" || f[1] != "0" || f[2] != "4294967295" {
		return fmt.Errorf("the local Fargate runner needs real root, not root in a user namespace (uid_map %q): run it through scripts/netns.sh, which creates only a network namespace when it runs as root", strings.TrimSpace(string(data)))
	}
	return nil
}

// BuildHelper compiles fargate-helper (static) into dir and returns its
// path. It needs the module's source (tests and the demo run inside it).
func BuildHelper(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "fargate-helper")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/prometheus-aws/prometheus-aws/internal/fargate/helper")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build fargate-helper: %v: %s", err, msg)
	}
	return out, nil
}

// RunOptions place one task.
type RunOptions struct {
	// Region and Cluster name the task's ARN and its log and credential
	// calls. Region is required; Cluster defaults to "default".
	Region, Cluster string
	// Egress maps ports on the task's loopback to loopback addresses
	// outside it: what the task reaches over its ENI on AWS (the emulator's
	// endpoint, the nodes' node_exporter, a remote-write receiver).
	Egress map[int]string
	// HostPorts publishes container ports on these 127.0.0.1 ports; a
	// container port not listed gets a free one (Task.Endpoint says which).
	HostPorts map[int]int
	// TrustedCA is a PEM file put at the image's CA bundle path
	// (/etc/ssl/certs/ca-certificates.crt): the emulator's certificate.
	TrustedCA string
	// Group is the task's ECS group: "service:<name>" for a task of a
	// service (what ListTasks' serviceName filter matches).
	Group string
	// AvailabilityZone and Subnet are where ECS placed the task's ENI, as
	// DescribeTasks reports them (empty: not reported).
	AvailabilityZone, Subnet string
	// Tags are the task's ECS tags (RunTask's tags, or its service's with
	// propagateTags), as DescribeTasks reports them with include TAGS.
	Tags map[string]string
	// PrivateRegistryOnly places the task in subnets with no route to the
	// internet (no NAT gateway, no public IP): it reaches only the
	// account's private ECR registry in its region, through the VPC
	// endpoints, so an image anywhere else fails to pull with ECS's
	// CannotPullContainerError (i/o timeout). Task.Pulled says what was
	// pulled.
	PrivateRegistryOnly bool
}

// Task is one running (or stopped) task.
type Task struct {
	ID, ARN, Cluster, Family, Revision string
	Containers                         []*Container

	r           *Runner
	def         *ecstypes.TaskDefinition
	opts        RunOptions
	region      string
	cpu, memory float64
	dir         string
	net         *taskNetwork
	cgroup      *cgroup.Task // the task size's limits, holding the containers'
	volumes     map[string]*volume
	// order is the order the containers started in; they stop in reverse.
	order []*Container

	mu            sync.Mutex
	status        string
	stopCode      string
	stoppedReason string
	taskCreds     Credentials
	execCreds     Credentials
	credsID       string
	pulls         []Pull
	stopOnce      sync.Once
	stopped       chan struct{}
}

// Run starts a task of def. On a failure to start, the returned task (nil
// only when def is invalid) is STOPPED with the reason ECS would give, and
// the error says the same.
func (r *Runner) Run(ctx context.Context, def *ecstypes.TaskDefinition, o RunOptions) (*Task, error) {
	if err := validate(def); err != nil {
		return nil, err
	}
	if o.Region == "" {
		return nil, errors.New("fargate.Run: RunOptions.Region is required")
	}
	if o.Cluster == "" {
		o.Cluster = "default"
	}
	id := newID()
	t := &Task{
		ID: id, Cluster: o.Cluster, Family: aws.ToString(def.Family), Revision: strconv.Itoa(int(def.Revision)),
		ARN: fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", o.Region, accountOf(def), o.Cluster, id),
		r:   r, def: def, opts: o, region: o.Region, dir: filepath.Join(r.dir, "tasks", id),
		status: "PROVISIONING", stopped: make(chan struct{}), volumes: map[string]*volume{},
	}
	t.cpu, _ = strconv.ParseFloat(aws.ToString(def.Cpu), 64)
	t.memory, _ = strconv.ParseFloat(aws.ToString(def.Memory), 64)
	for _, cd := range def.ContainerDefinitions {
		t.Containers = append(t.Containers, newContainer(t, cd))
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.tasks = append(r.tasks, t)
	r.mu.Unlock()
	if err := t.provision(ctx); err != nil {
		t.stop("TaskFailedToStart", err.Error())
		return t, err
	}
	t.setStatus("PENDING")
	if err := t.startContainers(ctx); err != nil {
		t.stop("TaskFailedToStart", err.Error())
		return t, err
	}
	t.setStatus("RUNNING")
	return t, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// accountOf takes the account from the task definition's ARN.
func accountOf(def *ecstypes.TaskDefinition) string {
	if parts := strings.Split(aws.ToString(def.TaskDefinitionArn), ":"); len(parts) > 4 && parts[4] != "" {
		return parts[4]
	}
	return "123456789012"
}

// provision does what ECS does before any container starts: the roles'
// credentials, the images, the secrets, the volumes and the network.
func (t *Task) provision(ctx context.Context) error {
	var err error
	if arn := aws.ToString(t.def.ExecutionRoleArn); arn != "" {
		if t.execCreds, err = t.r.cloud.assumeRole(ctx, t.region, arn, "ecs-execution-"+t.ID[:8]); err != nil {
			return fmt.Errorf("ResourceInitializationError: %w", err)
		}
	}
	if arn := aws.ToString(t.def.TaskRoleArn); arn != "" {
		if t.taskCreds, err = t.r.cloud.assumeRole(ctx, t.region, arn, t.ID); err != nil {
			return fmt.Errorf("ResourceInitializationError: %w", err)
		}
		t.credsID = newID()
	}
	for _, c := range t.Containers {
		if err := c.prepare(ctx); err != nil {
			return err
		}
	}
	if err := t.prepareVolumes(ctx); err != nil {
		return err
	}
	ports := map[int]int{}
	for _, c := range t.Containers {
		for _, pm := range c.def.PortMappings {
			port := int(aws.ToInt32(pm.ContainerPort))
			ports[port] = t.opts.HostPorts[port]
		}
	}
	if t.net, err = startNetwork(ctx, t.r.helper, t.opts.Egress, t.serveMetadata, ports); err != nil {
		return err
	}
	t.cgroup, err = cgroup.NewTask(t.r.cgroup+"/"+t.ID[:12], t.cpu, t.memory)
	return err
}

// Endpoint is the 127.0.0.1 address a published container port is
// reachable at from outside the task ("" if the port is not published).
func (t *Task) Endpoint(containerPort int) string {
	if t.net == nil || t.net.hostPorts[containerPort] == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", t.net.hostPorts[containerPort])
}

// RoleCredentials are the task role's credentials the task's containers
// are served (zero without a task role): what their requests are signed
// with.
func (t *Task) RoleCredentials() Credentials {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.taskCreds
}

// Container returns the named container, or nil.
func (t *Task) Container(name string) *Container {
	for _, c := range t.Containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (t *Task) setStatus(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != "STOPPED" && t.status != "DEPROVISIONING" {
		t.status = s
	}
}

// LastStatus is PROVISIONING, PENDING, RUNNING, DEPROVISIONING or STOPPED.
func (t *Task) LastStatus() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// StoppedReason and StopCode say why a stopped task stopped.
func (t *Task) StoppedReason() (code, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopCode, t.stoppedReason
}

// MemoryPeakMiB is the most memory the task's containers used together
// (what its memory limit is checked against), in MiB.
func (t *Task) MemoryPeakMiB() float64 {
	if t.cgroup == nil {
		return 0
	}
	return t.cgroup.PeakMiB()
}

// Memory is what the task's containers use together now (zero before
// the task has a cgroup or after it is gone).
func (t *Task) Memory() cgroup.Memory {
	if t.cgroup == nil {
		return cgroup.Memory{}
	}
	return t.cgroup.Memory()
}

// Done is closed once the task has stopped.
func (t *Task) Done() <-chan struct{} { return t.stopped }

// HealthStatus is the task's health as ECS reports it: HEALTHY when every
// essential container with a health check is healthy, UNHEALTHY when any
// is unhealthy, UNKNOWN otherwise.
func (t *Task) HealthStatus() string {
	healthy, checked := true, false
	for _, c := range t.Containers {
		if !c.essential() || c.def.HealthCheck == nil {
			continue
		}
		checked = true
		switch c.Health() {
		case "UNHEALTHY":
			return "UNHEALTHY"
		case "HEALTHY":
		default:
			healthy = false
		}
	}
	if checked && healthy {
		return "HEALTHY"
	}
	return "UNKNOWN"
}

// WaitHealth waits until the task's health is want (HEALTHY or
// UNHEALTHY), the task stops, or ctx ends.
func (t *Task) WaitHealth(ctx context.Context, want string) error {
	for {
		got := t.HealthStatus()
		if got == want {
			return nil
		}
		select {
		case <-t.stopped:
			code, reason := t.StoppedReason()
			return fmt.Errorf("task %s stopped (%s: %s) before it was %s", t.ID, code, reason, want)
		case <-ctx.Done():
			return fmt.Errorf("task %s is %s, not %s: %w", t.ID, got, want, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops the task as StopTask does: each container gets SIGTERM, then
// SIGKILL after its stopTimeout; dependents stop before what they depend on.
func (t *Task) Stop(reason string) { t.stop("UserInitiated", reason) }

// Kill ends the task as a dead host or an out-of-memory kill of the task
// does on Fargate: every process of every container gets SIGKILL at once,
// with no SIGTERM and no stop timeout, so nothing is flushed or closed by
// the processes themselves. ECS then reports the task STOPPED
// (EssentialContainerExited, with reason) and each container exited 137.
// The runner cleans up as after Stop: no process of the task is left, and
// its network and bind volumes are removed; EFS data stays, as on AWS.
func (t *Task) Kill(reason string) { t.end("EssentialContainerExited", reason, true) }

func (t *Task) stop(code, reason string) { t.end(code, reason, false) }

// end stops the task once: gracefully (dependents first, each container
// SIGTERM then SIGKILL after its stopTimeout) or, with kill, every
// container SIGKILLed at once.
func (t *Task) end(code, reason string, kill bool) {
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.status, t.stopCode, t.stoppedReason = "DEPROVISIONING", code, reason
		order := append([]*Container(nil), t.order...)
		t.mu.Unlock()
		if kill {
			for _, c := range order {
				c.kill()
			}
			for _, c := range order {
				<-c.done
			}
		}
		for i := len(order) - 1; i >= 0; i-- {
			order[i].stop()
		}
		if t.net != nil {
			t.net.close()
		}
		if t.cgroup != nil {
			t.cgroup.Remove()
		}
		t.removeBindVolumes()
		t.mu.Lock()
		t.status = "STOPPED"
		t.mu.Unlock()
		close(t.stopped)
	})
}

// watchEssential stops the task when an essential container exits, as ECS
// does ("Essential container in task exited").
func (t *Task) watchEssential(c *Container) {
	<-c.done
	if c.essential() {
		go t.stop("EssentialContainerExited", "Essential container in task exited")
	}
}
