// Package bench holds what cmd/bench measures and how it is reported: raw
// samples, medians, ratios, the machine description, and the rendering of
// BENCHMARKS.md from bench/results.json. Nothing here times anything; the
// measuring lives in cmd/bench and in Measure (process wall time and peak
// memory).
package bench

import (
	"fmt"
	"math"
	"sort"
)

// Units of a Metric.
const (
	Seconds = "s"
	MiB     = "MiB"
	Millis  = "ms"
	Count   = "count"
)

// Metric is one measured quantity: every sample after the warm-up, in
// order, or the reason it was not measured.
type Metric struct {
	Key    string    `json:"key"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values,omitempty"`
	// Warmup holds the discarded warm-up samples (for the record).
	Warmup []float64 `json:"warmup,omitempty"`
	// Skipped says why there are no values ("not installed", "-skip synth").
	Skipped string `json:"skipped,omitempty"`
	// Note qualifies the values when the report's row has no note of its
	// own (e.g. where make test's record came from).
	Note string `json:"note,omitempty"`
	// RecordDate is when a value recorded outside the bench was taken
	// (make test's own record), to keep the newest.
	RecordDate string `json:"recordDate,omitempty"`
}

// Median of the values; NaN without values.
func (m *Metric) Median() float64 { return Median(m.Values) }

// Min and Max of the values; NaN without values.
func (m *Metric) Min() float64 { return extreme(m.Values, math.Min) }

// Max of the values; NaN without values.
func (m *Metric) Max() float64 { return extreme(m.Values, math.Max) }

func extreme(v []float64, f func(a, b float64) float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	r := v[0]
	for _, x := range v[1:] {
		r = f(r, x)
	}
	return r
}

// Median is the middle value (the mean of the two middle ones for an even
// count); NaN for no values. It does not modify v.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryMiB int    `json:"memoryMiB"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Node      string `json:"node"`
	Terraform string `json:"terraform"`
	// Load holds the 1-minute load average, sampled every LoadEvery
	// seconds through the run: above Cores, other work competed for the
	// CPU.
	Load      []float64 `json:"load"`
	LoadEvery float64   `json:"loadEverySeconds"`
}

// Phase is how long one part of the bench took.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Results is everything one bench run recorded: bench/results.json.
type Results struct {
	Date string `json:"date"`
	// Commit is the checked-out commit ("<hash>-dirty" with local changes).
	Commit  string    `json:"commit"`
	Command string    `json:"command"`
	Runs    int       `json:"runs"`
	Warmup  int       `json:"warmup"`
	Machine Machine   `json:"machine"`
	Metrics []*Metric `json:"metrics"`
	// Instances is how many instances the discovery-at-scale test
	// launched (-instances); 0 when it did not run.
	Instances int `json:"instances,omitempty"`
	// Faults are the latest record of each fault test (AddFaults): shown,
	// not measured by the bench.
	Faults []FaultRecord `json:"faults,omitempty"`
	// Phases are the bench's own parts in order, with their wall time.
	Phases []Phase `json:"phases"`
	// Duration is the wall time of the whole bench, in seconds.
	Duration float64 `json:"durationSeconds"`
}

// Metric returns the metric with key, adding an empty one with unit when
// there is none yet.
func (r *Results) Metric(key, unit string) *Metric {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m
		}
	}
	m := &Metric{Key: key, Unit: unit}
	r.Metrics = append(r.Metrics, m)
	return m
}

// Lookup returns the metric with key, or nil.
func (r *Results) Lookup(key string) *Metric {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m
		}
	}
	return nil
}

// Skip marks every metric of keys not measured, for reason, unless it has
// values already.
func (r *Results) Skip(reason string, keys ...string) {
	for _, k := range keys {
		m := r.Metric(k, "")
		if len(m.Values) == 0 && m.Skipped == "" {
			m.Skipped = reason
		}
	}
}

// Ratio is median(num)/median(den), with ok false when either is missing or
// the denominator is zero.
func (r *Results) Ratio(num, den string) (float64, bool) {
	a, b := r.Lookup(num), r.Lookup(den)
	if a == nil || b == nil || len(a.Values) == 0 || len(b.Values) == 0 {
		return 0, false
	}
	d := b.Median()
	if d == 0 {
		return 0, false
	}
	return a.Median() / d, true
}

// Format renders a value in its unit for the tables.
func Format(v float64, unit string) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch unit {
	case Seconds:
		switch {
		case v >= 100:
			return fmt.Sprintf("%.0f s", v)
		case v >= 10:
			return fmt.Sprintf("%.1f s", v)
		default:
			return fmt.Sprintf("%.2f s", v)
		}
	case Millis:
		return fmt.Sprintf("%.0f ms", v)
	case MiB:
		return fmt.Sprintf("%.0f MiB", v)
	case Count:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}
