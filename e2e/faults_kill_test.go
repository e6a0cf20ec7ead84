package e2e

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/prometheus-aws/prometheus-aws/bench"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// TestTaskKilled kills the whole Prometheus task of the default stack
// (storageMode efs) the way a dead host or an out-of-memory kill does:
// every process of every container SIGKILLed at once, no SIGTERM, no stop
// timeout, so Prometheus neither closes its TSDB nor removes its lock
// file. A new task of the same service then starts on the same EFS data
// and must open the TSDB (replaying the write-ahead log) with every
// sample served before the kill still there. What is lost is measured:
// the seconds between the newest sample that survived and the kill.
//
// The TSDB lock of a client that died: the entrypoint waits up to
// PROMETHEUS_LOCK_WAIT_SECONDS (150 s) for the flock on <tsdb>/lock, which
// Linux carries to EFS as an NFSv4 byte-range lock. NFSv4 holds a
// client's locks under a lease the client renews; a client that stops
// renewing (its host died) keeps them until the lease expires, then the
// server releases them (RFC 3530, sections 1.4.5 and 8.1; EFS speaks
// NFSv4.0 and 4.1 with advisory locks, EFS user guide, "Unsupported
// NFSv4.0 and 4.1 features"; AWS does not state EFS's lease period there).
// A process killed on a live host is different: its kernel releases the
// lock at once, as here. The runner's EFS is a local folder, so this test
// always sees the lock free at once: the lease wait on AWS is a blind spot
// of the emulator (docs/DESIGN.md), bounded only by the entrypoint's wait.
func TestTaskKilled(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "killed", map[string]string{"PROMAWS_NODE_COUNT": "1"})
	dep.apply(t)
	ids := dep.groupInstances(t)
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t)
	prom.waitForNodes(t, ids)

	// Scraping for a while: six node samples (30 s at the 5 s interval),
	// so the WAL holds more than the first scrape.
	waitUntil(t, h.ctx, prom, func() (bool, string) {
		n := prom.instantSum(t, `count_over_time(up{job="node"}[1h])`)
		return n >= 6, fmt.Sprintf("%v node samples", n)
	})

	var at string // the newest node sample Prometheus served before the kill
	var newestServed, countedBefore float64
	var killed time.Time
	killedTask := prom.task.Task
	step(t, "the whole task is killed: SIGKILL to every container at once", func(t *testing.T) {
		newestServed = prom.instantSum(t, `max(timestamp(up{job="node"}))`)
		if newestServed == 0 {
			t.Fatal("Prometheus serves no node sample to kill it after")
		}
		at = strconv.FormatFloat(newestServed, 'f', 3, 64)
		countedBefore = prom.instantSum(t, nodeSamplesUpTo(at))
		if countedBefore < 6 {
			t.Fatalf("%s counted %v samples, want the 6 awaited", nodeSamplesUpTo(at), countedBefore)
		}
		// A host dies at any moment: kill halfway between two scrapes, the
		// average case, not just after the scrape this test saw last.
		interval, err := time.ParseDuration(dep.Settings.ScrapeInterval)
		if err != nil {
			t.Fatalf("scrape interval %q: %v", dep.Settings.ScrapeInterval, err)
		}
		select {
		case <-time.After(time.Until(time.UnixMilli(int64(math.Round(newestServed * 1000))).Add(interval / 2))):
		case <-h.ctx.Done():
			t.Fatal(h.ctx.Err())
		}
		killed = time.Now()
		killedTask.Kill("killed by TestTaskKilled: the host died")
		<-killedTask.Done()
		// ECS reports it as it would a task whose host died: stopped,
		// every container exited 137.
		out, err := ecs.NewFromConfig(h.aws).DescribeTasks(h.ctx, &ecs.DescribeTasksInput{Cluster: aws.String(dep.Settings.StackName()), Tasks: []string{killedTask.ARN}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("DescribeTasks %s: %v %+v", killedTask.ARN, err, out)
		}
		if got := aws.ToString(out.Tasks[0].LastStatus); got != "STOPPED" {
			t.Errorf("the killed task is %s, want STOPPED", got)
		}
		for _, c := range out.Tasks[0].Containers {
			if aws.ToInt32(c.ExitCode) != 137 {
				t.Errorf("container %s exited %d, want 137 (SIGKILL)", aws.ToString(c.Name), aws.ToInt32(c.ExitCode))
			}
		}
	})

	// A new task of the service, as ECS starts one (under the test, not a
	// step: it must outlive the step). The node_exporter the killed task
	// scraped stays up: the nodes did not die with the task.
	again := h.startPrometheusWith(t, dep.Settings, rig.TaskOptions{NodeExporter: prom.task.NodeExporterAddress})
	ready := time.Now()
	step(t, "the new task opens the TSDB on the same EFS data and becomes HEALTHY", func(t *testing.T) {
		again.waitHealthy(t)
		log, err := os.ReadFile(again.task.Container().LogPath)
		if err != nil {
			t.Fatal(err)
		}
		// Prometheus's own words (tsdb/tsdbutil/dir_locker.go, tsdb/head.go):
		// the killed process left its lock file behind, and the TSDB opened
		// through a WAL replay. That the replay held the old samples is the
		// next step's check: a fresh WAL replays too.
		for _, want := range []string{
			"A lockfile from a previous execution already existed. It was replaced",
			"WAL replay completed",
		} {
			if !strings.Contains(string(log), want) {
				t.Errorf("the new task's Prometheus did not log %q:\n%s", want, again.logTail())
			}
		}
		if strings.Contains(string(log), "is locked by another Prometheus") {
			t.Log("the entrypoint waited for the TSDB lock")
		} else {
			t.Log("the entrypoint found the TSDB lock free at once (locally the kernel releases a killed process's flock; on EFS the server waits for the dead client's lease)")
		}
	})

	var lost float64
	step(t, "the samples written before the kill are still there", func(t *testing.T) {
		if kept := again.instantSum(t, nodeSamplesUpTo(at)); kept != countedBefore {
			t.Errorf("%s counted %v samples before the kill, %v after: samples Prometheus had served were lost", nodeSamplesUpTo(at), countedBefore, kept)
		}
		killedAt := strconv.FormatFloat(float64(killed.UnixMilli())/1000, 'f', 3, 64)
		newest := again.instantSum(t, `max(timestamp(up{job="node"} @ `+killedAt+`))`)
		if newest < newestServed {
			t.Fatalf("the newest node sample up to the kill is at %.3f, older than the one at %s Prometheus served before it", newest, at)
		}
		lost = killed.Sub(time.UnixMilli(int64(math.Round(newest * 1000)))).Seconds()
		t.Logf("samples lost: %.2f s (kill at %s halfway between scrapes, newest surviving sample at %.3f, newest served before the kill at %s; scrape interval %s); the new task was ready %.1f s after the kill",
			lost, killedAt, newest, at, dep.Settings.ScrapeInterval, ready.Sub(killed).Seconds())
	})

	if t.Failed() {
		return
	}
	toReady := ready.Sub(killed).Seconds()
	if err := bench.RecordFault(bench.RecordsDir(), bench.FaultRecord{
		Fault: "task killed (SIGKILL, every container), efs",
		Injected: "every process of the running task SIGKILLed at once, halfway between two scrapes (5 s apart), no SIGTERM or stop timeout " +
			"(as a dead host or an OOM kill); a new task of the service started on the same EFS data (TestTaskKilled)",
		Survived:           "the TSDB reopened (lock file replaced, WAL replayed), every sample served before the kill still queryable, the new task HEALTHY",
		SamplesLostSeconds: &lost,
		Seconds:            &toReady,
		SecondsMeaning:     "from the kill to the new task serving again (local runner: ECS's scheduling and image pull come on top)",
	}); err != nil {
		t.Errorf("recording the figures: %v", err)
	}
}

// nodeSamplesUpTo counts every node sample of the hour up to at (Unix
// seconds): a fixed moment, so later scrapes do not change the count.
func nodeSamplesUpTo(at string) string {
	return `sum(count_over_time(up{job="node"}[1h] @ ` + at + `))`
}

// instantSum is an instant query's answer summed over its series (0 when
// it has none); a failing query fails the test.
func (p *prometheus) instantSum(t *testing.T, query string) float64 {
	t.Helper()
	res, err := p.api.Query(p.ctx, query)
	if err != nil {
		t.Fatalf("%s: %v\nprometheus log:\n%s", query, err, p.logTail())
	}
	var sum float64
	for _, s := range res {
		v, err := strconv.ParseFloat(s.Value, 64)
		if err != nil {
			t.Fatalf("%s: %q is not a number", query, s.Value)
		}
		sum += v
	}
	return sum
}
