// Command demo runs prometheus-aws against a local AWS emulator, no AWS
// account needed:
//
//	demo up          start moto, apply the stack, run Prometheus + node_exporter,
//	                 wait until every node is discovered and up, print them
//	demo down        destroy the stack, stop exactly the processes demo started
//	demo status      say whether a demo runs, and where
//	demo screenshot  save a PNG of the Prometheus targets page (needs chromium)
//
// Everything that talks to the emulator runs in a loopback-only network
// namespace held by a supervisor process ("demo daemon"). The Prometheus web
// port is bridged to the host's 127.0.0.1 through a unix socket, so a browser
// on this machine can open it while nothing inside can reach any network.
// State (PIDs, logs, Terraform state, the emulator's data) lives in .demo/
// (DEMO_DIR elsewhere: the demo's own test runs one beside the user's).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

// Dir holds everything the demo creates: DEMO_DIR, default .demo.
var Dir = cmp.Or(os.Getenv("DEMO_DIR"), ".demo")

// files in Dir.
var (
	daemonPID    = filepath.Join(Dir, "daemon.pid")
	forwarderPID = filepath.Join(Dir, "forwarder.pid")
	readyFile    = filepath.Join(Dir, "ready.json")
	logFile      = filepath.Join(Dir, "demo.log")
	socketFile   = filepath.Join(Dir, "prometheus.sock")
	amSocketFile = filepath.Join(Dir, "alertmanager.sock")
	failedFile   = filepath.Join(Dir, "failed")
)

// Ready is what the daemon reports once every node is up.
type Ready struct {
	Endpoint  string `json:"endpoint"`   // emulator, inside the namespace
	InnerURL  string `json:"inner_url"`  // Prometheus, inside the namespace
	Stack     string `json:"stack"`      // main stack name
	URL       string `json:"url"`        // Prometheus as the host sees it (set by up)
	Instances []Node `json:"instances"`  // discovered nodes
	Processes []int  `json:"processes"`  // PIDs inside the namespace
	StartedAt string `json:"started_at"` // RFC 3339
	// Basic auth (empty when off): read from the stack's secret in the
	// emulator, as an operator reads it from Secrets Manager. Demo-only
	// credentials, kept in .demo/ (0600) until make demo-down.
	User       string `json:"user,omitempty"`
	Password   string `json:"password,omitempty"`
	SecretName string `json:"secret_name,omitempty"`
	// ConfigParameter is the SSM parameter the task's configuration comes
	// from (the local profile's overlay included).
	ConfigParameter string     `json:"config_parameter"`
	Task            TaskStatus `json:"task"`
	// The bundled Alertmanager: its address inside the namespace, as the
	// host sees it (set by up; with its route prefix), and the topic it
	// sends to.
	AlertmanagerInner string `json:"alertmanager_inner,omitempty"`
	AlertmanagerURL   string `json:"alertmanager_url,omitempty"`
	AlertTopic        string `json:"alert_topic,omitempty"`
}

// TaskStatus is the Prometheus task as ECS would describe it.
type TaskStatus struct {
	ARN    string `json:"arn"`
	Status string `json:"status"`
	Health string `json:"health"`
	Log    string `json:"log"` // the container's output
}

