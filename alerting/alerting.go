// Package alerting holds the Prometheus alerting rules of prometheus-aws:
// rules.yml, embedded so the deployment can ship it beside the generated
// prometheus.yml (which names it in rule_files). The rules watch the EC2 nodes
// (job "node": down, none discovered, disk almost full, high CPU, low memory)
// and Prometheus itself (job "prometheus": self-scrape, EC2 discovery, config
// reload, TSDB compaction, remote write lag). They are checked with `promtool
// check rules` and unit-tested with the `promtool test rules` fixtures in
// tests/ by this package's tests; README.md lists every alert.
package alerting

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

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

// LocalNodeDownFor is NodeDown's `for:` in the local profile, the overlay's
// sole change to the rules: the demo and the end-to-end test see a stopped
// node_exporter turn into a message in seconds rather than five minutes.
// Every other rule, and NodeDown's expression, labels and annotations, stay
// as shipped.
const LocalNodeDownFor = "20s"

// ForTask is the rules file the task receives: rules.yml, with the local
// profile's NodeDown `for:` when local is true.
func ForTask(local bool) ([]byte, error) {
	r := Rules()
	if !local {
		return r, nil
	}
	return withFor(r, "NodeDown", LocalNodeDownFor)
}

// withFor rewrites the `for:` of one alert in place, leaving every other
// byte of the file as it is; it refuses a file where the alert or its
// `for:` is not found once.
func withFor(rules []byte, alert, dur string) ([]byte, error) {
	lines := strings.SplitAfter(string(rules), "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == "- alert: "+alert {
			if start >= 0 {
				return nil, fmt.Errorf("alerting: alert %s is defined twice", alert)
			}
			start = i
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("alerting: no alert %s in the rules", alert)
	}
	for i := start + 1; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "- "); i++ {
		if t := strings.TrimSpace(lines[i]); strings.HasPrefix(t, "for: ") {
			indent := lines[i][:strings.Index(lines[i], "for: ")]
			lines[i] = indent + "for: " + dur + "\n"
			return []byte(strings.Join(lines, "")), nil
		}
	}
	return nil, fmt.Errorf("alerting: alert %s has no for:", alert)
}

// WithDashboards adds a `dashboard` annotation to every alert of the named
// groups, pointing at the dashboard that shows it: base + "/d/" + the
// group's dashboard uid. Every other byte of the file stays as it is; an
// alert without annotations, or a group not in the file, is refused.
func WithDashboards(rules []byte, base string, uidByGroup map[string]string) ([]byte, error) {
	lines := strings.SplitAfter(string(rules), "\n")
	var out []string
	group, seen := "", map[string]bool{}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(t, "- name: "); ok {
			group = name
		}
		out = append(out, l)
		if uid, ok := uidByGroup[group]; ok && t == "annotations:" {
			indent := l[:strings.Index(l, "annotations:")] + "  "
			out = append(out, indent+"dashboard: "+base+"/d/"+uid+"\n")
			seen[group] = true
		}
	}
	for g := range uidByGroup {
		if !seen[g] {
			return nil, fmt.Errorf("alerting: no annotated alert in group %s", g)
		}
	}
	return []byte(strings.Join(out, "")), nil
}

// ECSFileName is the ECS discovery rules' file (ecsDiscovery=true).
const ECSFileName = "ecs.yml"

//go:embed ecs.yml
var ecsRules []byte

// WithECS adds ecs.yml's groups after those of rules (a rules file that
// ends with its groups list, as rules.yml does), for ecsDiscovery=true.
func WithECS(rules []byte) []byte {
	_, groups, _ := strings.Cut(string(ecsRules), "\ngroups:\n")
	out := append([]byte(nil), rules...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(append(out, '\n'), groups...)
}

// ServerOnly are the alerts that read what only a Prometheus server has,
// its TSDB: Prometheus in agent mode (storageMode=amp, whose workspace
// evaluates the rules on what the agents send) exposes none of those
// series, so these could never fire there.
var ServerOnly = []string{"PrometheusTSDBCompactionsFailing"}

// ForAgent is rules without ServerOnly's alerts (each with the comment
// lines just above it and the blank line after it), every other byte as it
// is: the rules of the workspace's ruler when the tasks run in agent mode.
func ForAgent(rules []byte) ([]byte, error) {
	lines := strings.SplitAfter(string(rules), "\n")
	for _, alert := range ServerOnly {
		at := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "- alert: "+alert })
		if at < 0 {
			return nil, fmt.Errorf("alerting: no alert %s in the rules", alert)
		}
		indent := lines[at][:strings.Index(lines[at], "-")]
		start := at
		for start > 0 && strings.HasPrefix(lines[start-1], indent+"#") {
			start--
		}
		end := at + 1
		for ; end < len(lines); end++ {
			l := lines[end]
			if strings.TrimSpace(l) == "" {
				continue
			}
			if lead := len(l) - len(strings.TrimLeft(l, " ")); lead <= len(indent) {
				break // the next rule, its comment, or the next group
			}
		}
		lines = append(lines[:start], lines[end:]...)
	}
	return []byte(strings.Join(lines, "")), nil
}
