package verify

import (
	"strings"
	"testing"
)

// What Prometheus and the Alertmanager render back differs from the file
// they loaded in form only; contains must see through the form and still
// catch a different value.
func TestContainsComparesValuesNotForm(t *testing.T) {
	generated := `
global:
  scrape_interval: 60s
  honor_labels: false
scrape_configs:
  - job_name: node
    basic_auth: {username: admin, password_file: secrets/password}
    ec2_sd_configs: [{region: eu-central-1, port: 9100, refresh_interval: 1m}]
rule_files: [rules/*.yml]
`
	served := `
global:
  scrape_interval: 1m
  scrape_timeout: 10s
scrape_configs:
  - job_name: node
    basic_auth: {username: admin, password_file: /prometheus-runtime/secrets/password}
    ec2_sd_configs: [{region: eu-central-1, port: 9100, refresh_interval: 60s, access_key: "", secret_key: <secret>}]
rule_files: [/prometheus-runtime/rules/*.yml]
`
	if d := contains(served, generated); d != "" {
		t.Errorf("the same configuration rendered back: %s", d)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"another interval":   {"scrape_interval: 1m", "scrape_interval: 30s", "global.scrape_interval is 30s, generated 60s"},
		"a missing job":      {"- job_name: node", "- job_name: other", "scrape_configs[0].job_name is other, generated node"},
		"another region":     {"region: eu-central-1", "region: eu-west-1", "region is eu-west-1"},
		"a list grown":       {"rule_files: [/prometheus-runtime/rules/*.yml]", "rule_files: [a.yml, b.yml]", "rule_files: 2 entries served, 1 generated"},
		"another file":       {"secrets/password}", "secrets/other}", "password_file is /prometheus-runtime/secrets/other"},
		"a value not served": {"username: admin, ", "", "basic_auth.username is not served"},
	} {
		if d := contains(strings.Replace(served, c.from, c.to, 1), generated); !strings.Contains(d, c.want) {
			t.Errorf("%s: got %q, want it to name %q", name, d, c.want)
		}
	}
}

// --json is one document a pipeline can read: the stack, the verdict and
// every result.
func TestJSONReport(t *testing.T) {
	data, err := JSON("prometheus-aws-dev", []Result{{Check: "alarms", Status: Pass, Detail: "1 alarm(s) OK"}, {Check: "discovery", Status: Fail, Detail: "targets down", Fix: "start node_exporter"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"stack": "prometheus-aws-dev"`, `"verified": false`, `"check": "discovery"`, `"status": "fail"`, `"fix": "start node_exporter"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("--json lacks %s:\n%s", want, data)
		}
	}
}

// Prometheus 3 expands ${VAR} in external labels from its environment
// (storageMode=amp's __replica__ is ${PROMETHEUS_REPLICA}, the task id), so
// the served value is the expansion: any value there matches, a different
// literal part does not.
func TestContainsSeesThroughExpandedExternalLabels(t *testing.T) {
	generated := "global:\n  external_labels:\n    __replica__: ${PROMETHEUS_REPLICA}\n    cluster: prometheus-aws-dev\n    tag: task-${PROMETHEUS_REPLICA}\n"
	served := "global:\n  external_labels:\n    __replica__: df4e76162853ac4cadf2d58222dc4db6\n    cluster: prometheus-aws-dev\n    tag: task-df4e\n"
	if d := contains(served, generated); d != "" {
		t.Errorf("an expanded external label: %s", d)
	}
	if d := contains(strings.Replace(served, "task-df4e", "job-df4e", 1), generated); !strings.Contains(d, "external_labels.tag is job-df4e") {
		t.Errorf("a literal part that differs must be named: %q", d)
	}
	if d := contains(strings.Replace(served, "cluster: prometheus-aws-dev", "cluster: other", 1), generated); !strings.Contains(d, "external_labels.cluster is other") {
		t.Errorf("a label without ${...} is compared as it is: %q", d)
	}
}
