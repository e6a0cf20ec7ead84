// Package cost is the monthly cost model of the stack: what the settings
// deploy (InventoryOf), the prices (List, as data with their sources), and
// the few figures neither the stack nor AWS gives (Assumptions, each with
// its origin and how to read the real one). docs/cost.md is generated from
// it (page.go); a test keeps the page in step.
package cost

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// HoursPerMonth is the month AWS prices by.
const HoursPerMonth = 730

const secondsPerMonth = HoursPerMonth * 3600

// Assumptions are the figures the model cannot read from the stack or a
// price list: measured ones, and estimates (said so, with how to read the
// real figure on a running deployment).
type Assumptions struct {
	// SeriesPerTarget: measured, one node_exporter page (sizing).
	SeriesPerTarget int
	// SelfSeries: estimate; Prometheus's own series and the bundled
	// Alertmanager's (prometheus_tsdb_head_series with no nodes).
	SelfSeries int
	// BlockBytesPerSample: the TSDB's compressed blocks; Prometheus's
	// storage documentation gives 1 to 2 bytes a sample on average.
	BlockBytesPerSample float64
	// WALBytesPerSample: estimate; a WAL sample record (series reference,
	// timestamp delta and the 8-byte value) before compression.
	WALBytesPerSample float64
	// WALHours: the WAL Prometheus keeps, about the head's span (2 to 3 h).
	WALHours float64
	// BackupDays: the EFS default backup plan keeps daily backups 35 days
	// (Amazon EFS User Guide, "Backing up EFS file systems").
	BackupDays int
	// AMPBytesPerSample: estimate; AMP bills storage for samples
	// ("typically 1 or 2 bytes") and their series' metadata.
	AMPBytesPerSample float64
	// RuleSamplesPerTarget: estimate; query samples the alert rules
	// (alerting/rules.yml) read per target and evaluation, which the AMP
	// ruler bills as queries.
	RuleSamplesPerTarget float64
	// ContainerInsightsMetrics: the documented metrics of one cluster,
	// service and task family on Fargate (the table below the totals).
	ContainerInsightsMetrics int
	// ConfigSyncSeconds: the config-sync sidecar reads its parameters
	// (one GetParameters call) this often (taskcontract).
	ConfigSyncSeconds int
	// OTLPBytesPerDataPoint: estimate; CloudWatch bills each OTLP data
	// point's serialized size (name, labels, resource attributes,
	// timestamp, value).
	OTLPBytesPerDataPoint float64
}

// Defaults are the assumptions of docs/cost.md.
var Defaults = Assumptions{
	SeriesPerTarget:          sizing.SeriesPerTarget,
	SelfSeries:               1000,
	BlockBytesPerSample:      2,
	WALBytesPerSample:        11,
	WALHours:                 3,
	BackupDays:               35,
	AMPBytesPerSample:        2,
	RuleSamplesPerTarget:     40,
	ContainerInsightsMetrics: 37,
	ConfigSyncSeconds:        15,
	OTLPBytesPerDataPoint:    200,
}

// AMPDefaultRetentionDays is how long a workspace without a configured
// retention keeps samples (Amazon Managed Service for Prometheus User
// Guide, "Configure your workspace").
const AMPDefaultRetentionDays = 150

// Inventory is what the settings deploy that has a price.
type Inventory struct {
	Tasks         int
	PublicTaskIPs int
	EFS, AMP      bool
	// Agent: Prometheus runs in agent mode (amp): a WAL, no TSDB.
	Agent bool
	// WorkspaceRetentionDays is the workspace's configured retention (0:
	// none configured, AMPDefaultRetentionDays).
	WorkspaceRetentionDays int
	// EFSThroughputMode and EFSProvisionedMibps are the file system's
	// (EFS only).
	EFSThroughputMode   string
	EFSProvisionedMibps int
	// AdvancedParameters are SSM parameters over the Standard tier's 4 KB
	// (the rule groups; Grafana's two larger dashboards).
	AdvancedParameters int
	Secrets            int
	Alarms             int
	ContainerInsights  bool
	NATGateways        int
	// EndpointZones counts interface endpoints once per zone (each has a
	// network interface, billed hourly, in every private subnet).
	EndpointZones int
	LoadBalancer  bool
	// LBAddresses are the load balancer's public IPv4 addresses, one per zone.
	LBAddresses int
}

