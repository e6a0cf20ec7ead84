// Package cgroup holds the cgroup v1 side of the local Fargate runner's
// limits: a task's cgroup with its cpu quota and memory limit (Fargate's
// task size), the out-of-memory kills of a container, and the removal of
// what a run leaves (fargate-helper's reaper uses it too, so it imports
// nothing but the standard library).
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Root is where the cgroup v1 controllers the runner limits are
// mounted (Debian 12's hybrid layout on these machines: v1 controllers,
// cgroup2 only at /sys/fs/cgroup/unified).
const Root = "/sys/fs/cgroup"

// Controllers are the cgroup v1 controllers a task's limits live in.
var Controllers = []string{"memory", "cpu"}

// Check returns an error unless the cgroup v1 memory and cpu
// controllers are mounted writable: the runner enforces a task's cpu and
// memory there, as Fargate does, and runs nothing without them.
func Check() error {
	for _, c := range Controllers {
		dir := filepath.Join(Root, c)
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
			return fmt.Errorf("the local Fargate runner enforces each task's cpu and memory with the cgroup v1 %s controller, which is not mounted at %s (this machine has %s); it needs the cgroup v1 (or hybrid) layout of Debian 12 machines", c, dir, cgroupLayout())
		}
	}
	return nil
}

func cgroupLayout() string {
	if _, err := os.Stat(filepath.Join(Root, "cgroup.controllers")); err == nil {
		return "cgroup v2 only"
	}
	return "no cgroup v1 " + strings.Join(Controllers, "/") + " mount"
}

// Task is the cgroup (one folder per v1 controller) a task's
// containers run under: the task's memory is a hard limit on all of them
// together and its cpu a quota, as Fargate enforces the task size; each
// container gets a cgroup of its own below it (the OCI runtime creates
// it), limited further by the container's own memory and cpu when set.
type Task struct {
	Path string // e.g. /promaws-<runner>/<task>, relative to each controller
}

// NewTask creates the task's cgroup with cpu (units of 1/1024 vCPU)
// and memory (MiB) as limits. Fargate gives a task no swap, so the
// memory+swap limit (when swap accounting is on) equals the memory limit.
func NewTask(path string, cpu, memory float64) (*Task, error) {
	g := &Task{Path: path}
	for _, c := range Controllers {
		if err := os.MkdirAll(g.Dir(c), 0o755); err != nil {
			return nil, fmt.Errorf("task cgroup: %w", err)
		}
	}
	var settings [][2]string
	if memory > 0 { // validate refuses a Fargate task without one
		bytes := strconv.FormatInt(int64(memory)*1024*1024, 10)
		settings = append(settings, [2]string{"memory/memory.limit_in_bytes", bytes}, [2]string{"memory/memory.memsw.limit_in_bytes", bytes})
	}
	if cpu > 0 {
		// CFS quota per 100 ms period: 512 units = half a CPU's time.
		settings = append(settings, [2]string{"cpu/cpu.cfs_period_us", "100000"},
			[2]string{"cpu/cpu.cfs_quota_us", strconv.FormatInt(int64(cpu*100000/1024), 10)})
	}
	for _, s := range settings {
		ctrl, file, _ := strings.Cut(s[0], "/")
		err := os.WriteFile(filepath.Join(g.Dir(ctrl), file), []byte(s[1]), 0o644)
		if err != nil && !(file == "memory.memsw.limit_in_bytes" && errors.Is(err, os.ErrNotExist)) {
			g.Remove()
			return nil, fmt.Errorf("task cgroup: set %s to %s: %w", file, s[1], err)
		}
	}
	return g, nil
}

// Dir is the task's folder in a controller's hierarchy.
func (g *Task) Dir(controller string) string {
	return filepath.Join(Root, controller, g.Path)
}

// Container is the cgroup path of a container of the task, as the OCI
// runtime's linux.cgroupsPath.
func (g *Task) Container(name string) string { return g.Path + "/" + name }

// OOMKills is how many processes of the container the kernel killed for
// memory (its cgroup's memory.oom_control oom_kill counter, which counts
// kills charged to the container whether its own limit or the task's was
// reached). Read it before the runtime deletes the container's cgroup.
func (g *Task) OOMKills(name string) int {
	data, err := os.ReadFile(filepath.Join(Root, "memory", g.Container(name), "memory.oom_control"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
			v, _ := strconv.Atoi(strings.TrimSpace(n))
			return v
		}
	}
	return 0
}

// PeakMiB is the most memory the task's processes used together since it
// started (memory.max_usage_in_bytes of its cgroup, page cache included,
// as the limit counts it), in MiB; 0 when unreadable.
func (g *Task) PeakMiB() float64 {
	data, err := os.ReadFile(filepath.Join(g.Dir("memory"), "memory.max_usage_in_bytes"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return float64(n) / (1 << 20)
}

// Memory is what a task's cgroup charges now, in MiB: Usage (what its
// limit is checked against), of which RSS is anonymous memory (the Go
// heap, stacks) and Cache the page cache (TSDB and WAL files), which the
// kernel reclaims before it kills for memory.
type Memory struct{ Usage, RSS, Cache float64 }

// Memory reads memory.usage_in_bytes and memory.stat's total_rss and
// total_cache; zero when unreadable (the task gone).
func (g *Task) Memory() Memory {
	mib := func(s string) float64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return float64(n) / (1 << 20)
	}
	var m Memory
	if data, err := os.ReadFile(filepath.Join(g.Dir("memory"), "memory.usage_in_bytes")); err == nil {
		m.Usage = mib(string(data))
	}
	data, _ := os.ReadFile(filepath.Join(g.Dir("memory"), "memory.stat"))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "total_rss "); ok {
			m.RSS = mib(v)
		} else if v, ok := strings.CutPrefix(line, "total_cache "); ok {
			m.Cache = mib(v)
		}
	}
	return m
}

// Remove deletes the task's cgroup folders once no process is left in
// them (the runtime deletes the containers' own), in every hierarchy: the
// OCI runtime creates a container's path in each one mounted, so the
// task's folder exists in all of them.
func (g *Task) Remove() {
	for _, h := range Hierarchies() {
		_ = RemoveTree(filepath.Join(h, g.Path))
	}
}

// Hierarchies are the mounted cgroup hierarchies (cgroup v1 controllers,
// named ones such as name=systemd, and the cgroup2 one at unified).
func Hierarchies() []string {
	var out []string
	dirs, _ := filepath.Glob(filepath.Join(Root, "*", "cgroup.procs"))
	for _, d := range dirs {
		out = append(out, filepath.Dir(d))
	}
	return out
}

// RemoveTree removes a cgroup folder and its children, deepest
// first (a cgroup folder is removed with rmdir, not unlink).
func RemoveTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			_ = RemoveTree(filepath.Join(dir, e.Name()))
		}
	}
	return os.Remove(dir)
}

// PIDs lists every process in a cgroup folder and its children.
func PIDs(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return nil
	})
	return pids
}
