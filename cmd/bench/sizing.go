package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// The sizing runs (BENCHMARKS.md section 5b): task sizes, the fleet's step
// and its cap, the intervals and the soak.
var sizingSizes = []sizing.Size{{CPU: 512, MemoryMiB: 1024}, {CPU: 1024, MemoryMiB: 2048}}

const (
	sizingRefresh = "10s"
	sizingScrape  = "10s"
	// Each probe holds its fleet for this many scrapes once all are up.
	sizingDwellScrapes = 3
	// The fleet grows by an eighth of the task's memory in MiB per probe
	// (128 targets for 1 GiB), up to 12 probes.
	sizingMaxSteps = 12
	// The held fleet runs again on a fresh task for the soak.
	sizingSoak = 3 * time.Minute
)

// sizingKey names a size's metrics: sizing.<memory MiB>.<what>.
func sizingKey(s sizing.Size, what string) string {
	return "sizing." + strconv.Itoa(s.MemoryMiB) + "." + what
}

// sizing finds, for each task size, the largest fleet of node_exporter
// targets (a replay of a real node_exporter page, as section 5) the stack's
// Prometheus task holds under the memory limit the runner enforces as
// Fargate does. Each probe starts a fresh task with the whole fleet
// already there, as a replaced task starts on AWS (growing into a fleet
// needs less: measured, a 1 GiB task that grew to 768 targets was killed
// restarting with them), and holds it for a few scrapes once every target
// is up; the fleet grows by a step of tagged instances per probe until the
// kernel kills Prometheus for memory (ECS's OutOfMemoryError) or the steps
// run out. The largest fleet held then runs on a fresh task for the soak:
// it must not be killed, and the task's peak memory is recorded.
func (d *deployment) sizing(ctx context.Context) error {
	// A /16 subnet: room for every fleet.
	subnet, err := d.bigSubnet(ctx, "10.251.0.0/16", "10.251.0.0/16")
	if err != nil {
		return err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	page, target, err := d.replayedNodeExporter(rctx)
	if err != nil {
		return err
	}
	units := map[string]string{"sizing.series_per_target": bench.Count}
	for _, s := range sizingSizes {
		units[sizingKey(s, "held")], units[sizingKey(s, "killed_at")], units[sizingKey(s, "peak")] = bench.Count, bench.Count, bench.MiB
	}
	return d.b.repeat(0, 1, func(int) (map[string]float64, error) {
		vals := map[string]float64{"sizing.series_per_target": float64(series(page))}
		for _, s := range sizingSizes {
			held, killedAt, peak, err := d.sizeOne(ctx, subnet, target, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s, err)
			}
			vals[sizingKey(s, "held")], vals[sizingKey(s, "killed_at")], vals[sizingKey(s, "peak")] = float64(held), float64(killedAt), peak
		}
		return vals, nil
	}, units)
}

// sizeOne probes fleets of one step more each on fresh tasks of size s,
// then soaks the largest held. killedAt is 0 when the last step still
// held; a soak that kills the task makes the step below it the one held.
func (d *deployment) sizeOne(ctx context.Context, subnet, target string, s sizing.Size) (held, killedAt int, peak float64, err error) {
	step := s.MemoryMiB / 8
	var ids []string
	defer func() {
		if terr := d.terminate(ctx, ids); terr != nil && err == nil {
			err = terr
		}
	}()
	probe := func(soak time.Duration) (bool, float64, error) {
		p, err := d.startSized(ctx, target, s)
		if err != nil {
			return false, 0, err
		}
		defer p.Stop()
		ok, err := d.hold(ctx, p, ids, soak)
		return ok, p.Task.MemoryPeakMiB(), err
	}
	for i := 1; i <= sizingMaxSteps; i++ {
		more, _, err := d.launch(ctx, subnet, step)
		ids = append(ids, more...)
		if err != nil {
			return 0, 0, 0, err
		}
		ok, peak, err := probe(sizingDwellScrapes * durationSetting(sizingScrape))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%d targets: %w", len(ids), err)
		}
		if !ok {
			killedAt = len(ids)
			logf("  %s: killed for memory starting with %d targets", s, killedAt)
			break
		}
		held = len(ids)
		logf("  %s: holds %d targets from a fresh start (peak %.0f MiB)", s, held, peak)
	}
	for held > 0 {
		if err := d.terminate(ctx, ids[held:]); err != nil {
			return 0, 0, 0, err
		}
		ids = ids[:held]
		ok, peak, err := probe(sizingSoak)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("soak of %d targets: %w", held, err)
		}
		if ok {
			logf("  %s: %d targets held over the %s soak (peak %.0f MiB)", s, held, sizingSoak, peak)
			return held, killedAt, peak, nil
		}
		logf("  %s: killed for memory within the %s soak of %d targets", s, sizingSoak, held)
		killedAt, held = held, held-step
	}
	return 0, killedAt, 0, nil
}

// hold waits until every target of ids is up, then for the dwell; it
// reports false when the task was killed for memory meanwhile (any other
// stop is an error).
func (d *deployment) hold(ctx context.Context, p *harness.PrometheusTask, ids []string, dwell time.Duration) (bool, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.Task.Done():
			cancel()
		case <-wctx.Done():
		}
	}()
	_, _, werr := watch(wctx, p.API, ids, true, time.Now(), 2*time.Second, 10*time.Minute)
	if werr == nil {
		select {
		case <-p.Task.Done():
		case <-time.After(dwell):
		}
	}
	select {
	case <-p.Task.Done():
		if reason := p.Container().Reason(); reason != "OutOfMemoryError: Container killed due to memory usage" {
			code, why := p.Task.StoppedReason()
			return false, fmt.Errorf("the task stopped, not for memory (%s: %s, container: %q)\n%s", code, why, reason, p.LogTail(20))
		}
		return false, nil
	default:
	}
	if werr != nil {
		return false, werr
	}
	return true, nil
}

// startSized runs the stack's Prometheus task at size s, with the sizing
// runs' intervals, its nodes scraped at target.
func (d *deployment) startSized(ctx context.Context, target string, s sizing.Size) (*harness.PrometheusTask, error) {
	return d.startPrometheusSized(ctx, sizingRefresh, sizingScrape, target, &s)
}
