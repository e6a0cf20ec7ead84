package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Row is one line of a results table: a metric by key.
type Row struct {
	Label, Key string
}

// RatioRow is median(Num)/median(Den), both measured in the same run.
type RatioRow struct {
	Label, Num, Den string
}

// Section is one part of BENCHMARKS.md.
type Section struct {
	Title  string
	Method string
	Rows   []Row
	Ratios []RatioRow
}

// Sections are the parts of BENCHMARKS.md, in order. The metric keys are
// the ones cmd/bench records.
var Sections = []Section{
	{
		Title: "1. Synth: wall time and peak memory",
		Method: "The default stack: `bin/prometheus-aws` (built by `make build`) with `CDKTF_OUTDIR=<temp>`, default settings, " +
			"`JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20`. The floor is `bench/floor`: a cdktf Go app that loads the same " +
			"AWS provider bindings and synthesizes only the provider and one VPC, so it pays jsii start-up and the provider load and " +
			"nothing of this project. Peak memory: `VmHWM` from `/proc/<pid>/status`, polled every 20 ms, of the Go process and of " +
			"its `node` child (the jsii runtime); \"largest process\" is `ru_maxrss` from wait4 after exit (the largest of the process " +
			"and its reaped descendants). `cdktf synth` (the CLI) is timed only when `cdktf` is on PATH.",
		Rows: []Row{
			{"synth, default stack: wall", "synth.app.wall"},
			{"synth, default stack: Go process peak (VmHWM)", "synth.app.go_hwm"},
			{"synth, default stack: node child peak (VmHWM)", "synth.app.node_hwm"},
			{"synth, default stack: largest process (ru_maxrss)", "synth.app.maxrss"},
			{"floor (provider + 1 resource): wall", "synth.floor.wall"},
			{"floor: Go process peak (VmHWM)", "synth.floor.go_hwm"},
			{"floor: node child peak (VmHWM)", "synth.floor.node_hwm"},
			{"floor: largest process (ru_maxrss)", "synth.floor.maxrss"},
			{"`cdktf synth` (CLI): wall", "synth.cli.wall"},
			{"`cdktf synth` (CLI): largest process (ru_maxrss)", "synth.cli.maxrss"},
		},
		Ratios: []RatioRow{
			{"synth wall / floor wall", "synth.app.wall", "synth.floor.wall"},
			{"synth node peak / floor node peak", "synth.app.node_hwm", "synth.floor.node_hwm"},
			{"synth Go peak / floor Go peak", "synth.app.go_hwm", "synth.floor.go_hwm"},
			{"`cdktf synth` wall / `bin/prometheus-aws` wall", "synth.cli.wall", "synth.app.wall"},
		},
	},
	{
		Title: "2. go build",
		Method: "`go build -o <temp>/prometheus-aws .` in the repository, `GOFLAGS=-mod=readonly GOPROXY=off`. Warm: the normal " +
			"build cache after a warm-up build (what a developer's rebuild costs: mostly the link). Cold: `GOCACHE=<fresh temp dir>` " +
			"for each run, which compiles everything, including the large generated AWS provider bindings; the module cache stays. " +
			"When one cold build takes more than 5 minutes, only that one run is made (the note says so).",
		Rows: []Row{
			{"go build, warm cache", "build.warm.wall"},
			{"go build, cold cache", "build.cold.wall"},
		},
		Ratios: []RatioRow{{"cold / warm", "build.cold.wall", "build.warm.wall"}},
	},
	{
		Title: "3. terraform plan against the emulator (no changes)",
		Method: "Inside the loopback-only network namespace (`scripts/netns.sh`): moto (internal/emulator), the default stack " +
			"synthesized with the local profile (`PROMAWS_ENDPOINT` = the emulator), `terraform init` and `apply` through " +
			"internal/tfenv as the end-to-end tests do, then `terraform plan -detailed-exitcode` timed; every timed plan must " +
			"report no changes. Per resource: median plan time divided by the managed resources in the state (data sources " +
			"are refreshed too and counted separately).",
		Rows: []Row{
			{"plan, default stack (2 nodes)", "plan.default.wall"},
			{"managed resources in the state", "plan.default.resources"},
			{"data sources", "plan.default.data_sources"},
			{"plan time per managed resource", "plan.default.per_resource"},
		},
	},
	{
		Title: "4. Discovery latency in the emulator",
		Method: "A local Prometheus 3 runs the generated configuration with the local overlay (internal/localprom, as the " +
			"end-to-end tests do) against the applied default stack. Each run starts one instance with `ec2 RunInstances` " +
			"carrying the discovery tag; the clock starts when `DescribeInstances` shows it `running` and stops when its target " +
			"appears in `/api/v1/targets` (discovered) and when it is `up` (first successful scrape). The API is polled every " +
			"250 ms, so values are ±0.25 s. The instance is terminated after each run. Runs follow each other, so each starts at " +
			"an arbitrary point of the refresh cycle. Shipped intervals: refresh 60s, scrape 30s; short: 5s and 5s.",
		Rows: []Row{
			{"shipped intervals (refresh 60s, scrape 30s): discovered", "discovery.shipped.discovered"},
			{"shipped intervals: up", "discovery.shipped.up"},
			{"short intervals (refresh 5s, scrape 5s): discovered", "discovery.short.discovered"},
			{"short intervals: up", "discovery.short.up"},
		},
		Ratios: []RatioRow{
			{"shipped up / short up", "discovery.shipped.up", "discovery.short.up"},
		},
	},
	{
		Title: "5. Scale",
		Method: "Synth: `bin/prometheus-aws` with `PROMAWS_NODE_COUNT` = 1, 10, 100 (AWS profile, as in section 1). Plan: " +
			"the local-profile stack applied to the emulator with that node count (the Auto Scaling group then runs that many " +
			"emulated instances), then timed no-change plans as in section 3. Discovery of 1,000: that many tagged instances are " +
			"started in batches of 100 while Prometheus runs (refresh 5s, shipped scrape interval 30s: 1,000 targets at 5s " +
			"would make the one shared local node_exporter the bottleneck); the clock starts when the last batch is running and " +
			"stops when all 1,000 are targets and when all are up (launching takes longer than one refresh, so most are " +
			"discovered while the launch is still running: the launch row shows how long it took). Prometheus memory: `VmRSS` of the Prometheus process at " +
			"that moment, against its `VmRSS` with only the stack's nodes as targets just before the launch. Each run " +
			"uses a fresh Prometheus (its memory would keep the earlier runs' series) and terminates its instances.",
		Rows: []Row{
			{"synth, 1 node", "scale.synth.n1"},
			{"synth, 10 nodes", "scale.synth.n10"},
			{"synth, 100 nodes", "scale.synth.n100"},
			{"plan, 1 node", "scale.plan.n1"},
			{"plan, 10 nodes", "scale.plan.n10"},
			{"plan, 100 nodes", "scale.plan.n100"},
			{"1,000 tagged instances: launch (first RunInstances to all running)", "scale.disc1000.launch"},
			{"1,000 tagged instances: all discovered", "scale.disc1000.discovered"},
			{"1,000 tagged instances: all up", "scale.disc1000.up"},
			{"Prometheus VmRSS before the launch", "scale.disc1000.rss_before"},
			{"Prometheus VmRSS with 1,000 more targets", "scale.disc1000.rss"},
		},
		Ratios: []RatioRow{
			{"synth 100 nodes / 1 node", "scale.synth.n100", "scale.synth.n1"},
			{"plan 100 nodes / 1 node", "scale.plan.n100", "scale.plan.n1"},
			{"Prometheus VmRSS with 1,000 targets / before", "scale.disc1000.rss", "scale.disc1000.rss_before"},
		},
	},
	{
		Title: "6. make test (only with -with-make-test)",
		Method: "Too long for the default bench (tens of minutes per run), so not measured unless `make bench " +
			"BENCH_FLAGS=-with-make-test`; then one run each, no warm-up: cold with `GOCACHE=<fresh temp dir>` (build and " +
			"test caches empty), warm right after it with the normal cache. By hand: `time make test` twice, the first with " +
			"`GOCACHE=$(mktemp -d)`.",
		Rows: []Row{
			{"make test, cold build and test cache", "maketest.cold.wall"},
			{"make test, warm", "maketest.warm.wall"},
		},
		Ratios: []RatioRow{{"cold / warm", "maketest.cold.wall", "maketest.warm.wall"}},
	},
}

