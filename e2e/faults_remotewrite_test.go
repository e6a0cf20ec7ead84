package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/prometheus-aws/prometheus-aws/bench"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// TestRemoteWriteFaults: storageMode=amp, one task, its remote write going
// to a loopback receiver standing in for the workspace, which fails for a
// while: HTTP 503, dropped connections, HTTP 429 (AMP's answer when a
// workspace's ingestion is throttled). Prometheus retries (the retried
// samples are counted, and the shipped PrometheusRemoteWriteBehind's own
// expression measures the lag), and once the receiver answers again it
// holds the samples of the whole fault: no stretch of the self-scrape's up
// series without a sample longer than two scrape intervals. The same
// Prometheus process throughout. Prometheus runs in agent mode, as amp's
// task does: it serves no query API, so its figures are read from its own
// /metrics (agentMetrics).
func TestRemoteWriteFaults(t *testing.T) {
	h := newHarness(t)
	d := h.deploy(t, "rwfaults", map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_NODE_COUNT": "1"})
	d.apply(t)
	recv := &faultyReceiver{match: map[string]string{"__name__": "up", "job": "prometheus"}, stamps: map[int64]bool{}}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	prom := h.startPrometheusWith(t, d.Settings, rig.TaskOptions{RemoteWrite: srv.Listener.Addr().String()})
	rw := &remoteWriteFaults{p: prom, recv: recv, interval: settingDuration(t, d.Settings.ScrapeInterval)}
	waitFor(t, h.ctx, 3*time.Minute, prom, func() (bool, string) {
		n := len(recv.accepted())
		return n >= 3, fmt.Sprintf("the receiver has %d samples of %v", n, recv.match)
	})
	before := prom.identity(t)

	for _, f := range []struct {
		name string
		fail int
	}{{"HTTP 503", http.StatusServiceUnavailable}, {"dropped connections", dropConnection}, {"HTTP 429", http.StatusTooManyRequests}} {
		step(t, "remote write refused with "+f.name+": retried, no gap once it clears", func(t *testing.T) {
			rw.fault(t, f.name, f.fail)
		})
	}
	step(t, "the same Prometheus process throughout", func(t *testing.T) {
		prom.assertSameProcess(t, before, prom.identity(t), "a failing remote write must not restart Prometheus")
	})
}

// remoteWriteFaults makes the task's remote-write receiver fail.
type remoteWriteFaults struct {
	p        *prometheus
	recv     *faultyReceiver
	interval time.Duration // the scrape interval
}

// Remote write's figures, from the agent's /metrics.
const (
	samplesRetried = "prometheus_remote_storage_samples_retried_total"
	samplesFailed  = "prometheus_remote_storage_samples_failed_total"
)

// fault makes the receiver refuse with fail until Prometheus has held
// back the samples of three scrapes, retrying (or has had them refused,
// dropping), then lets it accept, and measures the longest stretch of the
// fault without a sample at the receiver once it has caught up.
func (rw *remoteWriteFaults) fault(t *testing.T, name string, fail int) {
	m := rw.p.agentMetrics(t)
	retried, failed := m.sum(t, samplesRetried), m.sum(t, samplesFailed)
	lag := remoteWriteLag(t)
	injected := rw.recv.setFail(fail)
	// Retried, the samples of three scrapes are held back: the shipped
	// rule's own measure of the lag sees them. Dropped, each batch is
	// refused in turn.
	var nowRetried, nowFailed, behind float64
	waitFor(t, rw.p.ctx, 4*time.Minute, rw.p, func() (bool, string) {
		m := rw.p.agentMetrics(t)
		nowRetried, nowFailed, behind = m.sum(t, samplesRetried), m.sum(t, samplesFailed), lag(m)
		scrapes := rw.recv.refusedScrapes()
		retrying := nowRetried > retried && behind >= 3*rw.interval.Seconds()
		dropping := nowFailed > failed && scrapes >= 3
		return retrying || dropping, fmt.Sprintf("%v samples retried (%v before), PrometheusRemoteWriteBehind's lag %v s; %v failed (%v before), the samples of %d scrapes refused",
			nowRetried, retried, behind, nowFailed, failed, scrapes)
	})
	if nowFailed > failed {
		t.Errorf("remote write refused with %s: Prometheus dropped %v samples instead of retrying them (prometheus_remote_storage_samples_failed_total), and PrometheusRemoteWriteBehind's lag is %v s",
			name, nowFailed-failed, behind)
	}
	cleared := rw.recv.setFail(0)
	caught := waitFor(t, rw.p.ctx, 4*time.Minute, rw.p, func() (bool, string) {
		last := rw.recv.latest()
		return last.After(cleared.Add(rw.interval)), fmt.Sprintf("the newest sample at the receiver is of %s, the fault cleared at %s", last.Format(time.TimeOnly), cleared.Format(time.TimeOnly))
	})
	gap, err := rw.recv.longestGap(injected, cleared)
	if err != nil {
		t.Fatal(err)
	}
	lost := max(0, (gap - rw.interval).Seconds())
	catchUp := caught.Sub(cleared).Seconds()
	after := rw.p.agentMetrics(t)
	t.Logf("remote write refused with %s for %s (%d requests): %v samples retried, %v failed, PrometheusRemoteWriteBehind's lag %v s; longest stretch without a sample %s; caught up %.1f s after",
		name, cleared.Sub(injected).Round(time.Second), rw.recv.refusals(), after.sum(t, samplesRetried)-retried, after.sum(t, samplesFailed)-failed, behind, gap, catchUp)
	recordAPIFault(t, bench.FaultRecord{
		Fault:              "remote write refused with " + name,
		Injected:           fmt.Sprintf("the workspace's stand-in answered every remote write with %s for %s (three scrapes' samples)", name, cleared.Sub(injected).Round(time.Second)),
		Survived:           fmt.Sprintf("longest stretch without a sample %s (scrape interval %s); same process", gap, rw.interval),
		SamplesLostSeconds: &lost,
		Seconds:            &catchUp,
		SecondsMeaning:     "from the fault clearing to a sample scraped after it at the receiver",
	})
	if gap > 2*rw.interval {
		t.Errorf("remote write refused with %s: the receiver has no sample of %v for %s of the fault, more than two scrape intervals (%s): samples lost", name, rw.recv.match, gap, rw.interval)
	}
}

// remoteWriteLag is PrometheusRemoteWriteBehind's expression, as shipped
// (the workspace's ruler evaluates it), without its threshold: the lag it
// alerts on, in seconds, worked out from an agent's /metrics, which has
// no query API. The shipped form is (max_over_time(A[5m]) - ignoring
// (remote_name, url) group_right max_over_time(B[5m])) > threshold; both
// gauges only grow within a process, so each max_over_time is the latest
// value, and the worst queue's lag is max(A) - min(B).
func remoteWriteLag(t *testing.T) func(agentMetrics) float64 {
	t.Helper()
	expr := shippedRuleExpr(t, "PrometheusRemoteWriteBehind")
	shape := regexp.MustCompile(`^\(\s*max_over_time\((\w+)\{job="prometheus"\}\[5m\]\)\s*-\s*ignoring \(remote_name, url\) group_right\s*max_over_time\((\w+)\{job="prometheus"\}\[5m\]\)\s*\)\s*>\s*[0-9.]+\s*$`)
	m := shape.FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("PrometheusRemoteWriteBehind's expression is no longer (max_over_time(A[5m]) - ignoring (remote_name, url) group_right max_over_time(B[5m])) > threshold: read its lag another way\n%s", expr)
	}
	newest, sent := m[1], m[2]
	return func(a agentMetrics) float64 {
		hi, ok1 := a.Metrics.Max(newest, nil)
		var lo float64
		ok2 := false
		for _, s := range a.Metrics[sent] {
			if !ok2 || s.Value < lo {
				lo, ok2 = s.Value, true
			}
		}
		if !ok1 || !ok2 {
			return -1
		}
		return hi - lo
	}
}

