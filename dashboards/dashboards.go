// Package dashboards builds the Grafana dashboards of prometheus-aws with the
// Grafana Foundation SDK (Apache-2.0), in pure Go: the EC2 fleet, Prometheus
// itself and the alerts. Every panel's and every variable's query is data
// (Queries), so tests parse each with promtool and run each against a real
// Prometheus. The JSON a Grafana imports is generated from here and committed
// beside this file (fleet.json, prometheus.json, alerts.json); a test keeps
// it in step: go test ./dashboards -update rewrites it.
//
// Every dashboard reads the data source variable "datasource" (type
// prometheus), so the JSON imports into any Grafana, Amazon Managed Grafana
// included, and points at Prometheus or at the AMP workspace.
package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards' uids: stable, so links and imports find them again.
const (
	FleetUID      = "prometheus-aws-fleet"
	PrometheusUID = "prometheus-aws-prometheus"
	AlertsUID     = "prometheus-aws-alerts"
)

// Tag is on every dashboard; the dashboards link to each other through it.
const Tag = "prometheus-aws"

// DatasourceVariable is the data source variable every panel and variable
// query reads (type prometheus: a Prometheus or an AMP data source).
const DatasourceVariable = "datasource"

// Need says when a query can return data at all. The end-to-end test runs
// the default stack (storageMode=efs, the bundled Alertmanager) and expects
// data from every query except the amp-only ones, and from the NeedsFiring
// ones while an alert fires.
type Need string

const (
	// Always: the default stack has data for it.
	Always Need = ""
	// NeedsAMP: remote write, which only storageMode=amp configures.
	NeedsAMP Need = "storageMode=amp"
	// NeedsTaskRules: the rules are evaluated, and alerts sent, by the
	// Prometheus task: every alert delivery but storageMode=amp's, where the
	// workspace's ruler does both.
	NeedsTaskRules Need = "rules evaluated by the task (not with storageMode=amp's own alert delivery)"
	// NeedsBundledAlertmanager: the job alertmanager, scraped when the
	// bundled Alertmanager delivers the alerts (no alertmanagerUrls, no
	// storageMode=amp).
	NeedsBundledAlertmanager Need = "the bundled Alertmanager (no alertmanagerUrls, storageMode other than amp)"
	// NeedsFiring: an alert firing now (for a history panel: within its
	// window); a healthy fleet shows the panel's "nothing is firing" text
	// instead. The end-to-end test checks these while an alert fires.
	NeedsFiring Need = "an alert firing (for history: within the window)"
)

// Query is one query of a dashboard: a panel's target or a variable's.
type Query struct {
	// Dashboard is the dashboard's uid.
	Dashboard string
	// Panel is the panel's title (for a variable: "variable <name>").
	Panel string
	// PanelID is the panel's id in the dashboard (0 for a variable).
	PanelID uint32
	// RefID names the query within its panel (A, B, ...).
	RefID string
	// Variable is the name of the variable this query lists the values of,
	// or "" for a panel's query.
	Variable string
	// Label is, for a variable, the label whose values it lists.
	Label string
	// Expr is PromQL: a panel's expression, or the series selector a
	// variable's label_values reads. Variables appear as =~"$name".
	Expr string
	// Legend is the panel's legend format ("" for a variable).
	Legend string
	// Instant is true for instant queries (stat and table panels), false
	// for range queries (time series) and variables.
	Instant bool
	// Needs says when the query can return data.
	Needs Need
}

// AMPOnly reports whether the query only has data with storageMode=amp.
func (q Query) AMPOnly() bool { return q.Needs == NeedsAMP }

// Grafana is the query as the dashboard's JSON holds it: Expr, or for a
// variable label_values(Expr, Label).
func (q Query) Grafana() string {
	if q.Variable != "" {
		return "label_values(" + q.Expr + ", " + q.Label + ")"
	}
	return q.Expr
}

// variableRef matches a dashboard variable in a query: $name.
var variableRef = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)

// Variables lists the variables expr uses, in order of appearance.
func Variables(expr string) []string {
	var names []string
	for _, m := range variableRef.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	return names
}

// Expand replaces each $name in expr by regexes[name], a regular
// expression written as it goes between the quotes of a =~ matcher
// (MatchValue turns a label value into one). A name without an entry is
// left as it is.
func Expand(expr string, regexes map[string]string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		if re, ok := regexes[ref[1:]]; ok {
			return re
		}
		return ref
	})
}

