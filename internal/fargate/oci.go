package fargate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runc is the OCI runtime the runner drives: everything a container
// runtime does (namespaces, mounts, user, capabilities, cgroup limits,
// exec) is runc's; what ECS means by a task definition stays in this
// package. Each runner keeps runc's state in a folder of its own, so it
// lists and deletes only the containers it started.
type runc struct{ bin, root string }

// command is runc with the runner's state folder and the runner's own
// environment (the container's reaches runc through config.json only).
func (r runc) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Env = runnerEnv()
	return cmd
}

// fargateNofile is the open-files limit Fargate gives every container
// (soft and hard 65535), which it sets instead of the OS default:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_limits
const fargateNofile = 65535

// defaultPath is the PATH Docker gives a container whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// bundle writes the container's OCI bundle (config.json and, for a
// read-only root, the root folder of mount points) into dir and returns
// it. The configuration holds the container's environment, secrets
// included, as Docker's container configuration does on an ECS host; it is
// readable by root only and removed with the task.
func (c *Container) bundle(dir string) error {
	rootfs, imageMounts, err := c.rootfs(filepath.Join(dir, "rootfs"))
	if err != nil {
		return err
	}
	mounts := append(defaultMounts(), imageMounts...)
	files, err := c.t.runtimeFiles()
	if err != nil {
		return err
	}
	// What the runtime writes per container: the task's hosts file (its
	// hostname and localhost), hostname, and a resolver file (no DNS server
	// is reachable from the loopback-only namespace).
	for _, f := range runtimeFiles {
		if _, err := os.Stat(filepath.Join(c.img.Root, f)); err == nil {
			mounts = append(mounts, bindMount(files[f], "/"+f, true))
		}
	}
	if ca := c.t.opts.TrustedCA; ca != "" {
		if _, err := os.Stat(filepath.Join(c.img.Root, CABundle)); err == nil {
			mounts = append(mounts, bindMount(ca, CABundle, true))
		}
	}
	volumes, err := c.volumeMounts()
	if err != nil {
		return err
	}
	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: rootfs, Readonly: aws.ToBool(c.def.ReadonlyRootFilesystem)},
		Hostname: c.t.hostname(),
		Mounts:   append(mounts, volumes...),
		Process:  c.process(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: c.t.net.nsPath()}},
			CgroupsPath: c.t.cgroup.Container(c.Name),
			Resources:   c.resources(),
			// runc's defaults (runc spec), as Docker's.
			MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600)
}

// process is the container's first process: the image's and the
// definition's command, user, working directory and environment, and
// Docker's capability rule.
func (c *Container) process() *specs.Process {
	env := c.env
	if !hasEnv(env, "PATH") {
		env = append(append([]string{}, env...), "PATH="+defaultPath)
	}
	user := specs.User{UID: uint32(c.uid), GID: uint32(c.groups[0])}
	for _, g := range c.groups[1:] {
		user.AdditionalGids = append(user.AdditionalGids, uint32(g))
	}
	caps := c.capabilities()
	set := &specs.LinuxCapabilities{Bounding: caps}
	if c.uid == 0 {
		// Root keeps its set across exec; any other user keeps it only in
		// the bounding set (the kernel clears the rest when the uid
		// changes), as with Docker.
		set.Effective, set.Permitted = caps, caps
	}
	return &specs.Process{
		User: user, Args: c.argv, Env: env, Cwd: c.wd, Capabilities: set,
		Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: nofile(), Soft: nofile()}},
	}
}