// Keys are every metric key of Sections, in order.
func Keys() []string {
	var keys []string
	for _, s := range Sections {
		for _, r := range s.Rows {
			keys = append(keys, r.Key)
		}
	}
	return keys
}

// Render writes BENCHMARKS.md for r. The text depends only on the
// recorded values and skip reasons, so a rerun changes only numbers.
func Render(w io.Writer, r *Results) error {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("<!-- Generated by `make bench` (cmd/bench) from bench/results.json; edit bench/render.go, not this file. -->\n\n")
	fmt.Fprintf(&b, "Measured %s with `%s` in %.0f minutes. Every value is the median of %d runs after %d warm-up run(s) "+
		"unless its row says otherwise; min and max are of the same runs. Ratios divide medians measured in the same bench run. "+
		"Raw samples: [bench/results.json](bench/results.json).\n\n", r.Date, r.Command, r.Duration/60, r.Runs, r.Warmup)

	m := r.Machine
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| CPU | %s, %d cores |\n", m.CPU, m.Cores)
	fmt.Fprintf(&b, "| Memory | %d MiB |\n", m.MemoryMiB)
	fmt.Fprintf(&b, "| Kernel | %s |\n", m.Kernel)
	fmt.Fprintf(&b, "| Go / Node.js / Terraform | %s / %s / %s |\n", m.Go, m.Node, m.Terraform)
	fmt.Fprintf(&b, "| Load average (1 min) at start / end | %.2f / %.2f |\n", m.LoadStart, m.LoadEnd)
	b.WriteString("\n")
	if m.BusyNote != "" {
		fmt.Fprintf(&b, "**The machine was busy:** %s. Absolute times are therefore pessimistic; ratios, measured side by side, are the more reliable numbers.\n\n", m.BusyNote)
	} else if m.LoadStart > float64(m.Cores) || m.LoadEnd > float64(m.Cores) {
		b.WriteString("**The machine was busy** (load average above the core count): absolute times are pessimistic; ratios, measured side by side, are the more reliable numbers.\n\n")
	}

	for _, s := range Sections {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.Title, s.Method)
		b.WriteString("| Measurement | Median | Min | Max | Runs |\n|---|---:|---:|---:|---:|\n")
		var notes []string
		for _, row := range s.Rows {
			met := r.Lookup(row.Key)
			switch {
			case met == nil:
				fmt.Fprintf(&b, "| %s | not measured | | | 0 |\n", row.Label)
			case len(met.Values) == 0:
				why := met.Skipped
				if why == "" {
					why = "not measured"
				}
				fmt.Fprintf(&b, "| %s | %s | | | 0 |\n", row.Label, why)
			default:
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", row.Label,
					Format(met.Median(), met.Unit), Format(met.Min(), met.Unit), Format(met.Max(), met.Unit), len(met.Values))
			}
			if met != nil && met.Note != "" {
				notes = append(notes, fmt.Sprintf("%s: %s.", row.Label, met.Note))
			}
		}
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(notes) > 0 {
			b.WriteString("\n")
		}
		if len(s.Ratios) > 0 {
			b.WriteString("| Ratio (same run) | Value |\n|---|---:|\n")
			for _, q := range s.Ratios {
				v := "–"
				if x, ok := r.Ratio(q.Num, q.Den); ok {
					v = strconv.FormatFloat(x, 'f', 2, 64) + "×"
				}
				fmt.Fprintf(&b, "| %s | %s |\n", q.Label, v)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
