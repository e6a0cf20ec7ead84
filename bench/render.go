package bench

import (
	"fmt"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"io"
	"math"
	"strconv"
	"strings"
)

// Row is one line of a results table: a metric by key, with a note when
// its runs differ from the header's rule (else the metric's own note, if
// any, is shown).
type Row struct {
	Label, Key, Note string
}

// fewer starts the note of a value measured in fewer runs than -runs.
const fewer = "fewer runs than the other rows, to keep `make bench` under 15 minutes: "

// Notes of the rows measured differently.
const (
	noteScaleSynth = fewer + "synth does not depend on the node count (one Auto Scaling group), and section 1's default " +
		"stack is the precise figure; no warm-up run of its own (section 1's warm-up runs the same program)"
	noteCLI = fewer + "each is a whole synth plus the CLI's own start-up; no warm-up run (section 1 warmed the same " +
		"program, and `make build` the build cache that `go run` uses)"
	noteCold = fewer + "each compiles the AWS provider bindings, one minute on an idle machine and two on a busy one; no " +
		"warm-up run (a cold build has nothing to warm)"
	notePlan      = "no separate warm-up run: the apply just before ran the same synth, init and refresh"
	noteDiscovery = "the runs are instances launched at equal steps across one refresh interval (the interval divided by " +
		"the number of runs: 12 s for the shipped intervals, 1 s for the short ones with 5 runs), into one Prometheus per " +
		"interval setting; no warm-up instance (the warm-up is Prometheus's first refresh)"
	noteScalePlan = fewer + "section 3's plans are the precise figure; no warm-up run (the make plan runs just before " +
		"warmed Terraform, the provider and the emulator)"
	noteSizing = "one run: a run probes fleets of hundreds to thousands of instances, each on a fresh task (20 to 30 minutes); " +
		"measured on 2 cores while make test ran beside it, which slows Prometheus's collection: to renew on an idle machine; " +
		"\"killed at\" 0 means the last step still held"
	noteSoak = "one run of two hours, the four fleets at once on 2 cores (make bench-soak), with a CI run (.ci/run's make test) " +
		"beside it for its first hour (load average up to 44 on 2 cores): Prometheus then missed some readings' 20 s"
	noteMany = fewer + "each run launches the 1,000 instances anew (one to two minutes); no warm-up run (each run " +
		"starts a fresh Prometheus, which first discovers the stack's own nodes)"
)

// SoakFleets are the soak part's fleets (targets, one task each).
var SoakFleets = []int{192, 256, 320, 384}

// SoakMinutes is the soak's length that make bench-soak asks for.
const SoakMinutes = 120

