package sizing

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

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

// soakReadings reads make bench-soak's minute-by-minute readings
// (bench/soak.csv) from minute `from` on: per fleet, the most RSS (MiB),
// the most head series and the last minute read. A blank (Prometheus did
// not answer) counts for nothing.
func soakReadings(t *testing.T, from float64) map[int]struct{ rss, series, minutes float64 } {
	t.Helper()
	f, err := os.Open("../bench/soak.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	out := map[int]struct{ rss, series, minutes float64 }{}
	for _, r := range rows[1:] {
		n, _ := strconv.Atoi(r[col["targets"]])
		v := func(name string) float64 { f, _ := strconv.ParseFloat(r[col[name]], 64); return f }
		if v("minute") < from {
			continue
		}
		o := out[n]
		o.rss, o.series, o.minutes = max(o.rss, v("rss_mib")), max(o.series, v("head_series")), max(o.minutes, v("minute"))
		out[n] = o
	}
	return out
}

// The soak's figures are its readings: the least-squares line through each
// fleet's most RSS from SoakFitFromMinute on against its head series, and
// the fleets killed (whose readings end before the two hours).
func TestSoakFiguresAreTheReadings(t *testing.T) {
	fleets := soakReadings(t, SoakFitFromMinute)
	if len(fleets) < 2 {
		t.Fatalf("bench/soak.csv has %d fleets, want at least 2", len(fleets))
	}
	var n, sx, sy, sxx, sxy float64
	for _, f := range fleets {
		n, sx, sy, sxx, sxy = n+1, sx+f.series, sy+f.rss, sxx+f.series*f.series, sxy+f.series*f.rss
	}
	killed := 0
	for _, f := range soakReadings(t, 0) {
		if f.minutes < 119 {
			killed++
		}
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	base := (sy - slope*sx) / n
	if math.Abs(slope-SoakRSSMiBPerSeries) > 1e-5 || math.Abs(base-SoakRSSBaseMiB) > 0.5 {
		t.Errorf("bench/soak.csv's line is %.0f MiB + %.6f MiB a series; sizing says %.0f + %.6f", base, slope, SoakRSSBaseMiB, SoakRSSMiBPerSeries)
	}
	if killed != SoakKilled {
		t.Errorf("bench/soak.csv: %d fleets killed before two hours, sizing says %d", killed, SoakKilled)
	}
}

// The rule asks more than every fleet of the soak took at any minute of
// the two hours, the loaded first hour too.
func TestRuleCoversTheTwoHourSoak(t *testing.T) {
	for targets, f := range soakReadings(t, 0) {
		if need := NeedMiB(int(f.series)); float64(need) < f.rss {
			t.Errorf("%d targets (%.0f series): the rule asks %d MiB, the soak took %.0f MiB of RSS", targets, f.series, need, f.rss)
		}
	}
}