// agentMetrics is an agent's /metrics at one moment.
type agentMetrics struct{ promapi.Metrics }

// agentMetrics reads the task's own /metrics (what an agent serves of
// itself; its query API answers "unavailable with Prometheus Agent").
func (p *prometheus) agentMetrics(t *testing.T) agentMetrics {
	t.Helper()
	m, err := p.api.Metrics(p.ctx)
	if err != nil {
		t.Fatalf("reading /metrics: %v\nprometheus log:\n%s", err, p.logTail())
	}
	return agentMetrics{m}
}

// sum is the sum of a counter's series; a counter the page lacks fails
// the test.
func (a agentMetrics) sum(t *testing.T, name string) float64 {
	t.Helper()
	v, ok := a.Sum(name, nil)
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	return v
}

// dropConnection makes the receiver close the connection unanswered.
const dropConnection = -1

// faultyReceiver is a remote-write receiver that can refuse: it keeps the
// timestamps of the samples of one series (match) it accepted, and of
// those it refused.
type faultyReceiver struct {
	match map[string]string // labels of the series followed

	mu       sync.Mutex
	fail     int // 0: accept; an HTTP status; dropConnection
	refused  int
	stamps   map[int64]bool // accepted, Unix ms; made by the caller
	withheld map[int64]bool // refused since the last setFail
}

