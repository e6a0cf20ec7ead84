package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

var update = flag.Bool("update", false, "rewrite fleet.json, prometheus.json, alerts.json and the table of README.md from the code")

const fix = "run go test ./dashboards -update"

// documented are the dashboards' files and uids as README.md states them.
var documented = map[string]string{
	"fleet.json":      "prometheus-aws-fleet",
	"prometheus.json": "prometheus-aws-prometheus",
	"alerts.json":     "prometheus-aws-alerts",
}

func built(t *testing.T) []Dashboard {
	t.Helper()
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestJSONIsCurrent keeps the committed JSON equal to what the code
// builds. Fix a failure with: go test ./dashboards -update
func TestJSONIsCurrent(t *testing.T) {
	for _, d := range built(t) {
		want, err := JSON(d.Dashboard)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(d.File); err == nil && bytes.Equal(got, want) {
			continue
		}
		if *update {
			if err := os.WriteFile(d.File, want, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote dashboards/%s", d.File)
			continue
		}
		t.Errorf("dashboards/%s is stale or missing (the dashboard built in Go differs): %s", d.File, fix)
	}
	files, _ := filepath.Glob("*.json")
	if want := slices.Sorted(maps.Keys(documented)); !slices.Equal(files, want) {
		t.Errorf("dashboards/ holds %v, want exactly %v: remove a dashboard's old file", files, want)
	}
}

func TestJSONIsStable(t *testing.T) {
	a, b := built(t), built(t)
	for i := range a {
		x, _ := JSON(a[i].Dashboard)
		y, _ := JSON(b[i].Dashboard)
		if !bytes.Equal(x, y) {
			t.Errorf("%s: two builds differ: the JSON must be byte-for-byte stable", a[i].File)
		}
	}
}

// registerPanels lets the SDK decode the panels and queries the
// dashboards use into their own types (not maps).
func registerPanels() {
	rt := cog.NewRuntime()
	rt.RegisterPanelcfgVariant(timeseries.VariantConfig())
	rt.RegisterPanelcfgVariant(stat.VariantConfig())
	rt.RegisterPanelcfgVariant(table.VariantConfig())
	rt.RegisterDataqueryVariant(prometheus.VariantConfig())
}

// TestJSONRoundTripsThroughTheSDK decodes each committed file into the
// SDK's dashboard type and checks that encoding it again gives the same
// JSON document (TestJSONIsCurrent compares the file with the dashboard
// built in Go); and it validates
// the file with the SDK's strict decoder (a missing required field, a
// field of the wrong type or an unknown one fails).
func TestJSONRoundTripsThroughTheSDK(t *testing.T) {
	registerPanels()
	for _, d := range built(t) {
		data, err := os.ReadFile(d.File)
		if err != nil {
			t.Fatalf("%v (%s)", err, fix)
		}
		var strictly dashboard.Dashboard
		if err := strict(strictly.UnmarshalJSONStrict(data)); err != nil {
			t.Errorf("%s does not decode strictly into the SDK's dashboard.Dashboard: %v", d.File, err)
		}
		var decoded dashboard.Dashboard
		if err := json.Unmarshal(data, &decoded); err != nil {
			t.Errorf("%s does not decode into the SDK's dashboard.Dashboard: %v", d.File, err)
			continue
		}
		for _, p := range decoded.Panels {
			if p.Panel == nil && p.RowPanel == nil {
				t.Errorf("%s: a panel decoded as neither a panel nor a row", d.File)
			}
			if p.Panel != nil {
				if _, ok := p.Panel.Options.(map[string]any); ok {
					t.Errorf("%s: panel %q: options decoded as a map, not the %s panel's type", d.File, *p.Panel.Title, p.Panel.Type)
				}
				for _, q := range p.Panel.Targets {
					switch q.(type) {
					case *prometheus.Dataquery, prometheus.Dataquery:
					default:
						t.Errorf("%s: panel %q: a query decoded as %T, not the SDK's prometheus.Dataquery", d.File, *p.Panel.Title, q)
					}
				}
			}
		}
		again, err := json.Marshal(decoded)
		if err != nil {
			t.Fatal(err)
		}
		var before, after any
		if err := json.Unmarshal(data, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &after); err != nil {
			t.Fatal(err)
		}
		if diff := firstDiff(before, after, ""); diff != "" {
			t.Errorf("%s changes through the SDK's types: %s", d.File, diff)
		}
	}
}

// strict is the error of the SDK's UnmarshalJSONStrict without its empty
// parts. The SDK (v0.0.22) returns its error list typed even when empty,
// a non-nil error; that also makes its strict decoder leave every panel
// and row nil (it returns before storing them), so the round trip above
// decodes with json.Unmarshal and uses the strict decoder to validate.
func strict(err error) error {
	if errs, ok := err.(cog.BuildErrors); ok {
		var real cog.BuildErrors
		for _, e := range errs {
			if e != nil && e.Error() != "" {
				real = append(real, e)
			}
		}
		if len(real) == 0 {
			return nil
		}
		return real
	}
	return err
}

// firstDiff names the first path where two JSON documents differ.
func firstDiff(a, b any, path string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path + ": object became " + fmt.Sprintf("%T", b)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if _, ok := y[k]; !ok {
				return path + "." + k + ": dropped"
			}
			if d := firstDiff(x[k], y[k], path+"."+k); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "." + k + ": added"
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path + ": array changed length or type"
		}
		for i := range x {
			if d := firstDiff(x[i], y[i], path+"["+strconv.Itoa(i)+"]"); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v became %v", path, a, b)
		}
	}
	return ""
}