// Node is one row of the table.
type Node struct {
	ID, Name, Zone, State, Health string
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up()
	case "down":
		err = down()
	case "status":
		err = status()
	case "screenshot":
		out := "docs/targets.png"
		if len(os.Args) > 2 {
			out = os.Args[2]
		}
		err = screenshot(out)
	case "daemon":
		err = daemon()
	case "forward":
		err = forward(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: demo up|down|status|screenshot [file.png]")
	os.Exit(2)
}

// readPID returns the PID recorded in file if that process still runs and
// is the one recorded (started before the file was written: a reused PID is
// not ours), else 0.
func readPID(file string) int { return proc.RecordedPID(file) }

// authURL is URL+path with the demo's basic auth credentials embedded.
func (r *Ready) authURL(path string) string {
	if r.User == "" {
		return r.URL + path
	}
	u, _ := url.Parse(r.URL + path)
	u.User = url.UserPassword(r.User, r.Password)
	return u.String()
}

func readReady() (*Ready, error) {
	data, err := os.ReadFile(readyFile)
	if err != nil {
		return nil, err
	}
	var r Ready
	return &r, json.Unmarshal(data, &r)
}

func status() error {
	if pid := readPID(daemonPID); pid != 0 {
		if r, err := readReady(); err == nil {
			fmt.Printf("demo running (supervisor PID %d): %s/targets\n", pid, r.URL)
			printTable(r)
			return nil
		}
		fmt.Printf("demo starting (supervisor PID %d); log: %s\n", pid, logFile)
		return nil
	}
	fmt.Println("no demo running")
	return nil
}

func up() error {
	if pid := readPID(daemonPID); pid != 0 {
		r, err := readReady()
		if err != nil {
			return fmt.Errorf("a demo is already starting (supervisor PID %d); wait for it or run make demo-down", pid)
		}
		fmt.Printf("A demo is already running (supervisor PID %d): %s/targets\nRun make demo-down to stop it.\n", pid, r.URL)
		return nil
	}
	if _, err := os.Stat(Dir); err == nil {
		fmt.Println("demo: removing leftovers of an earlier demo that is no longer running")
		stopRecorded()
		if err := os.RemoveAll(Dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The binary `go run` built may be deleted when we exit; keep a copy the
	// supervisor and the forwarder can outlive us with.
	bin := filepath.Join(Dir, "demo")
	if err := copyFile(self, bin); err != nil {
		return err
	}
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	abs, _ := filepath.Abs(bin)
	cmd := exec.Command("scripts/netns.sh", abs, "daemon")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives make demo
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(daemonPID, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Printf("demo: supervisor started (PID %d); progress below, full log in %s\n", cmd.Process.Pid, logFile)

	ready, err := follow(exited)
	if err != nil {
		stopRecorded()
		return fmt.Errorf("%v\nThe demo did not start. Last lines of %s:\n%s\nEverything it started was stopped; run make demo again after fixing the cause", err, logFile, proc.Tail(logFile, 25))
	}

	port, err := hostPort(ready)
	if err != nil {
		return err
	}
	bridges := []string{"127.0.0.1:" + strconv.Itoa(port), socketFile}
	amPort := 0
	if ready.AlertmanagerInner != "" {
		if amPort, err = freeOr(ready.AlertmanagerInner); err != nil {
			return err
		}
		bridges = append(bridges, "127.0.0.1:"+strconv.Itoa(amPort), amSocketFile)
	}
	fwd := exec.Command(abs, append([]string{"forward"}, bridges...)...)
	fwd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	fwdLog, _ := os.OpenFile(filepath.Join(Dir, "forwarder.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	fwd.Stdout, fwd.Stderr = fwdLog, fwdLog
	if err := fwd.Start(); err != nil {
		return err
	}
	_ = os.WriteFile(forwarderPID, []byte(strconv.Itoa(fwd.Process.Pid)), 0o644)
	ready.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	if amPort != 0 {
		ready.AlertmanagerURL = fmt.Sprintf("http://127.0.0.1:%d%s", amPort, taskcontract.AlertmanagerRoutePrefix)
	}
	data, _ := json.MarshalIndent(ready, "", "  ")
	_ = os.WriteFile(readyFile, data, 0o600)
	if err := proc.WaitHTTP(context.Background(), ready.authURL("/-/ready"), nil); err != nil {
		return fmt.Errorf("the host bridge to Prometheus does not answer: %v", err)
	}

	fmt.Printf("\nAll %d demo nodes are discovered and up in Prometheus:\n\n", len(ready.Instances))
	printTable(ready)
	if err := ready.webUI(); err != nil {
		fmt.Printf("\nTargets page: none: this machine's Prometheus has no web UI (%v).\n", err)
		fmt.Printf("              make tools-demo builds it (it needs the npm registry); then make demo-down && make demo.\n")
		fmt.Printf("Targets, API: %s/api/v1/targets\n", ready.URL)
	} else {
		fmt.Printf("\nTargets page: %s/targets   (API: %s/api/v1/targets)\n", ready.URL, ready.URL)
	}
	if ready.User != "" {
		fmt.Printf("Basic auth:   user %s, password %s\n", ready.User, ready.Password)
		fmt.Printf("              (generated into the emulator's Secrets Manager secret %s; on AWS read it with\n", ready.SecretName)
		fmt.Printf("               aws secretsmanager get-secret-value --secret-id %s --query SecretString --output text)\n", ready.SecretName)
	}
	fmt.Printf("Configuration: SSM parameter %s (PROMAWS_ENDPOINT=%s go run ./cmd/promconfig prints it)\n", ready.ConfigParameter, ready.Endpoint)
	if ready.AlertTopic != "" {
		fmt.Printf("Alerts:       the rules -> Prometheus -> Alertmanager %s (API: %s/api/v2/alerts, same basic auth)\n", ready.AlertmanagerURL, ready.AlertmanagerURL)
		fmt.Printf("              -> SNS topic %s in the emulator: subscribe a queue to read them\n", ready.AlertTopic)
		fmt.Printf("              (on AWS: alarmEmail, or subscribe chat or paging to the topic; docs/alerting.md)\n")
	}
	fmt.Printf("Container log: %s\n", ready.Task.Log)
	fmt.Println("Stop everything with: make demo-down")
	return nil
}

// follow prints the supervisor's progress until it reports ready or dies.
func follow(exited <-chan error) (*Ready, error) {
	var offset int64
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		offset = printNew(logFile, offset)
		if r, err := readReady(); err == nil {
			printNew(logFile, offset)
			return r, nil
		}
		if _, err := os.Stat(failedFile); err == nil {
			printNew(logFile, offset)
			msg, _ := os.ReadFile(failedFile)
			return nil, errors.New(strings.TrimSpace(string(msg)))
		}
		select {
		case err := <-exited:
			printNew(logFile, offset)
			return nil, fmt.Errorf("the supervisor exited early (%v)", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil, errors.New("timed out after 15 minutes")
}

// printNew copies what was appended to file since offset to stdout,
// indented, and returns the new offset.
func printNew(file string, offset int64) int64 {
	f, err := os.Open(file)
	if err != nil {
		return offset
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size() <= offset {
		return offset
	}
	buf := make([]byte, st.Size()-offset)
	n, _ := f.ReadAt(buf, offset)
	for _, line := range strings.SplitAfter(string(buf[:n]), "\n") {
		if line != "" {
			fmt.Print("  | " + line)
		}
	}
	return offset + int64(n)
}

// hostPort is the host-side port for the Prometheus bridge: the settings'
// prometheusPort (9090) when free, else any free port.
func hostPort(r *Ready) (int, error) { return freeOr(r.InnerURL) }

// freeOr is the port of inner (a URL or host:port inside the namespace)
// when it is free on the host's loopback, else any free port.
func freeOr(inner string) (int, error) {
	want := 9090
	if u, err := url.Parse(inner); err == nil && u.Port() != "" {
		want, _ = strconv.Atoi(u.Port())
	} else if _, p, err := net.SplitHostPort(inner); err == nil {
		want, _ = strconv.Atoi(p)
	}
	if l, err := listenLoopback(want); err == nil {
		l.Close()
		return want, nil
	}
	return proc.FreePort()
}

func printTable(r *Ready) {
	fmt.Printf("  Prometheus task %s: %s, health %s (run from the service's task definition, as on Fargate)\n\n",
		r.Task.ARN[strings.LastIndex(r.Task.ARN, "/")+1:], r.Task.Status, r.Task.Health)
	fmt.Printf("  %-22s %-28s %-16s %-9s %s\n", "INSTANCE ID", "NAME", "ZONE", "STATE", "TARGET")
	for _, n := range r.Instances {
		fmt.Printf("  %-22s %-28s %-16s %-9s %s\n", n.ID, n.Name, n.Zone, n.State, n.Health)
	}
}

// down asks the supervisor to destroy the stack and stop its processes,
// then stops the forwarder and removes .demo.
func down() error {
	pid := readPID(daemonPID)
	if pid == 0 {
		if _, err := os.Stat(Dir); err != nil {
			fmt.Println("demo: nothing to stop")
			return nil
		}
	} else {
		fmt.Printf("demo: asking the supervisor (PID %d) to destroy the stack and stop its processes\n", pid)
		offset := fileSize(logFile)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for end := time.Now().Add(10 * time.Minute); proc.Alive(pid) && time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			offset = printNew(logFile, offset)
		}
		printNew(logFile, offset)
	}
	stopRecorded()
	if err := os.RemoveAll(Dir); err != nil {
		return err
	}
	fmt.Println("demo: stopped; no demo process or emulator state is left")
	return nil
}

// stopRecorded stops every process the demo recorded, and only those.
func stopRecorded() {
	if r, err := readReady(); err == nil {
		fi, _ := os.Stat(readyFile)
		for _, pid := range r.Processes {
			if fi != nil && proc.Recorded(pid, fi.ModTime()) {
				proc.StopPID(pid, 10*time.Second)
			}
		}
	}
	for _, file := range []string{forwarderPID, daemonPID} {
		if err := proc.StopPIDFile(file, 30*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
