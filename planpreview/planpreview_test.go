package planpreview

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

// The fixtures are real plans of this project's main stack against the
// emulator, recorded by planpreview/e2e (-record); -update rewrites the
// golden summaries from them.
var update = flag.Bool("update", false, "rewrite testdata/<scenario>/summary.md and gitlab-report.json")

var scenarios = []struct {
	name   string
	counts Counts
	check  func(t *testing.T, s *Stack, md string)
}{
	{"create", Counts{Create: 52}, func(t *testing.T, s *Stack, md string) {
		for _, c := range s.Changes {
			if c.Guessed {
				t.Errorf("%s: construct path guessed; cdk.tf.json has it", c.Address)
			}
		}
		mustContain(t, md, "### Prometheus configuration is created (`prometheus/config`)", "+  scrape_interval: 30s", "#### `network`", "#### `nodes`", "#### `prometheus`",
			// The stack as it is today: EFS storage, the alarms and their topic.
			"#### `storage`", "#### `alarms`", "`aws_efs_file_system.", "`aws_sns_topic.")
		mustNotContain(t, md, "DESTRUCTIVE")
	}},
	{"noop", Counts{}, func(t *testing.T, s *Stack, md string) {
		mustContain(t, md, "**No changes.**")
		mustNotContain(t, md, "DESTRUCTIVE", "<details")
	}},
	{"update-config", Counts{Update: 1}, func(t *testing.T, s *Stack, md string) {
		mustContain(t, md, "### Prometheus configuration changes (`prometheus/config`)",
			"-  scrape_interval: 30s\n-  evaluation_interval: 30s\n+  scrape_interval: 15s\n+  evaluation_interval: 15s\n",
			"| update | `aws_ssm_parameter.prometheus_config_2F7211A4` | `prometheus/config` | `insecure_value` |",
			// Only the parameter: the running task reloads it.
			"**`prometheus-aws-dev`: reloads in place.** Only the configuration's parameters change (`aws_ssm_parameter.prometheus_config_2F7211A4`)")
		mustNotContain(t, md, "aws_ecs_task_definition", "restarts Prometheus")
		if s.Effect != ReloadsInPlace {
			t.Errorf("effect %q", s.Effect)
		}
	}},
	{"task-memory", Counts{Update: 1, Replace: 1}, func(t *testing.T, s *Stack, md string) {
		// A new task size is a new task definition revision, which the
		// service moves to: ECS replaces the running task.
		const taskDef, service = "aws_ecs_task_definition.prometheus_task_A942EAE0", "aws_ecs_service.prometheus_service_DFCD1154"
		if s.Effect != Restarts || strings.Join(s.Causes, " ") != service+" "+taskDef {
			t.Errorf("effect %q because of %v, want %q because of [%s %s]", s.Effect, s.Causes, Restarts, service, taskDef)
		}
		mustContain(t, md, "**`prometheus-aws-dev`: restarts Prometheus.** `"+service+"`, `"+taskDef+"` change: ECS replaces the task",
			"| **REPLACE** | `"+taskDef+"` | `prometheus/task` |",
			"a new task definition revision: ECS restarts Prometheus")
		mustNotContain(t, md, "reloads in place", "### Prometheus configuration")
	}},
	{"replace", Counts{Update: 2, Replace: 6}, func(t *testing.T, s *Stack, md string) {
		mustContain(t, md, "### :rotating_light: DESTRUCTIVE: this plan destroys 6 resources",
			// The TSDB's mount targets follow the subnets: a reviewer must see it.
			"| **REPLACE** | `aws_efs_mount_target.storage_mount-target-0_0B20F9AA` | `storage/mount-target-0` | `subnet_id` cannot change in place |",
			"| **REPLACE** | `aws_subnet.network_public-0_A4E682E0` | `network/public-0` | `cidr_block` cannot change in place |")
		// Destructive changes come before anything else.
		if strings.Index(md, "DESTRUCTIVE") > strings.Index(md, "| Stack | Create |") {
			t.Error("the destructive changes must come first")
		}
	}},
	{"destroy", Counts{Delete: 52}, func(t *testing.T, s *Stack, md string) {
		mustContain(t, md, "destroys 52 resources", "| `prometheus-aws-dev` | **DELETE** | `aws_vpc.network_vpc_4E8F0223` | `network/vpc` | destroy plan |")
	}},
}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", sc.name)
			s, err := Load(filepath.Join(dir, "plan.json"))
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != "prometheus-aws-dev" {
				t.Errorf("stack name %q, want prometheus-aws-dev (from cdk.tf.json)", s.Name)
			}
			if s.Counts != sc.counts {
				t.Errorf("counts %+v, want %+v", s.Counts, sc.counts)
			}
			var md bytes.Buffer
			if err := WriteMarkdown(&md, []*Stack{s}); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(md.String(), Marker+"\n") {
				t.Error("the summary must start with the marker CI finds its comment by")
			}
			sc.check(t, s, md.String())
			report, err := GitLabReport([]*Stack{s})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "summary.md"), md.Bytes())
			golden(t, filepath.Join(dir, "gitlab-report.json"), append(report, '\n'))
		})
	}
}

