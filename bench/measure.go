package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Usage is what Measure saw of one process run.
type Usage struct {
	Wall time.Duration
	// RootHWM is the peak resident memory (VmHWM) of the started process,
	// and ChildHWM the largest of its descendants named ChildName; in MiB.
	RootHWM, ChildHWM float64
	// MaxRSS is ru_maxrss from wait4, in MiB: the largest of the process and
	// its reaped descendants.
	MaxRSS float64
}

// PollInterval is how often Measure reads /proc while the process runs.
const PollInterval = 20 * time.Millisecond

// Measure runs cmd to completion and records its wall time and peak memory.
// childName is the comm of the descendant whose peak is recorded too
// ("node" for the jsii runtime). Output goes where cmd says; on failure the
// error carries the last output lines when cmd.Stdout/Stderr were unset.
func Measure(cmd *exec.Cmd, childName string) (Usage, error) {
	var out bytes.Buffer
	if cmd.Stdout == nil && cmd.Stderr == nil {
		cmd.Stdout, cmd.Stderr = &out, &out
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	var (
		mu          sync.Mutex
		root, child float64
		stop        = make(chan struct{})
		done        = make(chan struct{})
	)
	pid := cmd.Process.Pid
	go func() {
		defer close(done)
		t := time.NewTicker(PollInterval)
		defer t.Stop()
		for {
			r := HWM(pid)
			c := 0.0
			for _, d := range Descendants(pid) {
				if Comm(d) == childName {
					c = max(c, HWM(d))
				}
			}
			mu.Lock()
			root, child = max(root, r), max(child, c)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	<-done
	u := Usage{Wall: wall, RootHWM: root, ChildHWM: child}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	if err != nil {
		return u, fmt.Errorf("%s %s: %w\n%s", cmd.Path, strings.Join(cmd.Args[1:], " "), err, lastLines(out.String(), 30))
	}
	return u, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Descendants are the PIDs below pid, from /proc/<pid>/task/*/children
// (Linux); processes that exit meanwhile are skipped.
func Descendants(pid int) []int {
	var all []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		if err != nil {
			continue
		}
		for _, t := range tasks {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + t.Name() + "/children")
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(data)) {
				if c, err := strconv.Atoi(f); err == nil {
					all = append(all, c)
					queue = append(queue, c)
				}
			}
		}
	}
	return all
}

// Comm is the command name of pid ("" when gone).
func Comm(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// HWM is VmHWM (peak resident set) of pid in MiB; 0 when gone.
func HWM(pid int) float64 { return StatusMiB(pid, "VmHWM") }

// RSS is VmRSS of pid in MiB; 0 when gone.
func RSS(pid int) float64 { return StatusMiB(pid, "VmRSS") }

// StatusMiB reads a "kB" field of /proc/<pid>/status in MiB; 0 when the
// process or the field is gone.
func StatusMiB(pid int, field string) float64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			fs := strings.Fields(v)
			if len(fs) >= 1 {
				kb, err := strconv.ParseFloat(fs[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}
