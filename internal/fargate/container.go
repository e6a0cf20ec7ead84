package fargate

import (
	"context"
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

	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

// Container is one container of a task.
type Container struct {
	Name, ID, Image string
	// LogPath receives the container's stdout and stderr.
	LogPath string

	t   *Task
	def ecstypes.ContainerDefinition
	img *Image
	env []string
	// The process identity after the user is resolved against the image.
	uid    int
	groups []int // primary first
	wd     string
	argv   []string
	// bundleDir is the container's OCI bundle (config.json, rootfs).
	bundleDir string

	logDriver  string
	logOptions map[string]string

	mu           sync.Mutex
	status       string // PENDING, RUNNING, STOPPED
	exited       bool
	exitCode     int
	reason       string // ECS's container reason, e.g. OutOfMemoryError
	health       string // "" without a health check; UNKNOWN, HEALTHY, UNHEALTHY
	healthOutput string
	startedAt    time.Time
	pid          int // the container's first process, as the host sees it
	cmd          *exec.Cmd
	done         chan struct{}
}

func newContainer(t *Task, cd ecstypes.ContainerDefinition) *Container {
	c := &Container{Name: aws.ToString(cd.Name), ID: newID(), Image: aws.ToString(cd.Image), t: t, def: cd,
		status: "PENDING", done: make(chan struct{})}
	c.LogPath = filepath.Join(t.dir, c.Name+".log")
	if lc := cd.LogConfiguration; lc != nil {
		c.logDriver, c.logOptions = string(lc.LogDriver), lc.Options
	}
	if cd.HealthCheck != nil {
		c.health = "UNKNOWN"
	}
	return c
}

func (c *Container) essential() bool { return c.def.Essential == nil || *c.def.Essential }

// Status is PENDING, RUNNING or STOPPED.
func (c *Container) Status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// ExitCode is the exit status once the container has stopped.
func (c *Container) ExitCode() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitCode, c.exited
}

// Health is UNKNOWN, HEALTHY or UNHEALTHY ("" without a health check).
func (c *Container) Health() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// PID is the container's first process as this machine sees it (0 before
// it starts).
func (c *Container) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// LogTail is the last n lines of the container's output.
func (c *Container) LogTail(n int) string { return proc.Tail(c.LogPath, n) }

