package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FaultRecord is what a fault test (e2e/faults_*_test.go) measured when
// it injected one fault and the stack survived it: the figures an
// operator can rely on, shown by make bench (BENCHMARKS.md, Faults).
type FaultRecord struct {
	// Fault names what was injected, e.g. "task killed (SIGKILL), efs".
	Fault string `json:"fault"`
	// Injected is how, e.g. "ThrottlingException on every DescribeInstances
	// for 60 s (emulator front)".
	Injected string `json:"injected"`
	// Survived says what held, e.g. "targets kept, recovered without a
	// restart".
	Survived string `json:"survived"`
	// SamplesLostSeconds is the span of samples lost (nil: not measured
	// for this fault).
	SamplesLostSeconds *float64 `json:"samplesLostSeconds,omitempty"`
	// AlertsLost counts alerts that never arrived (nil: no alert involved).
	AlertsLost *int `json:"alertsLost,omitempty"`
	// Seconds is the fault's other time figure, named by SecondsMeaning
	// (e.g. "until the alarm's log line", "to recover").
	Seconds        *float64 `json:"seconds,omitempty"`
	SecondsMeaning string   `json:"secondsMeaning,omitempty"`
	// Date (UTC, RFC 3339) and Commit are filled by RecordFault.
	Date   string `json:"date"`
	Commit string `json:"commit,omitempty"`
}

// faultsFile holds the latest record of each fault in RecordsDir.
const faultsFile = "faults.json"

// RecordFault keeps r as the latest record of its fault in dir (normally
// RecordsDir()), stamped with the time and the commit (PROMAWS_COMMIT,
// else git's HEAD as the test sees it, else empty).
func RecordFault(dir string, r FaultRecord) error {
	if r.Fault == "" || r.Survived == "" {
		return fmt.Errorf("a fault record names the fault and what survived it: %+v", r)
	}
	r.Date = time.Now().UTC().Format(time.RFC3339)
	if r.Commit == "" {
		r.Commit = commit()
	}
	all, err := ReadFaults(dir)
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(x FaultRecord) bool { return x.Fault == r.Fault })
	all = append(all, r)
	slices.SortFunc(all, func(a, b FaultRecord) int { return strings.Compare(a.Fault, b.Fault) })
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Tests run in parallel: write aside, then rename over.
	tmp, err := os.CreateTemp(dir, faultsFile+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, faultsFile))
}

// ReadFaults reads the fault records in dir; none without error when
// there is no file yet.
func ReadFaults(dir string) ([]FaultRecord, error) {
	path := filepath.Join(dir, faultsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var all []FaultRecord
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return all, nil
}

// AddFaults puts the latest record of each fault into r.Faults: a record
// in dir (normally RecordsDir()) replaces the one previous (the last
// results.json) holds for its fault when it is newer, so make bench shows
// what the fault tests last measured on this machine or, on a fresh one,
// what the committed results hold.
func AddFaults(r, previous *Results, dir string) error {
	latest := map[string]FaultRecord{}
	if previous != nil {
		for _, f := range previous.Faults {
			latest[f.Fault] = f
		}
	}
	recs, err := ReadFaults(dir)
	for _, f := range recs {
		if old, ok := latest[f.Fault]; !ok || f.Date >= old.Date {
			latest[f.Fault] = f
		}
	}
	r.Faults = slices.SortedFunc(maps.Values(latest), func(a, b FaultRecord) int { return strings.Compare(a.Fault, b.Fault) })
	return err
}

// commit is the commit under test, best effort.
func commit() string {
	if c := os.Getenv("PROMAWS_COMMIT"); c != "" {
		return c
	}
	for dir, _ := os.Getwd(); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		head, err := os.ReadFile(filepath.Join(dir, ".git", "HEAD"))
		if err != nil {
			continue
		}
		ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
		if !ok {
			return strings.TrimSpace(string(head))
		}
		if id, err := os.ReadFile(filepath.Join(dir, ".git", ref)); err == nil {
			return strings.TrimSpace(string(id))
		}
		return ""
	}
	return ""
}
