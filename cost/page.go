package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// Fleets are the fleet sizes (node_exporter targets) the page prices.
var Fleets = []int{10, 100, 1000, 5000}

// Section is one generated part of docs/cost.md, between its markers.
type Section struct {
	Name   string
	Render func() (string, error)
}

// Sections are the generated parts of docs/cost.md, in page order.
var Sections = []Section{
	{"summary", summary},
	{"efs", func() (string, error) { return lineItems(config.StorageEFS) }},
	{"amp", func() (string, error) { return lineItems(config.StorageAMP) }},
	{"efsthroughput", efsThroughput},
	{"addons", addons},
	{"private", private},
	{"sizing", sizingTable},
	{"assumptions", assumptions},
	{"prices", prices},
}

// Begin and End are a section's markers on the page.
func Begin(name string) string {
	return "<!-- cost:" + name + " begin (generated from cost/; go test ./cost -run CostPage -update) -->\n"
}

// End closes a section.
func End(name string) string { return "<!-- cost:" + name + " end -->" }

// settings are the defaults for a fleet of your own (no demo nodes) with env
// on top.
func settings(env map[string]string) (*config.Settings, error) {
	all := map[string]string{"PROMAWS_NODE_COUNT": "0"}
	for k, v := range env {
		all[k] = v
	}
	return config.Load(nil, all)
}

// bill prices the deployment env describes for targets.
func bill(env map[string]string, targets int) (Bill, error) {
	s, err := settings(env)
	if err != nil {
		return Bill{}, err
	}
	return Estimate(s, targets, List, Defaults)
}

func mode(m string) map[string]string { return map[string]string{"PROMAWS_STORAGE_MODE": m} }

func summary() (string, error) {
	var b strings.Builder
	b.WriteString("| Targets (nodes) | Task (sized for them) | `efs` (default) | `amp` | `amp` ÷ `efs` | CloudWatch's price per GB at which it would cost the same |\n|--:|---|--:|--:|--:|--:|\n")
	var ratios, breakEvens []float64
	var ioShare float64
	for _, n := range Fleets {
		efs, err := bill(mode(config.StorageEFS), n)
		if err != nil {
			return "", err
		}
		amp, err := bill(mode(config.StorageAMP), n)
		if err != nil {
			return "", err
		}
		r, be := amp.Total()/efs.Total(), BreakEven(efs, Defaults)
		ratios, breakEvens = append(ratios, r), append(breakEvens, be)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1f× | %s |\n", thousands(n), human(efs.Size), money(efs.Total()), money(amp.Total()), r, perGB(be))
		ioShare = (efs.Line(ItemEFSWrites).USD + efs.Line(ItemEFSReads).USD + efs.Line(ItemEFSStorage).USD + efs.Line(ItemEFSBackup).USD) / efs.Total()
	}
	from, err := efsCheaperFrom()
	if err != nil {
		return "", err
	}
	last := len(Fleets) - 1
	where := fmt.Sprintf("from %d targets up", from)
	if from == 0 {
		where = "at every size, even with no targets (AMP bills Prometheus's own series)"
	}
	fmt.Fprintf(&b, "\nOf the two ways this stack keeps full Prometheus data, `efs` (the default) is the cheaper one %s: "+
		"%.1f× cheaper than `amp` at %s targets and %.1f× at %s, because AMP bills every sample ingested while EFS bills bytes stored and moved. "+
		"At %s targets the EFS lines (storage, I/O, backups) are %.0f %% of the `efs` bill: they, not the task, grow with the fleet.\n\n",
		where, ratios[0], thousands(Fleets[0]), ratios[last], thousands(Fleets[last]), thousands(Fleets[last]), 100*ioShare)
	fmt.Fprintf(&b, "Against Amazon CloudWatch's managed Prometheus collectors, billed per collector-hour and per GB of data points ingested "+
		"(each point's serialized name, labels and value; 15 months kept): the last column is the ingestion price below which CloudWatch would cost "+
		"less than `efs`, at an estimated %g bytes a data point and before its collector-hours, from %s a GB at %s targets to %s at %s. "+
		"This lookup did not find CloudWatch's price, so the page cannot say which side of that line it falls: compare the column with "+
		"[Amazon CloudWatch pricing](%s) for eu-central-1. Until then, the honest claim is this: `efs` is the cheapest full Prometheus on AWS "+
		"that this page can price, at every fleet size it shows. (A Prometheus you run on an EC2 instance with an EBS volume, which this stack "+
		"does not build, pays no per-byte I/O and is not priced here.)\n",
		Defaults.OTLPBytesPerDataPoint, perGB(breakEvens[0]), thousands(Fleets[0]), perGB(breakEvens[last]), thousands(Fleets[last]), cloudWatchPage)
	return b.String(), nil
}

