package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/planpreview"
)

// canaryRule is the rule the test adds to a group, as an edit of
// alerting/rules.yml would.
const canaryRule = `      - alert: ReloadCanary
        expr: vector(1) == 0
        labels:
          severity: warning
        annotations:
          summary: Added by the reload test
`

// TestConfigReloadsInPlace proves that a configuration change reaches the
// running task without replacing it: apply; run the task (config-sync
// sidecar included) through the local Fargate runner; change scrapeInterval,
// alertGroupWait and one rule; plan (through planpreview, on the real plan
// JSON: only in-place parameter updates, "reloads in place"); apply again.
// The same Prometheus process (same task definition, same task, same
// process start) then serves the new interval and rule and the
// Alertmanager the new grouping, with the samples scraped before still
// there. Then a broken rules file written straight into its parameter
// leaves the old rules running, and is reported. No wait here asserts a
// duration: each waits for its outcome under the test's deadline and logs
// how long it took (the bound is make bench's figure).
func TestConfigReloadsInPlace(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "reload", map[string]string{"PROMAWS_NODE_COUNT": "1", "PROMAWS_ALERT_GROUP_WAIT": "30s"})
	dep.apply(t)
	ids := dep.groupInstances(t)
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t)
	prom.waitForNodes(t, ids)
	before := prom.identity(t)
	// The node samples of the hour up to a moment at, chosen once scrapes
	// before it exist and are all written (at least a scrape timeout ago,
	// here under the 5 s interval): the same query must count the same
	// samples after the change, whatever was scraped since.
	var at string
	var samplesBefore float64
	waitUntil(t, h.ctx, prom, func() (bool, string) {
		at = fmt.Sprintf("%.3f", float64(time.Now().Add(-10*time.Second).UnixMilli())/1000)
		res, err := prom.api.Query(h.ctx, samplesAt(at))
		if err != nil {
			t.Fatalf("%s: %v", samplesAt(at), err) // a failing query fails; only "no sample yet" waits
		}
		if len(res) != 1 {
			return false, fmt.Sprintf("%s: %d series", samplesAt(at), len(res))
		}
		if _, err := fmt.Sscan(res[0].Value, &samplesBefore); err != nil {
			t.Fatalf("%s: %q is not a number", samplesAt(at), res[0].Value)
		}
		return samplesBefore > 0, fmt.Sprintf("%s: %v", samplesAt(at), samplesBefore)
	})

	var applied time.Time
	step(t, "a configuration and rule change plans as parameter updates only", func(t *testing.T) {
		dep.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "7s", "PROMAWS_ALERT_GROUP_WAIT": "45s"})
		addRule(t, filepath.Join(dep.stackDir(dep.Settings.StackName()), "cdk.tf.json"), "prometheus-aws-prometheus")
		s := dep.summary(t)
		var changed []string
		for _, c := range s.Changes {
			changed = append(changed, c.Address)
			if c.Type != "aws_ssm_parameter" || c.Action != planpreview.Update {
				t.Errorf("%s: %s; a configuration change may only update parameters in place", c.Address, c.Action)
			}
		}
		if s.Effect != planpreview.ReloadsInPlace || len(changed) != 3 {
			t.Errorf("want prometheus.yml, one rule group and alertmanager.yml updated, reloading in place; have %v (%q)", changed, s.Effect)
		}
		dep.apply(t)
		applied = time.Now()
	})

	step(t, "the same process serves the new configuration, rule and grouping, its samples kept", func(t *testing.T) {
		live := waitUntil(t, h.ctx, prom, func() (bool, string) {
			cfg, err := prom.api.Config(h.ctx)
			if err != nil {
				return false, err.Error()
			}
			rules, err := prom.api.AlertingRules(h.ctx)
			if err != nil {
				return false, err.Error()
			}
			am := prom.alertmanagerConfig(t)
			return strings.Contains(cfg, "scrape_interval: 7s") && slices.Contains(rules, "ReloadCanary") && strings.Contains(am, "group_wait: 45s"),
				fmt.Sprintf("interval 7s: %v, ReloadCanary: %v, group_wait 45s: %v", strings.Contains(cfg, "scrape_interval: 7s"), slices.Contains(rules, "ReloadCanary"), strings.Contains(am, "group_wait: 45s"))
		})
		// Measured, not asserted: make bench holds the figure against
		// taskcontract.ConfigLiveBoundSeconds.
		t.Logf("configuration change live %.1f s after the apply", live.Sub(applied).Seconds())
		prom.assertSameProcess(t, before, prom.identity(t), "a configuration change must reload in place")
		if info, err := prom.api.RuntimeInfo(h.ctx); err != nil || !info.ReloadConfigSuccess {
			t.Errorf("the last reload must have succeeded (runtimeinfo reloadConfigSuccess): %+v %v", info, err)
		}
		// A failed query fails the test (mustScalar): it cannot pass as
		// "no samples before, none now".
		if kept := prom.mustScalar(t, samplesAt(at)); kept != samplesBefore {
			t.Errorf("the samples scraped before the change must stay: %s counted %v before the change, %v now", samplesAt(at), samplesBefore, kept)
		}
		if n := prom.mustScalar(t, `count_over_time(up{job="node"}[1h])`); n < samplesBefore {
			t.Errorf("the node samples of the last hour must have grown or stayed: %v before the change, %v now", samplesBefore, n)
		} else {
			t.Logf("node samples: %v up to %s, %v now", samplesBefore, at, n)
		}
	})

	step(t, "a broken rules file leaves the old rules running, and is reported", func(t *testing.T) {
		out := dep.outputs(t)
		name := strings.TrimSuffix(out["prometheus_config_parameter"], taskcontract.ConfigFile) + taskcontract.RulesDir + "/prometheus-aws-prometheus.yml"
		if _, err := ssm.NewFromConfig(h.aws).PutParameter(h.ctx, &ssm.PutParameterInput{Name: aws.String(name), Overwrite: aws.Bool(true),
			Value: aws.String("groups:\n  - name: prometheus-aws-prometheus\n    rules:\n      - alert: Broken\n        expr: this is not promql\n")}); err != nil {
			t.Fatal(err)
		}
		put := time.Now()
		reported := waitUntil(t, h.ctx, prom, func() (bool, string) {
			v := prom.scalar(t, `prometheus_config_last_reload_successful`)
			return v == 0, fmt.Sprintf("prometheus_config_last_reload_successful %v", v)
		})
		t.Logf("failed reload reported %.1f s after the parameter was written", reported.Sub(put).Seconds())
		rules, err := prom.api.AlertingRules(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(rules, "ReloadCanary") || slices.Contains(rules, "Broken") || !slices.Contains(rules, "PrometheusConfigReloadFailed") {
			t.Errorf("the rules that ran before must keep running: %v", rules)
		}
		if log := prom.task.LogTail(200); !strings.Contains(log, "Error reloading config") && !strings.Contains(log, "error loading config") {
			t.Errorf("Prometheus's log must say the reload failed:\n%s", log)
		}
	})
}

