package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MakeTestStates are the cache states a make test record is kept for.
var MakeTestStates = []string{"cold", "warm"}

// MakeTestRecord is what `make test` leaves after a passing run
// (scripts/record-make-test.sh): its wall time and the state of the caches
// it started from. make bench shows the latest cold and warm ones.
type MakeTestRecord struct {
	// Date is when the run ended, UTC (RFC 3339).
	Date   string `json:"date"`
	Commit string `json:"commit"`
	// State is "cold" (empty Go build cache and tools cache at the start)
	// or "warm" (both filled).
	State     string  `json:"state"`
	Seconds   float64 `json:"seconds"`
	LoadStart float64 `json:"loadStart"`
	LoadEnd   float64 `json:"loadEnd"`
	Cores     int     `json:"cores"`
	// CPUSeconds is the user and system CPU time of the run's processes,
	// and CPUModel the processor's name (older records have neither): they
	// tell a slower machine from a slower suite.
	CPUSeconds float64 `json:"cpuSeconds,omitempty"`
	CPUModel   string  `json:"cpuModel,omitempty"`
}

// RecordsDir is where make test writes its records: PROMAWS_RECORDS, else
// ~/.cache/prometheus-aws/records (outside the clone, so CI runs in fresh
// clones leave them for the next make bench on the machine).
func RecordsDir() string {
	if dir := os.Getenv("PROMAWS_RECORDS"); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "prometheus-aws", "records")
}

// ReadMakeTestRecord reads dir/make-test-<state>.json; nil without error
// when there is none.
func ReadMakeTestRecord(dir, state string) (*MakeTestRecord, error) {
	path := filepath.Join(dir, "make-test-"+state+".json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r MakeTestRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.State != state || r.Seconds <= 0 || r.Date == "" {
		return nil, fmt.Errorf("%s: not a %s record of make test (state %q, %v s, date %q)", path, state, r.State, r.Seconds, r.Date)
	}
	return &r, nil
}

// MakeTestKey is the metric key of a state's make test wall time.
func MakeTestKey(state string) string { return "maketest." + state + ".wall" }

// AddMakeTest puts the records in dir into r: a record newer than the
// value previous (the last results.json) holds replaces it; without either
// the row says how to get one.
func AddMakeTest(r, previous *Results, dir string) error {
	var errs []error
	for _, state := range MakeTestStates {
		key := MakeTestKey(state)
		m := r.Metric(key, Seconds)
		m.Unit, m.Values, m.Warmup, m.Skipped, m.Note = Seconds, nil, nil, "", ""
		rec, err := ReadMakeTestRecord(dir, state)
		if err != nil {
			errs = append(errs, err)
		}
		var old *Metric
		if previous != nil {
			old = previous.Lookup(key)
		}
		switch {
		case rec != nil && (old == nil || len(old.Values) == 0 || rec.Date >= old.RecordDate):
			m.Values, m.RecordDate, m.Note = []float64{rec.Seconds}, rec.Date, rec.Note()
		case old != nil && len(old.Values) > 0:
			*m = *old
		default:
			m.Skipped = "no record yet: run `make bench-test`"
		}
	}
	return errors.Join(errs...)
}

// Note is the provenance of the record, for the report.
func (rec *MakeTestRecord) Note() string {
	note := fmt.Sprintf("1 run, recorded by `make test` itself when it ended on %s at commit %s, load average %.2f at its start and %.2f at its end on %d cores",
		rec.Date, rec.Commit, rec.LoadStart, rec.LoadEnd, rec.Cores)
	if rec.CPUModel != "" {
		note += " (" + rec.CPUModel + ")"
	}
	if rec.CPUSeconds > 0 {
		note += fmt.Sprintf("; %.0f CPU-seconds, %.2f cores busy on average", rec.CPUSeconds, rec.CPUSeconds/rec.Seconds)
	}
	return note
}
