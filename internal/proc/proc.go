// Package proc starts and stops the helper processes of the demo and the
// tests (moto, Prometheus, node_exporter). Each runs in its own process
// group with its output in a log file.
//
// The rule it keeps: signal only what we started. Stop signals the group of
// a process this package started, and only while that process has not been
// reaped (so its PID, which is also the group ID, cannot have been reused).
// StopPIDFile, for processes recorded by an earlier run, first checks that
// the PID still names the process that was recorded.
package proc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// DefaultGrace is how long Stop waits after SIGTERM before SIGKILL.
const DefaultGrace = 10 * time.Second

// DefaultWaitTimeout bounds WaitHTTP when ctx has no deadline.
const DefaultWaitTimeout = 2 * time.Minute

// Spec says what to start.
type Spec struct {
	// Name labels errors and the default log file (<Dir>/<Name>.log).
	Name string
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Dir is the working directory. Required.
	Dir string
	// Env is the complete environment; nil inherits ours.
	Env []string
	// LogFile receives stdout and stderr; default <Dir>/<Name>.log.
	LogFile string
	// PIDFile, when set, gets the PID once the process runs; Stop removes it.
	PIDFile string
	// Grace is the time between SIGTERM and SIGKILL in Stop; default
	// DefaultGrace.
	Grace time.Duration
	// Detach lets the process outlive the caller (the demo): it is neither
	// stopped when ctx ends nor signalled when the caller dies.
	Detach bool
}

// Process is a started process.
type Process struct {
	Name    string
	PID     int
	LogPath string
	PIDFile string

	grace time.Duration
	cmd   *exec.Cmd
	done  chan struct{}

	mu     sync.Mutex
	exited bool  // set (under mu) before the process is reaped
	err    error // cmd.Wait's result, valid once done is closed
}

// Start launches the process in a new process group whose ID is its PID.
// Unless s.Detach, it is stopped when ctx ends and sent SIGTERM if the
// caller dies without cleaning up.
func Start(ctx context.Context, s Spec) (*Process, error) {
	if s.Dir == "" {
		return nil, fmt.Errorf("%s: Spec.Dir is required", s.Name)
	}
	if s.Name == "" {
		s.Name = filepath.Base(s.Path)
	}
	logPath := s.LogFile
	if logPath == "" {
		logPath = filepath.Join(s.Dir, s.Name+".log")
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(s.Path, s.Args...)
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
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	p := &Process{Name: s.Name, PID: cmd.Process.Pid, LogPath: logPath, grace: grace, cmd: cmd, done: make(chan struct{})}
	go p.wait()
	if s.PIDFile != "" {
		if err := writeFileAtomic(s.PIDFile, []byte(strconv.Itoa(p.PID)+"\n")); err != nil {
			p.Stop()
			return nil, fmt.Errorf("%s: pid file: %w", s.Name, err)
		}
		p.PIDFile = s.PIDFile
	}
	if !s.Detach {
		go func() {
			select {
			case <-ctx.Done():
				p.Stop()
			case <-p.done:
			}
		}()
	}
	return p, nil
}

// wait marks the process exited while it is still an unreaped zombie, then
// reaps it. Signals sent under mu before exited is set therefore reach a
// process group whose ID is still ours.
func (p *Process) wait() {
	waitExitedNoReap(p.PID)
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	err := p.cmd.Wait()
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	close(p.done)
}

// waitExitedNoReap blocks until pid (a child of ours) has exited, leaving it
// a zombie: waitid(P_PID, pid, WEXITED|WNOWAIT).
func waitExitedNoReap(pid int) {
	const (
		pPID    = 1
		wExited = 4
		wNoWait = 0x1000000
	)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), wExited|wNoWait, 0, 0)
		if errno != syscall.EINTR {
			return // exited, or not waitable at all (then Wait reports it)
		}
	}
}

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for exit status 0) once Done.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// signalGroup sends sig to the process group unless the leader has exited.
func (p *Process) signalGroup(sig syscall.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return false
	}
	_ = syscall.Kill(-p.PID, sig)
	return true
}

// Stop ends the process group: SIGTERM, then SIGKILL after the grace
// period, and waits until the process is reaped. It removes the PID file if
// it still names this process. Safe to call more than once and after the
// process ended by itself.
func (p *Process) Stop() {
	if p.signalGroup(syscall.SIGTERM) {
		timer := time.NewTimer(p.grace)
		select {
		case <-p.done:
		case <-timer.C:
			p.signalGroup(syscall.SIGKILL)
		}
		timer.Stop()
	}
	<-p.done
	if p.PIDFile != "" {
		if pid, err := ReadPIDFile(p.PIDFile); err == nil && pid == p.PID {
			_ = os.Remove(p.PIDFile)
		}
	}
}

// LogTail returns the last n lines of the log, for error messages.
func (p *Process) LogTail(n int) string { return Tail(p.LogPath, n) }

// WaitHTTP polls url until it answers 200 (see the function WaitHTTP).
func (p *Process) WaitHTTP(ctx context.Context, url string) error { return WaitHTTP(ctx, url, p) }