func soakRows() []Row {
	var rows []Row
	for _, n := range SoakFleets {
		key := func(what string) string { return "soak." + strconv.Itoa(n) + "." + what }
		rows = append(rows,
			Row{fmt.Sprintf("%d targets: minutes held (of %d)", n, SoakMinutes), key("minutes"), noteSoak},
			Row{fmt.Sprintf("%d targets: peak memory", n), key("peak"), noteSoak},
			Row{fmt.Sprintf("%d targets: RSS early", n), key("rss_early"), noteSoak},
			Row{fmt.Sprintf("%d targets: RSS at the end", n), key("rss_end"), noteSoak},
			Row{fmt.Sprintf("%d targets: most RSS over the soak", n), key("rss_max"), noteSoak},
			Row{fmt.Sprintf("%d targets: head series", n), key("series"), noteSoak},
			Row{fmt.Sprintf("%d targets: heap in use early", n), key("heap_early"), noteSoak},
			Row{fmt.Sprintf("%d targets: heap in use at the end", n), key("heap_end"), noteSoak},
		)
	}
	return rows
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
			{"synth, default stack: wall", "synth.app.wall", ""},
			{"synth, default stack: Go process peak (VmHWM)", "synth.app.go_hwm", ""},
			{"synth, default stack: node child peak (VmHWM)", "synth.app.node_hwm", ""},
			{"synth, default stack: largest process (ru_maxrss)", "synth.app.maxrss", ""},
			{"floor (provider + 1 resource): wall", "synth.floor.wall", ""},
			{"floor: Go process peak (VmHWM)", "synth.floor.go_hwm", ""},
			{"floor: node child peak (VmHWM)", "synth.floor.node_hwm", ""},
			{"floor: largest process (ru_maxrss)", "synth.floor.maxrss", ""},
			{"`cdktf synth` (CLI): wall", "synth.cli.wall", noteCLI},
			{"`cdktf synth` (CLI): largest process (ru_maxrss)", "synth.cli.maxrss", noteCLI},
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
			{"go build, warm cache", "build.warm.wall", ""},
			{"go build, cold cache", "build.cold.wall", noteCold},
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
			{"make plan: synth + init + plan, default stack (2 nodes)", "plan.make.total", notePlan},
			{"make plan: synth (local profile)", "plan.make.synth", notePlan},
			{"make plan: terraform init (initialised already)", "plan.make.init", notePlan},
			{"make plan: terraform plan, no changes", "plan.default.wall", notePlan},
			{"managed resources in the state", "plan.default.resources", ""},
			{"data sources", "plan.default.data_sources", ""},
			{"plan time per managed resource", "plan.default.per_resource", notePlan},
		},
	},
	{
		Title: "4. Discovery latency in the emulator",
		Method: "The Prometheus task of the applied default stack runs as Fargate would run it (internal/fargate, as the " +
			"end-to-end tests and the demo do: the service's task definition, the official image's replica, the task role), " +
			"its configuration parameter set to the intervals under test before it starts; its warm-up is its first refresh, which must show the " +
			"stack's own nodes. Then it gets one tagged instance (`ec2 RunInstances`) every refresh interval divided by the " +
			"number of runs, so that the launches fall evenly over the refresh cycle, as a node launched at any moment would; " +
			"the clock of each starts when `DescribeInstances` shows it `running` and stops when its target appears in " +
			"`/api/v1/targets` (discovered) and when it is `up` (first successful scrape). The API is polled every 250 ms, so " +
			"values are ±0.25 s. Discovery adds Prometheus's own batching of target updates (up to 5 s) to the refresh " +
			"interval. Shipped intervals: refresh 60s, scrape 30s (the `refreshInterval` and `scrapeInterval` settings); short: " +
			"5s and 5s. The two run one after the other, each with its own task, on the same emulator (two tasks of the EFS stack cannot share its TSDB).",
		Rows: []Row{
			{"shipped intervals (refresh 60s, scrape 30s): discovered", "discovery.shipped.discovered", noteDiscovery},
			{"shipped intervals: up", "discovery.shipped.up", noteDiscovery},
			{"short intervals (refresh 5s, scrape 5s): discovered", "discovery.short.discovered", noteDiscovery},
			{"short intervals: up", "discovery.short.up", noteDiscovery},
		},
		Ratios: []RatioRow{
			{"shipped up / short up", "discovery.shipped.up", "discovery.short.up"},
		},
	},
	{
		Title: "4b. Configuration change to live, in place",
		Method: "On the same applied default stack, one Prometheus task runs as Fargate would (section 4), config-sync " +
			"sidecar included (shipped intervals). Each run synthesizes the stack with another `scrapeInterval` (31s, 32s, " +
			"...) and applies it, which updates the prometheus.yml parameter in place and nothing else; the clock starts when " +
			"`terraform apply` returns and stops when `/api/v1/status/config` of the running task serves the new interval " +
			"(polled every 250 ms). That is one config-sync round (every " + strconv.Itoa(taskcontract.ConfigSyncIntervalSeconds) +
			" s) plus one auto-reload check (every " + taskcontract.AutoReloadInterval + "), so values spread over that range; the bound is " +
			strconv.Itoa(taskcontract.ConfigLiveBoundSeconds) + " s. The path it replaces: the task stopped (SIGTERM, TSDB closed) " +
			"and a new one started until `/-/ready`, here without what ECS adds on AWS (scheduling, the image pull, a " +
			"deployment's wait for the old task to stop), so a lower bound of a restart.",
		Rows: []Row{
			{"configuration change: end of terraform apply to served", "reload.live", ""},
			{"the apply itself (synth + terraform apply of the parameter)", "reload.apply", ""},
			{"task replacement it replaces: stop, start, ready (local lower bound)", "reload.restart", ""},
		},
	},
	{
		Title: "5. Scale",
		Method: "Synth: `bin/prometheus-aws` with `PROMAWS_NODE_COUNT` = 1, 10, 100 (AWS profile, as in section 1). Plan: " +
			"the local-profile stack synthesized with that node count and planned against the default stack applied in " +
			"section 3 (2 nodes), as someone changing `nodeCount` plans before applying: the nodes are one Auto Scaling group, " +
			"so the plan is one in-place update of it (checked: changes exactly when the count differs from 2) and Terraform " +
			"reads the same resources whatever the count; the counts are planned in turn, run by run. Discovery of 1,000: that many tagged instances are " +
			"started in batches of 100 while Prometheus runs (refresh 5s, shipped scrape interval 30s; its task at 1 vCPU and 4 GiB, " +
			"as the default 1 GiB task holds fewer than 1,000 targets under its enforced memory limit: section 5b); every target is scraped " +
			"from one local server that replays a page of a real node_exporter (the one `make tools` builds), so each target " +
			"adds node_exporter's series while one process serving a thousand scrapes is not what is timed. The clock starts " +
			"when the last batch is running and stops when all 1,000 are targets and when all are up (launching takes longer " +
			"than one refresh, so most are discovered while the launch is still running: the launch row shows how long it " +
			"took). Prometheus memory: `VmRSS` of the Prometheus process at that moment (one scrape of each target), against " +
			"its `VmRSS` with only the stack's nodes as targets (discovered) just before the launch. Each run uses a fresh Prometheus and " +
			"terminates its instances.",
		Rows: []Row{
			{"synth, 1 node", "scale.synth.n1", noteScaleSynth},
			{"synth, 10 nodes", "scale.synth.n10", noteScaleSynth},
			{"synth, 100 nodes", "scale.synth.n100", noteScaleSynth},
			{"plan, 1 node (from the applied 2)", "scale.plan.n1", noteScalePlan},
			{"plan, 10 nodes (from the applied 2)", "scale.plan.n10", noteScalePlan},
			{"plan, 100 nodes (from the applied 2)", "scale.plan.n100", noteScalePlan},
			{"1,000 tagged instances: launch (first RunInstances to all running)", "scale.disc1000.launch", noteMany},
			{"1,000 tagged instances: all discovered", "scale.disc1000.discovered", noteMany},
			{"1,000 tagged instances: all up", "scale.disc1000.up", noteMany},
			{"series per target (node_exporter page)", "scale.disc1000.series_per_target", noteMany},
			{"Prometheus VmRSS before the launch", "scale.disc1000.rss_before", noteMany},
			{"Prometheus VmRSS with 1,000 more targets", "scale.disc1000.rss", noteMany},
		},
		Ratios: []RatioRow{
			{"synth 100 nodes / 1 node", "scale.synth.n100", "scale.synth.n1"},
			{"plan 100 nodes / 1 node", "scale.plan.n100", "scale.plan.n1"},
			{"Prometheus VmRSS with 1,000 targets / before", "scale.disc1000.rss", "scale.disc1000.rss_before"},
		},
	},
	{
		Title: "5b. Sizing under the task's memory limit",
		Method: "The largest fleet each Fargate task size holds, measured under the limit the local runner enforces as Fargate " +
			"does (internal/fargate: the task's memory a hard cgroup limit, its cpu a CFS quota; a container the kernel kills " +
			"for memory is reported as ECS's OutOfMemoryError). One Prometheus task per size, the stack's own task definition " +
			"at that size (cmd/bench/sizing.go); its targets are tagged instances scraped from the replay of section 5 (a real " +
			"node_exporter page), refresh 10s, scrape 10s. Each probe starts a fresh task with the whole fleet already there, as " +
			"a replaced task starts on AWS (growing into a fleet needs less: a 1 GiB task that grew to 768 targets was killed " +
			"restarting with them), and holds it for 3 scrapes once every target is up; the fleet grows by an eighth of the " +
			"task's memory in MiB per probe (128 targets for 1 GiB) until the kernel kills Prometheus for memory (\"killed at\") " +
			"or 12 probes have held. The largest fleet held then runs on a fresh task for a 3-minute soak, which it must survive " +
			"(else the step below is the one held), and \"peak\" is the task cgroup's `memory.max_usage_in_bytes` over it (page " +
			"cache included, as the limit counts it). Prometheus 3 sets its Go memory limit to 90% of the cgroup's, so it " +
			"collects harder before it is killed. The soak is bounded: the head grows until its first compaction (after three " +
			"hours); section 5c scrapes fleets up to the 1 GiB task's \"held\" for two hours.",
		Rows: []Row{
			{"series per target (node_exporter page)", "sizing.series_per_target", noteSizing},
			{"0.5 vCPU, 1 GiB: largest fleet held (targets)", "sizing.1024.held", noteSizing},
			{"0.5 vCPU, 1 GiB: killed for memory at (targets)", "sizing.1024.killed_at", noteSizing},
			{"0.5 vCPU, 1 GiB: peak memory, soak of the fleet held", "sizing.1024.peak", noteSizing},
			{"1 vCPU, 2 GiB: largest fleet held (targets)", "sizing.2048.held", noteSizing},
			{"1 vCPU, 2 GiB: killed for memory at (targets)", "sizing.2048.killed_at", noteSizing},
			{"1 vCPU, 2 GiB: peak memory, soak of the fleet held", "sizing.2048.peak", noteSizing},
		},
	},
	{
		Title: "5c. Two hours on the default task size",
		Method: "The sizing part's fleets held 3 minutes; the head grows until its first compaction, so `make bench-soak` runs " +
			"fleets on the default task size (0.5 vCPU, 1 GiB, its memory enforced as in 5b) for two hours of scraping: each " +
			"fleet on a task of its own stack (tasks of one stack share its configuration parameter and EFS folder), all at " +
			"once (cmd/bench/soak.go), the fleets bracketing the sizing rule's fleet for this " +
			"size (docs/cost.md, Sizing) and 5b's 3-minute figure; targets as in 5b, refresh 30s, scrape 10s. \"minutes held\" " +
			"counts from the moment every target was up to the end of the soak (120) or the kill for memory. \"peak\" is the " +
			"task cgroup's `memory.max_usage_in_bytes`, page cache included: the cache of the TSDB's files fills toward the limit " +
			"and the kernel reclaims it before it kills, so a peak near the limit is not a near kill. RSS is the task " +
			"cgroup's anonymous memory (`total_rss`: Prometheus's heap and stacks; the page cache of its TSDB files, which the " +
			"kernel reclaims before it kills, is left out), read 3 minutes after every target was up (\"early\") and at the " +
			"end; heap is Prometheus's `go_memstats_heap_inuse_bytes` at the same moments (early: the first reading from 3 " +
			"minutes on that Prometheus answered within 20 s; end: its last answer). The minute-by-minute readings are in bench/soak.csv, blank where Prometheus did not answer.",
		Rows: soakRows(),
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
			"any developer's or CI's `make test` from filled caches renews the warm one. No test has a timed assertion. " +
			"The suite is CPU-bound, so its wall time depends on the machine as much as on the tests: the same tests took " +
			"1,360 s warm on one 2-core machine (commit 6a8da17) and 554 s on another (b301ccc, 2026-12-07); " +
			"a record names its processor and the CPU-seconds the run used (from 2026-12-07 on), which tell a slower " +
			"machine from a slower suite.",
		Rows: []Row{
			{"make test, cold (empty Go build cache and tools cache)", "maketest.cold.wall", ""},
			{"make test, warm", "maketest.warm.wall", ""},
		},
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
		// Notes are footnotes (a), (b), … in the Runs column, one per
		// distinct note of the section.
		var notes []string
		marks := map[string]string{}
		for _, row := range s.Rows {
			met := r.Lookup(row.Key)
			// The row's note says how its runs were made: none without runs.
			note := row.Note
			if met == nil || len(met.Values) == 0 {
				note = ""
			}
			if note == "" && met != nil {
				note = met.Note
			}
			if strings.HasPrefix(row.Key, "scale.disc1000.") && r.Instances > 0 && r.Instances != 1000 {
				note += fmt.Sprintf("; measured with %d instances (-instances), not 1,000", r.Instances)
			}
			mark := ""
			if note != "" {
				if marks[note] == "" {
					notes = append(notes, note)
					marks[note] = fmt.Sprintf("(%c)", 'a'+len(notes)-1)
				}
				mark = " " + marks[note]
			}
			switch {
			case met == nil:
				fmt.Fprintf(&b, "| %s | not measured | | | 0 |\n", row.Label)
			case len(met.Values) == 0:
				why := met.Skipped
				if why == "" {
					why = "not measured"
				}
				fmt.Fprintf(&b, "| %s | %s | | | 0%s |\n", row.Label, why, mark)
			default:
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %d%s |\n", row.Label,
					Format(met.Median(), met.Unit), Format(met.Min(), met.Unit), Format(met.Max(), met.Unit), len(met.Values), mark)
			}
		}
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s %s.\n", marks[n], n)
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
	renderFaults(&b, r.Faults)
	b.WriteString("## 7. Where the bench's time goes\n\nWall time of each part of this bench run, in order (warm-up runs included).\n\n")
	b.WriteString("| Part | Wall |\n|---|---:|\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "| %s | %s |\n", p.Name, Format(p.Seconds, Seconds))
	}
	fmt.Fprintf(&b, "| whole bench | %s |\n", Format(r.Duration, Seconds))
	_, err := io.WriteString(w, b.String())
	return err
}

