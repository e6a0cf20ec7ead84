package alerting

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// promtools returns the promtool binaries to check with: the project's
// (Prometheus 3) and Debian 12's (2.42, promtool-debian, unpacked by make
// tools), so the rules stay usable with an older Prometheus (missing
// either is a failure, not a skip), and every path listed in
// $PROMTOOL_COMPAT (path-list separated; a listed path that does not exist
// fails).
func promtools(t *testing.T) []string {
	t.Helper()
	main, err := tools.Find("promtool")
	if err != nil {
		t.Fatal(err)
	}
	debian, err := tools.Find("promtool-debian")
	if err != nil {
		t.Fatal(err)
	}
	list := []string{main, debian}
	for _, p := range filepath.SplitList(os.Getenv("PROMTOOL_COMPAT")) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PROMTOOL_COMPAT names %s: %v", p, err)
		}
		list = append(list, p)
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range list {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		if !seen[real] {
			seen[real] = true
			out = append(out, p)
		}
	}
	return out
}

// promtool runs bin with args in this package's folder.
func promtool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func version(t *testing.T, bin string) string {
	out, _ := promtool(t, bin, "--version")
	first, _, _ := strings.Cut(out, "\n")
	return first
}

func fixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test fixtures in tests/*.yml (%v)", err)
	}
	return files
}

func TestPromtoolCheckRules(t *testing.T) {
	for _, bin := range promtools(t) {
		t.Run(bin, func(t *testing.T) {
			t.Log(version(t, bin))
			if out, err := promtool(t, bin, "check", "rules", FileName); err != nil {
				t.Errorf("promtool check rules %s: %v\n%s", FileName, err, out)
			}
		})
	}
}

func TestPromtoolTestRules(t *testing.T) {
	files := fixtures(t)
	for _, bin := range promtools(t) {
		t.Run(bin, func(t *testing.T) {
			t.Log(version(t, bin))
			if out, err := promtool(t, bin, append([]string{"test", "rules"}, files...)...); err != nil {
				t.Errorf("promtool test rules %s: %v\n%s", strings.Join(files, " "), err, out)
			}
		})
	}
}

// TestGeneratedConfigLoadsRules checks that the generated prometheus.yml
// loads the rule files as the deployment ships them: each group of
// rules.yml a file of its own under rules/ beside it (constructs.RuleFiles,
// one SSM parameter each), every one valid for promtool.
func TestGeneratedConfigLoadsRules(t *testing.T) {
	dir := t.TempDir()
	c := promconfig.Generate(config.Defaults())
	if !slices.Equal(c.RuleFiles, []string{taskcontract.RuleFilesGlob}) {
		t.Fatalf("generated rule_files %v, want [%s]", c.RuleFiles, taskcontract.RuleFilesGlob)
	}
	data, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := constructs.RuleFiles(string(Rules()))
	if err != nil || len(groups) == 0 {
		t.Fatalf("rules.yml must split into its groups: %v", err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	files := map[string][]byte{cfg: data}
	for _, g := range groups {
		files[filepath.Join(dir, g.File)] = []byte(g.YAML)
	}
	if err := os.MkdirAll(filepath.Join(dir, taskcontract.RulesDir), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(name, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, bin := range promtools(t) {
		t.Run(bin, func(t *testing.T) {
			out, err := promtool(t, bin, "check", "config", cfg)
			if err != nil {
				t.Errorf("promtool check config with the rule files: %v\n%s", err, out)
			}
			for _, g := range groups {
				if !strings.Contains(out, g.File) {
					t.Errorf("promtool did not read %s:\n%s", g.File, out)
				}
			}
		})
	}
}

type rule struct {
	Alert         string            `yaml:"alert"`
	Record        string            `yaml:"record"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for"`
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []rule `yaml:"rules"`
	} `yaml:"groups"`
}

// alerts parses rules.yml strictly (a misspelt key fails) and returns its
// alerting rules.
func alerts(t *testing.T) []rule {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(Rules()))
	dec.KnownFields(true)
	var f ruleFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", FileName, err)
	}
	var out []rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: rule %q is not an alert; this file holds alerting rules only", g.Name, r.Record)
				continue
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no alert", FileName)
	}
	return out
}

var severities = []string{"critical", "warning"}

func TestEveryAlertIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range alerts(t) {
		if seen[r.Alert] {
			t.Errorf("%s: alert name used twice", r.Alert)
		}
		seen[r.Alert] = true
		if d, err := time.ParseDuration(r.For); err != nil || d <= 0 {
			t.Errorf("%s: needs a for: duration, so a single bad scrape or evaluation does not page (got %q)", r.Alert, r.For)
		}
		if !slices.Contains(severities, r.Labels["severity"]) {
			t.Errorf("%s: severity label %q, want one of %v", r.Alert, r.Labels["severity"], severities)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: needs a %s annotation", r.Alert, a)
			}
		}
	}
}

type testFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsTested requires, for every alert, a fixture case where it
// fires and one where it must not (pending, a blip under for:, a case it
// ignores), and that fixtures name only existing alerts and test this
// rules.yml.
func TestEveryAlertIsTested(t *testing.T) {
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, file := range fixtures(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f testFile
		if err := yaml.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !slices.Equal(f.RuleFiles, []string{"../" + FileName}) {
			t.Errorf("%s: rule_files %v, want [../%s]", file, f.RuleFiles, FileName)
		}
		for _, tc := range f.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	names := map[string]bool{}
	for _, r := range alerts(t) {
		names[r.Alert] = true
		if !firing[r.Alert] {
			t.Errorf("%s: no fixture in tests/ where it fires", r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s: no fixture in tests/ where it must not fire (exp_alerts: [])", r.Alert)
		}
	}
	for name := range firing {
		if !names[name] {
			t.Errorf("tests/ expect alert %s, which %s does not define", name, FileName)
		}
	}
	for name := range quiet {
		if !names[name] {
			t.Errorf("tests/ expect alert %s, which %s does not define", name, FileName)
		}
	}
}

var jobMatcher = regexp.MustCompile(`\bjob\s*=\s*"([^"]*)"`)

// TestJobsMatchGeneratedConfig keeps the rules on the job names promconfig
// generates: a renamed job would otherwise silence them (and turn
// NoNodesDiscovered on).
func TestJobsMatchGeneratedConfig(t *testing.T) {
	generated := map[string]bool{}
	for _, sc := range promconfig.Generate(config.Defaults()).ScrapeConfigs {
		generated[sc.JobName] = true
	}
	used := map[string]bool{}
	for _, r := range alerts(t) {
		m := jobMatcher.FindAllStringSubmatch(r.Expr, -1)
		if len(m) == 0 {
			t.Errorf("%s: expression selects no job (add job=\"...\"): %s", r.Alert, r.Expr)
		}
		for _, sm := range m {
			used[sm[1]] = true
			if !generated[sm[1]] {
				t.Errorf("%s: selects job %q, which the generated prometheus.yml does not have (jobs: %v)", r.Alert, sm[1], slices.Sorted(maps.Keys(generated)))
			}
		}
	}
	for _, job := range []string{promconfig.NodeJob, "prometheus"} {
		if !used[job] {
			t.Errorf("no alert watches job %q", job)
		}
	}
}

// TestReadmeListsEveryAlert keeps README.md's table in step with the rules.
func TestReadmeListsEveryAlert(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z0-9]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = true
	}
	// Every alert of rules.yml, and of ecs.yml (shipped with ecsDiscovery).
	dec := yaml.NewDecoder(bytes.NewReader(ecsRules))
	dec.KnownFields(true)
	var ecs ruleFile
	if err := dec.Decode(&ecs); err != nil {
		t.Fatalf("%s: %v", ECSFileName, err)
	}
	all := alerts(t)
	for _, g := range ecs.Groups {
		all = append(all, g.Rules...)
	}
	for _, r := range all {
		if !listed[r.Alert] {
			t.Errorf("README.md: the alert table has no row for %s", r.Alert)
		}
		delete(listed, r.Alert)
	}
	for name := range listed {
		t.Errorf("README.md lists alert %s, which neither %s nor %s defines", name, FileName, ECSFileName)
	}
}

func TestRulesIsACopy(t *testing.T) {
	a := Rules()
	a[0] ^= 0xff
	if bytes.Equal(a, Rules()) {
		t.Fatal("Rules() must return a fresh copy")
	}
}

// Given the local profile, when the task's rules are made, then NodeDown's
// `for:` is the only line that differs from rules.yml.
func TestLocalOverlayChangesOnlyNodeDownFor(t *testing.T) {
	aws, err := ForTask(false)
	if err != nil || string(aws) != string(Rules()) {
		t.Fatalf("the AWS profile must ship rules.yml as is: %v", err)
	}
	local, err := ForTask(true)
	if err != nil {
		t.Fatal(err)
	}
	a, l := strings.Split(string(aws), "\n"), strings.Split(string(local), "\n")
	if len(a) != len(l) {
		t.Fatalf("the overlay changed the number of lines: %d -> %d", len(a), len(l))
	}
	var diff []string
	for i := range a {
		if a[i] != l[i] {
			diff = append(diff, fmt.Sprintf("%d: %q -> %q", i+1, a[i], l[i]))
		}
	}
	if len(diff) != 1 || !strings.HasSuffix(diff[0], `"        for: `+LocalNodeDownFor+`"`) {
		t.Fatalf("want only NodeDown's for: changed, got %v", diff)
	}
	down := strings.Index(string(local), "- alert: NodeDown")
	if next := strings.Index(string(local)[down:], "for: "); !strings.HasPrefix(string(local)[down+next:], "for: "+LocalNodeDownFor) {
		t.Errorf("the changed for: is not NodeDown's")
	}
	if _, err := withFor(Rules(), "NoSuchAlert", "1m"); err == nil {
		t.Error("an unknown alert must be refused")
	}
}

// WithDashboards annotates every alert of the named groups and nothing
// else; a group it cannot find is refused.
func TestWithDashboards(t *testing.T) {
	out, err := WithDashboards(Rules(), "https://lb/grafana", map[string]string{"prometheus-aws-nodes": "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(out, &file); err != nil {
		t.Fatalf("annotated rules are not YAML: %v", err)
	}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			got, want := r.Annotations["dashboard"], ""
			if g.Name == "prometheus-aws-nodes" && r.Alert != "" {
				want = "https://lb/grafana/d/fleet"
			}
			if got != want {
				t.Errorf("%s/%s: dashboard %q, want %q", g.Name, r.Alert, got, want)
			}
		}
	}
	if _, err := WithDashboards(Rules(), "x", map[string]string{"no-such-group": "u"}); err == nil {
		t.Error("a group not in the rules must be refused")
	}
}

// The ECS discovery group: valid, unit-tested (fires, and stays quiet after
// one failure), and, added to rules.yml, still a valid rules file whose
// groups are rules.yml's and its own.
func TestECSRules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("tests", "ecs", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in tests/ecs (%v)", err)
	}
	merged := filepath.Join(t.TempDir(), "merged.yml")
	if err := os.WriteFile(merged, WithECS(Rules()), 0o600); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name string `yaml:"name"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(WithECS(Rules()), &doc); err != nil || len(doc.Groups) < 2 || doc.Groups[len(doc.Groups)-1].Name != "prometheus-aws-ecs-discovery" {
		t.Fatalf("WithECS does not append the ECS group: %v %+v", err, doc.Groups)
	}
	for _, bin := range promtools(t) {
		for _, args := range [][]string{{"check", "rules", ECSFileName}, {"check", "rules", merged}, append([]string{"test", "rules"}, files...)} {
			if out, err := promtool(t, bin, args...); err != nil {
				t.Errorf("%s %v: %v\n%s", bin, args, err, out)
			}
		}
	}
}

// The workspace's ruler with the tasks in agent mode (storageMode=amp):
// every rule of rules.yml byte for byte, but those that read a server's
// TSDB, which an agent does not have (no rule left reads a
// prometheus_tsdb_* series); promtool accepts the file.
func TestForAgent(t *testing.T) {
	out, err := ForAgent(Rules())
	if err != nil {
		t.Fatal(err)
	}
	var all, agent ruleFile
	if err := yaml.Unmarshal(Rules(), &all); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(out, &agent); err != nil {
		t.Fatalf("the agent's rules are not YAML: %v\n%s", err, out)
	}
	var want, got []rule
	for _, g := range all.Groups {
		for _, r := range g.Rules {
			if !slices.Contains(ServerOnly, r.Alert) {
				want = append(want, r)
			}
		}
	}
	for _, g := range agent.Groups {
		for _, r := range g.Rules {
			got = append(got, r)
			if strings.Contains(r.Expr, "prometheus_tsdb_") {
				t.Errorf("%s reads a prometheus_tsdb_ series, which Prometheus in agent mode does not have: %s", r.Alert, r.Expr)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the agent's rules must be rules.yml's without %v, each unchanged:\n%s", ServerOnly, out)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Errorf("%d rules, want %d", len(got), len(want))
	}
	file := filepath.Join(t.TempDir(), "agent.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bin := range promtools(t) {
		if out, err := promtool(t, bin, "check", "rules", file); err != nil {
			t.Errorf("%s check rules: %v\n%s", bin, err, out)
		}
	}
	if bytes.Count(out, []byte("\n\n\n")) > bytes.Count(Rules(), []byte("\n\n\n")) {
		t.Error("removing an alert left a double blank line")
	}
}