// nofile is Fargate's open-files limit, or this machine's hard limit when
// that is lower and the runner may not raise it (a sandboxed root without
// CAP_SYS_RESOURCE; runc then refuses to start the container).
func nofile() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Max < fargateNofile {
		return l.Max
	}
	return fargateNofile
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// resources are the container's own limits, below the task's (the task's
// cgroup holds the task size): memory (hard; the task's when the container
// sets none) and memoryReservation (soft) in MiB, cpu units as CPU shares,
// as the ECS agent gives them to Docker.
// No device but runc's defaults.
func (c *Container) resources() *specs.LinuxResources {
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	mib := func(n int32) *int64 { v := int64(n) * 1024 * 1024; return &v }
	// A container without memory of its own gets the task's as its limit
	// too (the task's cgroup enforces it either way): a program reading its
	// limit sees the task size, as on Fargate, where the task's VM has that
	// memory. Prometheus 3 sets its Go memory limit from it (90%); with the
	// host's 24 GiB instead it collected too late and was killed far below
	// what the task holds on AWS.
	m := aws.ToInt32(c.def.Memory)
	if m <= 0 {
		m = int32(c.t.memory)
	}
	if m > 0 {
		res.Memory = &specs.LinuxMemory{Limit: mib(m), Swap: mib(m)}
	}
	if r := aws.ToInt32(c.def.MemoryReservation); r > 0 {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		res.Memory.Reservation = mib(r)
	}
	if c.def.Cpu > 0 {
		shares := uint64(max(c.def.Cpu, 2)) // the agent's minimum
		res.CPU = &specs.LinuxCPU{Shares: &shares}
	}
	return res
}

// defaultMounts are runc's (runc spec), as Docker's: /proc, a minimal
// /dev, /sys and the container's cgroups read-only.
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		// The container's own cgroups, read-only: where a program reads its
		// memory limit (Prometheus's GOMEMLIMIT).
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

func bindMount(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// rootfs makes the container's root folder. A writable root is the
// container's own copy of the image. A read-only one is a folder of mount
// points, each of the image's top-level entries bound read-only onto its
// own (symbolic links copied), so that what runc creates for the mounts
// (their mount points) lands in the container's folder and never in the
// image replica, which other tasks share.
func (c *Container) rootfs(dir string) (string, []specs.Mount, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if !aws.ToBool(c.def.ReadonlyRootFilesystem) {
		return dir, nil, copyTree(context.Background(), c.img.Root, dir)
	}
	entries, err := os.ReadDir(c.img.Root)
	if err != nil {
		return "", nil, err
	}
	var mounts []specs.Mount
	for _, e := range entries {
		src, dst := filepath.Join(c.img.Root, e.Name()), filepath.Join(dir, e.Name())
		switch name := e.Name(); {
		case name == "proc" || name == "dev" || name == "sys":
			err = os.Mkdir(dst, 0o755) // runc mounts its own
		case e.Type()&os.ModeSymlink != 0:
			var target string
			if target, err = os.Readlink(src); err == nil {
				err = os.Symlink(target, dst)
			}
		case e.IsDir():
			if err = os.Mkdir(dst, 0o755); err == nil {
				mounts = append(mounts, bindMount(src, "/"+name, true))
			}
		default:
			if err = os.WriteFile(dst, nil, 0o644); err == nil {
				mounts = append(mounts, bindMount(src, "/"+name, true))
			}
		}
		if err != nil {
			return "", nil, err
		}
	}
	return dir, mounts, nil
}

// volumeMounts are the container's mount points (bind and EFS volumes)
// and linuxParameters tmpfs mounts, shallow paths first so nested ones
// stack on top. A tmpfs gets exactly its size and options (a tmpfs's root
// is mode 1777 unless an option says otherwise, as with Docker).
func (c *Container) volumeMounts() ([]specs.Mount, error) {
	var list []specs.Mount
	for _, mp := range c.def.MountPoints {
		v := c.t.volumes[aws.ToString(mp.SourceVolume)]
		if v == nil {
			return nil, fmt.Errorf("container %s mounts unknown volume %q", c.Name, aws.ToString(mp.SourceVolume))
		}
		list = append(list, bindMount(v.dir, path.Clean(aws.ToString(mp.ContainerPath)), aws.ToBool(mp.ReadOnly)))
	}
	if lp := c.def.LinuxParameters; lp != nil {
		for _, tf := range lp.Tmpfs {
			opts := append([]string{fmt.Sprintf("size=%dm", tf.Size)}, tf.MountOptions...)
			list = append(list, specs.Mount{Destination: path.Clean(aws.ToString(tf.ContainerPath)), Type: "tmpfs", Source: "tmpfs", Options: opts})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		return strings.Count(list[i].Destination, "/") < strings.Count(list[j].Destination, "/")
	})
	return list, nil
}