// InventoryOf reads, from the settings, the priced resources the stack
// creates; stacks/cost_test.go checks it against the synthesized JSON.
func InventoryOf(s *config.Settings) (Inventory, error) {
	// prometheus.yml outgrows the Standard tier's 4 KB with ECS discovery
	// or many regions: its tier is picked by size, as the stack does.
	c, err := promconfig.ForTask(s)
	if err != nil {
		return Inventory{}, err
	}
	yaml, err := c.YAML()
	if err != nil {
		return Inventory{}, err
	}
	inv := Inventory{
		Tasks:                  s.Replicas,
		EFS:                    s.StorageMode == config.StorageEFS,
		AMP:                    s.StorageMode == config.StorageAMP,
		Agent:                  s.AgentMode(),
		WorkspaceRetentionDays: s.WorkspaceRetentionDays(),
		ContainerInsights:      s.ContainerInsights, // the running-task alarm reads it, unless off (constructs/alarms.go)
		LoadBalancer:           s.TLS(),
	}
	if !s.Private() {
		inv.PublicTaskIPs = s.Replicas
	}
	if inv.EFS {
		inv.EFSThroughputMode, inv.EFSProvisionedMibps = s.EFSThroughputMode, s.EFSProvisionedMibps
	}
	if pconstructs.SSMTier(pconstructs.ConfigParameterSize(string(yaml), inv.AMP)) == "Advanced" {
		inv.AdvancedParameters++
	}
	if s.AlertDelivery() != config.AlertDeliveryAMP {
		inv.AdvancedParameters += 2 // the task evaluates the nodes and prometheus rule groups, 6 to 7 KB each
	}
	if s.Grafana {
		inv.AdvancedParameters += 2 // the fleet and Prometheus dashboards
		inv.Secrets++
	}
	if s.BasicAuth {
		inv.Secrets++
	}
	if s.Alarms {
		inv.Alarms = 2 // no running task; config-sync failing
		if s.AlertDelivery() == config.AlertDeliveryBundled {
			inv.Alarms++ // alert delivery failing
		}
		if inv.LoadBalancer {
			inv.Alarms++ // no healthy target
		}
	}
	if s.Private() {
		switch s.NatGateways {
		case config.NatSingle:
			inv.NATGateways = 1
		case config.NatPerZone:
			inv.NATGateways = s.AzCount
		}
		for _, e := range s.Endpoints() {
			switch e {
			case "s3": // a gateway endpoint: free
			case "ecr":
				inv.EndpointZones += 2 * s.AzCount // ecr.api and ecr.dkr
			default:
				inv.EndpointZones += s.AzCount
			}
		}
	}
	if inv.LoadBalancer {
		inv.LBAddresses = s.AzCount
	}
	return inv, nil
}

// Line is one item of a monthly bill.
type Line struct {
	Item string
	USD  float64
	// Detail says how the figure is reached.
	Detail string
}

// Bill is a month of one deployment.
type Bill struct {
	Targets int
	Size    sizing.Size
	Lines   []Line
	// Samples ingested a month, and the local TSDB's size (GB; the WAL's in
	// agent mode).
	Samples, LocalGB float64
	// EFSMeteredMiBps is the file system's average metered I/O (writes
	// and reads), EFSBaselineMiBps what Bursting Throughput allows
	// continuously for its size (EFS only).
	EFSMeteredMiBps, EFSBaselineMiBps float64
	// RetentionDays is how long the workspace keeps samples (amp).
	RetentionDays int
}