// MatchValue is the regular expression, as written between the quotes of
// a PromQL =~ matcher, that matches exactly value (what Grafana substitutes
// for a variable set to value).
func MatchValue(value string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(regexp.QuoteMeta(value))
}

// spec is one dashboard, as data.
type spec struct {
	uid, title, description, file string
	time                          string // the default range: now-<time> to now
	variables                     []variable
	rows                          []row
}

// variable is a query variable: the values of label on the series
// selector selects (label_values), multi-valued with "All".
type variable struct {
	name, label, selector, labelName string
}

// row is a row of panels; repeat, when set, names the variable the row is
// repeated for (one row per value).
type row struct {
	title, repeat string
	panels        []panel
}

type kind int

const (
	timeSeries kind = iota
	statPanel
	tablePanel
)

// panel is one panel; stat and table panels run instant queries.
type panel struct {
	kind               kind
	title, description string
	unit               string
	width, height      uint32
	needs              Need
	// noValue is shown when the queries return nothing.
	noValue string
	// states, when set, names the values 0 (red) and 1 (green).
	states *[2]string
	// redAt, when set, colours the value red from this threshold on
	// (green below it).
	redAt *float64
	// hide lists the label columns a table leaves out.
	hide    []string
	min     *float64
	targets []target
}

type target struct{ expr, legend string }

func (p panel) instant() bool { return p.kind != timeSeries }

// specs are the three dashboards, in order.
func specs() []spec { return []spec{fleet(), prometheusItself(), alerts()} }

// Dashboard is one generated dashboard: its uid, title, the file its JSON
// is committed in (beside this package) and the SDK's dashboard.
type Dashboard struct {
	UID, Title, File string
	Dashboard        dashboard.Dashboard
}

// All builds the three dashboards with the SDK's builders.
func All() ([]Dashboard, error) {
	var out []Dashboard
	for _, s := range specs() {
		d, err := s.build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", s.uid, err)
		}
		out = append(out, Dashboard{UID: s.uid, Title: s.title, File: s.file, Dashboard: d})
	}
	return out, nil
}

// JSON renders a dashboard the way it is committed: indented by two
// spaces, ending in a newline.
func JSON(d dashboard.Dashboard) ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Queries lists every query of every dashboard: per dashboard its
// variables' queries first (in order: a variable may use the ones before
// it), then its panels' queries in panel order.
func Queries() []Query {
	var qs []Query
	for _, s := range specs() {
		for _, v := range s.variables {
			q := v.query()
			q.Dashboard, q.Panel = s.uid, "variable "+v.name
			qs = append(qs, q)
		}
		s.walk(nil, func(id uint32, p panel) {
			for i, t := range p.targets {
				qs = append(qs, Query{Dashboard: s.uid, Panel: p.title, PanelID: id, RefID: refID(i), Expr: t.expr,
					Legend: t.legend, Instant: p.instant(), Needs: p.needs})
			}
		})
	}
	return qs
}

// walk visits the rows and panels in order with the id each gets: ids
// count from 1 through the rows and their panels. onRow may be nil.
func (s spec) walk(onRow func(id uint32, r row), onPanel func(id uint32, p panel)) {
	id := uint32(0)
	for _, r := range s.rows {
		id++
		if onRow != nil {
			onRow(id, r)
		}
		for _, p := range r.panels {
			id++
			onPanel(id, p)
		}
	}
}

// query is v's query, as Queries lists it.
func (v variable) query() Query {
	return Query{Variable: v.name, Label: v.labelName, Expr: v.selector}
}

func refID(i int) string { return string(rune('A' + i)) }

// datasource is the reference every panel and query uses: the variable.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + DatasourceVariable + "}")}
}

