// Package sizing says which Fargate task holds a fleet: the task sizes
// Fargate offers, and how much memory Prometheus needs per active series.
// It imports nothing of the project, so settings validation and the cost
// model (docs/cost.md) read the same figures.
package sizing

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// The measurements behind MiBPerSeries and BaselineMiB: BENCHMARKS.md,
// section 5b ("Sizing under the task's memory limit"), make bench's sizing
// part. Tasks of SmallTaskMiB and LargeTaskMiB, their memory enforced as
// Fargate does (the local runner on runc), each started fresh with the
// whole fleet as a replaced task starts, held SmallHeldTargets and
// LargeHeldTargets node_exporter targets of SeriesPerTarget series each
// over a 3-minute soak, and were killed for memory with one step more (128
// and 256 targets).
const (
	SeriesPerTarget  = 480
	SmallTaskMiB     = 1024
	SmallHeldTargets = 384
	LargeTaskMiB     = 2048
	LargeHeldTargets = 1280
)

// MiBPerSeries is the task memory an active series takes when the task is
// full, the slope between the two measurements: 1,024 MiB / (896 × 480)
// series ≈ 0.0024 MiB (2.44 KiB). BaselineMiB is the rest, what a full
// task spends besides its series (Prometheus itself, the page cache of its
// TSDB files, which the limit counts, its Go memory limit's slack):
// ≈ 585 MiB. Prometheus 3 sets its Go memory limit to 90% of the task's.
// A fresh start with the whole fleet is what fills a task first: the
// first scrape of every target creates every series at once.
//
// A server's figures, applied to agent mode too (storageMode=amp): an
// agent keeps no head chunks, so it needs less (one 6-minute run outside
// the runner: 22% less), sized like a server until measured.
const (
	MiBPerSeries = float64(LargeTaskMiB-SmallTaskMiB) / ((LargeHeldTargets - SmallHeldTargets) * SeriesPerTarget)
	BaselineMiB  = SmallTaskMiB - SmallHeldTargets*SeriesPerTarget*MiBPerSeries
)

// The two-hour soak (BENCHMARKS.md section 5c, make bench-soak, readings
// in bench/soak.csv): tasks of SmallTaskMiB, their memory enforced, each
// with a fleet of 192 to 384 targets (bench.SoakFleets, up to
// SmallHeldTargets, the most the fresh start held), scraped every 10 s for
// two hours. The head grows over those hours (each series' chunks, cut
// every 120 samples), until the first compaction, which comes after three. SoakKilled fleets were killed
// for memory within the two hours. SoakRSSMiBPerSeries and SoakRSSBaseMiB
// are the least-squares line through each fleet's most anonymous memory
// (cgroup RSS: what the kernel cannot reclaim, the page cache left out)
// from minute SoakFitFromMinute to the end, against its head series: the
// memory a series takes after two hours of scraping, when the task is not
// full. From the second hour: in the first, a CI run shared the machine's
// 2 cores (BENCHMARKS.md 5c), starving the tasks below their CPU share,
// which a Fargate task's own VM does not; the rule with Headroom still
// covers every reading of that hour (sizing's tests).
// The most RSS is an upper bound of what a series needs: with the limit
// far, Go lets its heap grow to twice the live data before it collects.
const (
	SoakFitFromMinute   = 60
	SoakRSSMiBPerSeries = 0.002903888
	SoakRSSBaseMiB      = 89.649
	SoakKilled          = 0
)

// Headroom multiplies the memory the two lines give into the task memory
// asked for: what no run here reaches, the first compaction (after three
// hours) and queries. An estimate.
const Headroom = 1.25

// NeedMiB is the task memory (MiB, rounded up) Prometheus needs for series
// active series: Headroom over the more of the two lines, the fresh start's
// (which decides small fleets) and the two-hour soak's (steeper: it decides
// large ones; docs/cost.md, Sizing, says from how many targets). Beyond the fleets measured (1,280 targets from
// a fresh start, 384 over two hours) both lines are extrapolated.
func NeedMiB(series int) int {
	s := float64(series)
	return int(math.Ceil(Headroom * max(BaselineMiB+s*MiBPerSeries, SoakRSSBaseMiB+s*SoakRSSMiBPerSeries)))
}

// MaxSeries is how many active series a task of memMiB holds by NeedMiB.
func MaxSeries(memMiB int) int {
	m := float64(memMiB) / Headroom
	n := min((m-BaselineMiB)/MiBPerSeries, (m-SoakRSSBaseMiB)/SoakRSSMiBPerSeries)
	if n < 0 {
		return 0
	}
	return int(n)
}

// fargateMemory lists, per task CPU size, the memory sizes Fargate accepts
// (MiB): "Amazon ECS task definition parameters for Fargate", Task size
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html),
// and the ECS API's TaskDefinition memory. 8 and 16 vCPU need Linux platform
// version 1.4.0 or later: the service sets none, so it runs LATEST, which is
// 1.4.0 on Linux ("Fargate Linux platform versions for Amazon ECS"), as EFS
// volumes need as well.
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, by int) []int {
	var out []int
	for v := from; v <= to; v += by {
		out = append(out, v)
	}
	return out
}

// FargateCPUs are the task CPU sizes (1024 = 1 vCPU), smallest first.
func FargateCPUs() []int {
	return slices.Sorted(maps.Keys(fargateMemory))
}

// FargateMemory are the memory sizes (MiB) Fargate accepts with cpu,
// smallest first; none for a size Fargate does not offer.
func FargateMemory(cpu int) []int {
	return slices.Clone(fargateMemory[cpu])
}

// Size is a Fargate task size.
type Size struct{ CPU, MemoryMiB int }

func (s Size) String() string {
	return fmt.Sprintf("taskCpu=%d taskMemory=%d", s.CPU, s.MemoryMiB)
}

// Smallest is the cheapest Fargate size with at least needMiB of memory and
// minCPU of CPU: the smallest CPU that offers the memory, then the smallest
// memory (a vCPU costs about nine times a GB on Fargate, so less CPU is
// always cheaper). ok is false when no size holds needMiB.
func Smallest(needMiB, minCPU int) (size Size, ok bool) {
	for _, cpu := range FargateCPUs() {
		if cpu < minCPU {
			continue
		}
		for _, mem := range fargateMemory[cpu] {
			if mem >= needMiB {
				return Size{cpu, mem}, true
			}
		}
	}
	return Size{}, false
}
