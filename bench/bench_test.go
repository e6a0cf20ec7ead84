package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
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
	r := &Results{Date: "2026-01-02", Commit: "0123456789ab", Command: "make bench", Runs: 5, Warmup: 1, Duration: 600,
		Machine: Machine{CPU: "Test CPU", Cores: 2, MemoryMiB: 4096, Kernel: "6.1", Go: "go1.26", Node: "v20", Terraform: "1.11", Load: []float64{0.5, 0.7, 2.5}, LoadEvery: 10},
		Phases:  []Phase{{"synth", 120}, {"discovery", 95.5}}}
	r.Metric("synth.app.wall", Seconds).Values = []float64{6, 5, 7, 6, 8}
	r.Metric("synth.floor.wall", Seconds).Values = []float64{3, 3, 3, 3, 3}
	r.Metric("synth.app.node_hwm", MiB).Values = []float64{200, 210, 190, 200, 205}
	r.Skip("not installed", "synth.cli.wall", "synth.cli.maxrss")
	m := r.Metric("build.cold.wall", Seconds)
	m.Values = []float64{60, 50, 55}
	w := r.Metric(MakeTestKey("warm"), Seconds)
	w.Values, w.Note = []float64{600}, "recorded by make test"
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
		"| go build, cold cache | 55.0 s | 50.0 s | 60.0 s | 3 (a) |",
		"- (a) " + noteCold + ".",
		"| make test, warm | 600 s | 600 s | 600 s | 1 (a) |",
		"- (a) recorded by make test.",
		"| make plan: terraform plan, no changes | not measured | | | 0 |",
		"| Test CPU, 2 cores |",
		"median / max | 0.70 / 2.50 |",
		"at commit 0123456789ab",
		"| discovery | 95.5 s |",
		"| whole bench | 600 s |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, out)
		}
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
	b.Date, b.Duration, b.Commit = "2026-03-04", 900, "fedcba987654-dirty"
	b.Machine.Load = []float64{3.5, 1.25}
	b.Phases[0].Seconds = 99
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
	// Numbers, and the commit (a hexadecimal number, -dirty with changes).
	digits := regexp.MustCompile(`[0-9a-f]{12}(-dirty)?|[0-9]+(\.[0-9]+)?`)
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

func writeRecord(t *testing.T, dir string, rec MakeTestRecord) {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "make-test-"+rec.State+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// make bench shows the newest make test record of each state, keeps an
// older bench's value when no newer record exists, and says how to get one
// when there is nothing.
func TestAddMakeTest(t *testing.T) {
	dir := t.TempDir()
	writeRecord(t, dir, MakeTestRecord{Date: "2026-11-20T10:00:00Z", Commit: "abc", State: "warm", Seconds: 600, LoadStart: 1, LoadEnd: 2, Cores: 2,
		CPUSeconds: 900, CPUModel: "AMD EPYC"})
	previous := &Results{}
	old := previous.Metric(MakeTestKey("cold"), Seconds)
	old.Values, old.RecordDate, old.Note = []float64{900}, "2026-11-01T00:00:00Z", "older record"
	r := &Results{}
	if err := AddMakeTest(r, previous, dir); err != nil {
		t.Fatal(err)
	}
	if m := r.Lookup(MakeTestKey("warm")); len(m.Values) != 1 || m.Values[0] != 600 || !strings.Contains(m.Note, "2026-11-20T10:00:00Z at commit abc") ||
		!strings.Contains(m.Note, "2 cores (AMD EPYC); 900 CPU-seconds, 1.50 cores busy") {
		t.Errorf("warm: want the record's 600 s with its provenance, processor and CPU time, got %+v", m)
	}
	if m := r.Lookup(MakeTestKey("cold")); len(m.Values) != 1 || m.Values[0] != 900 || m.Note != "older record" {
		t.Errorf("cold: want the previous results' value kept, got %+v", m)
	}

	// A record newer than the previous results wins; an older one does not.
	writeRecord(t, dir, MakeTestRecord{Date: "2026-11-21T00:00:00Z", Commit: "def", State: "cold", Seconds: 1200, Cores: 2})
	newer := previous.Metric(MakeTestKey("warm"), Seconds)
	newer.RecordDate, newer.Values = "2026-11-30T00:00:00Z", []float64{500}
	r = &Results{}
	if err := AddMakeTest(r, previous, dir); err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup(MakeTestKey("cold")).Values; len(got) != 1 || got[0] != 1200 {
		t.Errorf("cold: a newer record must win, got %v", got)
	}
	if got := r.Lookup(MakeTestKey("warm")).Values; len(got) != 1 || got[0] != 500 {
		t.Errorf("warm: an older record must not replace newer results, got %v", got)
	}

	r = &Results{}
	if err := AddMakeTest(r, nil, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if m := r.Lookup(MakeTestKey("cold")); len(m.Values) != 0 || !strings.Contains(m.Skipped, "make bench-test") {
		t.Errorf("without any record the row must say how to get one, got %+v", m)
	}

	// A damaged record is an error, not a figure.
	if err := os.WriteFile(filepath.Join(dir, "make-test-warm.json"), []byte(`{"state":"cold","seconds":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AddMakeTest(&Results{}, nil, dir); err == nil {
		t.Error("a record of the wrong state must be an error")
	}
}

// make test's record carries the CPU time of what it ran (its children,
// however deep) and the processor: given warm caches, when the recorded
// command's grandchild burns CPU (a fixed loop, not a time: the machine may
// be loaded), then the record counts at least what the command saw its
// child use.
func TestRecordMakeTestCountsCPU(t *testing.T) {
	if _, err := os.Stat("/proc/cpuinfo"); err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	gocache, tools, records := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(gocache, "0123-d"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tools, "prometheus"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	seen := filepath.Join(t.TempDir(), "times")
	busy := `sh -c 'i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done'; times >` + seen
	cmd := exec.Command("bash", "../scripts/record-make-test.sh", "bash", "-c", busy)
	cmd.Env = append(os.Environ(), "GOCACHE="+gocache, "PROMAWS_TOOLS_BIN="+tools, "PROMAWS_RECORDS="+records)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("record-make-test.sh: %v\n%s", err, out)
	}
	data, err := os.ReadFile(seen)
	if err != nil {
		t.Fatal(err)
	}
	// bash's times: its own user and system time, then its children's.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var child float64
	for _, f := range strings.Fields(lines[len(lines)-1]) {
		var m, s float64
		if _, err := fmt.Sscanf(f, "%fm%fs", &m, &s); err != nil {
			t.Fatalf("times said %q: %v", data, err)
		}
		child += 60*m + s
	}
	if child < 0.1 {
		t.Fatalf("the loop used %.2f CPU-s: too little to tell anything", child)
	}
	rec, err := ReadMakeTestRecord(records, "warm")
	if err != nil || rec == nil {
		t.Fatalf("no warm record: %v", err)
	}
	if rec.CPUSeconds < child-0.1 {
		t.Errorf("cpuSeconds %v: the recorded command's child alone used %.2f CPU-s", rec.CPUSeconds, child)
	}
	if rec.CPUModel == "" || rec.CPUModel == "unknown" {
		t.Errorf("cpuModel %q: want the processor's name from /proc/cpuinfo", rec.CPUModel)
	}
}
