package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// The long soak (BENCHMARKS.md section 5c, make bench-soak): the fleets
// of bench.SoakFleets on the default task size, each on a task of its
// own, for -soak-for (two hours: the head grows until its first
// compaction, which the sizing part's 3-minute soak never reaches). The
// fleets bracket sizing's rule for this size (sizing.MaxSeries) and what
// the sizing part held for 3 minutes (sizing.SmallHeldTargets).
var soakSize = sizing.Size{CPU: 512, MemoryMiB: sizing.SmallTaskMiB}

const (
	soakRefresh = "30s"
	soakScrape  = sizingScrape // the sizing part's, so its figures compare
	soakEvery   = time.Minute
	// soakEarly is when the early figures are read after every target is
	// up: the sizing part's soak length.
	soakEarly = sizingSoak
)

func soakKey(targets int, what string) string {
	return "soak." + strconv.Itoa(targets) + "." + what
}

// soakSample is one reading of a soaking task.
type soakSample struct {
	targets  int
	minute   float64 // since every target was up
	mem      [3]float64
	peak     float64
	heap     float64 // go_memstats_heap_inuse_bytes, MiB
	series   float64 // prometheus_tsdb_head_series
	chunks   float64 // prometheus_tsdb_head_chunks
	upTarget int
	// Whether Prometheus answered the reading (a loaded machine can make
	// it miss the 20 s): a failed read is a blank in bench/soak.csv, not 0.
	metricsRead, targetsRead bool
}

// soak runs every fleet of bench.SoakFleets at soakSize at once for d.b.soakFor,
// each discovering its own tag value, reads each task's memory every
// minute (bench/soak.csv) and reports how long each held, its peak, and
// its anonymous memory (cgroup RSS: the Go heap, not the reclaimable page
// cache) early and at the end.
func (d *deployment) soak(ctx context.Context) error {
	subnet, err := d.bigSubnet(ctx, "10.252.0.0/16", "10.252.0.0/16")
	if err != nil {
		return err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	_, target, err := d.replayedNodeExporter(rctx)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		samples []soakSample
		wg      sync.WaitGroup
	)
	vals, units := map[string]float64{}, map[string]string{}
	errs := make([]error, len(bench.SoakFleets))
	for i, n := range bench.SoakFleets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := d.soakOne(ctx, subnet, target, n, func(s soakSample) {
				mu.Lock()
				defer mu.Unlock()
				samples = append(samples, s)
				if err := writeSoakCSV(d.b.soakCSV, samples); err != nil {
					logf("  soak: %v", err)
				}
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[i] = fmt.Errorf("%d targets: %w", n, err)
				return
			}
			for k, v := range res {
				vals[soakKey(n, k)] = v
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, n := range bench.SoakFleets {
		units[soakKey(n, "minutes")] = bench.Count
		units[soakKey(n, "series")] = bench.Count
		for _, k := range []string{"peak", "rss_early", "rss_end", "rss_max", "heap_early", "heap_end"} {
			units[soakKey(n, k)] = bench.MiB
		}
	}
	return d.b.repeat(0, 1, func(int) (map[string]float64, error) { return vals, nil }, units)
}

// soakOne runs one fleet's task until d.b.soakFor has passed since every
// target was up or the task is killed for memory.
func (d *deployment) soakOne(ctx context.Context, subnet, target string, n int, record func(soakSample)) (map[string]float64, error) {
	tag := "soak-" + strconv.Itoa(n)
	own, err := d.stackOf(ctx, tag)
	if err != nil {
		return nil, err
	}
	ids, _, err := own.launch(ctx, subnet, n)
	defer func() { _ = d.terminate(context.WithoutCancel(ctx), ids) }()
	if err != nil {
		return nil, err
	}
	p, err := own.startPrometheusSized(ctx, soakRefresh, soakScrape, target, &soakSize)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	if ok, err := d.hold(ctx, p, ids, 0); err != nil || !ok {
		if err == nil {
			logf("  soak %d: killed for memory before every target was up", n)
			return map[string]float64{"minutes": 0, "peak": p.Task.MemoryPeakMiB()}, nil
		}
		return nil, err
	}
	logf("  soak %d: every target up; soaking %s", n, d.b.soakFor)
	start := time.Now()
	res := map[string]float64{}
	var got []soakSample
	tick := time.NewTicker(soakEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.Task.Done():
		case <-tick.C:
		}
		s := readSoak(ctx, p, n, time.Since(start))
		select {
		case <-p.Task.Done():
			if reason := p.Container().Reason(); reason != "OutOfMemoryError: Container killed due to memory usage" {
				code, why := p.Task.StoppedReason()
				return nil, fmt.Errorf("the task stopped, not for memory (%s: %s, container: %q)\n%s", code, why, reason, p.LogTail(20))
			}
			logf("  soak %d: killed for memory after %.0f minutes", n, time.Since(start).Minutes())
			res["minutes"], res["peak"] = time.Since(start).Minutes(), p.Task.MemoryPeakMiB()
			res["rss_end"], res["heap_end"] = lastOf(got)
			res["rss_max"], res["series"] = most(got)
			return res, nil
		default:
		}
		got = append(got, s)
		record(s)
		if _, ok := res["rss_early"]; !ok && time.Since(start) >= soakEarly && s.metricsRead {
			res["rss_early"], res["heap_early"] = s.mem[1], s.heap
		}
		if time.Since(start) >= d.b.soakFor {
			res["minutes"], res["peak"] = d.b.soakFor.Minutes(), p.Task.MemoryPeakMiB()
			res["rss_end"], res["heap_end"] = lastOf(got)
			res["rss_max"], res["series"] = most(got)
			logf("  soak %d: held %s (peak %.0f MiB, RSS %.0f MiB early, %.0f at the end)", n, d.b.soakFor, res["peak"], res["rss_early"], res["rss_end"])
			return res, nil
		}
	}
}

// stackOf applies a stack of its own for a soaking task, named and tagged
// name (environment and discovery tag value), without nodes, in d's
// emulator and run by d's runner: tasks of one stack share its
// configuration parameter (config-sync applies the last one written to
// every task) and its EFS folder (the second waits for the first's TSDB
// lock), so side by side each task needs a stack.
func (d *deployment) stackOf(ctx context.Context, name string) (*deployment, error) {
	dep, err := harness.NewDeployment(ctx, d.Emulator, harness.DeploymentOptions{Root: filepath.Join(d.b.work, "deploy-"+name),
		Env:   map[string]string{"PROMAWS_ENVIRONMENT": name, "PROMAWS_DISCOVERY_TAG_VALUE": name, "PROMAWS_NODE_COUNT": "0"},
		Synth: harness.SynthProgram(d.b.app, d.b.repo)})
	if err != nil {
		return nil, err
	}
	if err := dep.Apply(ctx); err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	return &deployment{Deployment: dep, b: d.b, ec2: d.ec2, fargate: d.fargate}, nil
}

// most is the most anonymous memory (cgroup RSS) of the readings, and the
// most head series.
func most(got []soakSample) (rss, series float64) {
	for _, s := range got {
		rss, series = max(rss, s.mem[1]), max(series, s.series)
	}
	return rss, series
}

// lastOf is the last reading's RSS and the last heap Prometheus answered.
func lastOf(got []soakSample) (rss, heap float64) {
	if len(got) == 0 {
		return 0, 0
	}
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].metricsRead {
			heap = got[i].heap
			break
		}
	}
	return got[len(got)-1].mem[1], heap
}

