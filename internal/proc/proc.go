// Package proc starts and stops the helper processes of the demo and the
// tests (moto, Prometheus, node_exporter). Each runs in its own process
// group with its output in a log file; Stop signals only that group, so we
// never touch a process we did not start.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Spec says what to start.
type Spec struct {
	// Name labels errors and the log file (<Dir>/<Name>.log).
	Name string
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Dir is the working directory, which also holds the log. Required.
	Dir string
	// Env is the complete environment; nil inherits ours.
	Env []string
	// Detach lets the process outlive the caller (the demo): it is not
	// killed when ctx ends.
	Detach bool
}

// Process is a started process.
type Process struct {
	Name    string
	PID     int
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start launches the process in a new process group.
func Start(ctx context.Context, s Spec) (*Process, error) {
	if s.Dir == "" {
		return nil, fmt.Errorf("%s: Spec.Dir is required", s.Name)
	}
	logPath := filepath.Join(s.Dir, s.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	var cmd *exec.Cmd
	if s.Detach {
		cmd = exec.Command(s.Path, s.Args...)
	} else {
		cmd = exec.CommandContext(ctx, s.Path, s.Args...)
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
	}
	cmd.Dir, cmd.Env = s.Dir, s.Env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !s.Detach {
		// Die with the caller even if it crashes (a panicking test binary
		// runs no cleanup): no stray emulators.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Name, err)
	}
	p := &Process{Name: s.Name, PID: cmd.Process.Pid, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after 10 s.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.PID, syscall.SIGKILL)
		<-p.done
	}
}

// LogTail returns the last n lines of the log, for error messages.
func (p *Process) LogTail(n int) string { return Tail(p.LogPath, n) }

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitHTTP polls url until it answers 200, the process exits, or ctx ends.
// The error carries the tail of the process log.
func WaitHTTP(ctx context.Context, url string, p *Process) error {
	return WaitHTTPWith(ctx, &http.Client{Timeout: 2 * time.Second}, url, p)
}

// WaitHTTPWith is WaitHTTP with a given client (e.g. one trusting a
// private certificate).
func WaitHTTPWith(ctx context.Context, client *http.Client, url string, p *Process) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before %s answered; log:\n%s", p.Name, url, p.LogTail(30))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			tail := ""
			if p != nil {
				tail = "; log:\n" + p.LogTail(30)
			}
			return fmt.Errorf("%s did not answer within 2 minutes (last error: %v)%s", url, err, tail)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that is free right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Alive reports whether pid names a running process (for PID files).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// StopPID ends a process group recorded in a PID file by an earlier run:
// SIGTERM, then SIGKILL after timeout. It only signals that group.
func StopPID(pid int, timeout time.Duration) {
	if !Alive(pid) {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if !Alive(pid) {
			return
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