// addRule puts canaryRule at the end of a rule group's parameter in a
// synthesized cdk.tf.json, as editing alerting/rules.yml would.
func addRule(t *testing.T, file, group string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	params, _ := doc["resource"].(map[string]any)["aws_ssm_parameter"].(map[string]any)
	found := false
	for _, p := range params {
		p := p.(map[string]any)
		if strings.HasSuffix(fmt.Sprint(p["name"]), "/"+taskcontract.RulesDir+"/"+group+".yml") {
			p["insecure_value"] = strings.TrimRight(fmt.Sprint(p["insecure_value"]), "\n") + "\n" + canaryRule
			found = true
		}
	}
	if !found {
		t.Fatalf("no parameter holds rule group %s", group)
	}
	if data, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// summary is planpreview's summary of a fresh plan, read as make
// plan-preview reads it: plan.json beside the stack's cdk.tf.json.
func (d *deployment) summary(t *testing.T) *planpreview.Stack {
	t.Helper()
	file := filepath.Join(d.stackDir(d.Settings.StackName()), "plan.json")
	if err := os.WriteFile(file, []byte(d.planJSON(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := planpreview.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls ok every second until it holds or the timeout passes,
// and returns when it held.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, p *prometheus, ok func() (bool, string)) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return waitUntil(t, ctx, p, ok)
}

// waitUntil polls ok every second until it holds, and returns when it
// did; it fails the test only when ctx ends first (the test's deadline:
// an outcome awaited this way asserts no duration).
func waitUntil(t *testing.T, ctx context.Context, p *prometheus, ok func() (bool, string)) time.Time {
	t.Helper()
	start := time.Now()
	last := ""
	for {
		var done bool
		if done, last = ok(); done {
			return time.Now()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("still not after %s (%v): %s\ntask log:\n%s", time.Since(start).Round(time.Second), ctx.Err(), last, p.logTail())
		case <-time.After(time.Second):
		}
	}
}

// scalar is an instant query's one value as a number (-1 when there is
// none, or the query failed): for polls, which retry. A check reads
// mustScalar.
func (p *prometheus) scalar(t *testing.T, query string) float64 {
	t.Helper()
	v, err := p.api.Scalar(p.ctx, query)
	if err != nil || v == "" {
		return -1
	}
	var f float64
	if _, err := fmt.Sscan(v, &f); err != nil {
		t.Fatalf("%s: %q is not a number", query, v)
	}
	return f
}

// samplesAt counts the node samples of the hour up to at (Unix seconds).
func samplesAt(at string) string {
	return `count_over_time(up{job="node"}[1h] @ ` + at + `)`
}

// mustScalar is an instant query's one value as a number; a failed query
// or an answer of no sample fails the test.
func (p *prometheus) mustScalar(t *testing.T, query string) float64 {
	t.Helper()
	v, err := p.api.Scalar(p.ctx, query)
	if err != nil {
		t.Fatalf("%s: %v\nprometheus log:\n%s", query, err, p.logTail())
	}
	var f float64
	if _, err := fmt.Sscan(v, &f); err != nil {
		t.Fatalf("%s: %q is not a number", query, v)
	}
	return f
}

// alertmanagerConfig is the configuration the bundled Alertmanager runs.
func (p *prometheus) alertmanagerConfig(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodGet, p.task.AlertmanagerURL+"/api/v2/status", nil)
	req.SetBasicAuth(p.api.Username, p.api.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var status struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if json.NewDecoder(resp.Body).Decode(&status) != nil {
		return ""
	}
	return status.Config.Original
}
