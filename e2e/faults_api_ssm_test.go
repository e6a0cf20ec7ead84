package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// What config-sync logs when a round fails (config-sync.sh).
const (
	listFailedLog = "config-sync: GetParameters failed"
	readFailedLog = "config-sync: reading %s failed"
)

// configKept: config-sync's GetParameters and GetParameter are throttled,
// then its GetParameter alone fails with HTTP 500 (GetParameters sees the
// change, the read fails), for more rounds than the sidecar's health check
// needs to turn UNHEALTHY had the fault cost it its marker; a scrape
// interval change is applied meanwhile. Throughout, the files and the
// marker stay, the sidecar and the task stay HEALTHY and Prometheus serves
// the old configuration; once the fault clears the change arrives and the
// same process loads it.
func (a *apiFaults) configKept(t *testing.T) {
	s := a.d.Settings
	side := a.p.task.Task.Container(taskcontract.ConfigSyncContainerName)
	if side == nil {
		t.Fatal("the task has no config-sync container")
	}
	interval, retries := a.healthCheck(t, taskcontract.ConfigSyncContainerName)
	// The first probe after the marker went, then retries failing ones: a
	// fault over that many rounds would have shown an UNHEALTHY sidecar.
	rounds := int((time.Duration(retries+1)*interval)/(taskcontract.ConfigSyncIntervalSeconds*time.Second)) + 1
	file := inContainer(side, taskcontract.ConfigDir, taskcontract.ConfigFile)
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("config-sync's %s: %v", taskcontract.ConfigFile, err)
	}
	oldInterval, newInterval := "scrape_interval: "+s.ScrapeInterval, "scrape_interval: 7s"
	if !strings.Contains(string(old), oldInterval) {
		t.Fatalf("%s lacks %q", file, oldInterval)
	}
	readFailed := fmt.Sprintf(readFailedLog, rig.ConfigParameter(s))
	count := func(line string) int {
		data, _ := os.ReadFile(side.LogPath)
		return strings.Count(string(data), line)
	}
	lists, reads, signals := count(listFailedLog), count(readFailed), count(taskcontract.ConfigSyncRoundFailedLog)

	w := a.watchConfigKept(side, file, old, inContainer(side, taskcontract.ConfigDir, taskcontract.SyncedMarker), oldInterval)
	throttled := &emulator.Fault{Service: "ssm", Actions: []string{"GetParameters", "GetParameter"}, Mode: emulator.Throttle}
	clearThrottle := a.inject(t, throttled)
	a.until(t, func() (bool, string) { return count(listFailedLog) > lists, "config-sync has not failed a round yet" })
	// Terraform's calls (the test's key) go through: only the task's fail.
	a.d.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "7s"})
	a.d.apply(t)
	a.until(t, func() (bool, string) {
		n := count(listFailedLog) - lists
		return n >= rounds/2, fmt.Sprintf("%d rounds failed listing, want %d", n, rounds/2)
	})
	failing := &emulator.Fault{Service: "ssm", Actions: []string{"GetParameter"}, Mode: emulator.ServerError}
	clearFailing := a.inject(t, failing)
	clearThrottle()
	a.until(t, func() (bool, string) {
		n := count(readFailed) - reads
		return n >= rounds-rounds/2, fmt.Sprintf("%d rounds failed reading the changed %s, want %d", n, taskcontract.ConfigFile, rounds-rounds/2)
	})
	kept := w.stop()
	clearFailing()
	cleared := time.Now()
	failedRounds := count(listFailedLog) - lists + count(readFailed) - reads
	t.Logf("%s, then %s: %d rounds failed over %s; %s", throttled.Describe(), failing.Describe(), failedRounds, kept.span.Round(time.Second), kept)
	violations := kept.violations()
	// The fault is visible: each failed round logs the line the stack's
	// config-sync-failing alarm counts (moto runs no metric filter: the
	// line is what this run can show).
	if n := count(taskcontract.ConfigSyncRoundFailedLog) - signals; n+1 < failedRounds { // the last round may be logging it now
		violations = append(violations, fmt.Sprintf("config-sync's log: %d %q lines for %d failed rounds (the alarm counts that line)", n, taskcontract.ConfigSyncRoundFailedLog, failedRounds))
	}
	for _, v := range violations {
		t.Errorf("during the fault, violated in %s", v)
	}

	live := a.until(t, func() (bool, string) {
		cfg, err := a.p.api.Config(a.p.ctx)
		return err == nil && strings.Contains(cfg, newInterval), fmt.Sprintf("Prometheus serves %q: %v", newInterval, strings.Contains(cfg, newInterval))
	})
	delivered := live.Sub(cleared).Seconds()
	if now, err := os.ReadFile(file); err != nil || !strings.Contains(string(now), newInterval) {
		t.Errorf("config-sync's %s after the fault: %v, want %q in it", taskcontract.ConfigFile, err, newInterval)
	}
	if info, err := a.p.api.RuntimeInfo(a.p.ctx); err != nil || !info.ReloadConfigSuccess {
		t.Errorf("the reload after the fault must have succeeded: %+v %v", info, err)
	}
	t.Logf("the change applied during the fault live %.1f s after it cleared; config-sync's log:\n%s", delivered, failureLines(side.LogTail(400)))
	survived := fmt.Sprintf("files and marker kept, config-sync and the task HEALTHY (%d checks), Prometheus served the old configuration; the change live after, same process", kept.checks)
	if len(violations) > 0 {
		survived = "NOT kept: " + strings.Join(violations, "; ")
	}
	recordAPIFault(t, bench.FaultRecord{
		Fault: "SSM failing for config-sync",
		Injected: fmt.Sprintf("%s, then %s, for the task role, %d rounds over %s (emulator front); a scrape interval change applied meanwhile",
			throttled.Describe(), failing.Describe(), failedRounds, kept.span.Round(time.Second)),
		Survived:       survived,
		Seconds:        &delivered,
		SecondsMeaning: "from the fault clearing to Prometheus serving the change applied during it",
	})
}

