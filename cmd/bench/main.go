// Command bench measures synth, go build, terraform plan against the
// emulator, discovery latency and scale, records the raw samples in
// bench/results.json and renders BENCHMARKS.md from them (package bench),
// with the latest `make test` wall times that make test recorded itself
// and the latest figures the fault tests recorded (e2e/faults_*_test.go).
//
// Run it through `make bench` (about 40 minutes on 2 cores, 25 of them the sizing part, which -skip sizing leaves out): it talks to
// the AWS emulator, so it refuses to run outside the loopback-only network
// namespace of scripts/netns.sh. Quick look: `make bench BENCH_FLAGS="-runs 1
// -warmup 0 -instances 100 -skip cold-build -out /tmp/b.md -json /tmp/b.json"`.
// The two-hour soak (section 5c) runs only with -soak-for, through `make
// bench-soak`; make bench keeps its last figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// Parts that -skip accepts.
var parts = []string{"synth", "scale-synth", "cli", "build", "cold-build", "plan", "discovery", "reload", "disc1000", "scale-plan", "sizing", "soak"}

type bencher struct {
	ctx    context.Context
	repo   string // repository root (the working directory)
	work   string // temp folder for everything; removed at the end
	app    string // bin/prometheus-aws
	runs   int
	warmup int
	// Fewer measured runs for the costly values (see their flags).
	coldRuns, cliRuns, scaleRuns, manyRuns int
	scales                                 []int
	many                                   int // instances of the discovery-at-scale test
	skip                                   map[string]bool
	// The soak part's length (0: not run) and its per-minute readings.
	soakFor time.Duration
	soakCSV string

	mu   sync.Mutex // guards res against the load sampler
	res  *bench.Results
	save func() error
}

func main() {
	os.Exit(run())
}