// setFail makes the receiver refuse with fail (0: accept again) and
// returns when.
func (r *faultyReceiver) setFail(fail int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail, r.withheld = fail, map[int64]bool{}
	return time.Now()
}

func (r *faultyReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, body, ok := readRemoteWrite(w, req)
	if !ok {
		return
	}
	stamps, err := seriesTimestamps(body, r.match)
	if err != nil {
		http.Error(w, "body is no WriteRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	fail, keep := r.fail, r.stamps
	if fail != 0 {
		r.refused++
		keep = r.withheld
	}
	for _, s := range stamps {
		keep[s] = true
	}
	r.mu.Unlock()
	switch fail {
	case 0:
		w.WriteHeader(http.StatusNoContent)
	case dropConnection:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		panic(http.ErrAbortHandler)
	default:
		http.Error(w, "refused by the fault test", fail)
	}
}

// accepted are the timestamps of the matching series accepted, sorted.
func (r *faultyReceiver) accepted() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.stamps))
}

// latest is the newest sample accepted.
func (r *faultyReceiver) latest() time.Time {
	s := r.accepted()
	if len(s) == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s[len(s)-1])
}

// refusedScrapes counts the scrapes whose sample was refused since the
// last setFail.
func (r *faultyReceiver) refusedScrapes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.withheld)
}

func (r *faultyReceiver) refusals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// longestGap is the longest stretch from the last sample accepted before
// from to the first after to without a sample in between.
func (r *faultyReceiver) longestGap(from, to time.Time) (time.Duration, error) {
	s := r.accepted()
	first := slices.IndexFunc(s, func(ms int64) bool { return ms > from.UnixMilli() }) - 1
	last := slices.IndexFunc(s, func(ms int64) bool { return ms >= to.UnixMilli() })
	if first < 0 || last < 0 {
		return 0, fmt.Errorf("the receiver has no sample before %s or none after %s: %d samples", from.Format(time.TimeOnly), to.Format(time.TimeOnly), len(s))
	}
	var gap int64
	for i := first; i < last; i++ {
		gap = max(gap, s[i+1]-s[i])
	}
	return time.Duration(gap) * time.Millisecond, nil
}

// seriesTimestamps are the sample timestamps of the series whose labels
// include match in a remote-write 1.0 WriteRequest (timeseries = 1 {
// labels = 1 { name = 1, value = 2 }, samples = 2 { value = 1, timestamp
// = 2 } }).
func seriesTimestamps(b []byte, match map[string]string) ([]int64, error) {
	var out []int64
	err := eachField(b, func(num protowire.Number, series []byte) error {
		if num != 1 {
			return nil
		}
		labels := map[string]string{}
		var stamps []int64
		err := eachField(series, func(num protowire.Number, v []byte) error {
			switch num {
			case 1:
				var name, value string
				err := eachField(v, func(num protowire.Number, v []byte) error {
					if num == 1 {
						name = string(v)
					} else if num == 2 {
						value = string(v)
					}
					return nil
				})
				labels[name] = value
				return err
			case 2:
				ts, err := sampleTimestamp(v)
				stamps = append(stamps, ts)
				return err
			}
			return nil
		})
		for k, v := range match {
			if labels[k] != v {
				return err
			}
		}
		out = append(out, stamps...)
		return err
	})
	return out, err
}

// sampleTimestamp reads a Sample's timestamp (field 2, a varint).
func sampleTimestamp(b []byte) (int64, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 2 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			return int64(v), nil
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return 0, nil
}
