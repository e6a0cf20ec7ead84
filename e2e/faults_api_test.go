package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
)

// TestAPIFaults: the AWS APIs the task calls fail between the task and
// the emulator (the emulator's front fails the task role's calls alone,
// emulator.Fault), one after the other on one deployment (efs, one node
// to start with, the task as Fargate runs it), and what the stack keeps
// through each:
//   - EC2 discovery (DescribeInstances) throttled, failing with HTTP 500,
//     dropped: the targets found last are kept, the failures are counted
//     (prometheus_sd_refresh_failures_total, which the shipped
//     PrometheusEC2DiscoveryFailing reads: its expression holds), and a
//     node launched meanwhile is found once the fault clears; slow: no
//     failure, the node found late. The same Prometheus process throughout.
//   - SNS Publish throttled while NodeDown fires, failing with HTTP 500
//     while it resolves: the Alertmanager's failures are counted, and once
//     the fault clears every notification reaches the topic.
//   - SSM (config-sync's GetParameters, then its GetParameter) throttled
//     and failing for longer than the sidecar's health check takes to turn
//     UNHEALTHY: the files stay, the sidecar stays HEALTHY, Prometheus
//     serves on, and a change applied meanwhile arrives once the fault
//     clears, reloaded in place.
//
// Every figure is logged and recorded (bench.RecordFault), never asserted:
// each wait is for an event, under a generous bound.
func TestAPIFaults(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "apifaults", map[string]string{"PROMAWS_NODE_COUNT": "1",
		"PROMAWS_ALERT_GROUP_WAIT": "1s", "PROMAWS_ALERT_GROUP_INTERVAL": "5s", "PROMAWS_ALERT_REPEAT_INTERVAL": "1h"})
	dep.apply(t)
	queue := h.subscribeQueue(t, dep.outputs(t)["alarm_topic_arn"])
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t)
	nodes := dep.groupInstances(t)
	prom.waitForNodes(t, nodes)
	a := &apiFaults{h: h, d: dep, p: prom, key: prom.task.Task.RoleCredentials().AccessKeyId}
	if a.key == "" {
		t.Fatal("the task has no role credentials: the faults could not tell its calls apart")
	}
	before := prom.identity(t)

	step(t, "the discovery rule's expression is quiet before any fault", func(t *testing.T) {
		// The self-scrape has stored discovery's counters (an event: the
		// nodes may be up before Prometheus's first scrape of itself), so
		// the expression is quiet on data, not for lack of it.
		a.until(t, func() (bool, string) {
			res := a.query(t, discoveryFailures)
			return len(res) == 1, fmt.Sprintf("%s: %v, want one sample from the self-scrape", discoveryFailures, res)
		})
		if res := a.query(t, shippedRuleExpr(t, "PrometheusEC2DiscoveryFailing")); len(res) != 0 {
			t.Fatalf("PrometheusEC2DiscoveryFailing's expression holds before any fault (%v): the check during the faults would prove nothing", res)
		}
	})
	for _, mode := range []emulator.Mode{emulator.Throttle, emulator.ServerError, emulator.Drop} {
		step(t, "EC2 discovery "+mode.String()+": targets kept, failures counted, a new node found once it clears", func(t *testing.T) {
			nodes = a.discoveryFails(t, mode, nodes)
		})
	}
	step(t, "EC2 discovery slow: no failure, targets kept, a new node found late", func(t *testing.T) {
		nodes = a.discoverySlow(t, nodes)
	})
	step(t, "SNS throttled while alerts fire, failing while they resolve: every notification arrives once it clears", func(t *testing.T) {
		a.notificationsDelayed(t, queue, nodes)
	})
	step(t, "SSM throttled, then failing: config-sync keeps the files and stays healthy, the change made meanwhile arrives", func(t *testing.T) {
		a.configKept(t)
	})
	step(t, "the same Prometheus process throughout", func(t *testing.T) {
		prom.assertSameProcess(t, before, prom.identity(t), "an AWS API failing must not restart Prometheus")
	})
}

// apiFaults injects faults into the task's AWS calls.
type apiFaults struct {
	h *harness
	d *deployment
	p *prometheus
	// key is the task role's access key: only its calls fail.
	key string
}