// TestEffect: what applying a plan does to the running Prometheus, from
// the changes that decide it. A parameter of the service replaced under
// its name (deleted and created again: version 1 once more) is delivered
// by config-sync, which compares modification times too: it reloads in
// place, like an update.
func TestEffect(t *testing.T) {
	const (
		taskDef = "aws_ecs_task_definition.prometheus_task_A942EAE0"
		service = "aws_ecs_service.prometheus_service_DFCD1154"
		config  = "aws_ssm_parameter.prometheus_config_2F7211A4"
		rules   = "aws_ssm_parameter.prometheus_rules-nodes_0583453F"
		other   = "aws_ssm_parameter.nodes_version_12345678"
	)
	change := func(address string, a Action, attrs ...string) Change {
		typ, name, _ := strings.Cut(address, ".")
		group := "prometheus"
		if strings.HasPrefix(name, "nodes_") {
			group = "nodes"
		}
		return Change{Address: address, Type: typ, Action: a, Group: group, Attributes: attrs}
	}
	cases := []struct {
		name    string
		changes []Change
		effect  Effect
		causes  []string
	}{
		{"parameter updated", []Change{change(config, Update, "insecure_value")}, ReloadsInPlace, []string{config}},
		{"parameter replaced", []Change{change(config, Replace, "tier")}, ReloadsInPlace, []string{config}},
		{"parameters replaced and updated", []Change{change(config, Update, "insecure_value"), change(rules, Replace, "tier")}, ReloadsInPlace, []string{config, rules}},
		{"another group's parameter replaced", []Change{change(other, Replace, "tier")}, Untouched, nil},
		{"parameter created", []Change{change(rules, Create)}, Untouched, nil},
		{"task definition replaced", []Change{change(taskDef, Replace, "memory"), change(service, Update, "task_definition")}, Restarts, []string{taskDef, service}},
		{"task definition replaced with a parameter", []Change{change(config, Replace, "name"), change(taskDef, Replace, "container_definitions")}, Restarts, []string{taskDef}},
		{"service tags", []Change{change(service, Update, "tags", "tags_all")}, Untouched, nil},
		{"service created", []Change{change(service, Create), change(taskDef, Create)}, Untouched, nil},
	}
	for _, c := range cases {
		effect, causes := effectOf(c.changes)
		if effect != c.effect || strings.Join(causes, " ") != strings.Join(c.causes, " ") {
			t.Errorf("%s: %q because of %v, want %q because of %v", c.name, effect, causes, c.effect, c.causes)
		}
	}
}