// efsCheaperFrom is the smallest fleet from which efs costs less than amp.
func efsCheaperFrom() (int, error) {
	for n := 0; n <= Fleets[0]; n++ {
		efs, err := bill(mode(config.StorageEFS), n)
		if err != nil {
			return 0, err
		}
		amp, err := bill(mode(config.StorageAMP), n)
		if err != nil {
			return 0, err
		}
		if efs.Total() < amp.Total() {
			return n, nil
		}
	}
	return 0, fmt.Errorf("efs costs more than amp at every fleet up to %d targets", Fleets[0])
}

func lineItems(storage string) (string, error) {
	var bills []Bill
	for _, n := range Fleets {
		b, err := bill(mode(storage), n)
		if err != nil {
			return "", err
		}
		bills = append(bills, b)
	}
	var b strings.Builder
	b.WriteString("| Item |")
	for _, n := range Fleets {
		fmt.Fprintf(&b, " %s targets |", thousands(n))
	}
	fmt.Fprintf(&b, " How (at %s targets) |\n|---|", thousands(Fleets[2]))
	b.WriteString(strings.Repeat("--:|", len(Fleets)) + "---|\n")
	for i, l := range bills[0].Lines {
		fmt.Fprintf(&b, "| %s |", l.Item)
		for _, bl := range bills {
			fmt.Fprintf(&b, " %s |", money(bl.Lines[i].USD))
		}
		fmt.Fprintf(&b, " %s |\n", bills[2].Lines[i].Detail)
	}
	b.WriteString("| **Total** |")
	for _, bl := range bills {
		fmt.Fprintf(&b, " **%s** |", money(bl.Total()))
	}
	b.WriteString(" |\n")
	if storage == config.StorageAMP {
		big := bills[len(bills)-1]
		fmt.Fprintf(&b, "\nIn `amp` mode the task runs Prometheus in agent mode: no TSDB, only the write-ahead log remote write reads from, "+
			"about %.1f GB at %s targets (%g h of samples at %g B; the agent keeps up to 4 h while the workspace is unreachable) on its ephemeral storage, "+
			"against the 20 GiB a Fargate task gets by default (the stack asks for no more). The workspace keeps the samples `retention` days (%d by default), "+
			"not AMP's %d-day default.\n", big.LocalGB, thousands(big.Targets), Defaults.WALHours, Defaults.WALBytesPerSample,
			big.RetentionDays, AMPDefaultRetentionDays)
	}
	return b.String(), nil
}

