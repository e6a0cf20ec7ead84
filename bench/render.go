package bench

import (
	"fmt"
	"io"
	"math"
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
			"nothing of this project; the two alternate run by run, so changing load hits both alike (target: synth within 1.25× " +
			"of the floor). Peak memory: `VmHWM` from `/proc/<pid>/status`, polled every 20 ms, of the Go process and of " +
			"its `node` child (the jsii runtime); \"largest process\" is `ru_maxrss` from wait4 after exit (the largest of the process " +
			"and its reaped descendants). `cdktf synth` is the CLI (`cdktf-cli` of the cdktf version in go.mod, which " +
			"`make tools-bench` installs from npm into the tools cache) running the app of cdktf.json (`go run .`), inside the " +
			"loopback-only network namespace with `CHECKPOINT_DISABLE=1` (no telemetry; cdktf.json turns crash reports off).",
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
			"for each run, which compiles everything, including the large generated AWS provider bindings; the module cache stays.",
		Rows: []Row{
			{"go build, warm cache", "build.warm.wall"},
			{"go build, cold cache", "build.cold.wall"},
		},
		Ratios: []RatioRow{{"cold / warm", "build.cold.wall", "build.warm.wall"}},
	},
	{
		Title: "3. make plan and terraform plan against the emulator (no changes)",
		Method: "Inside the loopback-only network namespace (`scripts/netns.sh`): moto (internal/emulator), the default stack " +
			"synthesized with the local profile (`PROMAWS_ENDPOINT` = the emulator), `terraform init` and `apply` through " +
			"internal/tfenv as the end-to-end tests do. Then, each run, what `make plan` runs, warm: synth (`bin/prometheus-aws` " +
			"into the same `cdktf.out`), `terraform init`, `terraform plan -detailed-exitcode`, each timed; every plan must report " +
			"no changes (target: the whole under 30 s). Per resource: the plan time divided by the managed resources in the state " +
			"(data sources are refreshed too and counted separately). No hand-written HCL twin of the stack is kept, so plan time " +
			"per resource is the comparison.",
		Rows: []Row{
			{"make plan: synth + init + plan, default stack (2 nodes)", "plan.make.total"},
			{"make plan: synth (local profile)", "plan.make.synth"},
			{"make plan: terraform init (initialised already)", "plan.make.init"},
			{"make plan: terraform plan, no changes", "plan.default.wall"},
			{"managed resources in the state", "plan.default.resources"},
			{"data sources", "plan.default.data_sources"},
			{"plan time per managed resource", "plan.default.per_resource"},
		},
	},
	{
		Title: "4. Discovery latency in the emulator",
		Method: "A local Prometheus 3 runs the generated configuration with the local overlay (internal/localprom, as the " +
			"end-to-end tests do) against the applied default stack; its warm-up is its first refresh, which must show the " +
			"stack's own nodes. Then it gets one tagged instance (`ec2 RunInstances`) every refresh interval divided by the " +
			"number of runs, so that the launches fall evenly over the refresh cycle, as a node launched at any moment would; " +
			"the clock of each starts when `DescribeInstances` shows it `running` and stops when its target appears in " +
			"`/api/v1/targets` (discovered) and when it is `up` (first successful scrape). The API is polled every 250 ms, so " +
			"values are ±0.25 s. Discovery adds Prometheus's own batching of target updates (up to 5 s) to the refresh " +
			"interval. Shipped intervals: refresh 60s, scrape 30s (the `refreshInterval` and `scrapeInterval` settings); short: " +
			"5s and 5s. The two run side by side, each with its own Prometheus, on the same emulator.",
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
			"the local-profile stack synthesized with that node count and planned against the default stack applied in " +
			"section 3 (2 nodes), as someone changing `nodeCount` plans before applying: the nodes are one Auto Scaling group, " +
			"so the plan is one in-place update of it (checked: changes exactly when the count differs from 2) and Terraform " +
			"reads the same resources whatever the count; the counts are planned in turn, run by run. Discovery of 1,000: that many tagged instances are " +
			"started in batches of 100 while Prometheus runs (refresh 5s, shipped scrape interval 30s); every target is scraped " +
			"from one local server that replays a page of a real node_exporter (the one `make tools` builds), so each target " +
			"adds node_exporter's series while one process serving a thousand scrapes is not what is timed. The clock starts " +
			"when the last batch is running and stops when all 1,000 are targets and when all are up (launching takes longer " +
			"than one refresh, so most are discovered while the launch is still running: the launch row shows how long it " +
			"took). Prometheus memory: `VmRSS` of the Prometheus process at that moment (one scrape of each target), against " +
			"its `VmRSS` with only the stack's nodes as targets just before the launch. Each run uses a fresh Prometheus and " +
			"terminates its instances.",
		Rows: []Row{
			{"synth, 1 node", "scale.synth.n1"},
			{"synth, 10 nodes", "scale.synth.n10"},
			{"synth, 100 nodes", "scale.synth.n100"},
			{"plan, 1 node (from the applied 2)", "scale.plan.n1"},
			{"plan, 10 nodes (from the applied 2)", "scale.plan.n10"},
			{"plan, 100 nodes (from the applied 2)", "scale.plan.n100"},
			{"1,000 tagged instances: launch (first RunInstances to all running)", "scale.disc1000.launch"},
			{"1,000 tagged instances: all discovered", "scale.disc1000.discovered"},
			{"1,000 tagged instances: all up", "scale.disc1000.up"},
			{"series per target (node_exporter page)", "scale.disc1000.series_per_target"},
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
		Title: "6. make test",
		Method: "`make test` takes longer than this whole bench, so the bench does not run it: `make test` times itself " +
			"(scripts/record-make-test.sh, around its steps including `make tools`) and, when it passes, records its wall time " +
			"with the date, the commit and the state of the caches it started from in `~/.cache/prometheus-aws/records/`; " +
			"`make bench` shows the latest record of each state (or keeps the one in bench/results.json when that is newer). " +
			"Cold: the Go build cache and the tools cache (Prometheus, promtool, node_exporter) were empty, as on a fresh CI " +
			"machine; the Go module cache is kept (downloads measure the network). Warm: both filled, e.g. a repeat run. " +
			"`make bench-test` makes both records, cold with fresh temporary caches and then warm with the same caches again; " +
			"any developer's or CI's `make test` from filled caches renews the warm one. No test has a timed assertion.",
		Rows: []Row{
			{"make test, cold (empty Go build cache and tools cache)", "maketest.cold.wall"},
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
// recorded values, skip reasons and notes, so a rerun with the same flags
// changes only numbers (and the commit).
func Render(w io.Writer, r *Results) error {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("<!-- Generated by `make bench` (cmd/bench) from bench/results.json; edit bench/render.go, not this file. -->\n\n")
	fmt.Fprintf(&b, "Measured %s at commit %s with `%s` in %.1f minutes (the last section says where the time went). "+
		"Every value is the median of the measured runs that its Runs column counts, taken after %d warm-up run(s) unless "+
		"its note says otherwise; min and max are of the same runs. Ratios divide medians measured in the same bench run. "+
		"Raw samples: [bench/results.json](bench/results.json).\n\n", r.Date, r.Commit, r.Command, r.Duration/60, r.Warmup)

	m := r.Machine
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| CPU | %s, %d cores |\n", m.CPU, m.Cores)
	fmt.Fprintf(&b, "| Memory | %d MiB |\n", m.MemoryMiB)
	fmt.Fprintf(&b, "| Kernel | %s |\n", m.Kernel)
	fmt.Fprintf(&b, "| Go / Node.js / Terraform | %s / %s / %s |\n", m.Go, m.Node, m.Terraform)
	fmt.Fprintf(&b, "| Load average (1 min) during the bench, sampled every %.0f s: median / max | %.2f / %.2f |\n",
		m.LoadEvery, Median(m.Load), extreme(m.Load, math.Max))
	b.WriteString("\nA load average above the core count means other work competed for the CPU (the machine is shared): " +
		"absolute times are then pessimistic, while ratios, measured side by side, hold better.\n\n")

	for _, s := range Sections {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.Title, s.Method)
		b.WriteString("| Measurement | Median | Min | Max | Runs |\n|---|---:|---:|---:|---:|\n")
		// Notes in row order; rows sharing a note share its line.
		var notes []string
		labels := map[string][]string{}
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
				if labels[met.Note] == nil {
					notes = append(notes, met.Note)
				}
				labels[met.Note] = append(labels[met.Note], row.Label)
			}
		}
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s: %s.\n", strings.Join(labels[n], "; "), n)
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
	b.WriteString("## 7. Where the bench's time goes\n\nWall time of each part of this bench run, in order (warm-up runs included).\n\n")
	b.WriteString("| Part | Wall |\n|---|---:|\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "| %s | %s |\n", p.Name, Format(p.Seconds, Seconds))
	}
	fmt.Fprintf(&b, "| whole bench | %s |\n", Format(r.Duration, Seconds))
	_, err := io.WriteString(w, b.String())
	return err
}