// Total is the sum of the lines.
func (b Bill) Total() float64 {
	var t float64
	for _, l := range b.Lines {
		t += l.USD
	}
	return t
}

// Line returns the line of item (zero if absent).
func (b Bill) Line(item string) Line {
	i := slices.IndexFunc(b.Lines, func(l Line) bool { return l.Item == item })
	if i < 0 {
		return Line{}
	}
	return b.Lines[i]
}

// Items of a bill.
const (
	ItemTask              = "Fargate task"
	ItemPublicIPv4        = "Public IPv4 address of the task"
	ItemContainerInsights = "Container Insights"
	ItemAlarms            = "CloudWatch alarms"
	ItemSecrets           = "Secrets Manager"
	ItemSSM               = "SSM Advanced parameters and their reads"
	ItemEFSStorage        = "EFS storage"
	ItemEFSWrites         = "EFS writes (Elastic Throughput)"
	ItemEFSReads          = "EFS reads (Elastic Throughput)"
	ItemEFSIO             = "EFS I/O (Bursting Throughput: none billed)"
	ItemEFSProvisioned    = "EFS Provisioned Throughput"
	ItemEFSBackup         = "EFS backups (AWS Backup)"
	ItemAMPIngest         = "AMP ingestion"
	ItemAMPStorage        = "AMP storage"
	ItemAMPQuery          = "AMP rule queries"
	ItemNAT               = "NAT gateways"
	ItemEndpoints         = "Interface VPC endpoints"
	ItemLoadBalancer      = "Application Load Balancer"
)

const gb = 1e9 // AWS's data-transfer GB; storage is within 7 % of it

const (
	mib = 1 << 20
	gib = 1 << 30
)

