// Command bench measures synth, go build, terraform plan against the
// emulator, discovery latency and scale, records the raw samples in
// bench/results.json and renders BENCHMARKS.md from them (package bench).
//
// Run it through `make bench`: it talks to the AWS emulator, so it refuses
// to run outside the loopback-only network namespace of scripts/netns.sh.
// Quick look: `make bench BENCH_FLAGS="-runs 1 -warmup 0 -instances 100
// -skip cold-build -out /tmp/b.md -json /tmp/b.json"`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// Parts that -skip accepts.
var parts = []string{"synth", "cli", "build", "cold-build", "plan", "discovery", "scale-synth", "scale-plan", "disc1000"}

type bencher struct {
	ctx    context.Context
	repo   string // repository root (the working directory)
	work   string // temp folder for everything; removed at the end
	app    string // bin/prometheus-aws
	runs   int
	warmup int
	scales []int
	many   int // instances of the discovery-at-scale test
	// manyRuns are the measured runs of that test (each launches many).
	manyRuns int
	coldMax  time.Duration
	skip     map[string]bool
	res      *bench.Results
	save     func() error
}

func main() {
	os.Exit(run())
}

func run() int {
	runs := flag.Int("runs", 5, "measured runs per value (after the warm-up)")
	warmup := flag.Int("warmup", 1, "discarded warm-up runs per value")
	out := flag.String("out", "BENCHMARKS.md", "Markdown report to write")
	jsonOut := flag.String("json", "bench/results.json", "raw results to write")
	skip := flag.String("skip", "", "comma-separated parts to leave out: "+strings.Join(parts, ","))
	scales := flag.String("scales", "1,10,100", "node counts of the scale synth and plan")
	many := flag.Int("instances", 1000, "tagged instances of the discovery-at-scale test")
	manyRuns := flag.Int("instances-runs", 0, "measured runs of the discovery-at-scale test; 0 = -runs")
	coldMax := flag.Duration("cold-limit", 5*time.Minute, "after one cold build longer than this, make no more cold builds")
	withMakeTest := flag.Bool("with-make-test", false, "also time `make test` cold and warm (one run each, tens of minutes)")
	renderOnly := flag.Bool("render", false, "only render -out from the existing -json file (after editing bench/render.go)")
	update := flag.Bool("update", false, "keep the values of -skip'ped parts from the existing -json file (to redo one part)")
	busy := flag.String("busy", "", "say in the report that the machine was shared, e.g. \"a CI run was going on\"")
	flag.Parse()

	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
		return 2
	}
	if *runs < 1 || *warmup < 0 || *manyRuns < 0 || *many < 1 {
		return fail("-runs and -instances must be at least 1, -warmup and -instances-runs at least 0")
	}
	if *manyRuns == 0 {
		*manyRuns = *runs
	}
	b := &bencher{runs: *runs, warmup: *warmup, many: *many, manyRuns: *manyRuns, coldMax: *coldMax, skip: map[string]bool{}}
	for _, p := range strings.Split(*skip, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !contains(parts, p) {
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
	if *renderOnly {
		var r bench.Results
		data, err := os.ReadFile(*jsonOut)
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err != nil {
			return fail("-render: reading %s: %v (run the bench first)", *jsonOut, err)
		}
		f, err := os.Create(*out)
		if err == nil {
			err = bench.Render(f, &r)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fail("-render: %v", err)
		}
		return 0
	}
	if err := emulator.CheckLoopbackOnly(); err != nil {
		return fail("%v.\n  The bench starts the AWS emulator and Terraform against it: run it with `make bench`, or `scripts/netns.sh go run ./cmd/bench`.", err)
	}
	var err error
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
		Command: "make bench",
		Runs:    b.runs, Warmup: b.warmup,
		Machine: machine(*busy),
	}
	if args := os.Args[1:]; len(args) > 0 {
		b.res.Command = "go run ./cmd/bench " + strings.Join(args, " ")
	}
	var previous *bench.Results
	if *update {
		data, err := os.ReadFile(*jsonOut)
		if err == nil {
			previous = &bench.Results{}
			err = json.Unmarshal(data, previous)
		}
		if err != nil {
			return fail("-update: reading %s: %v (run without -update to measure everything)", *jsonOut, err)
		}
	}
	for _, k := range bench.Keys() {
		b.res.Metric(k, "")
	}
	b.save = func() error {
		b.res.Machine.LoadEnd = loadAvg()
		b.res.Duration = time.Since(start).Seconds()
		return write(b.res, *out, *jsonOut)
	}

	type part struct {
		name string
		fn   func() error
		keys []string
	}
	plan := []part{
		{"synth", b.synth, prefixed("synth.app.", "synth.floor.")},
		{"cli", b.cli, prefixed("synth.cli.")},
		{"scale-synth", b.scaleSynth, prefixed("scale.synth.")},
		{"build", b.buildWarm, prefixed("build.warm.")},
		{"cold-build", b.buildCold, prefixed("build.cold.")},
		{"emulator", b.emulatorParts, prefixed("plan.", "discovery.", "scale.plan.", "scale.disc1000.")},
	}
	if *withMakeTest {
		plan = append(plan, part{"make-test", b.makeTest, prefixed("maketest.")})
	} else {
		b.res.Skip("not in the default run (-with-make-test)", prefixed("maketest.")...)
	}
	if previous != nil {
		for _, p := range plan {
			if b.skip[p.name] {
				keep(b.res, previous, p.keys)
			}
		}
	}
	failed := false
	for _, p := range plan {
		if b.skip[p.name] {
			b.res.Skip("skipped (-skip "+p.name+")", p.keys...)
			continue
		}
		if p.name == "emulator" && previous != nil {
			for _, sub := range []struct{ part, prefix string }{{"plan", "plan."}, {"discovery", "discovery."}, {"scale-plan", "scale.plan."}, {"disc1000", "scale.disc1000."}} {
				if b.skip[sub.part] {
					keep(b.res, previous, prefixed(sub.prefix))
				}
			}
		}
		logf("== %s", p.name)
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
	logf("wrote %s and %s in %s", *out, *jsonOut, time.Since(start).Round(time.Second))
	if failed {
		return 1
	}
	return 0
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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

// iterations runs fn warmup+runs times and records the measured runs'
// values under the keys fn returns (the warm-up's under Warmup).
func (b *bencher) iterations(fn func(i int) (map[string]float64, error), units map[string]string) error {
	return b.iterationsN(b.runs, fn, units)
}

// iterationsN is iterations with runs measured runs.
func (b *bencher) iterationsN(runs int, fn func(i int) (map[string]float64, error), units map[string]string) error {
	for i := 0; i < b.warmup+runs; i++ {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		vals, err := fn(i)
		if err != nil {
			return err
		}
		for k, v := range vals {
			m := b.res.Metric(k, units[k])
			m.Unit = units[k]
			if i < b.warmup {
				m.Warmup = append(m.Warmup, v)
			} else {
				m.Values = append(m.Values, v)
			}
		}
		logf("  run %d/%d: %s", i+1, b.warmup+runs, describe(vals, units))
	}
	return nil
}

func describe(vals map[string]float64, units map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(vals) {
		parts = append(parts, k+"="+bench.Format(vals[k], units[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]float64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
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
func machine(busy string) bench.Machine {
	m := bench.Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadAvg(), BusyNote: busy}
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

func freePort() (int, error) { return proc.FreePort() }
