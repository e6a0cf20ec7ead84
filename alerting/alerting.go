// Package alerting holds the Prometheus alerting rules of prometheus-aws:
// rules.yml, embedded so the deployment can ship it beside the generated
// prometheus.yml (which names it in rule_files). The rules watch the EC2 nodes
// (job "node": down, none discovered, disk almost full, high CPU, low memory)
// and Prometheus itself (job "prometheus": self-scrape, EC2 discovery, config
// reload, TSDB compaction, remote write lag). They are checked with `promtool
// check rules` and unit-tested with the `promtool test rules` fixtures in
// tests/ by this package's tests; README.md lists every alert.
package alerting

import _ "embed"

// FileName is the rules file's name. Written beside prometheus.yml, the
// config names it as is: relative rule_files resolve against the config
// file's folder.
const FileName = "rules.yml"

//go:embed rules.yml
var rules []byte

// Rules returns the content of rules.yml (a fresh copy on every call).
func Rules() []byte {
	return append([]byte(nil), rules...)
}