// efsThroughput compares the file system's throughput modes per fleet:
// what elastic bills for the I/O, whether bursting's baseline carries it
// (none billed), what provisioning the average costs.
func efsThroughput() (string, error) {
	var b strings.Builder
	b.WriteString("| Targets | EFS storage | Metered I/O, average | `bursting` baseline (50 KiB/s per GiB) | `elastic` (default): I/O a month | `bursting`: I/O a month | `provisioned` at the average (rounded up): a month |\n|--:|--:|--:|--:|--:|--:|--:|\n")
	var ratio float64
	for _, n := range Fleets {
		el, err := bill(mode(config.StorageEFS), n)
		if err != nil {
			return "", err
		}
		ratio = el.EFSBaselineMiBps / el.EFSMeteredMiBps
		io := el.Line(ItemEFSWrites).USD + el.Line(ItemEFSReads).USD
		bursting := "$0, within the baseline"
		if el.EFSMeteredMiBps > el.EFSBaselineMiBps {
			bursting = "throttled: above the baseline"
		}
		mibps := int(math.Ceil(el.EFSMeteredMiBps))
		pr, err := bill(map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": config.EFSProvisioned, "PROMAWS_EFS_PROVISIONED_MIBPS": fmt.Sprint(mibps)}, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| %s | %.1f GB | %.2f MiB/s | %.2f MiB/s | %s | %s | %s (%d MiB/s) |\n", thousands(n), el.LocalGB, el.EFSMeteredMiBps, el.EFSBaselineMiBps,
			money(io), bursting, money(pr.Line(ItemEFSProvisioned).USD), mibps)
	}
	// The longest retention (whole hours) at which the I/O outgrows the
	// baseline of the largest fleet.
	last := Fleets[len(Fleets)-1]
	hours := 0
	for h := 2; h <= 15*24; h++ {
		r, err := bill(map[string]string{"PROMAWS_RETENTION": fmt.Sprintf("%dh", h)}, last)
		if err != nil {
			return "", err
		}
		if r.EFSMeteredMiBps > r.EFSBaselineMiBps {
			hours = h
		}
	}
	fmt.Fprintf(&b, "\nWith the default `retention` (%s) the stored blocks give `bursting` a baseline about %.0f× the average I/O at every fleet size "+
		"(both grow with the samples). A shorter `retention` shrinks the baseline more than the I/O: at %s targets the I/O outgrows it "+
		"with `retention` of %d hours or less, where `bursting` would be throttled.\n", config.DefaultRetention, ratio, thousands(last), hours)
	return b.String(), nil
}

func addon(base, with map[string]string, targets int) (float64, error) {
	b0, err := bill(base, targets)
	if err != nil {
		return 0, err
	}
	b1, err := bill(with, targets)
	if err != nil {
		return 0, err
	}
	return b1.Total() - b0.Total(), nil
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var (
	private1 = map[string]string{"PROMAWS_NETWORK_MODE": "private"}
	tls      = map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/example", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"}
)

func addons() (string, error) {
	efs, amp := mode(config.StorageEFS), mode(config.StorageAMP)
	rows := []struct {
		what      string
		base, add map[string]string
		targets   int
		how       string
	}{
		{"`networkMode=private` (one NAT gateway, the default `vpcEndpoints`), `efs`", efs, merge(efs, private1), 10,
			"NAT gateway and its address, 5 interface endpoints in 2 zones, less the task's public IPv4; data processed on top"},
		{"`networkMode=private`, `amp`", amp, merge(amp, private1), 10, "as above, and the `aps` endpoint"},
		{"HTTPS load balancer (`tlsCertificateArn` or `tlsDomain`)", efs, merge(efs, tls), 10,
			"balancer-hours, its public IPv4 address in each of 2 zones, one more alarm; LCUs (a few people's dashboards) on top"},
		{"Each replica beyond the first (`amp` only), at 1,000 targets", amp, merge(amp, map[string]string{"PROMAWS_REPLICAS": "2"}), 1000,
			"a task and its public IPv4; no ingestion: AMP de-duplicates the replicas' samples"},
		{"`containerInsights=false` (one task; the running-task alarm then reads AWS/ECS's free `CPUUtilization`)", efs, merge(efs, map[string]string{"PROMAWS_CONTAINER_INSIGHTS": "false"}), 10,
			"no Container Insights metrics: a saving"},
		{"`grafana=true`", efs, merge(efs, map[string]string{"PROMAWS_GRAFANA": "true"}), 10,
			"its secret and two Advanced parameters (dashboards); memory it needs is not sized here"},
	}
	var b strings.Builder
	b.WriteString("| Add-on | Monthly | How |\n|---|--:|---|\n")
	for _, r := range rows {
		usd, err := addon(r.base, r.add, r.targets)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.what, money(usd), r.how)
	}
	nodes := 2
	demo := float64(nodes) * (List.DemoInstance.USD*HoursPerMonth + 8*List.DemoVolume.USD + List.PublicIPv4.USD*HoursPerMonth)
	fmt.Fprintf(&b, "| The demo nodes (`nodeCount=2`, the default; not part of a fleet's cost) | %s | %d × (t3.micro + 8 GiB gp3 + public IPv4) |\n", money(demo), nodes)
	return b.String(), nil
}