// TestGitLabReportCountsLikeGitLab: a replacement is one create and one
// delete, as GitLab's own gitlab-terraform report counts it.
func TestGitLabReportCountsLikeGitLab(t *testing.T) {
	data, err := GitLabReport([]*Stack{{Counts: Counts{Create: 1, Update: 2, Replace: 3, Delete: 4}}, {Counts: Counts{Create: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"create":5,"update":2,"delete":7}`; got != want {
		t.Errorf("report %s, want %s", got, want)
	}
}

// TestSensitiveValuesAreNeverPrinted plants a marker in every attribute
// Terraform marks sensitive in the real plans (the basic auth secret
// version, for one), and in the Prometheus configuration once it is marked
// sensitive: the summary must show neither, and must say the configuration
// is hidden.
func TestSensitiveValuesAreNeverPrinted(t *testing.T) {
	const marker = "S3CRET-MARKER-d0-not-print"
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			plan := readPlan(t, filepath.Join("testdata", sc.name, "plan.json"))
			planted := 0
			for _, rc := range plan.ResourceChanges {
				ch := rc.Change
				if rc.Type == "aws_ssm_parameter" {
					ch.BeforeSensitive = map[string]interface{}{configAttr: true}
					ch.AfterSensitive = map[string]interface{}{configAttr: true}
				}
				planted += plant(ch.Before, ch.BeforeSensitive, marker)
				planted += plant(ch.After, ch.AfterSensitive, marker)
			}
			for _, oc := range plan.OutputChanges {
				oc.Before, oc.After = marker, marker+"2"
			}
			if planted == 0 {
				t.Fatal("no sensitive attribute found to plant the marker in; the test proves nothing")
			}
			_, paths, _ := ConstructPaths(readFile(t, filepath.Join("testdata", sc.name, "cdk.tf.json")))
			var md bytes.Buffer
			if err := WriteMarkdown(&md, []*Stack{Summarise("s", plan, paths)}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(md.String(), "S3CRET") {
				t.Errorf("a sensitive value is in the summary:\n%s", md.String())
			}
			if sc.name == "update-config" {
				mustContain(t, md.String(), "marked sensitive by Terraform: not shown")
				mustNotContain(t, md.String(), "scrape_interval")
			}
		})
	}
}

// plant replaces every value that mask marks sensitive with the marker and
// returns how many it replaced.
func plant(v, mask interface{}, marker string) int {
	obj, ok := v.(map[string]interface{})
	if !ok {
		return 0
	}
	n := 0
	for k := range obj {
		if isTrue(mask, k) {
			obj[k] = marker
			n++
		}
	}
	return n
}

func TestLineDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	b := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nK\nl\n"
	want := "@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -8,4 +8,5 @@\n h\n i\n j\n-k\n+K\n+l\n"
	if got := lineDiff(a, b, 3); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if got := lineDiff(a, a, 3); got != "" {
		t.Errorf("equal texts must give no diff, got %q", got)
	}
}

func TestConstructGuessedFromName(t *testing.T) {
	plan := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{
		Address: "aws_subnet.network_public-2_8D79547B", Mode: tfjson.ManagedResourceMode, Type: "aws_subnet", Name: "network_public-2_8D79547B",
		ActionReason: tfjson.ActionReasonDeleteBecauseNoResourceConfig,
		Change:       &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionDelete}},
	}}}
	s := Summarise("s", plan, nil)
	c := s.Changes[0]
	if c.Construct != "network/public-2" || c.Group != "network" || !c.Guessed || c.Why != "removed from the configuration" {
		t.Errorf("got %+v", c)
	}
}

func TestLoadExplainsBadInput(t *testing.T) {
	if _, err := Load(filepath.Join("testdata", "create", "cdk.tf.json")); err == nil || !strings.Contains(err.Error(), "terraform show -json") {
		t.Errorf("a cdk.tf.json given as plan must be refused with a hint, got %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "plan.json")); err == nil || !strings.Contains(err.Error(), "make plan-out") {
		t.Errorf("a missing plan must say how to make one, got %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readPlan(t *testing.T, path string) *tfjson.Plan {
	t.Helper()
	var p tfjson.Plan
	if err := json.Unmarshal(readFile(t, path), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planpreview -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (review, then go test ./planpreview -update):\n--- got\n%s", path, got)
	}
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("summary lacks %q:\n%s", sub, s)
		}
	}
}

func mustNotContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			t.Errorf("summary must not contain %q:\n%s", sub, s)
		}
	}
}

// TestDocsExampleIsCurrent keeps the example comment in docs/CI.md equal to
// the update-config golden summary (quoted); -update rewrites it.
func TestDocsExampleIsCurrent(t *testing.T) {
	const doc, begin, end = "../docs/CI.md", "<!-- example:begin -->\n", "<!-- example:end -->"
	text := string(readFile(t, doc))
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q ... %q block", doc, begin, end)
	}
	var quoted strings.Builder
	for _, line := range strings.SplitAfter(string(readFile(t, filepath.Join("testdata", "update-config", "summary.md"))), "\n") {
		if line == "" {
			continue
		}
		if line == "\n" {
			quoted.WriteString(">\n")
		} else {
			quoted.WriteString("> " + line)
		}
	}
	want := text[:i+len(begin)] + quoted.String() + text[j:]
	if want == text {
		return
	}
	if *update {
		if err := os.WriteFile(doc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the example in %s differs from testdata/update-config/summary.md: run go test ./planpreview -update", doc)
}
