package dashboards

import "strings"

// Severities are the severity labels of the shipped alerting rules
// (alerting/rules.yml; a test keeps them in step), most urgent first.
var Severities = []string{"critical", "warning"}

const firing = `alertstate="firing"`

// bySeverityOrZero counts the firing alerts per severity, with a 0 for
// each severity none fires: a healthy fleet draws flat lines, not "No data".
func bySeverityOrZero() string {
	parts := []string{`count by (severity) (ALERTS{` + firing + `})`}
	for _, s := range Severities {
		parts = append(parts, `label_replace(vector(0), "severity", "`+s+`", "", "")`)
	}
	return strings.Join(parts, " or ")
}

// alerts is what fires now and what fired, by severity and node, from the
// ALERTS series Prometheus writes for every pending and firing alert.
func alerts() spec {
	var now []panel
	for _, s := range Severities {
		now = append(now, panel{kind: statPanel, title: strings.ToUpper(s[:1]) + s[1:] + " alerts firing", redAt: one(),
			description: "Alerts of severity " + s + " firing now.",
			targets:     []target{{`count(ALERTS{` + firing + `, severity="` + s + `"}) or vector(0)`, ""}}})
	}
	now = append(now,
		panel{kind: statPanel, title: "Alerts pending",
			description: "Alerts whose condition holds but not yet for their for: duration.",
			targets:     []target{{`count(ALERTS{alertstate="pending"}) or vector(0)`, ""}}},
		panel{kind: statPanel, title: "Nodes with firing alerts", redAt: one(),
			description: "EC2 nodes (job node) with at least one alert firing.",
			targets:     []target{{`count(count by (instance) (ALERTS{` + firing + `, ` + nodeJob + `})) or vector(0)`, ""}}},
		panel{kind: tablePanel, title: "Firing now", needs: NeedsFiring, noValue: "Nothing is firing",
			hide:        []string{"Time", "__name__", "alertstate", "Value"},
			description: "Every alert firing now, with its severity and the node or target it is about.",
			targets:     []target{{`ALERTS{` + firing + `}`, ""}}},
	)
	return spec{
		uid: AlertsUID, title: "prometheus-aws / Alerts", file: "alerts.json", time: "24h",
		description: "The alerts of the shipped rules (alerting/rules.yml): what fires now and what fired, by severity and node, " +
			"from the ALERTS series Prometheus keeps for every pending and firing alert.",
		rows: []row{
			{title: "Now", panels: now},
			{title: "History", panels: []panel{
				{kind: timeSeries, title: "Firing alerts by severity", min: zero(),
					description: "Alerts firing over time, per severity.",
					targets:     []target{{bySeverityOrZero(), "{{severity}}"}}},
				{kind: timeSeries, title: "Firing alerts by node", min: zero(),
					description: "Alerts firing over time on each EC2 node (job node); 0 for a node without any.",
					targets: []target{{`count by (instance) (ALERTS{` + firing + `, ` + nodeJob + `}) or 0 * count by (instance) (up{` + nodeJob + `})`,
						"{{instance}}"}}},
				{kind: tablePanel, title: "Fired in the last 24 hours", needs: NeedsFiring, noValue: "Nothing fired in the last 24 hours",
					unit: "dateTimeAsIso", hide: []string{"Time"},
					description: "Every alert that fired in the last 24 hours, by severity and node, with the last time it was seen firing.",
					targets: []target{{`max by (alertname, severity, instance) (max_over_time(timestamp(ALERTS{` + firing + `})[24h:])) * 1000`,
						""}}},
			}},
		},
	}
}