func private() (string, error) {
	efs := mode(config.StorageEFS)
	rows := []struct {
		what string
		env  map[string]string
	}{
		{"`natGateways=single` (default), default `vpcEndpoints`", merge(efs, private1)},
		{"`natGateways=perZone` (2 zones)", merge(efs, private1, map[string]string{"PROMAWS_NAT_GATEWAYS": "perZone"})},
		{"`natGateways=none` (adds `ecr`: `ecr.api` and `ecr.dkr`)", merge(efs, private1, map[string]string{"PROMAWS_NAT_GATEWAYS": "none"})},
		{"`natGateways=single`, `vpcEndpoints=s3` only", merge(efs, private1, map[string]string{"PROMAWS_VPC_ENDPOINTS": "s3"})},
		{"`storageMode=amp` (adds `aps`)", merge(mode(config.StorageAMP), private1)},
	}
	var b strings.Builder
	b.WriteString("| Layout | NAT gateways | Endpoint-zones | NAT | Endpoints | Task's public IPv4 saved | Added a month |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		s, err := settings(r.env)
		if err != nil {
			return "", err
		}
		pub, err := settings(merge(r.env, map[string]string{"PROMAWS_NETWORK_MODE": "public", "PROMAWS_NAT_GATEWAYS": "single", "PROMAWS_VPC_ENDPOINTS": config.DefaultVpcEndpoints}))
		if err != nil {
			return "", err
		}
		bp, err := Estimate(s, Fleets[0], List, Defaults)
		if err != nil {
			return "", err
		}
		b0, err := Estimate(pub, Fleets[0], List, Defaults)
		if err != nil {
			return "", err
		}
		inv, err := InventoryOf(s)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s |\n", r.what, inv.NATGateways, inv.EndpointZones,
			money(bp.Line(ItemNAT).USD), money(bp.Line(ItemEndpoints).USD), money(b0.Line(ItemPublicIPv4).USD), money(bp.Total()-b0.Total()))
	}
	return b.String(), nil
}

