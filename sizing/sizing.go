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

// The measurement behind MiBPerSeries: BENCHMARKS.md, section 5 ("Scale"),
// one run. Prometheus's VmRSS with the stack's own nodes as targets, and
// after discovering MeasuredTargets more node_exporter targets of
// SeriesPerTarget series each, ONE scrape of each.
const (
	SeriesPerTarget     = 480
	MeasuredTargets     = 1000
	MeasuredBaselineMiB = 70
	MeasuredLoadedMiB   = 881
)

// MiBPerSeries is Prometheus's resident memory per active series:
// (881 - 70) MiB / (1,000 × 480) series ≈ 0.00169 MiB (1.73 KiB).
//
// A LOWER BOUND: measured after one scrape, while the head grows for about
// two hours until its first compaction (and series churn adds more). Replace
// it with the figure measured under the runner's enforced memory limit after
// at least two hours of scraping; this constant is the one place to change.
//
// A server's figure, applied to agent mode too (storageMode=amp): an agent
// keeps no head chunks, so it should need less, but no measurement says how
// much; until one does, the agent is sized like a server (an upper bound for
// it, as far as this lower bound goes).
const MiBPerSeries = float64(MeasuredLoadedMiB-MeasuredBaselineMiB) / (MeasuredTargets * SeriesPerTarget)

// BaselineMiB is Prometheus's resident memory with (almost) no targets.
const BaselineMiB = MeasuredBaselineMiB

// Headroom multiplies the resident estimate into the task memory asked for:
// Go's default GOGC=100 lets the heap grow to twice the live data before a
// collection, and compactions and queries allocate on top of the head.
const Headroom = 2.0

// NeedMiB is the task memory (MiB, rounded up) Prometheus needs for series
// active series.
func NeedMiB(series int) int {
	return int(math.Ceil(Headroom * (BaselineMiB + float64(series)*MiBPerSeries)))
}

// MaxSeries is how many active series a task of memMiB holds by NeedMiB.
func MaxSeries(memMiB int) int {
	n := (float64(memMiB)/Headroom - BaselineMiB) / MiBPerSeries
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
