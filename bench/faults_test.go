package bench

import (
	"bytes"
	"strings"
	"testing"
)

// A fault's latest record replaces its earlier one; others stay, sorted.
func TestRecordFault(t *testing.T) {
	dir := t.TempDir()
	lost := 2.5
	for _, r := range []FaultRecord{
		{Fault: "task killed", Survived: "TSDB reopened", SamplesLostSeconds: &lost},
		{Fault: "EC2 throttled", Survived: "targets kept"},
		{Fault: "task killed", Survived: "TSDB reopened, again"},
	} {
		if err := RecordFault(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := ReadFaults(dir)
	if err != nil || len(all) != 2 || all[0].Fault != "EC2 throttled" || all[1].Survived != "TSDB reopened, again" || all[1].Date == "" {
		t.Fatalf("records %+v, %v", all, err)
	}
	if err := RecordFault(dir, FaultRecord{Fault: "x"}); err == nil {
		t.Error("a record without what survived must be refused")
	}
}

// make bench shows the newest record of each fault: one in the records
// folder replaces an older one of results.json, not a newer one, and a
// fault only results.json knows stays.
func TestAddFaults(t *testing.T) {
	dir := t.TempDir()
	lost := 0.4
	for _, r := range []FaultRecord{
		{Fault: "task killed", Survived: "TSDB reopened", SamplesLostSeconds: &lost},
		{Fault: "delivery failing", Survived: "logged"},
	} {
		if err := RecordFault(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	previous := &Results{Faults: []FaultRecord{
		{Fault: "task killed", Survived: "older", Date: "2000-01-01T00:00:00Z"},
		{Fault: "delivery failing", Survived: "newer than the record", Date: "2999-01-01T00:00:00Z"},
		{Fault: "EC2 throttled", Survived: "only in results.json", Date: "2026-01-01T00:00:00Z"},
	}}
	r := &Results{}
	if err := AddFaults(r, previous, dir); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Faults {
		got = append(got, f.Fault+": "+f.Survived)
	}
	want := []string{"EC2 throttled: only in results.json", "delivery failing: newer than the record", "task killed: TSDB reopened"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("faults %q, want %q", got, want)
	}
}

// BENCHMARKS.md lists every fault record in the Faults table, with its
// figures and provenance, and says how to get one when there is none.
func TestRenderFaults(t *testing.T) {
	lost, alerts, secs := 0.37, 0, 2.74
	r := sample()
	r.Faults = []FaultRecord{
		{Fault: "task killed (SIGKILL), efs", Injected: "SIGKILL to every container", Survived: "TSDB reopened | WAL replayed",
			SamplesLostSeconds: &lost, Seconds: &secs, SecondsMeaning: "from the kill to the new task ready",
			Date: "2026-12-06T22:15:01Z", Commit: "f5c3554ea558a28ce5ff7d83f9b35fa8900eeacc"},
		{Fault: "alert delivery failing", Injected: "Publish denied", Survived: "logged, delivered later", AlertsLost: &alerts, Date: "2026-12-06T22:26:30Z"},
	}
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"## 6b. Faults survived\n\n" + FaultsMethod,
		"| Fault | Injected | What survived | Samples lost | Alerts lost | Seconds | Date | Commit |",
		"| task killed (SIGKILL), efs | SIGKILL to every container | TSDB reopened \\| WAL replayed | 0.37 s | – | 2.74 s: from the kill to the new task ready | 2026-12-06T22:15:01Z | f5c3554ea558 |",
		"| alert delivery failing | Publish denied | logged, delivered later | – | 0 | – | 2026-12-06T22:26:30Z |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "## 6b. Faults survived"), strings.Index(out, "## 7. "); i < 0 || j < i {
		t.Error("the Faults section must come before the bench's own time")
	}
	r.Faults = nil
	b.Reset()
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No fault record yet") {
		t.Errorf("without records the section must say how to get one:\n%s", b.String())
	}
}
