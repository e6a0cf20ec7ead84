package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
	"github.com/prometheus-aws/prometheus-aws/sizing"
	"github.com/prometheus-aws/prometheus-aws/stacks"
)

// deployment is the local-profile stack applied to the emulator
// (internal/harness), with what the benchmarks need beside it.
type deployment struct {
	*harness.Deployment
	b   *bencher
	ec2 *ec2.Client
	// fargate runs the stack's Prometheus task as Fargate would; startMu
	// keeps one task's parameter value until it has read it.
	fargate *harness.Fargate
	startMu sync.Mutex
}

// emulatorSubparts are the -skip parts that need the emulator, with the
// prefix of their metric keys.
// In this order: the many instances last, as moto keeps them terminated.
var emulatorSubparts = []struct{ part, prefix string }{
	{"plan", "plan."}, {"scale-plan", "scale.plan."}, {"discovery", "discovery."}, {"reload", "reload."}, {"disc1000", "scale.disc1000."},
	{"sizing", "sizing."}, {"soak", "soak."},
}

// emulatorParts runs everything that needs the emulator: make plan,
// discovery, discovery of many instances and the scale plans, on one
// emulator and one applied stack.
func (b *bencher) emulatorParts() error {
	var todo []string
	for _, p := range emulatorSubparts {
		if p.part == "soak" && b.soakFor == 0 {
			b.res.Skip("not run: make bench-soak runs it (two hours)", prefixed(p.prefix)...)
		} else if b.skip[p.part] {
			b.res.Skip("skipped (-skip "+p.part+")", prefixed(p.prefix)...)
		} else {
			todo = append(todo, p.part)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Hour+b.soakFor)
	defer cancel()
	var d *deployment
	err := b.phase("emulator: start, apply the default stack", func() error {
		dir := filepath.Join(b.work, "moto")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		emu, err := emulator.Start(ctx, emulator.Options{Dir: dir})
		if err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
		runner, err := harness.NewFargate(ctx, emu, filepath.Join(b.work, "fargate"))
		if err != nil {
			emu.Stop()
			return err
		}
		start, n := time.Now(), config.Defaults().NodeCount
		dep, err := harness.NewDeployment(ctx, emu, harness.DeploymentOptions{Root: filepath.Join(b.work, "deploy"),
			Env: nodes(n), Synth: harness.SynthProgram(b.app, b.repo)})
		if err != nil {
			emu.Stop()
			return err
		}
		d = &deployment{Deployment: dep, b: b, fargate: runner}
		if err := d.Apply(ctx); err != nil {
			return fmt.Errorf("%d nodes: %w", n, err)
		}
		logf("  synthesized and applied %d nodes in %s", n, time.Since(start).Round(time.Second))
		cfg, err := d.AWSConfig(ctx)
		if err != nil {
			return err
		}
		d.ec2 = ec2.NewFromConfig(cfg)
		return nil
	})
	if d != nil {
		defer d.Emulator.Stop()
	}
	if err != nil {
		b.res.Skip("failed (see the bench log)", prefixed("plan.", "discovery.", "scale.")...)
		return err
	}

	steps := map[string]struct {
		title string
		fn    func(context.Context) error
	}{
		"plan":       {"make plan: synth, init, plan (2 nodes)", d.makePlan},
		"discovery":  {"discovery latency, shipped and short intervals", d.discovery},
		"reload":     {"configuration change: live in place, and the restart it replaces", d.reload},
		"disc1000":   {fmt.Sprintf("discovery of %d instances", b.many), d.discoverMany},
		"scale-plan": {"scale: plan 1, 10, 100 nodes", d.scalePlans},
		"sizing":     {"sizing: the largest fleet each task size holds under its memory limit", d.sizing},
		"soak":       {fmt.Sprintf("soak: fleets on the default task size for %s", b.soakFor), d.soak},
	}
	var errs []error
	for _, sub := range emulatorSubparts {
		if b.skip[sub.part] {
			continue
		}
		step := steps[sub.part]
		if err := b.phase(step.title, func() error { return step.fn(ctx) }); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sub.part, err))
			logf("  failed: %v", errs[len(errs)-1])
			b.res.Skip("failed (see the bench log)", prefixed(sub.prefix)...)
		}
		_ = b.save()
	}
	return errors.Join(errs...)
}

// nodes are the settings of a stack with n nodes.
func nodes(n int) map[string]string { return map[string]string{"PROMAWS_NODE_COUNT": strconv.Itoa(n)} }