// inject installs f on the task's calls; the returned function clears it
// (also done at cleanup).
func (a *apiFaults) inject(t *testing.T, f *emulator.Fault) (clear func()) {
	t.Helper()
	f.AccessKey = a.key
	remove := a.h.emu.Override(f.Override())
	t.Cleanup(remove)
	t.Logf("injected: %s", f.Describe())
	return remove
}

// query runs an instant query; a failed query fails the test.
func (a *apiFaults) query(t *testing.T, q string) []string {
	t.Helper()
	res, err := a.p.api.Query(a.p.ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for _, s := range res {
		out = append(out, fmt.Sprintf("%v=%s", s.Metric, s.Value))
	}
	return out
}

// until waits for ok under a generous bound (an event, never a figure).
func (a *apiFaults) until(t *testing.T, ok func() (bool, string)) time.Time {
	t.Helper()
	return waitFor(t, a.p.ctx, 4*time.Minute, a.p, ok)
}

// shippedRuleExpr is the expression of an alert of alerting/rules.yml, as
// shipped.
func shippedRuleExpr(t *testing.T, alert string) string {
	t.Helper()
	var file struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(alerting.Rules(), &file); err != nil {
		t.Fatal(err)
	}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r.Expr
			}
		}
	}
	t.Fatalf("alerting/rules.yml has no alert %s", alert)
	return ""
}

// settingDuration is a duration setting (a Prometheus duration) as Go's.
func settingDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration setting %q: %v", s, err)
	}
	return time.Duration(d)
}

// recordAPIFault keeps a fault's figures for make bench.
func recordAPIFault(t *testing.T, r bench.FaultRecord) {
	t.Helper()
	if err := bench.RecordFault(bench.RecordsDir(), r); err != nil {
		t.Errorf("recording %q: %v", r.Fault, err)
	}
	t.Logf("recorded %q: %s; %s", r.Fault, r.Survived, recordFigures(r))
}

func recordFigures(r bench.FaultRecord) string {
	var parts []string
	if r.Seconds != nil {
		parts = append(parts, fmt.Sprintf("%.1f s %s", *r.Seconds, r.SecondsMeaning))
	}
	if r.SamplesLostSeconds != nil {
		parts = append(parts, fmt.Sprintf("samples lost over %.1f s", *r.SamplesLostSeconds))
	}
	if r.AlertsLost != nil {
		parts = append(parts, fmt.Sprintf("alerts lost: %d", *r.AlertsLost))
	}
	return strings.Join(parts, ", ")
}

// nodeTargets are the instance ids of the node job's targets, sorted.
func (a *apiFaults) nodeTargets(t *testing.T) []string {
	t.Helper()
	targets, err := a.p.api.Targets(a.p.ctx, "node")
	if err != nil {
		t.Fatalf("targets: %v", err)
	}
	var ids []string
	for _, tg := range targets {
		ids = append(ids, tg.Labels["instance_id"])
	}
	slices.Sort(ids)
	return ids
}

// keptUntil polls the node targets every second until done holds; each
// poll must show the known nodes, plus late when it is set (the node
// launched during the fault, which may appear). Anything else (fewer
// targets, none) fails at once.
func (a *apiFaults) keptUntil(t *testing.T, known []string, late string, done func() (bool, string)) {
	t.Helper()
	want := slices.Sorted(slices.Values(known))
	withLate := slices.Sorted(slices.Values(append(slices.Clone(known), late)))
	polls := 0
	a.until(t, func() (bool, string) {
		got := a.nodeTargets(t)
		if !slices.Equal(got, want) && (late == "" || !slices.Equal(got, withLate)) {
			t.Fatalf("during the fault the node targets are %v, want the %d found before it kept: %v\nprometheus log:\n%s", got, len(want), want, a.p.logTail())
		}
		polls++
		ok, why := done()
		return ok, fmt.Sprintf("%s (targets kept over %d polls)", why, polls)
	})
}

// Discovery's figures, from Prometheus's self-scrape.
const (
	discoveryFailures = `sum(prometheus_sd_refresh_failures_total{job="prometheus",mechanism="ec2"})`
	discoveryTime     = `sum(prometheus_sd_refresh_duration_seconds_sum{job="prometheus",mechanism="ec2"})`
)

