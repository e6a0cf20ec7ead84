package proc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// eventually polls cond until it holds; the bound only keeps a broken test
// from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never happened: %s", what)
}

func start(t *testing.T, s Spec) *Process {
	t.Helper()
	if s.Dir == "" {
		s.Dir = t.TempDir()
	}
	if s.Path == "" {
		s.Path = "/bin/sh"
	}
	p, err := Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func TestStartEnvDirLogAndPIDFile(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "sh.pid")
	p := start(t, Spec{
		Name: "sh", Dir: dir, PIDFile: pidFile,
		Env:  []string{"GREETING=hello from env"},
		Args: []string{"-c", `echo "$GREETING"; pwd; echo ready; exec sleep 60`},
	})
	if p.LogPath != filepath.Join(dir, "sh.log") {
		t.Errorf("LogPath = %s", p.LogPath)
	}
	eventually(t, "log says ready", func() bool { return strings.Contains(p.LogTail(10), "ready") })
	if got := p.LogTail(10); !strings.Contains(got, "hello from env") || !strings.Contains(got, dir) {
		t.Errorf("log does not show env and dir:\n%s", got)
	}
	if pid, err := ReadPIDFile(pidFile); err != nil || pid != p.PID {
		t.Errorf("pid file: %d, %v; want %d", pid, err, p.PID)
	}
	if pgid, err := syscall.Getpgid(p.PID); err != nil || pgid != p.PID {
		t.Errorf("process group %d (%v), want its own (%d)", pgid, err, p.PID)
	}
	p.Stop()
	if !exited(p) || Alive(p.PID) {
		t.Error("still running after Stop")
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	p.Stop() // a second Stop is harmless
}

func TestLogFileOption(t *testing.T) {
	log := filepath.Join(t.TempDir(), "custom.log")
	p := start(t, Spec{Name: "x", LogFile: log, Args: []string{"-c", "echo custom"}})
	<-p.Done()
	if p.LogPath != log || p.LogTail(1) != "custom" {
		t.Errorf("log %s: %q", p.LogPath, p.LogTail(1))
	}
	if p.Err() != nil {
		t.Errorf("exit: %v", p.Err())
	}
}

func TestStopEndsTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	p := start(t, Spec{Name: "parent", Dir: dir,
		Args: []string{"-c", `sleep 60 & echo $! > child.pid; wait`}})
	var child int
	eventually(t, "child pid written", func() bool {
		pid, err := ReadPIDFile(filepath.Join(dir, "child.pid"))
		child = pid
		return err == nil
	})
	p.Stop()
	eventually(t, "child gone", func() bool { return !Alive(child) })
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	p := start(t, Spec{Name: "stubborn", Grace: 100 * time.Millisecond,
		Args: []string{"-c", `trap '' TERM; echo trapped; while :; do sleep 1; done`}})
	eventually(t, "trap set", func() bool { return strings.Contains(p.LogTail(1), "trapped") })
	p.Stop()
	if !exited(p) {
		t.Fatal("not stopped")
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("ended by %v, want SIGKILL", p.cmd.ProcessState)
	}
}

func TestStopLeavesOtherProcessesAlone(t *testing.T) {
	// A process we did not start through this package, in its own group.
	other := exec.Command("sleep", "60")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()

	p := start(t, Spec{Name: "ours", Args: []string{"-c", "exec sleep 60"}})
	p.Stop()
	if !Alive(other.Process.Pid) {
		t.Fatal("Stop signalled a process it did not start")
	}
	// Ended by itself: Stop sends nothing at all.
	q := start(t, Spec{Name: "short", Args: []string{"-c", "exit 3"}})
	<-q.Done()
	if q.signalGroup(syscall.SIGTERM) {
		t.Error("signalled a reaped process group")
	}
	q.Stop()
	if q.Err() == nil {
		t.Error("exit status 3 not reported")
	}
}

func TestContextEndStopsProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, Spec{Name: "ctx", Dir: t.TempDir(), Path: "sleep", Args: []string{"3600"}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-p.Done()
	// Ended by our SIGTERM, not by itself (an hour's sleep cannot end in a
	// test's lifetime): cancelling is what stopped it.
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("cancelling the context must SIGTERM the process, got %v", p.Err())
	}
}

func TestWaitHTTP(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	p := start(t, Spec{Name: "server", Args: []string{"-c", "exec sleep 60"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitHTTP(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 3 {
		t.Errorf("answered before the server was ready")
	}
}

func TestWaitHTTPTimeoutShowsLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	p := start(t, Spec{Name: "broken", Args: []string{"-c", "echo 'listen failed: marker-42'; exec sleep 60"}})
	eventually(t, "log written", func() bool { return strings.Contains(p.LogTail(1), "marker-42") })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := p.WaitHTTP(ctx, srv.URL)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"timed out", srv.URL, "HTTP 500", "marker-42", p.LogPath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestWaitHTTPProcessExits(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, Spec{Name: "crash", Args: []string{"-c", "echo 'fatal: bad flag'; exit 2"}})
	err = p.WaitHTTP(context.Background(), "http://127.0.0.1:"+strconv.Itoa(port)+"/")
	if err == nil || !strings.Contains(err.Error(), "crash exited") || !strings.Contains(err.Error(), "fatal: bad flag") {
		t.Fatalf("want an exit error with the log, got %v", err)
	}
}

func TestStopPIDFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "old.pid")
	p := start(t, Spec{Name: "old", Dir: dir, PIDFile: file, Args: []string{"-c", "exec sleep 60"}})
	if err := StopPIDFile(file, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Error("pid file not removed")
	}
	if err := StopPIDFile(file, time.Second); err != nil {
		t.Errorf("missing pid file: %v", err)
	}
}

func TestStopPIDFileRefusesReusedPID(t *testing.T) {
	dir := t.TempDir()
	q := start(t, Spec{Name: "newer", Dir: dir, Args: []string{"-c", "exec sleep 60"}})
	// A PID file written long before this process started: its PID now
	// names somebody else's process.
	file := filepath.Join(dir, "stale.pid")
	if err := os.WriteFile(file, []byte(strconv.Itoa(q.PID)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	err := StopPIDFile(file, time.Second)
	if err == nil || !strings.Contains(err.Error(), "not touching it") {
		t.Fatalf("want a refusal, got %v", err)
	}
	if exited(q) || !Alive(q.PID) {
		t.Fatal("signalled a process with a reused PID")
	}
}

func TestAliveAndTail(t *testing.T) {
	if Alive(0) || Alive(-1) {
		t.Error("non-PIDs alive")
	}
	if !Alive(os.Getpid()) {
		t.Error("we are not alive")
	}
	file := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(file, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(file, 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail(filepath.Join(t.TempDir(), "none"), 2); !strings.HasPrefix(got, "(no log") {
		t.Errorf("Tail of missing file = %q", got)
	}
	if started, err := StartTime(os.Getpid()); err != nil || started.After(time.Now()) {
		t.Errorf("StartTime = %v, %v", started, err)
	}
}

// exited reports whether p has ended.
func exited(p *Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// A wall-clock step forward after a record (a VM's clock sync) moves boot
// time, so the process seems to have started after its record: seconds of
// that must not make it a stranger (CI saw a step of more than 2 s).
func TestRecordedSurvivesAClockStep(t *testing.T) {
	q := start(t, Spec{Name: "stepped", Dir: t.TempDir(), Args: []string{"-c", "exec sleep 60"}})
	if !Recorded(q.PID, time.Now().Add(-10*time.Second)) {
		t.Error("a process recorded 10 s before its apparent start (a clock step) must still count as recorded")
	}
	if Recorded(q.PID, time.Now().Add(-time.Hour)) {
		t.Error("a record an hour older than the process names a reused PID")
	}
}