// plan times one no-change plan; a plan with changes is an error.
func (d *deployment) plan(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	changed, err := d.TF.Plan(ctx)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("terraform plan: %w", err)
	}
	if changed {
		return 0, fmt.Errorf("terraform plan after apply is not clean (a bug in the stack or the emulator; `make test` checks this too)")
	}
	return took, nil
}

// counts returns the managed resource instances and data sources in the
// state file.
func (d *deployment) counts() (managed, data int, err error) {
	path := d.StateFile()
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("state file: %w", err)
	}
	var st struct {
		Resources []struct {
			Mode      string            `json:"mode"`
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return 0, 0, fmt.Errorf("state file %s: %w", path, err)
	}
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			managed += len(r.Instances)
		} else {
			data += len(r.Instances)
		}
	}
	return managed, data, nil
}

// makePlan times what `make plan` runs, against the applied stack: synth
// (bin/prometheus-aws), terraform init, terraform plan; every plan must
// report no changes.
func (d *deployment) makePlan(ctx context.Context) error {
	managed, data, err := d.counts()
	if err != nil {
		return err
	}
	n := config.Defaults().NodeCount
	units := map[string]string{"plan.make.synth": bench.Seconds, "plan.make.init": bench.Seconds, "plan.default.wall": bench.Seconds, "plan.make.total": bench.Seconds}
	// No warm-up run: the apply just before ran the same synth, init and
	// refresh.
	err = d.b.repeat(0, d.b.runs, func(int) (map[string]float64, error) {
		start := time.Now()
		if err := d.Resynth(ctx, nodes(n)); err != nil {
			return nil, err
		}
		synth := time.Since(start)
		if err := d.Init(ctx); err != nil {
			return nil, err
		}
		init := time.Since(start) - synth
		plan, err := d.plan(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"plan.make.synth": synth.Seconds(), "plan.make.init": init.Seconds(),
			"plan.default.wall": plan.Seconds(), "plan.make.total": time.Since(start).Seconds()}, nil
	}, units)
	if err != nil {
		return err
	}
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	set := func(key, unit string, v float64) {
		m := d.b.res.Metric(key, unit)
		m.Unit, m.Values = unit, []float64{v}
	}
	set("plan.default.resources", bench.Count, float64(managed))
	set("plan.default.data_sources", bench.Count, float64(data))
	if managed > 0 {
		m := d.b.res.Metric("plan.default.per_resource", bench.Millis)
		m.Unit, m.Values = bench.Millis, nil
		for _, v := range d.b.res.Lookup("plan.default.wall").Values {
			m.Values = append(m.Values, v*1000/float64(managed))
		}
	}
	return nil
}

// scalePlans times the plan of the stack with n nodes against the applied
// default stack: what someone changing nodeCount plans before applying. The
// nodes are one Auto Scaling group, so the plan is one in-place update and
// reads the same resources whatever n; no apply is needed to measure it.
// Each count is synthesized once into a folder of its own that shares the
// state file, and the counts are planned in turn, run by run.
func (d *deployment) scalePlans(ctx context.Context) error {
	def := config.Defaults().NodeCount
	tfs := map[int]*tfexec.Terraform{}
	units := map[string]string{}
	for _, n := range d.b.scales {
		tf, err := d.SynthTo(ctx, filepath.Join(d.Root, "cdktf.out.n"+strconv.Itoa(n)), nodes(n))
		if err != nil {
			return err
		}
		tfs[n] = tf
		units[scaleKey("plan", n)] = bench.Seconds
	}
	return d.b.repeat(0, d.b.scaleRuns, func(int) (map[string]float64, error) {
		vals := map[string]float64{}
		for _, n := range d.b.scales {
			start := time.Now()
			changed, err := tfs[n].Plan(ctx)
			if err != nil {
				return nil, fmt.Errorf("terraform plan (%d nodes): %w", n, err)
			}
			if changed != (n != def) {
				return nil, fmt.Errorf("terraform plan of %d nodes against the applied %d: changes %v, want %v", n, def, changed, n != def)
			}
			vals[scaleKey("plan", n)] = time.Since(start).Seconds()
		}
		return vals, nil
	}, units)
}

// startPrometheus runs the stack's Prometheus task through the local
// Fargate runner with the given intervals (put into its configuration
// parameter before it starts, as a deploy would), each task in a network
// namespace of its own (several can run at once), scraping target when that
// is set (else its own node_exporter).
func (d *deployment) startPrometheus(ctx context.Context, refresh, scrape, target string) (*harness.PrometheusTask, error) {
	return d.startPrometheusSized(ctx, refresh, scrape, target, nil)
}