func sizingTable() (string, error) {
	def := config.Defaults()
	var b strings.Builder
	crossover := (sizing.BaselineMiB - sizing.SoakRSSBaseMiB) / (sizing.SoakRSSMiBPerSeries - sizing.MiBPerSeries) / sizing.SeriesPerTarget
	fmt.Fprintf(&b, "The rule: a task needs %g × the more of two lines of memory, both measured under the task's memory limit enforced as "+
		"Fargate does. A fresh start with the whole fleet (BENCHMARKS.md, section 5b: %d MiB held %s targets of %d series, %d MiB held %s): "+
		"%.0f MiB + %.2f KiB a series, the line through them. Two hours of scraping (section 5c: fleets up to %s targets on %d MiB tasks, "+
		"%s): %.0f MiB + %.2f KiB a series, the most memory they could not give back (RSS) from minute %d on, an upper bound (with room, "+
		"Go lets its heap grow to twice its live data); every reading of the whole two hours is under the rule (BENCHMARKS.md 5c says what "+
		"else ran in the first hour). The fresh start decides small fleets, the two hours from about %s targets; beyond the fleets "+
		"measured both lines are extrapolated. ×%g is for what no run here reaches, the first compaction (after three hours) and "+
		"queries: an estimate. The default task (`taskCpu=%d`, `taskMemory=%d`) holds about %s targets by it.\n\n",
		sizing.Headroom, sizing.SmallTaskMiB, thousands(sizing.SmallHeldTargets), sizing.SeriesPerTarget,
		sizing.LargeTaskMiB, thousands(sizing.LargeHeldTargets), sizing.BaselineMiB, sizing.MiBPerSeries*1024,
		thousands(sizing.SmallHeldTargets), sizing.SmallTaskMiB, soakKilled(), sizing.SoakRSSBaseMiB, sizing.SoakRSSMiBPerSeries*1024, sizing.SoakFitFromMinute,
		thousands(int(math.Round(crossover/100))*100), sizing.Headroom,
		def.TaskCPU, def.TaskMemory, thousands(sizing.MaxSeries(def.TaskMemory)/sizing.SeriesPerTarget))
	b.WriteString("| Targets | Active series | Memory needed (MiB) | Smallest task that holds them | Task a month |\n|--:|--:|--:|---|--:|\n")
	for _, n := range []int{100, 500, 1000, 2000, 5000, 10000, 20000, 50000} {
		series := n*sizing.SeriesPerTarget + Defaults.SelfSeries
		need := sizing.NeedMiB(series)
		size, ok := sizing.Smallest(need, def.TaskCPU)
		if !ok {
			fmt.Fprintf(&b, "| %s | %s | %s | none: split the fleet by tag | |\n", thousands(n), thousands(series), thousands(need))
			continue
		}
		month := (float64(size.CPU)/1024*List.FargateVCPU.USD + float64(size.MemoryMiB)/1024*List.FargateGB.USD) * HoursPerMonth
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", thousands(n), thousands(series), thousands(need), size, money(month))
	}
	return b.String(), nil
}

// soakKilled says how the two-hour soak's fleets fared.
func soakKilled() string {
	if sizing.SoakKilled == 0 {
		return "none was killed"
	}
	return fmt.Sprintf("%d of them killed for memory", sizing.SoakKilled)
}