// Tail returns the last n lines of a file (reading at most its last 64 KiB).
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return "(log is empty)"
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitHTTP polls url until it answers 200, the process p exits, or the
// deadline passes: ctx's, or DefaultWaitTimeout when ctx has none. Errors
// carry the last lines of p's log; p may be nil for a process started
// elsewhere.
func WaitHTTP(ctx context.Context, url string, p *Process) error {
	return WaitHTTPWith(ctx, &http.Client{Timeout: 2 * time.Second}, url, p)
}

// WaitHTTPWith is WaitHTTP with a given client (e.g. one trusting a
// private certificate).
func WaitHTTPWith(ctx context.Context, client *http.Client, url string, p *Process) error {
	timeout := DefaultWaitTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d).Round(time.Second)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	name := "the process"
	var done <-chan struct{}
	tail := func() string { return "" }
	if p != nil {
		name, done = p.Name, p.done
		tail = func() string { return fmt.Sprintf("\nlast lines of %s:\n%s", p.LogPath, p.LogTail(30)) }
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no answer yet")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("HTTP %s", resp.Status)
		} else if ctx.Err() == nil {
			last = err
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited (%v) before %s answered 200 (last: %v)%s", name, p.Err(), url, last, tail())
		case <-ctx.Done():
			why := "timed out after " + timeout.String()
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = "canceled"
			}
			return fmt.Errorf("%s waiting for %s (%s) to answer 200 (last: %v)%s", why, url, name, last, tail())
		case <-tick.C:
		}
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

// Alive reports whether pid names a running process (zombies count as
// ended).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	st, err := readStat(pid)
	return err != nil || st.state != 'Z' // no /proc: trust kill(0)
}

// ReadPIDFile returns the PID recorded in a PID file (its first line).
func ReadPIDFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no PID in it", path)
	}
	return pid, nil
}

// StopPIDFile stops a process recorded in a PID file by an earlier run,
// then removes the file. It signals only if the PID still names the process
// that was recorded: one that started before the file was written (a PID
// reused by a newer process started after it). A gone process is not an
// error. The process's group is signalled when it leads one.
func StopPIDFile(path string, grace time.Duration) error {
	pid, err := ReadPIDFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !Alive(pid) {
		return os.Remove(path)
	}
	if !Recorded(pid, fi.ModTime()) {
		_ = os.Remove(path)
		return fmt.Errorf("PID %d from %s belongs to a process started after the file was written (PID reused); not touching it", pid, path)
	}
	StopPID(pid, grace)
	if Alive(pid) {
		return fmt.Errorf("PID %d from %s survived SIGKILL", pid, path)
	}
	return os.Remove(path)
}

// Recorded reports whether pid still names the process recorded at
// recordedAt: alive, and started no later than that (a PID reused by a
// newer process is not the recorded one). Records are written right after
// the start; recordSlack allows for the clocks involved.
func Recorded(pid int, recordedAt time.Time) bool {
	if !Alive(pid) {
		return false
	}
	started, err := StartTime(pid)
	return err == nil && !started.After(recordedAt.Add(recordSlack))
}

// recordSlack is how much later than its record a process may seem to have
// started. The start time is boot time plus ticks, and the kernel moves
// boot time whenever the wall clock is stepped (as a VM's clock sync does):
// a step forward after a record makes its process seem to start after it.
// CI saw a step of more than 2 s make the demo take its own supervisor for a
// reused PID. A PID reused within a minute of its record would need the
// recorded process gone and the PID space wrapped in that minute.
const recordSlack = time.Minute

// RecordedPID is the PID of a PID file when Recorded (alive and the
// process the file was written for), else 0.
func RecordedPID(path string) int {
	pid, err := ReadPIDFile(path)
	if err != nil {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil || !Recorded(pid, fi.ModTime()) {
		return 0
	}
	return pid
}

// StopPID ends a process (its group if it leads one) recorded by an earlier
// run: SIGTERM, then SIGKILL after timeout. Prefer StopPIDFile, which also
// checks that the PID was not reused.
func StopPID(pid int, timeout time.Duration) {
	if !Alive(pid) {
		return
	}
	target := pid
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		target = -pid
	}
	_ = syscall.Kill(target, syscall.SIGTERM)
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if !Alive(pid) {
			return
		}
	}
	_ = syscall.Kill(target, syscall.SIGKILL)
	for i := 0; i < 50 && Alive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

type procStat struct {
	state     byte
	startTick uint64 // clock ticks after boot
}

// readStat parses /proc/<pid>/stat.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64) // field 22 overall
	if err != nil {
		return procStat{}, err
	}
	return procStat{state: fields[0][0], startTick: start}, nil
}

// StartTime is when pid started, from /proc (Linux).
func StartTime(pid int) (time.Time, error) {
	st, err := readStat(pid)
	if err != nil {
		return time.Time{}, err
	}
	boot, err := bootTime()
	if err != nil {
		return time.Time{}, err
	}
	const userHZ = 100 // USER_HZ, fixed by the Linux ABI
	return boot.Add(time.Duration(st.startTick) * time.Second / userHZ), nil
}

func bootTime() (time.Time, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(secs, 0), err
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