// startPrometheusSized is startPrometheus with the task at size (nil: the
// stack's own).
func (d *deployment) startPrometheusSized(ctx context.Context, refresh, scrape, target string, size *sizing.Size) (*harness.PrometheusTask, error) {
	s := *d.Settings
	s.RefreshInterval, s.ScrapeInterval = refresh, scrape
	yaml, err := stacks.PrometheusConfig(&s)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(d.b.work, "prometheus-")
	if err != nil {
		return nil, err
	}
	d.startMu.Lock() // one parameter: each task reads it as it starts
	defer d.startMu.Unlock()
	o := harness.TaskOptions{NodeExporter: target, Dir: dir, ConfigYAML: yaml}
	if size != nil {
		o.CPU, o.Memory = strconv.Itoa(size.CPU), strconv.Itoa(size.MemoryMiB)
	}
	p, err := d.fargate.RunPrometheus(ctx, &s, o)
	if err != nil {
		return nil, fmt.Errorf("the Prometheus task: %w (run make tools)", err)
	}
	return p, nil
}

func (d *deployment) subnet(ctx context.Context) (string, error) {
	outs, err := d.TF.Output(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	if err := json.Unmarshal(outs["subnet_ids"].Value, &ids); err != nil || len(ids) == 0 {
		return "", fmt.Errorf("stack output subnet_ids: %v", err)
	}
	return ids[0], nil
}

// launch starts count tagged instances and waits until all are running;
// it returns their IDs and when the last was seen running (polled every
// 100 ms, every second for many instances: each poll costs moto time).
func (d *deployment) launch(ctx context.Context, subnet string, count int) ([]string, time.Time, error) {
	every := 100 * time.Millisecond
	if count > 100 {
		every = time.Second
	}
	var ids []string
	for left := count; left > 0; left -= 100 {
		n := int32(min(left, 100))
		out, err := d.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(n), MaxCount: aws.Int32(n), SubnetId: aws.String(subnet),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("Name"), Value: aws.String("bench-node")},
				{Key: aws.String(d.Settings.DiscoveryTagKey), Value: aws.String(d.Settings.DiscoveryTagValue)},
			}}},
		})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("ec2 RunInstances: %w", err)
		}
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	for {
		running := 0
		for i := 0; i < len(ids); i += 100 {
			out, err := d.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[i:min(i+100, len(ids))]})
			if err != nil {
				return ids, time.Time{}, fmt.Errorf("ec2 DescribeInstances: %w", err)
			}
			for _, r := range out.Reservations {
				for _, inst := range r.Instances {
					if inst.State != nil && inst.State.Name == ec2types.InstanceStateNameRunning {
						running++
					}
				}
			}
		}
		if running == len(ids) {
			return ids, time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return ids, time.Time{}, ctx.Err()
		case <-time.After(every):
		}
	}
}

func (d *deployment) terminate(ctx context.Context, ids []string) error {
	for i := 0; i < len(ids); i += 100 {
		if _, err := d.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[i:min(i+100, len(ids))]}); err != nil {
			return fmt.Errorf("ec2 TerminateInstances: %w", err)
		}
	}
	return nil
}

// watch polls the node targets every interval until ids are all present
// (and all up, with up) or timeout, and returns how long after since each
// happened.
func watch(ctx context.Context, api *promapi.Client, ids []string, up bool, since time.Time, every, timeout time.Duration) (discovered, healthy time.Duration, err error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		targets, terr := api.Targets(ctx, promconfig.NodeJob)
		if terr == nil {
			present, ups := 0, 0
			for _, tg := range targets {
				if want[tg.Labels["instance_id"]] {
					present++
					if tg.Health == "up" {
						ups++
					}
				}
			}
			now := time.Since(since)
			if present == len(want) && discovered == 0 {
				discovered = now
				if !up {
					return discovered, 0, nil
				}
			}
			if ups == len(want) {
				return discovered, now, nil
			}
			last = fmt.Sprintf("%d of %d discovered, %d up", present, len(want), ups)
		} else {
			last = terr.Error()
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("targets not all discovered and up after %s (last: %s)", timeout, last)
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(every):
		}
	}
}

func durationSetting(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Minute
	}
	return d
}

// shortInterval is the refresh and scrape interval of the short-interval
// discovery test.
const shortInterval = "5s"

