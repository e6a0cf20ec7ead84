package fargate

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
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
	tmpfs  []string // staging folder:options, mounted by the helper

	logDriver  string
	logOptions map[string]string

	mu           sync.Mutex
	status       string // PENDING, RUNNING, STOPPED
	exited       bool
	exitCode     int
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

// runtimeDir is where the helper appears inside every container.
const runtimeDir = "/.runner"

// bwrapArgs assembles the container: the image's root (read-only when the
// definition says so), /proc, a minimal /dev, the mounts, then the helper
// that drops to the container's user and runs the command.
func (c *Container) bwrapArgs() ([]string, error) {
	ro := aws.ToBool(c.def.ReadonlyRootFilesystem)
	args := []string{"--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--hostname", c.t.hostname(), "--as-pid-1", "--info-fd", "3", "--cap-drop", "ALL"}
	// bwrap gives the helper Docker's default set (it needs CAP_SETUID,
	// CAP_SETGID and CAP_SETPCAP to change the user and drop the rest);
	// the helper then keeps only the container's (capabilities).
	for _, cap := range dockerDefaultCaps {
		args = append(args, "--cap-add", cap)
	}
	if ro {
		// The root is bwrap's own tmpfs holding the image's top-level
		// entries read-only; it is made read-only itself at the end.
		entries, err := os.ReadDir(c.img.Root)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			src := filepath.Join(c.img.Root, e.Name())
			if e.Type()&os.ModeSymlink != 0 {
				target, err := os.Readlink(src)
				if err != nil {
					return nil, err
				}
				args = append(args, "--symlink", target, "/"+e.Name())
				continue
			}
			args = append(args, "--ro-bind", src, "/"+e.Name())
		}
	} else {
		// A writable root is the container's own copy of the image.
		layer := filepath.Join(c.t.dir, c.Name+".rootfs")
		if err := os.MkdirAll(layer, 0o755); err != nil {
			return nil, err
		}
		if err := copyTree(context.Background(), c.img.Root, layer); err != nil {
			return nil, err
		}
		args = append(args, "--bind", layer, "/")
	}
	args = append(args, "--proc", "/proc", "--dev", "/dev")
	mounts, err := c.mounts()
	if err != nil {
		return nil, err
	}
	args = append(args, mounts...)
	// What the runtime writes per container: the task's hosts file (its
	// hostname and localhost), hostname, and a resolver file (no DNS server
	// is reachable from the loopback-only namespace).
	files, err := c.t.runtimeFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range runtimeFiles {
		if _, err := os.Stat(filepath.Join(c.img.Root, f)); err == nil {
			args = append(args, "--ro-bind", files[f], "/"+f)
		}
	}
	if ca := c.t.opts.TrustedCA; ca != "" {
		if _, err := os.Stat(filepath.Join(c.img.Root, CABundle)); err == nil {
			args = append(args, "--ro-bind", ca, CABundle)
		}
	}
	args = append(args, "--ro-bind", c.t.r.helper, runtimeDir+"/fargate-helper")
	if ro {
		args = append(args, "--remount-ro", "/")
	}
	args = append(args, "--chdir", c.wd)
	args = append(args, c.asUser(envFD)...)
	return append(args, c.argv...), nil
}

