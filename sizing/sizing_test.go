package sizing

import "testing"

// The figures are the line through BENCHMARKS.md section 5b's two
// measurements: without headroom, each task size is full at the fleet it
// held.
func TestFiguresAreTheMeasurements(t *testing.T) {
	for _, m := range []struct{ mib, held int }{{SmallTaskMiB, SmallHeldTargets}, {LargeTaskMiB, LargeHeldTargets}} {
		if got := (float64(m.mib) - BaselineMiB) / MiBPerSeries / SeriesPerTarget; got < float64(m.held)-0.5 || got > float64(m.held)+0.5 {
			t.Errorf("a %d MiB task is full at %.1f targets by the figures, measured %d", m.mib, got, m.held)
		}
	}
}

// NeedMiB and MaxSeries are inverses: a task holds what it was sized for.
func TestNeedAndMaxSeriesAgree(t *testing.T) {
	for _, series := range []int{0, 48_000, 480_000, 2_400_000, 9_600_000} {
		if got := MaxSeries(NeedMiB(series)); got < series-1 || got > series+1000 {
			t.Errorf("MaxSeries(NeedMiB(%d)) = %d", series, got)
		}
	}
}

// Smallest picks the least CPU that offers the memory, then the least
// memory, and never less CPU than asked for.
func TestSmallest(t *testing.T) {
	for _, c := range []struct {
		need, minCPU int
		want         Size
		ok           bool
	}{
		{100, 512, Size{512, 1024}, true},
		{1800, 512, Size{512, 2048}, true},
		{5000, 512, Size{1024, 5120}, true},
		{9000, 256, Size{2048, 9216}, true},
		{31000, 512, Size{8192, 32768}, true},
		{70000, 512, Size{16384, 73728}, true},
		{122880, 16384, Size{16384, 122880}, true},
		{122881, 256, Size{}, false},
		{1024, 4096, Size{4096, 8192}, true},
	} {
		if got, ok := Smallest(c.need, c.minCPU); got != c.want || ok != c.ok {
			t.Errorf("Smallest(%d, %d) = %v, %v; want %v, %v", c.need, c.minCPU, got, ok, c.want, c.ok)
		}
	}
}