// discovery measures discovery latency with the shipped intervals and with
// short ones, each with a task of its own, one after the other.
func (d *deployment) discovery(ctx context.Context) error {
	subnet, err := d.subnet(ctx)
	if err != nil {
		return err
	}
	nodes, err := d.groupTargets(ctx)
	if err != nil {
		return err
	}
	def := config.Defaults()
	// One after the other: the default stack keeps its TSDB on EFS, and two
	// tasks of it cannot share one (the runner, like AWS, has the second
	// fail on the TSDB lock).
	var errs []error
	for _, c := range []struct{ name, refresh, scrape string }{
		{"shipped", def.RefreshInterval, def.ScrapeInterval},
		{"short", shortInterval, shortInterval},
	} {
		if err := d.latencies(ctx, c.name, c.refresh, c.scrape, subnet, nodes); err != nil {
			errs = append(errs, fmt.Errorf("%s intervals: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// latencies runs a Prometheus with the given intervals, waits until it has
// discovered the stack's nodes (its first refresh: the warm-up), then
// launches one tagged instance every refresh/runs, so that the launches
// fall evenly over the refresh cycle, and records for each the time from
// running to discovered and to up.
func (d *deployment) latencies(ctx context.Context, name, refresh, scrape, subnet string, nodes []string) error {
	r, sc := durationSetting(refresh), durationSetting(scrape)
	l, err := d.startPrometheus(ctx, refresh, scrape, "")
	if err != nil {
		return err
	}
	defer l.Stop()
	if _, _, err := watch(ctx, l.API, nodes, false, time.Now(), 250*time.Millisecond, r+time.Minute); err != nil {
		return fmt.Errorf("the stack's nodes: %w", err)
	}
	logf("  %s: refresh %s, scrape %s: launching %d instances %s apart", name, refresh, scrape, d.b.runs, r/time.Duration(d.b.runs))

	type sample struct {
		id      string
		running time.Time
	}
	var (
		mu        sync.Mutex
		samples   []sample
		launchErr error
		launched  = make(chan struct{})
	)
	lctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		<-launched // samples is the launcher's no more
		for _, s := range samples {
			_ = d.terminate(ctx, []string{s.id})
		}
	}()
	go func() {
		defer close(launched)
		start := time.Now()
		for i := 0; i < d.b.runs; i++ {
			select {
			case <-lctx.Done():
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * r / time.Duration(d.b.runs)))):
			}
			ids, running, err := d.launch(lctx, subnet, 1)
			mu.Lock()
			if len(ids) > 0 {
				samples = append(samples, sample{ids[0], running})
			}
			if err != nil {
				launchErr = err
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()

	// Poll the targets every 250 ms and note when each instance was first
	// present and first up.
	seen, up := map[string]time.Time{}, map[string]time.Time{}
	deadline := time.Now().Add(2*r + 2*sc + time.Minute)
	for {
		targets, err := l.API.Targets(ctx, promconfig.NodeJob)
		now := time.Now()
		if err == nil {
			for _, tg := range targets {
				id := tg.Labels["instance_id"]
				if _, ok := seen[id]; !ok {
					seen[id] = now
				}
				if _, ok := up[id]; !ok && tg.Health == "up" {
					up[id] = now
				}
			}
		}
		mu.Lock()
		all, lerr := append([]sample(nil), samples...), launchErr
		mu.Unlock()
		if lerr != nil {
			return lerr
		}
		done := true
		select {
		case <-launched:
		default:
			done = false
		}
		for _, s := range all {
			if _, ok := up[s.id]; !ok {
				done = false
			}
		}
		if done {
			kd, ku := "discovery."+name+".discovered", "discovery."+name+".up"
			d.b.mu.Lock()
			mDisc, mUp := d.b.res.Metric(kd, bench.Seconds), d.b.res.Metric(ku, bench.Seconds)
			mDisc.Unit, mUp.Unit = bench.Seconds, bench.Seconds
			for _, s := range all {
				// The poll that sees the instance running can lag Prometheus's
				// refresh by up to 100 ms: no latency is below zero.
				mDisc.Values = append(mDisc.Values, max(0, seen[s.id].Sub(s.running).Seconds()))
				mUp.Values = append(mUp.Values, max(0, up[s.id].Sub(s.running).Seconds()))
			}
			d.b.mu.Unlock()
			logf("  %s: discovered %s, up %s", name, describeValues(mDisc.Values), describeValues(mUp.Values))
			return nil
		}
		if now.After(deadline) {
			return fmt.Errorf("not all %d instances discovered and up by %s\nPrometheus log:\n%s", len(all), deadline.Format(time.TimeOnly), l.LogTail(20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func describeValues(v []float64) string {
	var parts []string
	for _, x := range v {
		parts = append(parts, bench.Format(x, bench.Seconds))
	}
	return strings.Join(parts, ", ")
}

// prometheusPID is the PID of the prometheus process of the task (the
// entrypoint execs it, so normally the container's first process).
func prometheusPID(p *harness.PrometheusTask) int {
	pid := p.Container().PID()
	if bench.Comm(pid) == "prometheus" {
		return pid
	}
	for _, c := range bench.Descendants(pid) {
		if bench.Comm(c) == "prometheus" {
			return c
		}
	}
	return pid
}

// nodeExporterPage is one /metrics page of a real node_exporter (the one
// make tools built), fetched once.
func nodeExporterPage(ctx context.Context, dir string) ([]byte, error) {
	ne, addr, err := harness.StartNodeExporter(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer ne.Stop()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// replayedNodeExporter serves one page of a real node_exporter as every
// target's /metrics until ctx ends: the page and the address.
func (d *deployment) replayedNodeExporter(ctx context.Context) ([]byte, string, error) {
	page, err := nodeExporterPage(ctx, d.b.work)
	if err != nil {
		return nil, "", fmt.Errorf("node_exporter page: %w", err)
	}
	target, err := replay(ctx, page)
	return page, target, err
}

// replay serves page as /metrics on a free loopback port until ctx ends,
// and returns its address.
func replay(ctx context.Context, page []byte) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(page)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return ln.Addr().String(), nil
}

// series counts the samples of a metrics page: the series each target adds.
func series(page []byte) int {
	n := 0
	for _, line := range strings.Split(string(page), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// manySize is the task size discoverMany runs Prometheus at: the runner
// enforces the task's memory as Fargate does, and the default task (1 GiB)
// holds fewer than 1,000 node_exporter targets (section 5b); 4 GiB leaves
// Prometheus's own memory limit (90% of the task's) out of the way, so the
// memory it reports is what it uses, as before the limit was enforced.
var manySize = sizing.Size{CPU: 1024, MemoryMiB: 4096}

// discoverMany measures discovery of b.many tagged instances and
// Prometheus's memory with them, with a fresh Prometheus each run (its
// memory keeps the series of earlier runs' targets otherwise). Every target
// is scraped from a replay of one real node_exporter page: the same series
// as node_exporter, without one node_exporter serving a thousand scrapes
// being what is measured.
func (d *deployment) discoverMany(ctx context.Context) error {
	subnet, err := d.bigSubnet(ctx, "10.250.0.0/16", "10.250.0.0/20")
	if err != nil {
		return err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	page, target, err := d.replayedNodeExporter(rctx)
	if err != nil {
		return err
	}
	const refresh = "5s"
	scrape := config.Defaults().ScrapeInterval
	logf("  discovery of %d instances with refresh %s, scrape %s, %d series per target", d.b.many, refresh, scrape, series(page))
	nodes, err := d.groupTargets(ctx)
	if err != nil {
		return err
	}
	units := map[string]string{"scale.disc1000.launch": bench.Seconds, "scale.disc1000.discovered": bench.Seconds, "scale.disc1000.up": bench.Seconds,
		"scale.disc1000.rss_before": bench.MiB, "scale.disc1000.rss": bench.MiB, "scale.disc1000.series_per_target": bench.Count}
	timeout := 2*durationSetting(refresh) + 2*durationSetting(scrape) + 10*time.Minute
	d.b.mu.Lock()
	d.b.res.Instances = d.b.many
	d.b.mu.Unlock()
	return d.b.repeat(0, d.b.manyRuns, func(int) (map[string]float64, error) {
		l, err := d.startPrometheusSized(ctx, refresh, scrape, target, &manySize)
		if err != nil {
			return nil, err
		}
		defer l.Stop()
		pid := prometheusPID(l)
		// Let it discover the stack's own nodes first (its first refresh).
		if _, _, err := watch(ctx, l.API, nodes, false, time.Now(), time.Second, 3*time.Minute); err != nil {
			return nil, fmt.Errorf("the stack's nodes: %w", err)
		}
		before := bench.RSS(pid)
		launched := time.Now()
		ids, running, err := d.launch(ctx, subnet, d.b.many)
		defer func() { _ = d.terminate(ctx, ids) }()
		if err != nil {
			return nil, err
		}
		logf("  %d instances running %s after the first RunInstances call", len(ids), running.Sub(launched).Round(time.Second))
		disc, up, err := watch(ctx, l.API, ids, true, running, time.Second, timeout)
		rss := bench.RSS(pid)
		if err != nil {
			return nil, fmt.Errorf("%w\nPrometheus log:\n%s", err, l.LogTail(20))
		}
		return map[string]float64{"scale.disc1000.launch": running.Sub(launched).Seconds(),
			"scale.disc1000.discovered": disc.Seconds(), "scale.disc1000.up": up.Seconds(),
			"scale.disc1000.rss_before": before, "scale.disc1000.rss": rss,
			"scale.disc1000.series_per_target": float64(series(page))}, nil
	}, units)
}

// reload measures a configuration change reaching the running task: each
// run synthesizes the stack with another scrape interval and applies it (a
// parameter update, as a user's apply), and the clock runs from the end of
// terraform apply until /api/v1/status/config serves the new interval (the
// config-sync sidecar's round, then Prometheus's auto-reload check). Beside
// it, the path it replaces: stopping the task and starting a new one until
// it is ready, here without ECS's scheduling, image pull and stop timeout.
func (d *deployment) reload(ctx context.Context) error {
	def := config.Defaults()
	l, err := d.startPrometheus(ctx, def.RefreshInterval, def.ScrapeInterval, "")
	if err != nil {
		return err
	}
	defer func() { l.Stop() }()
	units := map[string]string{"reload.live": bench.Seconds, "reload.apply": bench.Seconds, "reload.restart": bench.Seconds}
	err = d.b.repeat(d.b.warmup, d.b.runs, func(i int) (map[string]float64, error) {
		interval := fmt.Sprintf("%ds", 31+i)
		start := time.Now()
		if err := d.Resynth(ctx, map[string]string{"PROMAWS_SCRAPE_INTERVAL": interval}); err != nil {
			return nil, err
		}
		if err := d.Apply(ctx); err != nil {
			return nil, err
		}
		applied := time.Now()
		for {
			cfg, err := l.API.Config(ctx)
			if err == nil && strings.Contains(cfg, "scrape_interval: "+interval+"\n") {
				break
			}
			if time.Since(applied) > 3*time.Minute {
				return nil, fmt.Errorf("scrape_interval %s not served 3 min after the apply\n%s", interval, l.LogTail(20))
			}
			time.Sleep(250 * time.Millisecond)
		}
		return map[string]float64{"reload.live": time.Since(applied).Seconds(), "reload.apply": applied.Sub(start).Seconds()}, nil
	}, units)
	if err != nil {
		return err
	}
	return d.b.repeat(0, d.b.runs, func(int) (map[string]float64, error) {
		start := time.Now()
		l.Stop()
		next, err := d.startPrometheus(ctx, def.RefreshInterval, def.ScrapeInterval, "")
		if err != nil {
			return nil, err
		}
		l = next
		return map[string]float64{"reload.restart": time.Since(start).Seconds()}, nil
	}, units)
}

// bigSubnet creates a VPC (vpcCIDR) with a subnet (subnetCIDR) outside the
// stack (and its Terraform state) for many instances: the stack's /24
// subnets hold too few addresses, and moto hands out no address twice,
// terminated instances included. Discovery filters by tag, not by VPC.
func (d *deployment) bigSubnet(ctx context.Context, vpcCIDR, subnetCIDR string) (string, error) {
	vpc, err := d.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(vpcCIDR)})
	if err != nil {
		return "", fmt.Errorf("ec2 CreateVpc %s for the bench instances: %w", vpcCIDR, err)
	}
	sub, err := d.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(subnetCIDR),
		AvailabilityZone: aws.String(d.Settings.Region + "a")})
	if err != nil {
		return "", fmt.Errorf("ec2 CreateSubnet %s for the bench instances: %w", subnetCIDR, err)
	}
	return aws.ToString(sub.Subnet.SubnetId), nil
}

// groupTargets are the running tagged instances of the stack itself (the
// Auto Scaling group's nodes).
func (d *deployment) groupTargets(ctx context.Context) ([]string, error) {
	out, err := d.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + d.Settings.DiscoveryTagKey), Values: []string{d.Settings.DiscoveryTagValue}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if err != nil {
		return nil, fmt.Errorf("ec2 DescribeInstances: %w", err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids, nil
}