// Estimate prices a month of the deployment s for a fleet of targets
// node_exporter targets (s.NodeCount, the demo nodes, is left out: a fleet
// of your own sets nodeCount=0). The task is the size s has when it holds
// the fleet, else the one sizing recommends.
func Estimate(s *config.Settings, targets int, p Prices, a Assumptions) (Bill, error) {
	interval, ok := config.ParseDuration(s.ScrapeInterval)
	if !ok || interval <= 0 {
		return Bill{}, fmt.Errorf("scrapeInterval %q is not a duration", s.ScrapeInterval)
	}
	inv, err := InventoryOf(s)
	if err != nil {
		return Bill{}, err
	}
	series := float64(targets*a.SeriesPerTarget + a.SelfSeries)
	perSecond := series / interval.Seconds()
	samples := perSecond * secondsPerMonth
	b := Bill{Targets: targets, Samples: samples}

	b.Size = sizing.Size{CPU: s.TaskCPU, MemoryMiB: s.TaskMemory}
	if need := sizing.NeedMiB(int(series)); need > s.TaskMemory {
		size, ok := sizing.Smallest(need, s.TaskCPU)
		if !ok {
			return Bill{}, fmt.Errorf("no Fargate size holds %d targets (%d MiB)", targets, need)
		}
		b.Size = size
	}
	vcpu, mem := float64(b.Size.CPU)/1024, float64(b.Size.MemoryMiB)/1024
	taskHour := vcpu*p.FargateVCPU.USD + mem*p.FargateGB.USD
	add := func(item string, usd float64, format string, args ...any) {
		b.Lines = append(b.Lines, Line{item, usd, fmt.Sprintf(format, args...)})
	}
	add(ItemTask, float64(inv.Tasks)*taskHour*HoursPerMonth, "%d × %g vCPU + %g GB (%s) × 730 h", inv.Tasks, vcpu, mem, b.Size)
	if inv.PublicTaskIPs > 0 {
		add(ItemPublicIPv4, float64(inv.PublicTaskIPs)*p.PublicIPv4.USD*HoursPerMonth, "%d × 730 h", inv.PublicTaskIPs)
	}
	if inv.ContainerInsights {
		add(ItemContainerInsights, float64(a.ContainerInsightsMetrics)*p.CustomMetric.USD, "%d metrics (see below)", a.ContainerInsightsMetrics)
	}
	add(ItemAlarms, float64(inv.Alarms)*p.Alarm.USD, "%d alarms", inv.Alarms)
	add(ItemSecrets, float64(inv.Secrets)*p.Secret.USD, "%d secret(s); read when a task starts", inv.Secrets)
	if inv.AdvancedParameters > 0 {
		reads := float64(inv.Tasks) * secondsPerMonth / float64(a.ConfigSyncSeconds)
		add(ItemSSM, float64(inv.AdvancedParameters)*p.SSMAdvanced.USD+reads/1e4*p.SSMAdvancedAPI.USD,
			"%d parameters; config-sync reads them every %d s (%s calls)", inv.AdvancedParameters, a.ConfigSyncSeconds, count(reads))
	}

	perDay := perSecond * 86400
	var retention time.Duration
	if inv.Agent {
		// Agent mode keeps only the WAL remote write reads from.
		b.LocalGB = perSecond * 3600 * a.WALHours * a.WALBytesPerSample / gb
	} else {
		// The local TSDB: blocks over the retention, the WAL, the head's
		// chunks.
		var ok bool
		if retention, ok = config.ParseDuration(s.TSDBRetention()); !ok {
			return Bill{}, fmt.Errorf("retention %q is not a duration", s.TSDBRetention())
		}
		b.LocalGB = (perDay*retention.Hours()/24*a.BlockBytesPerSample + perSecond*3600*a.WALHours*(a.WALBytesPerSample+a.BlockBytesPerSample)) / gb
	}
	days := retention.Hours() / 24
	if inv.EFS {
		// Every sample is written to the WAL, to the head's chunk files, to
		// the 2 h block and to each larger block compaction makes of it;
		// compaction reads the chunks and the smaller blocks back.
		levels := compactions(retention)
		written := a.WALBytesPerSample + a.BlockBytesPerSample*float64(2+levels)
		read := a.BlockBytesPerSample * float64(1+levels)
		add(ItemEFSStorage, b.LocalGB*p.EFSStorage.USD, "%.1f GB: %g days of blocks at %g B a sample, and %g h of WAL", b.LocalGB, days, a.BlockBytesPerSample, a.WALHours)
		// Bursting allows 50 KiB/s per GiB stored continuously (Amazon
		// EFS User Guide, "Throughput modes"; AWS re:Post, "Choose the
		// correct Amazon EFS throughput mode"); reads and writes are both
		// metered (counted in full here, which EFS may not do).
		b.EFSMeteredMiBps = samples * (written + read) / secondsPerMonth / mib
		b.EFSBaselineMiBps = b.LocalGB * gb / gib * 50 / 1024
		switch inv.EFSThroughputMode {
		case config.EFSBursting:
			carries := "within it: burst credits refill between compactions"
			if b.EFSMeteredMiBps > b.EFSBaselineMiBps {
				carries = "ABOVE it: the file system runs out of burst credits and is throttled"
			}
			add(ItemEFSIO, 0, "%.2f MiB/s metered on average against a baseline of %.2f MiB/s (50 KiB/s per GiB stored), %s", b.EFSMeteredMiBps, b.EFSBaselineMiBps, carries)
		case config.EFSProvisioned:
			// Billed on what is provisioned above the Bursting baseline
			// the storage allows.
			billed := max(0, float64(inv.EFSProvisionedMibps)-b.EFSBaselineMiBps) * mib / 1e6
			add(ItemEFSProvisioned, billed*p.EFSProvisioned.USD, "%d MiB/s provisioned, less the %.2f MiB/s the storage allows, × 730 h; %.2f MiB/s metered on average", inv.EFSProvisionedMibps, b.EFSBaselineMiBps, b.EFSMeteredMiBps)
		default:
			add(ItemEFSWrites, samples*written/gb*p.EFSWrite.USD, "%s samples × %g B: WAL %g, head chunks, 2 h block and %d compactions %g each", count(samples), written, a.WALBytesPerSample, levels, a.BlockBytesPerSample)
			add(ItemEFSReads, samples*read/gb*p.EFSRead.USD, "%s samples × %g B read back by compaction; queries on top", count(samples), read)
		}
		backupGB := perDay * a.BlockBytesPerSample * (days + 2*float64(a.BackupDays)) / gb
		add(ItemEFSBackup, backupGB*p.EFSBackup.USD, "%.1f GB: daily incremental backups kept %d days of blocks that live %g days", backupGB, a.BackupDays, days)
	}
	if inv.AMP {
		// Replicas send the same samples with cluster and __replica__
		// labels; AMP keeps one replica's and bills ingestion and storage
		// once (AMP User Guide, "Deduplicating high availability metrics").
		add(ItemAMPIngest, tiered(samples, 1e7, p.AMPIngest), "%s samples, tiered; once whatever replicas (de-duplicated)", count(samples))
		kept, how := inv.WorkspaceRetentionDays, "`retention`"
		if kept == 0 {
			kept, how = AMPDefaultRetentionDays, "AMP's default retention"
		}
		b.RetentionDays = kept
		stored := perDay * float64(kept) * a.AMPBytesPerSample / gb
		add(ItemAMPStorage, stored*p.AMPStorage.USD, "%.1f GB: %d days (%s) at %g B a sample", stored, kept, how, a.AMPBytesPerSample)
		qsp := float64(targets) * a.RuleSamplesPerTarget * secondsPerMonth / interval.Seconds()
		add(ItemAMPQuery, qsp/1e9*p.AMPQuery.USD, "%s query samples (rules every %s); dashboards on top", count(qsp), s.ScrapeInterval)
	}
	if inv.NATGateways > 0 {
		add(ItemNAT, float64(inv.NATGateways)*(p.NATGateway.USD+p.PublicIPv4.USD)*HoursPerMonth, "%d × (gateway + its public IPv4) × 730 h; data processed on top", inv.NATGateways)
	}
	if inv.EndpointZones > 0 {
		add(ItemEndpoints, float64(inv.EndpointZones)*p.Endpoint.USD*HoursPerMonth, "%d endpoint-zones × 730 h; data processed on top", inv.EndpointZones)
	}
	if inv.LoadBalancer {
		add(ItemLoadBalancer, (p.ALB.USD+float64(inv.LBAddresses)*p.PublicIPv4.USD)*HoursPerMonth, "balancer-hours and %d public IPv4 addresses × 730 h; LCUs on top", inv.LBAddresses)
	}
	return b, nil
}

// compactions is how many times the TSDB rewrites a sample into a larger
// block: ranges grow 3× from 2 h (tsdb.ExponentialBlockRanges) up to the
// largest block, 10 % of the retention capped at 31 days (Prometheus's
// storage.tsdb.max-block-duration).
func compactions(retention time.Duration) int {
	largest := min(retention/10, 31*24*time.Hour)
	n := 0
	for r := 6 * time.Hour; r <= largest; r *= 3 {
		n++
	}
	return n
}

// OTLPGB is what CloudWatch's managed collectors would ingest a month.
func OTLPGB(b Bill, a Assumptions) float64 {
	return b.Samples * a.OTLPBytesPerDataPoint / gb
}

// BreakEven is the CloudWatch price per GB ingested at which its managed
// collectors cost what bill does (collector-hours not counted: they only
// lower it).
func BreakEven(b Bill, a Assumptions) float64 {
	return b.Total() / OTLPGB(b, a)
}

// count writes a large number short: 42.0 billion, 175 thousand.
func count(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f billion", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f million", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f thousand", math.Round(n/1e3))
	}
	return fmt.Sprintf("%.0f", n)
}