// dockerDefaultCaps are the capabilities Docker (and Fargate) give a
// container; a non-root user loses them when the helper changes uid.
var dockerDefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// capNumbers are the Linux capability numbers (linux/capability.h) of the
// names a task definition may use.
var capNumbers = map[string]int{"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
	"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10,
	"CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16,
	"CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22,
	"CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28,
	"CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31}

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

// envFD is the descriptor the helper reads the container's environment
// from in the container's process chain (fd 3 is bwrap's info fd); a
// health check's chain has no info fd, so its environment is fd 3.
const (
	envFD      = 4
	probeEnvFD = 3
)

// envPipe is a pipe whose read end a child inherits (ExtraFiles) and
// reads the container's environment from (the helper's as-user ENV-FD):
// the entries are written from a goroutine, then the write end is closed.
// The runner passes the environment this way, not as the environment of
// the processes it starts, because those around the container (nsenter,
// unshare, the helper, bwrap, which waits as long as the container runs)
// would keep it in /proc/<pid>/environ: on ECS the agent's and the
// runtime's environment is not the container's, and a secret is only in
// the container's processes. Once read, the pipe holds nothing; a child
// that never reads it closes its end on exit, which ends the write. The
// caller closes the read end once the child has started.
func (c *Container) envPipe() (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var buf strings.Builder
	for _, kv := range c.env {
		buf.WriteString(kv)
		buf.WriteByte(0)
	}
	go func() {
		_, _ = io.WriteString(w, buf.String())
		w.Close()
	}()
	return r, nil
}

// runnerEnv is the environment of the processes the runner starts around
// a container or a health check: its own PATH, nothing of the container's.
func runnerEnv() []string { return []string{"PATH=" + os.Getenv("PATH")} }

func (c *Container) asUser(fd int) []string {
	gids := make([]string, len(c.groups))
	for i, g := range c.groups {
		gids[i] = strconv.Itoa(g)
	}
	var caps []string
	for _, name := range c.capabilities() {
		n, ok := capNumbers[name]
		if !ok {
			continue // refused by validation before a container starts
		}
		caps = append(caps, strconv.Itoa(n))
	}
	keep := strings.Join(caps, ",")
	if keep == "" {
		keep = "-"
	}
	return []string{runtimeDir + "/fargate-helper", "as-user", strconv.Itoa(c.uid), strings.Join(gids, ","), keep, strconv.Itoa(fd), "--"}
}

// mounts are the bind arguments for the container's mount points and
// tmpfs mounts, shallow paths first so nested ones stack on top.
func (c *Container) mounts() ([]string, error) {
	type m struct {
		src, dst string
		ro       bool
	}
	var list []m
	for _, mp := range c.def.MountPoints {
		v := c.t.volumes[aws.ToString(mp.SourceVolume)]
		if v == nil {
			return nil, fmt.Errorf("container %s mounts unknown volume %q", c.Name, aws.ToString(mp.SourceVolume))
		}
		list = append(list, m{v.dir, path.Clean(aws.ToString(mp.ContainerPath)), aws.ToBool(mp.ReadOnly)})
	}
	if lp := c.def.LinuxParameters; lp != nil {
		for i, tf := range lp.Tmpfs {
			dir := filepath.Join(c.t.dir, fmt.Sprintf("%s.tmpfs-%d", c.Name, i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			opts := append([]string{fmt.Sprintf("size=%dm", tf.Size)}, tf.MountOptions...)
			c.tmpfs = append(c.tmpfs, dir+":"+strings.Join(opts, ","))
			list = append(list, m{dir, path.Clean(aws.ToString(tf.ContainerPath)), false})
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return strings.Count(list[i].dst, "/") < strings.Count(list[j].dst, "/") })
	var args []string
	for _, x := range list {
		flag := "--bind"
		if x.ro {
			flag = "--ro-bind"
		}
		args = append(args, flag, x.src, x.dst)
	}
	return args, nil
}

// start runs the container: in the task's network namespace, in a mount
// namespace of its own where the helper mounts its tmpfs folders, bwrap
// builds the container and the helper runs the command as its user.
func (c *Container) start(ctx context.Context) error {
	bw, err := c.bwrapArgs()
	if err != nil {
		return fmt.Errorf("CannotStartContainerError: container %s: %w", c.Name, err)
	}
	r := c.t.r
	argv := []string{r.nsenter, "--net=" + c.t.net.nsPath(), "--", r.unshare, "--mount", "--propagation", "private", "--", r.helper, "mount"}
	for _, tf := range c.tmpfs {
		argv = append(argv, "-tmpfs", tf)
	}
	argv = append(append(argv, "--", r.bwrap), bw...)
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer infoR.Close()
	envR, err := c.envPipe()
	if err != nil {
		infoW.Close()
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = runnerEnv() // the container's reaches it through envR
	cmd.Dir = c.t.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{infoW, envR} // fds 3 (bwrap's info) and envFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	infoW.Close()
	envR.Close()
	if err != nil {
		return fmt.Errorf("CannotStartContainerError: container %s: %w", c.Name, err)
	}
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	go c.wait()

	pid, err := readChildPID(infoR, c.done)
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

// readChildPID reads bwrap's {"child-pid": N} from its info fd.
func readChildPID(r *os.File, died <-chan struct{}) (int, error) {
	type info struct {
		ChildPID int `json:"child-pid"`
	}
	got := make(chan info, 1)
	go func() {
		var i info
		if json.NewDecoder(bufio.NewReader(r)).Decode(&i) == nil {
			got <- i
		}
		close(got)
	}()
	select {
	case i, ok := <-got:
		if !ok || i.ChildPID == 0 {
			return 0, errors.New("the sandbox did not start")
		}
		return i.ChildPID, nil
	case <-time.After(30 * time.Second):
		return 0, errors.New("the sandbox did not report its process within 30 s")
	}
}

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
	c.mu.Lock()
	c.status, c.exited, c.exitCode = "STOPPED", true, code
	c.mu.Unlock()
	close(c.done)
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
		if pid != 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

// kill sends SIGKILL, without waiting: to the container's first process,
// PID 1 of its PID namespace, whose death makes the kernel kill every
// other process in it, and to the process group the runner started it in
// (nsenter, unshare, the helper and bwrap).
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