// healthCheck is a container's health check interval and retries, from
// the task definition the service runs.
func (a *apiFaults) healthCheck(t *testing.T, container string) (time.Duration, int) {
	t.Helper()
	def, err := a.h.runner.ServiceTaskDefinition(a.p.ctx, a.d.Settings)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range def.ContainerDefinitions {
		if aws.ToString(c.Name) == container && c.HealthCheck != nil {
			return time.Duration(aws.ToInt32(c.HealthCheck.Interval)) * time.Second, int(aws.ToInt32(c.HealthCheck.Retries))
		}
	}
	t.Fatalf("container %s has no health check in the task definition", container)
	return 0, 0
}

// inContainer is a path inside a running container, read from this
// machine through its root.
func inContainer(c *fargate.Container, parts ...string) string {
	return filepath.Join(append([]string{"/proc", strconv.Itoa(c.PID()), "root"}, parts...)...)
}

// failureLines are the distinct lines of a log that say a round failed.
func failureLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if (strings.Contains(l, "failed") || strings.Contains(l, "An error occurred")) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// configWatch checks every half second, while a fault lasts, what must
// hold through it.
type configWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	// Filled by the watcher, read after stop.
	checks int
	span   time.Duration
	// violated counts the checks each kind of violation failed, first
	// says what the first one saw, and when.
	violated map[string]int
	first    map[string]string
}

// Kinds of violation, in the order they are reported.
var configWatchKinds = []string{"file", "marker", "sidecar", "task", "served"}

func (w *configWatch) String() string {
	return fmt.Sprintf("%d checks of the file, the marker, the sidecar's and the task's health and the configuration served, %d violated", w.checks, len(w.violated))
}

// violations are one line per kind violated.
func (w *configWatch) violations() []string {
	var out []string
	for _, k := range configWatchKinds {
		if n := w.violated[k]; n > 0 {
			out = append(out, fmt.Sprintf("%d of %d checks, the first %s", n, w.checks, w.first[k]))
		}
	}
	return out
}

// watchConfigKept starts a watcher: the file holds old, the marker
// exists, the sidecar runs HEALTHY, so does the task, and Prometheus
// serves a configuration containing served.
func (a *apiFaults) watchConfigKept(side *fargate.Container, file string, old []byte, marker, served string) *configWatch {
	w := &configWatch{done: make(chan struct{}), violated: map[string]int{}, first: map[string]string{}}
	start := time.Now()
	violate := func(kind, format string, args ...any) {
		if w.violated[kind]++; w.violated[kind] == 1 {
			w.first[kind] = fmt.Sprintf("%s into the fault: ", time.Since(start).Round(time.Second)) + fmt.Sprintf(format, args...)
		}
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.done:
				w.span = time.Since(start)
				return
			case <-time.After(500 * time.Millisecond):
			}
			w.checks++
			if data, err := os.ReadFile(file); err != nil || string(data) != string(old) {
				violate("file", "config-sync's %s changed or is gone (%v)", taskcontract.ConfigFile, err)
			}
			if _, err := os.Stat(marker); err != nil {
				violate("marker", "the marker %s is gone: %v", taskcontract.SyncedMarker, err)
			}
			if side.Status() != "RUNNING" || side.Health() != "HEALTHY" {
				violate("sidecar", "config-sync is %s, %s", side.Status(), side.Health())
			}
			if h := a.p.task.Task.HealthStatus(); h != "HEALTHY" {
				violate("task", "the task is %s", h)
			}
			if cfg, err := a.p.api.Config(a.p.ctx); err != nil || !strings.Contains(cfg, served) {
				violate("served", "Prometheus does not serve %q (%v)", served, err)
			}
		}
	}()
	return w
}

// stop ends the watch and returns it, filled.
func (w *configWatch) stop() *configWatch {
	close(w.done)
	w.wg.Wait()
	return w
}