// prepare resolves the image, the user, the command and the environment,
// secrets included: what must succeed before ECS starts anything.
func (c *Container) prepare(ctx context.Context) error {
	img, err := c.t.pull(ctx, c)
	if err != nil {
		return err
	}
	c.img = img
	if c.uid, c.groups, err = resolveUser(img, firstNonEmpty(aws.ToString(c.def.User), img.Config.User)); err != nil {
		return fmt.Errorf("CannotStartContainerError: container %s: %w", c.Name, err)
	}
	c.wd = firstNonEmpty(aws.ToString(c.def.WorkingDirectory), img.Config.WorkingDir, "/")
	// Docker's rule: an entryPoint given drops the image's CMD too.
	entry, cmd := img.Config.Entrypoint, img.Config.Cmd
	if len(c.def.EntryPoint) > 0 {
		entry, cmd = c.def.EntryPoint, nil
	}
	if len(c.def.Command) > 0 {
		cmd = c.def.Command
	}
	c.argv = append(append([]string{}, entry...), cmd...)
	if len(c.argv) == 0 {
		return fmt.Errorf("CannotStartContainerError: container %s: no command specified", c.Name)
	}
	env := append([]string{}, img.Config.Env...)
	env = setEnv(env, "HOSTNAME", c.t.hostname())
	env = setEnv(env, "HOME", homeOf(img, c.uid))
	meta := fmt.Sprintf("http://127.0.0.1:%d", MetadataPort)
	for k, v := range map[string]string{
		"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_REGION": c.t.region, "AWS_DEFAULT_REGION": c.t.region,
		"ECS_CONTAINER_METADATA_URI": meta + "/v3/" + c.ID, "ECS_CONTAINER_METADATA_URI_V4": meta + "/v4/" + c.ID,
		"ECS_AGENT_URI": meta + "/api/" + c.ID,
	} {
		env = setEnv(env, k, v)
	}
	if c.t.credsID != "" {
		// Fargate sets AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, resolved
		// against 169.254.170.2; every SDK accepts the full URI form for a
		// loopback host, which is what the runner can offer.
		env = setEnv(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", meta+"/v2/credentials/"+c.t.credsID)
	}
	for _, kv := range c.def.Environment {
		env = setEnv(env, aws.ToString(kv.Name), aws.ToString(kv.Value))
	}
	for _, s := range c.def.Secrets {
		v, err := c.t.r.cloud.secret(ctx, c.t.region, c.t.execCreds, aws.ToString(s.ValueFrom))
		if err != nil {
			return err
		}
		env = setEnv(env, aws.ToString(s.Name), v)
	}
	c.env = env
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// hostname is what Fargate names a task's host: ip-<address>.<region>.compute.internal.
func (t *Task) hostname() string {
	b, _ := hex.DecodeString(t.ID[:4])
	return fmt.Sprintf("ip-10-0-%d-%d.%s.compute.internal", b[0], b[1], t.region)
}

// resolveUser turns a container user (uid, uid:gid, name or name:group)
// into ids with the image's /etc/passwd and /etc/group, as runc does.
func resolveUser(img *Image, user string) (uid int, groups []int, err error) {
	if user == "" {
		user = "root"
	}
	name, group, _ := strings.Cut(user, ":")
	passwd := readColon(filepath.Join(img.Root, "etc/passwd"))
	groupsFile := readColon(filepath.Join(img.Root, "etc/group"))
	gid, username := -1, ""
	if n, err := strconv.Atoi(name); err == nil {
		uid = n
		for _, p := range passwd {
			if len(p) > 3 && p[2] == name {
				username, gid = p[0], atoi(p[3])
				break
			}
		}
		if gid < 0 {
			gid = 0 // a uid with no entry runs with gid 0 unless one is given
		}
	} else {
		found := false
		for _, p := range passwd {
			if len(p) > 3 && p[0] == name {
				uid, gid, username, found = atoi(p[2]), atoi(p[3]), name, true
				break
			}
		}
		if !found {
			return 0, nil, fmt.Errorf("unable to find user %s: no matching entries in passwd file", name)
		}
	}
	if group != "" {
		if n, err := strconv.Atoi(group); err == nil {
			gid = n
		} else {
			found := false
			for _, g := range groupsFile {
				if len(g) > 2 && g[0] == group {
					gid, found = atoi(g[2]), true
				}
			}
			if !found {
				return 0, nil, fmt.Errorf("unable to find group %s: no matching entries in group file", group)
			}
		}
	}
	groups = []int{gid}
	if username != "" {
		for _, g := range groupsFile {
			if len(g) > 3 && atoi(g[2]) != gid {
				for _, member := range strings.Split(g[3], ",") {
					if member == username {
						groups = append(groups, atoi(g[2]))
					}
				}
			}
		}
	}
	return uid, groups, nil
}

func homeOf(img *Image, uid int) string {
	for _, p := range readColon(filepath.Join(img.Root, "etc/passwd")) {
		if len(p) > 5 && p[2] == strconv.Itoa(uid) {
			return p[5]
		}
	}
	return "/"
}

func readColon(file string) [][]string {
	data, _ := os.ReadFile(file)
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// dockerDefaultCaps are the capabilities Docker (and Fargate) give a
// container; a non-root user loses them when the helper changes uid.
var dockerDefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// capabilities are the container's set as Docker (and Fargate) compute it:
// the default set without linuxParameters.capabilities.drop ("ALL" drops
// every one), with its add.
func (c *Container) capabilities() []string {
	lp := c.def.LinuxParameters
	if lp == nil || lp.Capabilities == nil {
		return dockerDefaultCaps
	}
	norm := func(s string) string { return "CAP_" + strings.TrimPrefix(strings.ToUpper(s), "CAP_") }
	drop := map[string]bool{}
	for _, d := range lp.Capabilities.Drop {
		drop[norm(d)] = true
	}
	var caps []string
	if !drop["CAP_ALL"] {
		for _, cap := range dockerDefaultCaps {
			if !drop[cap] {
				caps = append(caps, cap)
			}
		}
	}
	for _, a := range lp.Capabilities.Add {
		caps = append(caps, norm(a))
	}
	return caps
}

// runnerEnv is the environment of the processes the runner starts around
// a container or a health check (runc): its own PATH, nothing of the
// container's, whose environment, secrets included, reaches the
// container's processes only (through config.json), as on ECS the agent's
// and the runtime's environment is not the container's.
func runnerEnv() []string { return []string{"PATH=" + os.Getenv("PATH")} }

// start runs the container with runc in the foreground (runc run --keep:
// it waits for the container and keeps its cgroup until the runner has
// read the out-of-memory kills in it); the container's output goes to its
// log file.
func (c *Container) start(ctx context.Context) error {
	c.bundleDir = filepath.Join(c.t.dir, c.Name+".bundle")
	if err := c.bundle(c.bundleDir); err != nil {
		return fmt.Errorf("CannotStartContainerError: container %s: %w", c.Name, err)
	}
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	pidFile := filepath.Join(c.bundleDir, "pid")
	cmd := c.t.r.runc.command("run", "--bundle", c.bundleDir, "--pid-file", pidFile, "--keep", c.ID)
	cmd.Dir = c.t.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("CannotStartContainerError: container %s: %w", c.Name, err)
	}
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	go c.wait()

	pid, err := waitPIDFile(ctx, pidFile, c.done)
	if err != nil {
		<-c.done
		return fmt.Errorf("CannotStartContainerError: container %s: %v\n%s", c.Name, err, c.LogTail(20))
	}
	c.mu.Lock()
	c.pid, c.status, c.startedAt = pid, "RUNNING", time.Now()
	c.mu.Unlock()
	c.t.mu.Lock()
	c.t.order = append(c.t.order, c)
	c.t.mu.Unlock()
	go c.t.watchEssential(c)
	if c.def.HealthCheck != nil {
		go c.watchHealth()
	}
	return nil
}

// waitPIDFile waits for runc's --pid-file (written once the container's
// process runs) and returns the PID in it.
func waitPIDFile(ctx context.Context, file string, died <-chan struct{}) (int, error) {
	deadline := time.After(30 * time.Second)
	for {
		if pid, err := proc.ReadPIDFile(file); err == nil {
			return pid, nil
		}
		select {
		case <-died:
			// A container that ran and exited at once did start.
			if pid, err := proc.ReadPIDFile(file); err == nil {
				return pid, nil
			}
			return 0, errors.New("the container did not start")
		case <-deadline:
			return 0, errors.New("the container did not report its process within 30 s")
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// oomReason is what ECS reports for a container the kernel killed for
// memory (its own limit or the task's): exit code 137 and this reason.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html
const oomReason = "OutOfMemoryError: Container killed due to memory usage"

// wait records how the container ended: runc run's status is the
// container's (128+signal when a signal killed it). A container killed
// (137) while its cgroup counts an out-of-memory kill was killed for
// memory. Then runc deletes the container and its cgroup.
func (c *Container) wait() {
	err := c.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		code = -1
	}
	reason := ""
	if code == 137 && c.t.cgroup.OOMKills(c.Name) > 0 {
		reason = oomReason
	}
	if out, err := c.t.r.runc.command("delete", "--force", c.ID).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "fargate: runc delete %s (%s): %v: %s\n", c.ID, c.Name, err, out)
	}
	c.mu.Lock()
	c.status, c.exited, c.exitCode, c.reason = "STOPPED", true, code, reason
	c.mu.Unlock()
	close(c.done)
}

// Reason is why the container stopped, as ECS reports it ("" when it
// exited by itself or was stopped).
func (c *Container) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// stopTimeout is the container's stopTimeout (Fargate's default: 30 s).
func (c *Container) stopTimeout() time.Duration {
	if c.def.StopTimeout != nil {
		return time.Duration(*c.def.StopTimeout) * time.Second
	}
	return 30 * time.Second
}

// stop sends SIGTERM to the container's first process and SIGKILL after
// its stopTimeout, as ECS does.
func (c *Container) stop() {
	c.mu.Lock()
	cmd, pid := c.cmd, c.pid
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	if pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	select {
	case <-c.done:
	case <-time.After(c.stopTimeout()):
		c.kill()
		<-c.done
	}
}

// kill sends SIGKILL, without waiting: to the container's first process,
// PID 1 of its PID namespace, whose death makes the kernel kill every
// other process in it, and to runc's process group.
func (c *Container) kill() {
	c.mu.Lock()
	cmd, pid := c.cmd, c.pid
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	if pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// runtimeFiles writes the task's hosts, hostname and resolv.conf once.
func (t *Task) runtimeFiles() (map[string]string, error) {
	host := t.hostname()
	short, _, _ := strings.Cut(host, ".")
	content := map[string]string{
		"etc/hosts":       "127.0.0.1 localhost localhost.localdomain\n::1 localhost ip6-localhost ip6-loopback\n127.0.0.1 " + host + " " + short + "\n",
		"etc/hostname":    host + "\n",
		"etc/resolv.conf": "# local Fargate runner: the task's namespace has loopback only; no DNS server\nnameserver 127.0.0.1\n",
	}
	out := map[string]string{}
	for name, text := range content {
		p := filepath.Join(t.dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}