func assumptions() (string, error) {
	a := Defaults
	def := config.Defaults()
	rows := [][3]string{
		{"Series per node_exporter target", fmt.Sprint(a.SeriesPerTarget), "measured: BENCHMARKS.md, section 5 (a real node_exporter page). Real figure: `count({job=\"node\"}) / count(up{job=\"node\"})`"},
		{"Prometheus's own series", thousands(a.SelfSeries), "estimate. Real figure: `prometheus_tsdb_head_series` (`prometheus_agent_active_series` in agent mode, `amp`) with no nodes"},
		{"Scrape and rule interval", def.ScrapeInterval, "the `scrapeInterval` default"},
		{"Retention", fmt.Sprintf("%s: the local TSDB (`efs`), the workspace (`amp`)", config.DefaultRetention), "the `retention` default; with `amp` the task runs in agent mode and keeps no TSDB"},
		{"Memory per active series", fmt.Sprintf("the more of %.0f MiB + %.2f KiB a series (fresh start) and %.0f MiB + %.2f KiB a series (two hours), ×%g headroom", sizing.BaselineMiB, sizing.MiBPerSeries*1024, sizing.SoakRSSBaseMiB, sizing.SoakRSSMiBPerSeries*1024, sizing.Headroom), fmt.Sprintf("measured under the enforced memory limit (BENCHMARKS.md, section 5b: a 1 GiB task full at 384 targets on a fresh start, a 2 GiB one at 1,280; section 5c: two hours of 192 to 384 targets on 1 GiB, %s); the headroom (the first compaction, queries) estimated (package `sizing`). Real figure: `process_resident_memory_bytes{job=\"prometheus\"}` against `taskMemory`", soakKilled())},
		{"TSDB block bytes per sample", fmt.Sprintf("%g B", a.BlockBytesPerSample), "Prometheus storage docs: 1 to 2 bytes a sample on average; the upper end"},
		{"WAL bytes per sample", fmt.Sprintf("%g B, %g h kept", a.WALBytesPerSample, a.WALHours), "estimate: a WAL sample record before compression"},
		{"EFS bytes written and read per sample", "WAL, head chunks, the 2 h block and each compaction (2 with 15d); read: what compaction reads back", "estimate from how the TSDB writes. **Real figure**: the file system's `DataWriteIOBytes` and `DataReadIOBytes` (or `MeteredIOBytes`, what Elastic Throughput bills), Sum per day, in CloudWatch namespace `AWS/EFS`, divided by the samples a day (`rate(prometheus_tsdb_head_samples_appended_total[1d]) * 86400`)"},
		{"EFS backup storage", fmt.Sprintf("blocks of retention + %d days × 2", a.BackupDays), fmt.Sprintf("estimate: the default plan's daily incremental backups, kept %d days (EFS User Guide, \"Backing up EFS file systems\"). Real figure: the recovery points in AWS Backup's vault", a.BackupDays)},
		{"AMP bytes per stored sample", fmt.Sprintf("%g B", a.AMPBytesPerSample), fmt.Sprintf("estimate (AMP pricing: samples typically 1 or 2 bytes, plus metadata), kept `retention` days (the stack sets the workspace's retention; AMP's default would be %d)", AMPDefaultRetentionDays)},
		{"Rule query samples per target", fmt.Sprint(a.RuleSamplesPerTarget), "estimate from `alerting/rules.yml` (filesystem, CPU rate over 5m, memory, up)"},
		{"Container Insights metrics", fmt.Sprint(a.ContainerInsightsMetrics), "the documented list (table below). Real figure: `aws cloudwatch list-metrics --namespace ECS/ContainerInsights`"},
		{"CloudWatch bytes per OTLP data point", fmt.Sprintf("%g B", a.OTLPBytesPerDataPoint), "estimate: a node_exporter series' name and labels with resource attributes. Real figure: CloudWatch's usage metrics once a collector runs"},
		{"Fleet", "node_exporter targets only", "the demo nodes (`nodeCount`) are not part of it: an existing fleet sets `nodeCount=0`"},
	}
	var b strings.Builder
	b.WriteString("| Input | Value | Origin, and how to read the real figure |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	return b.String(), nil
}

func prices() (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Looked up %s. A month is %d hours.\n\n", LookedUp, HoursPerMonth)
	b.WriteString("| Price | USD | Unit | Region of the figure | What the lookup found | Status |\n|---|--:|---|---|---|---|\n")
	for _, p := range List.All() {
		usd := "not found"
		if p.USD > 0 {
			usd = fmt.Sprintf("%g", p.USD)
		}
		status := "checked"
		if p.Check {
			status = "to be checked"
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s | %s | %s | %s |\n", p.What, p.Source, usd, p.Unit, p.Region, p.Found, status)
	}
	return b.String(), nil
}

// money writes dollars for a table: cents below $10, whole dollars from $100.
func money(usd float64) string {
	if usd <= -0.005 {
		return "−" + money(-usd)
	}
	switch a := math.Abs(usd); {
	case a < 0.005:
		return "$0"
	case a < 10:
		return fmt.Sprintf("$%.2f", usd)
	case a < 100:
		return fmt.Sprintf("$%.1f", usd)
	}
	return "$" + thousands(int(math.Round(usd)))
}

func perGB(usd float64) string {
	if usd < 0.1 {
		return fmt.Sprintf("$%.3f", usd)
	}
	return fmt.Sprintf("$%.2f", usd)
}

// human writes a task size as people say it.
func human(s sizing.Size) string {
	return fmt.Sprintf("%g vCPU, %g GiB", float64(s.CPU)/1024, float64(s.MemoryMiB)/1024)
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