// discoveryFails fails the task's DescribeInstances with mode while a
// tagged node is launched, and returns the nodes discovered once it
// cleared.
func (a *apiFaults) discoveryFails(t *testing.T, mode emulator.Mode, known []string) []string {
	f := &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, Mode: mode}
	before := a.p.mustScalar(t, discoveryFailures)
	clear := a.inject(t, f)
	// In force once a refresh has failed: a node launched from then on
	// can only be found after the fault clears.
	a.until(t, func() (bool, string) {
		n := a.p.scalar(t, discoveryFailures)
		return n > before, fmt.Sprintf("%s = %v, %v before the fault", discoveryFailures, n, before)
	})
	added := (&verifier{h: a.h, d: a.d}).taggedInstance(t)
	launched := a.p.mustScalar(t, discoveryFailures)
	a.keptUntil(t, known, "", func() (bool, string) {
		n := a.p.scalar(t, discoveryFailures)
		return n >= launched+2, fmt.Sprintf("%s = %v, want two more failed refreshes than %v", discoveryFailures, n, launched)
	})
	expr := shippedRuleExpr(t, "PrometheusEC2DiscoveryFailing")
	if res := a.query(t, expr); len(res) == 0 {
		t.Errorf("PrometheusEC2DiscoveryFailing's expression does not hold during the fault: it would never fire\n%s", expr)
	}
	failed := a.p.mustScalar(t, discoveryFailures) - before
	clear()
	cleared := time.Now()
	now := append(slices.Clone(known), added)
	a.p.waitForNodes(t, now)
	recovered := time.Since(cleared).Seconds()
	t.Logf("%s: %v refreshes failed (%d calls failed), the %d targets kept; node %s found %.1f s after the fault cleared",
		f.Describe(), failed, f.Hits(), len(known), added, recovered)
	recordAPIFault(t, bench.FaultRecord{
		Fault:          "EC2 discovery " + mode.String(),
		Injected:       f.Describe() + " for the task role, at least three refreshes (emulator front)",
		Survived:       fmt.Sprintf("targets kept (%d of %d), %v failed refreshes counted, the node launched meanwhile found after, same process", len(known), len(known), failed),
		Seconds:        &recovered,
		SecondsMeaning: "from the fault clearing to the new node being a target, up",
	})
	return now
}

// discoverySlow slows the task's DescribeInstances well past the refresh
// interval while a tagged node is launched: no refresh fails (nothing to
// alert on), the targets stay, the node is found late.
func (a *apiFaults) discoverySlow(t *testing.T, known []string) []string {
	f := &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, Mode: emulator.Slow, Delay: 3 * settingDuration(t, a.d.Settings.RefreshInterval)}
	failures, spent := a.p.mustScalar(t, discoveryFailures), a.p.mustScalar(t, discoveryTime)
	clear := a.inject(t, f)
	a.until(t, func() (bool, string) { return f.Hits() > 0, "no DescribeInstances slowed yet" })
	added := (&verifier{h: a.h, d: a.d}).taggedInstance(t)
	launched := time.Now()
	now := append(slices.Clone(known), added)
	a.keptUntil(t, known, added, func() (bool, string) {
		got := a.nodeTargets(t)
		return slices.Contains(got, added), fmt.Sprintf("node targets %v, waiting for %s", got, added)
	})
	found := time.Since(launched).Seconds()
	// The self-scrape shows a refresh that took the delay.
	a.until(t, func() (bool, string) {
		v := a.p.scalar(t, discoveryTime)
		return v-spent >= f.Delay.Seconds(), fmt.Sprintf("%s grew by %.1f s, want at least the delay %s", discoveryTime, v-spent, f.Delay)
	})
	if n := a.p.mustScalar(t, discoveryFailures); n != failures {
		t.Errorf("a slow answer is no failure, yet %s went from %v to %v", discoveryFailures, failures, n)
	}
	clear()
	a.p.waitForNodes(t, now)
	t.Logf("%s: %d calls slowed, no refresh failed, node %s found %.1f s after its launch", f.Describe(), f.Hits(), added, found)
	recordAPIFault(t, bench.FaultRecord{
		Fault:          "EC2 discovery slow",
		Injected:       f.Describe() + " for the task role (emulator front)",
		Survived:       "no refresh failed (nothing to alert on), targets kept, the node launched meanwhile found while slow, same process",
		Seconds:        &found,
		SecondsMeaning: "from the new node's launch to its being a target while every answer was slow",
	})
	return now
}