// readSoak reads the task's cgroup and Prometheus's own /metrics and
// targets.
func readSoak(ctx context.Context, p *harness.PrometheusTask, n int, since time.Duration) soakSample {
	m := p.Task.Memory()
	s := soakSample{targets: n, minute: since.Minutes(), mem: [3]float64{m.Usage, m.RSS, m.Cache}, peak: p.Task.MemoryPeakMiB()}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if metrics, err := p.API.Metrics(rctx); err != nil {
		logf("  soak %d: metrics: %v", n, err)
	} else {
		// A page cut short parses as fewer metrics: all three or none.
		s.metricsRead = true
		first := func(name string) float64 {
			if v := metrics[name]; len(v) > 0 {
				return v[0].Value
			}
			s.metricsRead = false
			return 0
		}
		s.heap = first("go_memstats_heap_inuse_bytes") / (1 << 20)
		s.series, s.chunks = first("prometheus_tsdb_head_series"), first("prometheus_tsdb_head_chunks")
	}
	targets, err := p.API.Targets(rctx, promconfig.NodeJob)
	if err != nil {
		logf("  soak %d: targets: %v", n, err)
	}
	s.targetsRead = err == nil
	for _, t := range targets {
		if t.Health == "up" {
			s.upTarget++
		}
	}
	return s
}

func writeSoakCSV(path string, samples []soakSample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"targets", "minute", "usage_mib", "rss_mib", "cache_mib", "peak_mib", "heap_inuse_mib", "head_series", "head_chunks", "targets_up"})
	for _, s := range samples {
		heap, series, chunks, up := "", "", "", ""
		if s.metricsRead {
			heap, series, chunks = fmt.Sprintf("%.0f", s.heap), fmt.Sprintf("%.0f", s.series), fmt.Sprintf("%.0f", s.chunks)
		}
		if s.targetsRead {
			up = strconv.Itoa(s.upTarget)
		}
		_ = w.Write([]string{strconv.Itoa(s.targets), fmt.Sprintf("%.1f", s.minute),
			fmt.Sprintf("%.0f", s.mem[0]), fmt.Sprintf("%.0f", s.mem[1]), fmt.Sprintf("%.0f", s.mem[2]), fmt.Sprintf("%.0f", s.peak),
			heap, series, chunks, up})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
