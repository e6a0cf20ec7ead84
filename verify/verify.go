// Package verify checks a deployment once it is applied: the service is
// steady, its containers healthy, the configuration Prometheus and the
// Alertmanager serve is the one the stack generated, every node is a target
// and up, storage is written, alerts have a way out, and the stack's alarms
// are quiet. Each check says passed, failed (with the reason and the fix),
// warned (works, but something needs a person) or skipped (with why and how
// to enable it); nothing passes silently.
//
// It reads what a user has: the stack's settings, its Terraform state, the
// AWS APIs with the caller's credentials, and Prometheus's and the
// Alertmanager's HTTP APIs (Reach). cmd/verify is its command line (make
// verify); the end-to-end tests run it against the emulator.
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // works, but a person should act (never fails the run)
	Fail Status = "fail"
	Skip Status = "skip" // could not be checked; Detail says why, Fix how to enable it
)

// Result is one check's outcome.
type Result struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

func pass(format string, a ...any) Result {
	return Result{Status: Pass, Detail: fmt.Sprintf(format, a...)}
}
func warn(fix, format string, a ...any) Result {
	return Result{Status: Warn, Detail: fmt.Sprintf(format, a...), Fix: fix}
}
func fail(fix, format string, a ...any) Result {
	return Result{Status: Fail, Detail: fmt.Sprintf(format, a...), Fix: fix}
}
func skip(fix, format string, a ...any) Result {
	return Result{Status: Skip, Detail: fmt.Sprintf(format, a...), Fix: fix}
}

// Target is the deployment under check and the ways to reach it.
type Target struct {
	Settings *config.Settings
	// State is the stack's Terraform state (ReadState): what it generated.
	State *tfjson.State
	// AWS reaches the stack's region with the caller's credentials.
	AWS aws.Config
	// Prometheus and Alertmanager are nil when they cannot be reached;
	// Unreachable then says why and how to allow it (Reach).
	Prometheus   *promapi.Client
	Alertmanager *Alertmanager
	Unreachable  string
}

// Options tune Run.
type Options struct {
	// Wait retries failed checks until they pass or Wait has passed: for a
	// deployment that has just been applied. 0 checks once.
	Wait time.Duration
	// Interval between retries; default 10 s.
	Interval time.Duration
	// AlertRoundtrip sends a test alert through the Alertmanager and the
	// topic into a temporary queue (created and always deleted).
	AlertRoundtrip bool
	// RoundtripTimeout bounds the wait for the test alert; default 3 min
	// (the Alertmanager waits group_wait before it sends).
	RoundtripTimeout time.Duration
	// Progress, when set, gets a line per retry.
	Progress io.Writer
}

// check is one named check.
type check struct {
	name string
	run  func(ctx context.Context, t *Target, o Options) Result
}

// checks in the order they are reported.
var checks = []check{
	{"service steady", checkService},
	{"containers healthy", checkContainers},
	{"configuration served", checkConfiguration},
	{"discovery", checkDiscovery},
	{"storage", checkStorage},
	{"alert path", checkAlertPath},
	{"alarms", checkAlarms},
	{"alert roundtrip", checkRoundtrip},
}

// Names are the checks' names, in report order.
func Names() []string {
	var n []string
	for _, c := range checks {
		n = append(n, c.name)
	}
	return n
}

// Run runs every check, retrying the failed ones until they pass or
// o.Wait is over, and returns one result per check.
func Run(ctx context.Context, t *Target, o Options) []Result {
	if o.Interval == 0 {
		o.Interval = 10 * time.Second
	}
	deadline := time.Now().Add(o.Wait)
	results := make([]Result, len(checks))
	done := make([]bool, len(checks))
	for attempt := 1; ; attempt++ {
		var failing []string
		for i, c := range checks {
			if done[i] {
				continue
			}
			r := c.run(ctx, t, o)
			r.Check = c.name
			results[i] = r
			if r.Status != Fail {
				done[i] = true
			} else {
				failing = append(failing, c.name)
			}
		}
		if len(failing) == 0 || !time.Now().Add(o.Interval).Before(deadline) || ctx.Err() != nil {
			return results
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "verify: attempt %d: %s failing; again in %s (waiting up to %s)\n",
				attempt, strings.Join(failing, ", "), o.Interval, time.Until(deadline).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return results
		case <-time.After(o.Interval):
		}
	}
}

// Failed reports whether any result failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Print writes one line per result (and its fix, indented), then a
// summary line.
func Print(w io.Writer, stack string, results []Result) {
	counts := map[Status]int{}
	for _, r := range results {
		counts[r.Status]++
		fmt.Fprintf(w, "%-4s  %-20s  %s\n", strings.ToUpper(string(r.Status)), r.Check, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "      %-20s  -> %s\n", "", r.Fix)
		}
	}
	verdict := "verified"
	if counts[Fail] > 0 {
		verdict = "NOT verified"
	}
	fmt.Fprintf(w, "%s: %s (%d passed, %d warned, %d failed, %d skipped)\n", stack, verdict,
		counts[Pass], counts[Warn], counts[Fail], counts[Skip])
}

// JSON is the results as one JSON document, for pipelines.
func JSON(stack string, results []Result) ([]byte, error) {
	return json.MarshalIndent(struct {
		Stack    string   `json:"stack"`
		Verified bool     `json:"verified"`
		Results  []Result `json:"results"`
	}{stack, !Failed(results), results}, "", "  ")
}
