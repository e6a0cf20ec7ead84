package cost

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

func mustBill(t *testing.T, env map[string]string, targets int) Bill {
	t.Helper()
	b, err := bill(env, targets)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

// AMP de-duplicates an HA pair's samples and bills them once: a second
// replica adds a task and its address, never ingestion or storage.
func TestAMPIngestionOnceWhateverReplicas(t *testing.T) {
	one := mustBill(t, mode(config.StorageAMP), 1000)
	two := mustBill(t, merge(mode(config.StorageAMP), map[string]string{"PROMAWS_REPLICAS": "2"}), 1000)
	for _, item := range []string{ItemAMPIngest, ItemAMPStorage, ItemAMPQuery} {
		if !near(one.Line(item).USD, two.Line(item).USD) || one.Line(item).USD == 0 {
			t.Errorf("%s: %v with one replica, %v with two; want the same, not zero", item, one.Line(item).USD, two.Line(item).USD)
		}
	}
	if !near(two.Line(ItemTask).USD, 2*one.Line(ItemTask).USD) || !near(two.Line(ItemPublicIPv4).USD, 2*one.Line(ItemPublicIPv4).USD) {
		t.Errorf("two replicas are two tasks and two addresses: %+v", two.Lines)
	}
}

// The demo nodes are not part of a fleet's monitoring cost: nodeCount
// changes nothing for a given fleet.
func TestDemoNodesAreNotTheFleet(t *testing.T) {
	withDemo := mustBill(t, map[string]string{"PROMAWS_NODE_COUNT": "2"}, 100)
	without := mustBill(t, nil, 100)
	if !near(withDemo.Total(), without.Total()) {
		t.Errorf("nodeCount=2 changed the bill of 100 targets: %v vs %v", withDemo.Total(), without.Total())
	}
}

// Container Insights is on for the running-task alarm by default, so every
// default bill has it; containerInsights=false takes it off.
func TestContainerInsightsIsPriced(t *testing.T) {
	for _, m := range []string{config.StorageEFS, config.StorageAMP, config.StorageEphemeral} {
		if got := mustBill(t, mode(m), 10).Line(ItemContainerInsights).USD; !near(got, 37*List.CustomMetric.USD) {
			t.Errorf("%s: Container Insights %v, want 37 metrics", m, got)
		}
	}
	on, off := mustBill(t, nil, 10), mustBill(t, map[string]string{"PROMAWS_CONTAINER_INSIGHTS": "false"}, 10)
	if off.Line(ItemContainerInsights).Item != "" || !near(on.Total()-off.Total(), 37*List.CustomMetric.USD) {
		t.Errorf("containerInsights=false must save the 37 metrics: %v -> %v", on.Total(), off.Total())
	}
}

func TestTieredIngestion(t *testing.T) {
	p := List.AMPIngest
	for _, c := range []struct{ samples, want float64 }{
		{1e9, 100 * 0.90},
		{2e9, 200 * 0.90},
		{3e9, 200*0.90 + 100*0.35},
		{300e9, 200*0.90 + 25000*0.35 + 4800*0.16},
	} {
		if got := tiered(c.samples, 1e7, p); !near(got, c.want) {
			t.Errorf("tiered(%g) = %v, want %v", c.samples, got, c.want)
		}
	}
}

// The EFS lines grow with the samples written, and are most of a large
// fleet's bill; the task is sized for the fleet as synth would advise.
func TestEFSGrowsWithSamples(t *testing.T) {
	small, large := mustBill(t, nil, 1000), mustBill(t, nil, 5000)
	ratio := large.Line(ItemEFSWrites).USD / small.Line(ItemEFSWrites).USD
	if ratio < 4.9 || ratio > 5.1 {
		t.Errorf("EFS writes at 5,000 / 1,000 targets = %.2f, want ~5", ratio)
	}
	efsLines := large.Line(ItemEFSWrites).USD + large.Line(ItemEFSReads).USD + large.Line(ItemEFSStorage).USD + large.Line(ItemEFSBackup).USD
	if efsLines < large.Total()/2 {
		t.Errorf("at 5,000 targets the EFS lines are %v of %v", efsLines, large.Total())
	}
	if want, _ := sizing.Smallest(sizing.NeedMiB(5000*480+Defaults.SelfSeries), 512); large.Size != want {
		t.Errorf("task for 5,000 targets %v, want %v", large.Size, want)
	}
	if small.Line(ItemAMPIngest).USD != 0 || small.Line(ItemEFSWrites).USD == 0 {
		t.Error("efs bills EFS, not AMP")
	}
}

// Compaction rewrites a sample into blocks 3× larger up to 10 % of the
// retention (at most 31 days).
func TestCompactions(t *testing.T) {
	for days, want := range map[int]int{1: 0, 15: 2, 90: 4, 3650: 5} {
		r, ok := config.ParseDuration(strconv.Itoa(days) + "d")
		if !ok {
			t.Fatalf("%dd", days)
		}
		if got := compactions(r); got != want {
			t.Errorf("compactions(%dd) = %d, want %d", days, got, want)
		}
	}
}

// The private network's resources come from the settings, as the stack
// builds them: one NAT gateway or one per zone, an interface endpoint per
// zone for each of vpcEndpoints (ecr is two), none for s3.
func TestPrivateInventory(t *testing.T) {
	for _, c := range []struct {
		env           map[string]string
		nat, zones    int
		publicTaskIPs int
	}{
		{nil, 0, 0, 1},
		{private1, 1, 10, 0},
		{merge(private1, map[string]string{"PROMAWS_NAT_GATEWAYS": "perZone", "PROMAWS_AZ_COUNT": "3"}), 3, 15, 0},
		{merge(private1, map[string]string{"PROMAWS_NAT_GATEWAYS": "none"}), 0, 14, 0},
		{merge(private1, mode(config.StorageAMP)), 1, 12, 0},
	} {
		s, err := settings(c.env)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := InventoryOf(s)
		if err != nil {
			t.Fatal(err)
		}
		if inv.NATGateways != c.nat || inv.EndpointZones != c.zones || inv.PublicTaskIPs != c.publicTaskIPs {
			t.Errorf("%v: NAT %d, endpoint-zones %d, task addresses %d; want %d, %d, %d", c.env, inv.NATGateways, inv.EndpointZones, inv.PublicTaskIPs, c.nat, c.zones, c.publicTaskIPs)
		}
	}
}

// Every price names its AWS page, unit and what the lookup found; the ones
// not found are zero and say so.
func TestPricesNameTheirSource(t *testing.T) {
	for _, p := range List.All() {
		if !strings.HasPrefix(p.Source, "https://aws.amazon.com/") || p.Unit == "" || p.Found == "" || p.Region == "" {
			t.Errorf("%q lacks its source, unit, region or what was found: %+v", p.What, p)
		}
		if p.USD == 0 && !strings.Contains(p.Found, "not found") {
			t.Errorf("%q has no figure but does not say it was not found", p.What)
		}
		if p.Region != "eu-central-1" && p.Region != "all regions" && !p.Check {
			t.Errorf("%q is a %s figure and must be marked to be checked", p.What, p.Region)
		}
	}
}

// storageMode=amp: the workspace keeps `retention` (15d by default), not
// AMP's 150-day default, and the task runs in agent mode with only a WAL.
func TestAMPPricesTheRetentionAndTheAgent(t *testing.T) {
	def := mustBill(t, mode(config.StorageAMP), 1000)
	long := mustBill(t, merge(mode(config.StorageAMP), map[string]string{"PROMAWS_RETENTION": "90d"}), 1000)
	if def.RetentionDays != 15 || long.RetentionDays != 90 {
		t.Errorf("the workspace keeps %d days by default and %d with retention=90d; want 15 and 90", def.RetentionDays, long.RetentionDays)
	}
	if r := long.Line(ItemAMPStorage).USD / def.Line(ItemAMPStorage).USD; !near(r, 6) {
		t.Errorf("AMP storage at 90 days / 15 days = %v, want 6", r)
	}
	if !strings.Contains(def.Line(ItemAMPStorage).Detail, "15 days (`retention`)") {
		t.Errorf("AMP storage must say it keeps retention's 15 days: %s", def.Line(ItemAMPStorage).Detail)
	}
	perSecond := float64(1000*Defaults.SeriesPerTarget+Defaults.SelfSeries) / 30
	if wal := perSecond * 3600 * Defaults.WALHours * Defaults.WALBytesPerSample / 1e9; !near(def.LocalGB, wal) {
		t.Errorf("agent mode keeps %v GB locally, want the WAL's %v GB alone (no TSDB blocks)", def.LocalGB, wal)
	}
	// With your own Alertmanagers the task is a server again: its 1d TSDB
	// and the rule groups' Advanced parameters.
	own := mustBill(t, merge(mode(config.StorageAMP), map[string]string{"PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"}), 1000)
	if own.LocalGB <= def.LocalGB || own.Line(ItemSSM).USD == 0 {
		t.Errorf("amp with alertmanagerUrls: local %v GB (agent %v), SSM %v; want a 1d TSDB and the rule parameters", own.LocalGB, def.LocalGB, own.Line(ItemSSM).USD)
	}
}

// efsThroughputMode: bursting bills no I/O and says whether its baseline
// (50 KiB/s per GiB stored) carries the average; provisioned bills what
// is provisioned above that baseline; elastic bills every GB.
func TestEFSThroughputModes(t *testing.T) {
	elastic := mustBill(t, nil, 5000)
	bursting := mustBill(t, map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "bursting"}, 5000)
	if elastic.Line(ItemEFSWrites).USD == 0 || bursting.Line(ItemEFSWrites).USD != 0 || bursting.Line(ItemEFSReads).USD != 0 {
		t.Errorf("elastic bills writes (%v), bursting none (%v, reads %v)", elastic.Line(ItemEFSWrites).USD, bursting.Line(ItemEFSWrites).USD, bursting.Line(ItemEFSReads).USD)
	}
	if io := elastic.Line(ItemEFSWrites).USD + elastic.Line(ItemEFSReads).USD; !near(elastic.Total()-bursting.Total(), io) {
		t.Errorf("bursting saves %v, want the I/O lines' %v", elastic.Total()-bursting.Total(), io)
	}
	if d := bursting.Line(ItemEFSIO).Detail; !strings.Contains(d, "within it") || bursting.EFSMeteredMiBps >= bursting.EFSBaselineMiBps {
		t.Errorf("at the default retention the baseline carries the I/O: %s", d)
	}
	if want := elastic.LocalGB * 1e9 / (1 << 30) * 50 / 1024; !near(bursting.EFSBaselineMiBps, want) {
		t.Errorf("baseline %v MiB/s, want 50 KiB/s per GiB of %v GB = %v", bursting.EFSBaselineMiBps, elastic.LocalGB, want)
	}
	short := mustBill(t, map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "bursting", "PROMAWS_RETENTION": "12h"}, 5000)
	if d := short.Line(ItemEFSIO).Detail; !strings.Contains(d, "ABOVE it") {
		t.Errorf("12h of retention: the I/O outgrows the baseline, and the line must say so: %s", d)
	}
	prov := mustBill(t, map[string]string{"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned", "PROMAWS_EFS_PROVISIONED_MIBPS": "20"}, 5000)
	if want := (20 - prov.EFSBaselineMiBps) * (1 << 20) / 1e6 * List.EFSProvisioned.USD; !near(prov.Line(ItemEFSProvisioned).USD, want) || prov.Line(ItemEFSWrites).USD != 0 {
		t.Errorf("20 MiB/s provisioned: %v, want (20 - baseline %v) MiB/s × $%v = %v, and no I/O billed", prov.Line(ItemEFSProvisioned).USD, prov.EFSBaselineMiBps, List.EFSProvisioned.USD, want)
	}
}
