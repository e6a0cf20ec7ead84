package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/dashboards"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// TestDashboardsShowData runs every query of the dashboards (dashboards.
// Queries: each panel's and each variable's) against the Prometheus of the
// default stack, run from its task definition by the local Fargate runner:
// real Prometheus scraping a real node_exporter (every emulated node points
// at it), itself and the bundled Alertmanager. A query that returns no
// series is a panel showing "No data" on a healthy fleet: the test fails
// for each, naming the dashboard, the panel and the query. Variables are
// set to the first value their own query returns, as Grafana would list
// them. The queries that need a firing alert run while NodeDown fires (the
// node_exporter stopped); the others once it is back. The remote write
// panels need storageMode=amp and are left out.
func TestDashboardsShowData(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "dashboards", nil)
	dep.apply(t)
	ids := dep.groupInstances(t)
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitForNodes(t, ids)

	step(t, "the bundled Alertmanager is scraped (job alertmanager)", func(t *testing.T) {
		waitFor(t, h.ctx, 2*time.Minute, prom, func() (bool, string) {
			up := prom.scalar(t, `up{job="alertmanager"}`)
			return up == 1, fmt.Sprintf("up{job=\"alertmanager\"} is %v", up)
		})
	})

	step(t, "a stopped node_exporter fires NodeDown; the firing panels show it", func(t *testing.T) {
		prom.task.NodeExporter.Stop()
		// Firing for three evaluations, so a subquery's aligned steps see
		// it too (the history table).
		const firing = `count(count_over_time(ALERTS{alertstate="firing"}[1m]) >= 3)`
		waitFor(t, h.ctx, 3*time.Minute, prom, func() (bool, string) {
			n := prom.scalar(t, firing)
			return n > 0, fmt.Sprintf("%s is %v", firing, n)
		})
		prom.assertQueriesShowData(t, func(q dashboards.Query) bool { return q.Needs == dashboards.NeedsFiring })
	})

	step(t, "the node back, every other query returns data", func(t *testing.T) {
		ne, err := rig.StartNodeExporterAt(h.ctx, t.TempDir(), prom.task.NodeExporterAddress)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ne.Stop)
		prom.waitForNodes(t, ids)
		prom.assertQueriesShowData(t, func(q dashboards.Query) bool {
			return q.Needs != dashboards.NeedsFiring && !q.AMPOnly()
		})
	})
}

// assertQueriesShowData runs, per dashboard, its variables' queries (each
// variable set to the first value it lists) and then the panel queries
// selected by want, and fails for each that returns no series.
func (p *prometheus) assertQueriesShowData(t *testing.T, want func(dashboards.Query) bool) {
	t.Helper()
	values := map[string]map[string]string{} // dashboard uid -> variable -> regex
	ran := 0
	for _, q := range dashboards.Queries() {
		if values[q.Dashboard] == nil {
			values[q.Dashboard] = map[string]string{}
		}
		if q.Variable == "" && !want(q) {
			continue
		}
		expr := dashboards.Expand(q.Expr, values[q.Dashboard])
		samples, err := p.api.Query(p.ctx, expr)
		if err != nil {
			t.Errorf("dashboard %s, panel %q, query %s: %v\n  %s", q.Dashboard, q.Panel, q.RefID, err, expr)
			continue
		}
		if q.Variable != "" {
			var listed []string
			for _, s := range samples {
				if v := s.Metric[q.Label]; v != "" {
					listed = append(listed, v)
				}
			}
			if len(listed) == 0 {
				t.Errorf("dashboard %s, variable %s lists no value (no series with label %s): %s", q.Dashboard, q.Variable, q.Label, q.Grafana())
				continue
			}
			sort.Strings(listed)
			values[q.Dashboard][q.Variable] = dashboards.MatchValue(listed[0])
			continue
		}
		ran++
		if len(samples) == 0 {
			t.Errorf("dashboard %s, panel %q, query %s returns no series (the panel shows No data):\n  %s", q.Dashboard, q.Panel, q.RefID, expr)
		}
	}
	if ran == 0 {
		t.Fatal("no panel query selected")
	}
	t.Logf("%d panel queries run", ran)
}