func (s spec) build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(s.title).
		Uid(s.uid).
		Description(s.description).
		Tags([]string{Tag}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time("now-"+s.time, "now").
		Timezone(common.TimeZoneBrowser).
		Link(dashboard.NewDashboardLinkBuilder("prometheus-aws").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(true).
			IncludeVars(false).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVariable).
			Label("Data source").
			Description("The Prometheus of the stack, or its Amazon Managed Service for Prometheus workspace (storageMode=amp)").
			Type("prometheus"))
	for _, v := range s.variables {
		b = b.WithVariable(dashboard.NewQueryVariableBuilder(v.name).
			Label(v.label).
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(v.query().Grafana())}).
			Definition(v.query().Grafana()).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
			}))
	}
	// A row's panels follow it (an open row): Grafana repeats them with a
	// repeated row.
	s.walk(func(id uint32, r row) {
		rb := dashboard.NewRowBuilder(r.title).Id(id).Datasource(datasource())
		if r.repeat != "" {
			rb = rb.Repeat(r.repeat)
		}
		b = b.WithRow(rb)
	}, func(id uint32, p panel) {
		b = b.WithPanel(p.builder(id))
	})
	return b.Build()
}

func (p panel) queries() []cog.Builder[variants.Dataquery] {
	var qs []cog.Builder[variants.Dataquery]
	for i, t := range p.targets {
		q := prometheus.NewDataqueryBuilder().
			Datasource(datasource()).
			RefId(refID(i)).
			Expr(t.expr)
		if t.legend != "" {
			q = q.LegendFormat(t.legend)
		}
		switch p.kind {
		case tablePanel:
			q = q.Instant().Format(prometheus.PromQueryFormatTable)
		case statPanel:
			q = q.Instant()
		default:
			q = q.Range()
		}
		qs = append(qs, q)
	}
	return qs
}

func (p panel) describe() string {
	if p.needs == Always || p.needs == NeedsFiring {
		return p.description
	}
	return p.description + " Shows data only with " + string(p.needs) + "."
}

// The value mappings of states.
var (
	upDown   = &[2]string{"down", "up"}
	okFailed = &[2]string{"failed", "succeeded"}
)

func mappings(states *[2]string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
		"0": {Text: cog.ToPtr(states[0]), Color: cog.ToPtr("red"), Index: cog.ToPtr[int32](0)},
		"1": {Text: cog.ToPtr(states[1]), Color: cog.ToPtr("green"), Index: cog.ToPtr[int32](1)},
	}}}}
}

func (p panel) builder(id uint32) cog.Builder[dashboard.Panel] {
	w, h := p.width, p.height
	switch {
	case w == 0 && p.kind == statPanel:
		w = 6
	case w == 0 && p.kind == tablePanel:
		w = 24
	case w == 0:
		w = 12
	}
	if h == 0 {
		h = map[kind]uint32{timeSeries: 8, statPanel: 4, tablePanel: 8}[p.kind]
	}
	switch p.kind {
	case statPanel:
		b := stat.NewPanelBuilder().Id(id).Title(p.title).Description(p.describe()).Datasource(datasource()).
			Span(w).Height(h).Targets(p.queries()).
			GraphMode(common.BigValueGraphModeArea).ColorMode(common.BigValueColorModeValue).
			Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
		if p.redAt != nil {
			b = b.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Value: nil, Color: "green"}, {Value: p.redAt, Color: "red"}}))
		}
		if p.unit != "" {
			b = b.Unit(p.unit)
		}
		if p.noValue != "" {
			b = b.NoValue(p.noValue)
		}
		if p.states != nil {
			b = b.Mappings(mappings(p.states))
		}
		return b
	case tablePanel:
		b := table.NewPanelBuilder().Id(id).Title(p.title).Description(p.describe()).Datasource(datasource()).
			Span(w).Height(h).Targets(p.queries()).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
		if len(p.hide) > 0 {
			exclude := map[string]bool{}
			for _, l := range p.hide {
				exclude[l] = true
			}
			b = b.WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{"excludeByName": exclude}})
		}
		if p.unit != "" {
			b = b.Unit(p.unit)
		}
		if p.noValue != "" {
			b = b.NoValue(p.noValue)
		}
		if p.states != nil {
			b = b.Mappings(mappings(p.states))
		}
		return b
	}
	b := timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.describe()).Datasource(datasource()).
		Span(w).Height(h).Targets(p.queries()).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		FillOpacity(10).LineWidth(1).ShowPoints(common.VisibilityModeNever)
	if p.unit != "" {
		b = b.Unit(p.unit)
	}
	if p.min != nil {
		b = b.Min(*p.min)
	}
	if p.noValue != "" {
		b = b.NoValue(p.noValue)
	}
	if p.states != nil {
		b = b.Mappings(mappings(p.states))
	}
	return b
}

func zero() *float64 { return cog.ToPtr(0.0) }

func one() *float64 { return cog.ToPtr(1.0) }