// jsonPanel is what the tests read of a panel in the committed JSON.
type jsonPanel struct {
	ID         uint32 `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Repeat     string `json:"repeat"`
	Datasource *dsRef `json:"datasource"`
	Targets    []struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Legend     string `json:"legendFormat"`
		Instant    bool   `json:"instant"`
		Datasource *dsRef `json:"datasource"`
	} `json:"targets"`
	Panels []jsonPanel `json:"panels"`
}

type dsRef struct{ Type, UID string }

type jsonDashboard struct {
	UID        string      `json:"uid"`
	Panels     []jsonPanel `json:"panels"`
	Templating struct {
		List []struct {
			Type       string `json:"type"`
			Name       string `json:"name"`
			Query      string `json:"query"`
			Datasource *dsRef `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

func committed(t *testing.T) map[string]jsonDashboard {
	t.Helper()
	out := map[string]jsonDashboard{}
	for file := range documented {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (%s)", err, fix)
		}
		var d jsonDashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[file] = d
	}
	return out
}

func flatten(ps []jsonPanel) []jsonPanel {
	var out []jsonPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// TestIDsAndUIDs: every dashboard has its documented uid, and no two
// panels (rows included) of a dashboard share an id.
func TestIDsAndUIDs(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for file, d := range committed(t) {
		if d.UID != documented[file] {
			t.Errorf("%s: uid %q, want the documented %q", file, d.UID, documented[file])
		}
		if !bytes.Contains(readme, []byte("`"+documented[file]+"`")) {
			t.Errorf("README.md does not name the uid %s of %s", documented[file], file)
		}
		seen := map[uint32]string{}
		for _, p := range flatten(d.Panels) {
			if p.ID == 0 {
				t.Errorf("%s: panel %q has no id", file, p.Title)
			}
			if other, ok := seen[p.ID]; ok {
				t.Errorf("%s: panels %q and %q share the id %d", file, other, p.Title, p.ID)
			}
			seen[p.ID] = p.Title
		}
	}
	for uid, file := range map[string]string{FleetUID: "fleet.json", PrometheusUID: "prometheus.json", AlertsUID: "alerts.json"} {
		if documented[file] != uid {
			t.Errorf("constant %s is not the documented uid of %s", uid, file)
		}
	}
}

// TestQueriesAreWhatTheJSONRuns: Queries() lists exactly the queries of
// the committed JSON, every one through the datasource variable, so the
// tests walking Queries() test what a Grafana imports.
func TestQueriesAreWhatTheJSONRuns(t *testing.T) {
	want := map[string]bool{}
	for _, q := range Queries() {
		want[fmt.Sprintf("%s|%d|%s|%s|%s|%v", q.Dashboard, q.PanelID, q.Variable, q.RefID, q.Grafana(), q.Instant)] = true
	}
	ds := dsRef{Type: "prometheus", UID: "${" + DatasourceVariable + "}"}
	got := map[string]bool{}
	for file, d := range committed(t) {
		for _, v := range d.Templating.List {
			switch {
			case v.Type == "datasource":
				if v.Name != DatasourceVariable || v.Query != "prometheus" {
					t.Errorf("%s: data source variable %q of type %q, want %q of type prometheus", file, v.Name, v.Query, DatasourceVariable)
				}
				continue
			case v.Datasource == nil || *v.Datasource != ds:
				t.Errorf("%s: variable %s does not query the data source variable: %+v", file, v.Name, v.Datasource)
			}
			got[fmt.Sprintf("%s|0|%s||%s|false", d.UID, v.Name, v.Query)] = true
		}
		for _, p := range flatten(d.Panels) {
			if p.Datasource == nil || *p.Datasource != ds {
				t.Errorf("%s: panel %q does not use the data source variable: %+v", file, p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || *tg.Datasource != ds {
					t.Errorf("%s: panel %q query %s does not use the data source variable", file, p.Title, tg.RefID)
				}
				got[fmt.Sprintf("%s|%d||%s|%s|%v", d.UID, p.ID, tg.RefID, tg.Expr, tg.Instant)] = true
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("Queries() lists a query the JSON lacks (%s): %s", fix, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the JSON runs a query Queries() does not list (%s): %s", fix, k)
		}
	}
}

var (
	regexUse   = regexp.MustCompile(`=~\s*"\$([A-Za-z_][A-Za-z0-9_]*)"`)
	rangeGrafs = regexp.MustCompile(`\$__|\[\$|\$\{`)
)

// TestVariables: a query uses only variables of its dashboard declared
// before it, each as a whole regex matcher (=~"$name", which Grafana
// fills with a regex of the selected values), and no Grafana range
// variable ($__rate_interval, $__range): windows are fixed.
func TestVariables(t *testing.T) {
	declared := map[string]map[string]bool{}
	for _, q := range Queries() {
		if declared[q.Dashboard] == nil {
			declared[q.Dashboard] = map[string]bool{}
		}
		vars := Variables(q.Expr)
		if len(regexUse.FindAllString(q.Expr, -1)) != len(vars) {
			t.Errorf("%s / %s: every variable must be a whole regex matcher (label=~\"$name\"): %s", q.Dashboard, q.Panel, q.Expr)
		}
		if rangeGrafs.MatchString(q.Expr) {
			t.Errorf("%s / %s: Grafana's range variables are not used (fixed windows such as [5m]): %s", q.Dashboard, q.Panel, q.Expr)
		}
		for _, v := range vars {
			if !declared[q.Dashboard][v] {
				t.Errorf("%s / %s: $%s is not a variable declared before it", q.Dashboard, q.Panel, v)
			}
		}
		if q.Variable != "" {
			declared[q.Dashboard][q.Variable] = true
		}
	}
	for _, s := range specs() {
		for _, r := range s.rows {
			if r.repeat != "" && !declared[s.uid][r.repeat] {
				t.Errorf("%s: row %q repeats for %s, which is not a variable of it", s.uid, r.title, r.repeat)
			}
		}
	}
}

// checkRules is a rules file with one recording rule per query.
type checkRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var checkName = regexp.MustCompile(`dashboard:check_([0-9]+)`)

// promqlErrors runs promtool check rules over qs (each variable replaced
// by .+) and returns one message per failing query, naming its dashboard,
// panel and query.
func promqlErrors(t *testing.T, qs []Query) []string {
	t.Helper()
	promtool, err := tools.Find("promtool")
	if err != nil {
		t.Fatal(err)
	}
	var f checkRules
	f.Groups = make([]struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	}, 1)
	f.Groups[0].Name = "dashboards"
	for i, q := range qs {
		any := map[string]string{}
		for _, v := range Variables(q.Expr) {
			any[v] = ".+"
		}
		f.Groups[0].Rules = append(f.Groups[0].Rules, struct {
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		}{Record: "dashboard:check_" + strconv.Itoa(i), Expr: Expand(q.Expr, any)})
	}
	data, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	if err == nil {
		if !bytes.Contains(out, []byte(fmt.Sprintf("%d rules found", len(qs)))) {
			t.Fatalf("promtool checked another number of rules than %d:\n%s", len(qs), out)
		}
		return nil
	}
	var msgs []string
	failing := map[int]bool{}
	for _, m := range checkName.FindAllStringSubmatch(string(out), -1) {
		failing[must(strconv.Atoi(m[1]))] = true
	}
	for _, i := range slices.Sorted(maps.Keys(failing)) {
		if i < len(qs) {
			q := qs[i]
			msgs = append(msgs, fmt.Sprintf("dashboard %s, panel %q, query %s is not valid PromQL: %s", q.Dashboard, q.Panel, q.RefID, q.Grafana()))
		}
	}
	return append(msgs, fmt.Sprintf("promtool check rules: %v\n%s", err, out))
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}

// TestQueriesParseAsPromQL runs every panel's and variable's query through
// Prometheus's own parser (promtool check rules, as recording rules).
func TestQueriesParseAsPromQL(t *testing.T) {
	for _, msg := range promqlErrors(t, Queries()) {
		t.Error(msg)
	}
}

// TestPromQLCheckNamesTheFailingPanel proves the check above can fail, and
// that it names the panel: a broken query among valid ones.
func TestPromQLCheckNamesTheFailingPanel(t *testing.T) {
	qs := Queries()[:3]
	qs = append(qs, Query{Dashboard: "x", Panel: "Broken panel", RefID: "B", Expr: `sum(rate(up[5m])`})
	msgs := promqlErrors(t, qs)
	if len(msgs) != 2 || !strings.Contains(msgs[0], `panel "Broken panel", query B`) {
		t.Errorf("want the broken panel named, got %q", msgs)
	}
}

// TestJobsExist: the jobs the queries select are jobs of the generated
// prometheus.yml (default settings): a renamed job would empty panels.
func TestJobsExist(t *testing.T) {
	jobs := map[string]bool{}
	for _, sc := range promconfig.Generate(config.Defaults()).ScrapeConfigs {
		jobs[sc.JobName] = true
	}
	job := regexp.MustCompile(`\bjob\s*=\s*"([^"]*)"`)
	used := map[string]bool{}
	for _, q := range Queries() {
		for _, m := range job.FindAllStringSubmatch(q.Expr, -1) {
			used[m[1]] = true
			if !jobs[m[1]] {
				t.Errorf("%s / %s selects job %q, which the generated prometheus.yml lacks (jobs %v)", q.Dashboard, q.Panel, m[1], slices.Sorted(maps.Keys(jobs)))
			}
		}
	}
	for _, want := range []string{"node", "prometheus", "alertmanager"} {
		if !used[want] {
			t.Errorf("no query reads job %s", want)
		}
	}
}

// TestSeveritiesAreTheRules: the alerts dashboard counts the severities
// the shipped rules use.
func TestSeveritiesAreTheRules(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(alerting.Rules(), &rules); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			set[r.Labels["severity"]] = true
		}
	}
	got := slices.Clone(Severities)
	sort.Strings(got)
	if want := slices.Sorted(maps.Keys(set)); !slices.Equal(got, want) {
		t.Errorf("Severities %v, the rules use %v", Severities, want)
	}
}

// TestAMPOnlyPanelsSayIt: the remote-write panels are marked, in the data
// and in the description a Grafana user reads.
func TestAMPOnlyPanelsSayIt(t *testing.T) {
	n := 0
	for _, q := range Queries() {
		remote := strings.Contains(q.Expr, "prometheus_remote_storage_")
		if remote != q.AMPOnly() {
			t.Errorf("%s / %s: reads remote write metrics %v, marked amp-only %v", q.Dashboard, q.Panel, remote, q.AMPOnly())
		}
		if q.AMPOnly() {
			n++
		}
	}
	if n == 0 {
		t.Error("no amp-only query: the remote write panels are missing")
	}
	for _, s := range specs() {
		s.walk(nil, func(_ uint32, p panel) {
			if p.needs != Always && p.needs != NeedsFiring && !strings.Contains(p.describe(), "Shows data only with "+string(p.needs)) {
				t.Errorf("%s: panel %q does not say when it shows data", s.uid, p.title)
			}
		})
	}
}

// TestPackageIsPureGo: no jsii, cdktf or construct in the package (the
// dashboards are built without Node), and no Grafana module but the
// Apache-2.0 Foundation SDK (Grafana itself is AGPL).
func TestPackageIsPureGo(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/prometheus-aws/prometheus-aws/"
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(pkg, module) && pkg != module+"dashboards",
			strings.Contains(pkg, "jsii"), strings.Contains(pkg, "cdktf"), strings.Contains(pkg, "constructs"),
			strings.HasPrefix(pkg, "github.com/grafana/") && !strings.HasPrefix(pkg, "github.com/grafana/grafana-foundation-sdk/"):
			t.Errorf("package dashboards depends on %s", pkg)
		}
	}
}

const (
	tableBegin = "<!-- dashboards:begin (generated from dashboards.Queries(); go test ./dashboards -update) -->\n"
	tableEnd   = "<!-- dashboards:end -->"
)

// TestREADMEListsEveryQuery keeps README.md's table equal to Queries().
func TestREADMEListsEveryQuery(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	i, j := strings.Index(page, tableBegin), strings.Index(page, tableEnd)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the table markers")
	}
	want := "\n" + MarkdownTable() + "\n"
	if page[i+len(tableBegin):j] == want {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(page[:i+len(tableBegin)]+want+page[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the table of dashboards/README.md is stale: %s", fix)
}

// TestExpand: variables become the regex given, and MatchValue quotes a
// label value for a PromQL string.
func TestExpand(t *testing.T) {
	got := Expand(`up{instance=~"$instance", zone=~"$zone", x=~"$other"}`, map[string]string{"instance": MatchValue(`a.b/i-1"\`), "zone": ".+"})
	want := `up{instance=~"a\\.b/i-1\"\\\\", zone=~".+", x=~"$other"}`
	if got != want {
		t.Errorf("Expand: %s, want %s", got, want)
	}
}