// FaultsMethod says where the fault records come from.
const FaultsMethod = "The bench injects no fault: each fault test (e2e/faults_*_test.go, run by `make test`) puts one fault into " +
	"a stack applied to the emulator, its task run by the local Fargate runner, and when it passes records what survived and " +
	"its figures in `~/.cache/prometheus-aws/records/faults.json`; `make bench` (and `go run ./cmd/bench -render`) shows the " +
	"latest record of each fault, or keeps the one in bench/results.json when that is newer. Each figure is one run, not a " +
	"median; \"–\" means not measured for that fault. Samples lost: the seconds between the newest sample that survived and the " +
	"fault; alerts lost: alerts that fired during the fault and never reached the topic. What each means for an operator, and " +
	"what the emulator cannot show: [docs/operations.md](docs/operations.md#faults-and-what-survives-them)."

// renderFaults writes the Faults section: the latest record of each fault.
func renderFaults(b *strings.Builder, faults []FaultRecord) {
	fmt.Fprintf(b, "## 6b. Faults survived\n\n%s\n\n", FaultsMethod)
	if len(faults) == 0 {
		b.WriteString("No fault record yet: run the fault tests (`make test`, or `go test ./e2e -run 'TestTaskKilled|TestAlertDeliveryFailsForGood'` inside `scripts/netns.sh`).\n\n")
		return
	}
	b.WriteString("| Fault | Injected | What survived | Samples lost | Alerts lost | Seconds | Date | Commit |\n|---|---|---|---:|---:|---|---|---|\n")
	for _, f := range faults {
		lost, alerts, secs := "–", "–", "–"
		if f.SamplesLostSeconds != nil {
			lost = Format(*f.SamplesLostSeconds, Seconds)
		}
		if f.AlertsLost != nil {
			alerts = strconv.Itoa(*f.AlertsLost)
		}
		if f.Seconds != nil {
			secs = Format(*f.Seconds, Seconds)
			if f.SecondsMeaning != "" {
				secs += ": " + f.SecondsMeaning
			}
		}
		commit := f.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(f.Fault), cell(f.Injected), cell(f.Survived), lost, alerts, cell(secs), cell(f.Date), cell(commit))
	}
	b.WriteString("\n")
}

// cell keeps text inside its table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
