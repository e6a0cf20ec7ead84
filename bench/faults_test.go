package bench

import "testing"

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