func run() int {
	runs := flag.Int("runs", 5, "measured runs per value (after the warm-up)")
	warmup := flag.Int("warmup", 1, "discarded warm-up runs per value")
	coldRuns := flag.Int("cold-runs", 1, "measured cold go builds (each compiles the AWS provider bindings, one to two minutes)")
	cliRuns := flag.Int("cli-runs", 3, "measured `cdktf synth` runs (a synth plus the CLI's start-up each)")
	scaleRuns := flag.Int("scale-runs", 2, "measured synths and plans per node count of the scale test")
	many := flag.Int("instances", 1000, "tagged instances of the discovery-at-scale test")
	manyRuns := flag.Int("instances-runs", 1, "measured runs of the discovery-at-scale test")
	out := flag.String("out", "BENCHMARKS.md", "Markdown report to write")
	jsonOut := flag.String("json", "bench/results.json", "raw results to write")
	skip := flag.String("skip", "", "comma-separated parts to leave out: "+strings.Join(parts, ","))
	scales := flag.String("scales", "1,10,100", "node counts of the scale synth and plan")
	renderOnly := flag.Bool("render", false, "only render -out from the -json file and the latest make test and fault records (after editing bench/render.go, make bench-test or the fault tests)")
	soakFor := flag.Duration("soak-for", 0, "length of the soak part (BENCHMARKS.md 5c; make bench-soak runs 2h); 0 leaves it out")
	soakCSV := flag.String("soak-csv", "bench/soak.csv", "the soak part's per-minute readings to write")
	update := flag.Bool("update", false, "keep the values of -skip'ped parts from the existing -json file (to redo one part)")
	flag.Parse()

	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
		return 2
	}
	for _, n := range []*int{runs, coldRuns, cliRuns, scaleRuns, manyRuns, many} {
		if *n < 1 {
			return fail("-runs, -cold-runs, -cli-runs, -scale-runs, -instances and -instances-runs must be at least 1")
		}
	}
	if *warmup < 0 {
		return fail("-warmup must be at least 0")
	}
	b := &bencher{runs: *runs, warmup: *warmup, coldRuns: *coldRuns, cliRuns: *cliRuns, scaleRuns: min(*scaleRuns, *runs),
		many: *many, manyRuns: *manyRuns, skip: map[string]bool{}, soakFor: *soakFor, soakCSV: *soakCSV}
	if *soakFor < 0 {
		return fail("-soak-for must be 0 (no soak) or a duration such as 2h")
	}
	if *soakFor == 0 {
		b.skip["soak"] = true // only when asked: it takes hours
	}
	for _, p := range strings.Split(*skip, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(parts, p) {
			return fail("-skip %q: unknown part; the parts are %s", p, strings.Join(parts, ","))
		}
		b.skip[p] = true
	}
	for _, s := range strings.Split(*scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 100 {
			return fail("-scales %q: want comma-separated node counts from 0 to 100 (the nodeCount limit)", *scales)
		}
		b.scales = append(b.scales, n)
	}
	// The previous results: make test figures and -update keep values from them.
	previous, err := readResults(*jsonOut)
	if err != nil && (*renderOnly || *update) {
		return fail("reading %s: %v (run the bench first)", *jsonOut, err)
	}
	if *renderOnly {
		r, _ := readResults(*jsonOut) // a second copy: AddMakeTest compares against previous
		if err := bench.AddMakeTest(r, previous, bench.RecordsDir()); err != nil {
			fmt.Fprintf(os.Stderr, "bench: make test records: %v\n", err)
		}
		if err := bench.AddFaults(r, previous, bench.RecordsDir()); err != nil {
			fmt.Fprintf(os.Stderr, "bench: fault records: %v\n", err)
		}
		if err := write(r, *out, *jsonOut); err != nil {
			return fail("-render: %v", err)
		}
		return 0
	}
	if err := emulator.CheckLoopbackOnly(); err != nil {
		return fail("%v.\n  The bench starts the AWS emulator and Terraform against it: run it with `make bench`, or `scripts/netns.sh go run ./cmd/bench`.", err)
	}
	if b.repo, err = os.Getwd(); err != nil {
		return fail("%v", err)
	}
	if data, err := os.ReadFile(filepath.Join(b.repo, "go.mod")); err != nil || !strings.Contains(string(data), "module github.com/prometheus-aws/prometheus-aws\n") {
		return fail("run it from the repository root (where go.mod of github.com/prometheus-aws/prometheus-aws is): make bench does")
	}
	b.app = filepath.Join(b.repo, "bin", "prometheus-aws")
	if _, err := os.Stat(b.app); err != nil {
		return fail("%s is missing: run `make build` first (make bench does)", b.app)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b.ctx = ctx
	if b.work, err = os.MkdirTemp("", "promaws-bench-"); err != nil {
		return fail("temp folder: %v", err)
	}
	defer os.RemoveAll(b.work)

	start := time.Now()
	b.res = &bench.Results{
		Date:    start.UTC().Format("2006-01-02"),
		Commit:  commit(b.repo),
		Command: "make bench",
		Runs:    b.runs, Warmup: b.warmup,
		Machine: machine(),
	}
	if args := os.Args[1:]; len(args) > 0 {
		b.res.Command = "go run ./cmd/bench " + strings.Join(args, " ")
	}
	for _, k := range bench.Keys() {
		b.res.Metric(k, "")
	}
	stopLoad := b.sampleLoad(loadEvery)
	b.save = func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.res.Duration = time.Since(start).Seconds()
		return write(b.res, *out, *jsonOut)
	}

	type part struct {
		name string
		fn   func() error
		keys []string
	}
	plan := []part{
		{"synth", b.synth, prefixed("synth.app.", "synth.floor.", "scale.synth.")},
		{"cli", b.cli, prefixed("synth.cli.")},
		{"build", b.buildWarm, prefixed("build.warm.")},
		{"cold-build", b.buildCold, prefixed("build.cold.")},
		{"emulator", b.emulatorParts, prefixed("plan.", "discovery.", "scale.plan.", "scale.disc1000.")},
	}
	if *update && previous != nil {
		for _, p := range plan {
			if b.skip[p.name] {
				keep(b.res, previous, p.keys)
			}
		}
		for _, sub := range emulatorSubparts {
			if b.skip[sub.part] {
				keep(b.res, previous, prefixed(sub.prefix))
			}
		}
		if b.skip["scale-synth"] {
			keep(b.res, previous, prefixed("scale.synth."))
		}
	}
	if *soakFor == 0 && previous != nil {
		// Two hours are not redone by every make bench: make bench-soak renews them.
		keep(b.res, previous, prefixed("soak."))
	}
	failed := false
	for _, p := range plan {
		if b.skip[p.name] {
			b.res.Skip("skipped (-skip "+p.name+")", p.keys...)
			continue
		}
		if err := p.fn(); err != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", p.name, err)
			b.res.Skip("failed (see the bench log)", p.keys...)
		}
		if err := b.save(); err != nil {
			return fail("writing results: %v", err)
		}
		if ctx.Err() != nil {
			return fail("interrupted; partial results are in %s and %s", *out, *jsonOut)
		}
	}
	if err := bench.AddMakeTest(b.res, previous, bench.RecordsDir()); err != nil {
		fmt.Fprintf(os.Stderr, "bench: make test records: %v\n", err)
	}
	if err := bench.AddFaults(b.res, previous, bench.RecordsDir()); err != nil {
		fmt.Fprintf(os.Stderr, "bench: fault records: %v\n", err)
	}
	stopLoad()
	if err := b.save(); err != nil {
		return fail("writing results: %v", err)
	}
	logf("wrote %s and %s in %s", *out, *jsonOut, time.Since(start).Round(time.Second))
	if failed {
		return 1
	}
	return 0
}

