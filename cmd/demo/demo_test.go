package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

var screenshotTo = flag.String("screenshot", "", "also save the targets page the test opens as this PNG (docs/targets.png is made so: go test ./cmd/demo -run UpTwice -screenshot docs/targets.png, in scripts/netns.sh)")

// The test binary is the demo too: `up` copies itself to DEMO_DIR/demo and
// starts it as the supervisor ("daemon") and the forwarder ("forward").
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && slices.Contains([]string{"up", "down", "status", "daemon", "forward"}, os.Args[1]) {
		main()
		os.Exit(0)
	}
	// The demo runs from the repository root (scripts/, docker/, cdktf.json).
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// demo runs one demo command as make demo does, in dir, and returns its
// output.
func demo(t *testing.T, dir string, args ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "DEMO_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestUpTwiceThenDown: make demo brings every node up; a second make demo
// changes nothing; make demo-down stops exactly the recorded processes,
// not a process whose PID a stale record names, and leaves nothing behind.
func TestUpTwiceThenDown(t *testing.T) {
	if os.Getenv("PROMAWS_SKIP_E2E") == "1" {
		t.Skip("PROMAWS_SKIP_E2E=1")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	t.Cleanup(func() {
		if _, err := os.Stat(dir); err == nil {
			cmd := exec.Command(os.Args[0], "down")
			cmd.Env = append(os.Environ(), "DEMO_DIR="+dir)
			_ = cmd.Run()
		}
	})
	// Given a process the demo did not start.
	bystander := exec.Command("sleep", "600")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

	// When the demo comes up, every node is discovered and up.
	out := demo(t, dir, "up")
	if !strings.Contains(out, "demo nodes are discovered and up") {
		t.Fatalf("make demo did not report the nodes up:\n%s", out)
	}
	readyPath := filepath.Join(dir, "ready.json")
	ready, err := os.ReadFile(readyPath)
	if err != nil {
		t.Fatal(err)
	}
	var r Ready
	if err := json.Unmarshal(ready, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Instances) == 0 || r.Task.Health != "HEALTHY" {
		t.Fatalf("ready.json: %d instances, task health %q: want nodes and HEALTHY", len(r.Instances), r.Task.Health)
	}
	for _, n := range r.Instances {
		if n.Health != "up" {
			t.Errorf("node %s: target %q, want up", n.ID, n.Health)
		}
	}
	// Where alerts go is printed, and the Alertmanager answers on the
	// host's loopback with the demo's credentials only.
	if !strings.Contains(out, "Alerts:") || !strings.Contains(out, r.AlertTopic) || r.AlertTopic == "" || !strings.Contains(out, r.AlertmanagerURL) {
		t.Errorf("make demo must print the Alertmanager URL and the topic alerts go to:\n%s", out)
	}
	for user, want := range map[string]int{"": http.StatusUnauthorized, r.User: http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, r.AlertmanagerURL+"/api/v2/status", nil)
		if user != "" {
			req.SetBasicAuth(user, r.Password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("the demo's Alertmanager at %s: %v", r.AlertmanagerURL, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("the demo's Alertmanager as %q: HTTP %d, want %d", user, resp.StatusCode, want)
		}
	}
	// The page the demo prints opens in a browser, with the printed
	// password, and lists every node (the page's scripts read the API).
	if !strings.Contains(out, "Targets page: "+r.URL+"/targets") {
		t.Errorf("make demo must print the targets page %s/targets:\n%s", r.URL, out)
	}
	dom, err := r.chromium("/targets", "--dump-dom")
	if err != nil {
		t.Fatalf("opening the targets page in Chromium: %v", err)
	}
	for _, n := range r.Instances {
		if !strings.Contains(dom, n.ID) {
			t.Errorf("the targets page in a browser does not show node %s; the page's text:\n%s", n.ID, pageText(dom))
		}
	}
	if *screenshotTo != "" {
		abs, _ := filepath.Abs(*screenshotTo)
		if _, err := r.chromium("/targets", "--screenshot="+abs); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}

	pids := append(slices.Clone(r.Processes), pidIn(t, dir, "daemon.pid"), pidIn(t, dir, "forwarder.pid"))
	for _, pid := range pids {
		if !proc.Alive(pid) {
			t.Errorf("recorded PID %d is not running", pid)
		}
	}

	// A second make demo changes nothing.
	if out := demo(t, dir, "up"); !strings.Contains(out, "already running") {
		t.Errorf("second make demo:\n%s\nwant it to report the running demo", out)
	}
	if again, _ := os.ReadFile(readyPath); !bytes.Equal(again, ready) {
		t.Errorf("a second make demo rewrote ready.json:\n%s\nwas:\n%s", again, ready)
	}
	if pid := pidIn(t, dir, "daemon.pid"); pid != pids[len(pids)-2] {
		t.Errorf("a second make demo started another supervisor (PID %d, was %d)", pid, pids[len(pids)-2])
	}

	// make demo-down stops every recorded process and removes the folder.
	// It returns once they are gone (it says so): no grace after it.
	started := map[int]time.Time{}
	for _, pid := range pids {
		if started[pid], err = proc.StartTime(pid); err != nil {
			t.Fatalf("recorded PID %d: %v", pid, err)
		}
	}
	if out := demo(t, dir, "down"); !strings.Contains(out, "no demo process or emulator state is left") {
		t.Errorf("make demo-down must say it left nothing:\n%s", out)
	}
	for _, pid := range pids {
		if stillRuns(pid, started[pid]) {
			t.Errorf("PID %d the demo recorded still runs after make demo-down returned", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s remains after make demo-down: %v", dir, err)
	}

	// A stale record naming the bystander's PID (written before it started,
	// as when a PID is reused) must not stop it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "daemon.pid")
	if err := os.WriteFile(stale, []byte(strconv.Itoa(bystander.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, past, past); err != nil {
		t.Fatal(err)
	}
	demo(t, dir, "down")
	// (A stopped child would linger as a zombie; Alive counts those gone.)
	if !proc.Alive(bystander.Process.Pid) {
		t.Errorf("make demo-down stopped a process it did not start (PID %d)", bystander.Process.Pid)
	}
}

func pidIn(t *testing.T, dir, file string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return pid
}

// stillRuns reports whether the process that started at started still
// runs as pid: a zombie waiting for its parent counts as gone, and so does
// a new process that reused the PID.
func stillRuns(pid int, started time.Time) bool {
	if !proc.Alive(pid) {
		return false
	}
	now, err := proc.StartTime(pid)
	if err != nil {
		return proc.Alive(pid) // gone while we looked, or no /proc
	}
	return now.Equal(started)
}

// pageText is dom without its tags, for a readable failure.
func pageText(dom string) string {
	text := regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>`).ReplaceAllString(dom, " ")
	return strings.Join(strings.Fields(text), " ")
}
