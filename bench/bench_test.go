package bench

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{2, 2, 9, 1, 2}, 2},
	} {
		in := append([]float64(nil), tc.in...)
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("Median reordered its input: %v", tc.in)
			}
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) must be NaN")
	}
}

func TestRatio(t *testing.T) {
	r := &Results{}
	r.Metric("a", Seconds).Values = []float64{10, 30, 20}
	r.Metric("b", Seconds).Values = []float64{4, 5, 6}
	r.Metric("zero", Seconds).Values = []float64{0}
	if got, ok := r.Ratio("a", "b"); !ok || got != 4 {
		t.Errorf("Ratio(a, b) = %v, %v; want 4, true", got, ok)
	}
	for _, den := range []string{"zero", "missing"} {
		if _, ok := r.Ratio("a", den); ok {
			t.Errorf("Ratio(a, %s) must be not ok", den)
		}
	}
}

func sample() *Results {
	r := &Results{Date: "2026-01-02", Command: "make bench", Runs: 5, Warmup: 1, Duration: 600,
		Machine: Machine{CPU: "Test CPU", Cores: 2, MemoryMiB: 4096, Kernel: "6.1", Go: "go1.26", Node: "v20", Terraform: "1.11", LoadStart: 0.5, LoadEnd: 0.7}}
	r.Metric("synth.app.wall", Seconds).Values = []float64{6, 5, 7, 6, 8}
	r.Metric("synth.floor.wall", Seconds).Values = []float64{3, 3, 3, 3, 3}
	r.Metric("synth.app.node_hwm", MiB).Values = []float64{200, 210, 190, 200, 205}
	r.Skip("not installed", "synth.cli.wall", "synth.cli.maxrss")
	m := r.Metric("build.cold.wall", Seconds)
	m.Values, m.Note = []float64{400}, "1 run: the cold build took more than 5 minutes"
	return r
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| synth, default stack: wall | 6.00 s | 5.00 s | 8.00 s | 5 |",
		"| synth wall / floor wall | 2.00× |",
		"| `cdktf synth` (CLI): wall | not installed | | | 0 |",
		"| synth, default stack: node child peak (VmHWM) | 200 MiB | 190 MiB | 210 MiB | 5 |",
		"go build, cold cache: 1 run: the cold build took more than 5 minutes.",
		"| plan, default stack (2 nodes) | not measured | | | 0 |",
		"| Test CPU, 2 cores |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "machine was busy") {
		t.Error("load below the core count must not be called busy")
	}
	for _, s := range Sections {
		if !strings.Contains(out, "## "+s.Title) {
			t.Errorf("section %q missing", s.Title)
		}
	}
}

// Two runs with different numbers render to the same text once the numbers
// are masked: a rerun changes only numbers.
func TestRenderChangesOnlyNumbers(t *testing.T) {
	a, b := sample(), sample()
	b.Date, b.Duration = "2026-03-04", 900
	b.Machine.LoadStart = 1.5
	for _, m := range b.Metrics {
		for i := range m.Values {
			m.Values[i] *= 1.7
		}
	}
	var x, y bytes.Buffer
	if err := Render(&x, a); err != nil {
		t.Fatal(err)
	}
	if err := Render(&y, b); err != nil {
		t.Fatal(err)
	}
	digits := regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
	if mx, my := digits.ReplaceAllString(x.String(), "N"), digits.ReplaceAllString(y.String(), "N"); mx != my {
		t.Errorf("renders differ in more than numbers:\n%s\n---\n%s", mx, my)
	}
}

func TestKeysUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if seen[k] {
			t.Errorf("metric key %s appears twice in Sections", k)
		}
		seen[k] = true
	}
	for _, s := range Sections {
		for _, q := range s.Ratios {
			if !seen[q.Num] || !seen[q.Den] {
				t.Errorf("ratio %q uses a key that no row shows", q.Label)
			}
		}
	}
}

func TestMeasure(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	u, err := Measure(exec.Command(sh, "-c", "sleep 0.1 & wait"), "sleep")
	if err != nil {
		t.Fatal(err)
	}
	if u.Wall <= 0 || u.MaxRSS <= 0 {
		t.Errorf("Measure recorded nothing: %+v", u)
	}
	if _, err := Measure(exec.Command(sh, "-c", "echo broken >&2; exit 3"), "node"); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failing command must be an error carrying its output, got %v", err)
	}
	if StatusMiB(os.Getpid(), "VmRSS") <= 0 {
		t.Error("VmRSS of this process must be readable")
	}
}