// loadEvery is how often the load average is sampled.
const loadEvery = 10 * time.Second

// sampleLoad records the 1-minute load average now and every interval
// until the returned function is called (which takes a last sample).
func (b *bencher) sampleLoad(every time.Duration) func() {
	b.res.Machine.LoadEvery = every.Seconds()
	add := func() {
		b.mu.Lock()
		b.res.Machine.Load = append(b.res.Machine.Load, loadAvg())
		b.mu.Unlock()
	}
	add()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				add()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		add()
	}
}

// phase runs one timed part of the bench and records its wall time.
func (b *bencher) phase(name string, fn func() error) error {
	logf("-- %s", name)
	start := time.Now()
	err := fn()
	b.mu.Lock()
	b.res.Phases = append(b.res.Phases, bench.Phase{Name: name, Seconds: time.Since(start).Seconds()})
	b.mu.Unlock()
	logf("-- %s took %s", name, time.Since(start).Round(time.Second))
	return err
}

func readResults(path string) (*bench.Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r bench.Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// commit is the checked-out commit, "-dirty" with uncommitted changes.
func commit(repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if exec.Command("git", "-C", repo, "diff", "--quiet", "HEAD").Run() != nil {
		c += "-dirty"
	}
	return c
}

// keep copies the metrics of keys from previous into r (-update).
func keep(r, previous *bench.Results, keys []string) {
	for _, k := range keys {
		if m := previous.Lookup(k); m != nil {
			*r.Metric(k, m.Unit) = *m
		}
	}
}

func prefixed(prefixes ...string) []string {
	var keys []string
	for _, k := range bench.Keys() {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

// write saves the raw results as JSON and renders the Markdown report.
func write(r *bench.Results, mdPath, jsonPath string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(jsonPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(mdPath)
	if err != nil {
		return err
	}
	if err := bench.Render(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// repeat runs fn warmup+runs times and records the measured runs' values
// under the keys fn returns (the warm-up's under Warmup). fn gets the run's
// index, warm-up runs first.
func (b *bencher) repeat(warmup, runs int, fn func(i int) (map[string]float64, error), units map[string]string) error {
	for i := 0; i < warmup+runs; i++ {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		vals, err := fn(i)
		if err != nil {
			return err
		}
		b.mu.Lock()
		for k, v := range vals {
			m := b.res.Metric(k, units[k])
			m.Unit = units[k]
			if i < warmup {
				m.Warmup = append(m.Warmup, v)
			} else {
				m.Values = append(m.Values, v)
			}
		}
		b.mu.Unlock()
		logf("  run %d/%d: %s", i+1, warmup+runs, describe(vals, units))
	}
	return nil
}

// iterations is repeat with the -warmup and -runs counts.
func (b *bencher) iterations(fn func(i int) (map[string]float64, error), units map[string]string) error {
	return b.repeat(b.warmup, b.runs, fn, units)
}

func describe(vals map[string]float64, units map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		parts = append(parts, k+"="+bench.Format(vals[k], units[k]))
	}
	return strings.Join(parts, " ")
}

// cleanEnv is the environment without PROMAWS_* settings and cdktf/AWS
// variables of the caller, so every synth sees the defaults.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PROMAWS_") || strings.HasPrefix(k, "CDKTF_") || strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	return append(env, extra...)
}

// machine describes this computer.
func machine() bench.Machine {
	m := bench.Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.Atoi(f[0])
					m.MemoryMiB = kb / 1024
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	if tf, err := tools.Find("terraform"); err == nil {
		cmd := exec.Command(tf, "version", "-json")
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		if out, err := cmd.Output(); err == nil {
			var v struct {
				Version string `json:"terraform_version"`
			}
			if json.Unmarshal(out, &v) == nil {
				m.Terraform = v.Version
			}
		}
	}
	return m
}

func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
