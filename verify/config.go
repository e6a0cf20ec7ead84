package verify

import (
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// The configuration check: each parameter config-sync delivers holds what
// the stack generated (the state), and what Prometheus and the
// Alertmanager serve is that parameter (config-sync delivered the current
// version and it loaded).

// parameter is one generated configuration file.
type parameter struct {
	name, generated string
}

// kind of a synced parameter, from its name (constructs: /<stack>/prometheus/prometheus.yml,
// /<stack>/prometheus/rules/<group>.yml, /<stack>/alertmanager/alertmanager.yml).
func kind(name string) string {
	switch {
	case strings.HasSuffix(name, "/prometheus/prometheus.yml"):
		return "prometheus"
	case strings.Contains(name, "/prometheus/rules/"):
		return "rules"
	case strings.HasSuffix(name, "/alertmanager/alertmanager.yml"):
		return "alertmanager"
	}
	return ""
}

func generatedParameters(t *Target) []parameter {
	var ps []parameter
	for _, r := range resources(t.State, "aws_ssm_parameter") {
		name := str(r, "name")
		if kind(name) == "" {
			continue
		}
		value := str(r, "insecure_value")
		if value == "" {
			value = str(r, "value")
		}
		ps = append(ps, parameter{name: name, generated: value})
	}
	return ps
}

func checkConfiguration(ctx context.Context, t *Target, _ Options) Result {
	params := generatedParameters(t)
	if len(params) == 0 {
		return fail("apply the stack (make deploy)", "the state holds no configuration parameter")
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	current := map[string]string{}
	c := ssm.NewFromConfig(t.AWS)
	for chunk := range slices.Chunk(names, 10) {
		out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: chunk})
		if err != nil {
			return fail("check the credentials' ssm:GetParameters permission", "reading the configuration parameters: %v", err)
		}
		for _, p := range out.Parameters {
			current[aws.ToString(p.Name)] = aws.ToString(p.Value)
		}
		if len(out.InvalidParameters) > 0 {
			return fail("apply the stack again (make deploy) to recreate them", "parameters missing: %s", strings.Join(out.InvalidParameters, ", "))
		}
	}
	for _, p := range params {
		if current[p.name] != p.generated {
			return fail("deploy again (make deploy puts the generated value back), and find who changed it (CloudTrail: ssm PutParameter)",
				"parameter %s differs from what the stack generated: it was changed outside a deploy", p.name)
		}
	}
	if t.Prometheus == nil {
		return skip(t.Unreachable, "the parameters hold what the stack generated; what Prometheus serves was not checked (not reachable)")
	}
	if msg := servedPrometheus(ctx, t, params); msg != "" {
		return fail("config-sync delivers a changed parameter within 30 s; if it persists read the prometheus and config-sync container logs", "%s", msg)
	}
	served := "Prometheus"
	if t.Alertmanager != nil {
		if msg := servedAlertmanager(ctx, t, params); msg != "" {
			return fail("config-sync delivers a changed parameter within 30 s; if it persists read the alertmanager container log", "%s", msg)
		}
		served += " and the Alertmanager"
	}
	return pass("%d parameters hold what the stack generated; %s serve them", len(params), served)
}

// servedPrometheus compares what Prometheus serves with the parameters;
// "" when equal.
func servedPrometheus(ctx context.Context, t *Target, params []parameter) string {
	var ok string
	if t.Settings.AgentMode() {
		// No query API in agent mode: its own /metrics.
		v, found, err := agentGauge(ctx, t.Prometheus, "prometheus_config_last_reload_successful", nil)
		if err != nil || !found {
			return fmt.Sprintf("reading prometheus_config_last_reload_successful from /metrics: %v (found %v)", err, found)
		}
		ok = strconv.FormatFloat(v, 'g', -1, 64)
	} else {
		var err error
		if ok, err = t.Prometheus.Scalar(ctx, "prometheus_config_last_reload_successful"); err != nil {
			return fmt.Sprintf("reading prometheus_config_last_reload_successful: %v", err)
		}
	}
	if ok != "1" {
		return "Prometheus's last configuration reload failed (prometheus_config_last_reload_successful 0): it runs an older configuration than the parameters hold"
	}
	served, err := t.Prometheus.Config(ctx)
	if err != nil {
		return fmt.Sprintf("reading /api/v1/status/config: %v", err)
	}
	// The rules Prometheus evaluates, when it evaluates any: none in agent
	// mode (the workspace's ruler does), whose rules API is refused.
	var groups []promapi.RuleGroup
	if slices.ContainsFunc(params, func(p parameter) bool { return kind(p.name) == "rules" }) {
		if groups, err = t.Prometheus.Rules(ctx); err != nil {
			return fmt.Sprintf("reading /api/v1/rules: %v", err)
		}
	}
	for _, p := range params {
		switch kind(p.name) {
		case "prometheus":
			if diff := contains(served, p.generated); diff != "" {
				return fmt.Sprintf("Prometheus serves another configuration than parameter %s: %s", p.name, diff)
			}
		case "rules":
			if diff := rulesServed(groups, p.generated); diff != "" {
				return fmt.Sprintf("Prometheus serves other rules than parameter %s: %s", p.name, diff)
			}
		}
	}
	return ""
}

func servedAlertmanager(ctx context.Context, t *Target, params []parameter) string {
	var status struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if err := t.Alertmanager.get(ctx, "/api/v2/status", &status); err != nil {
		return fmt.Sprintf("reading the Alertmanager's /api/v2/status: %v", err)
	}
	for _, p := range params {
		if kind(p.name) == "alertmanager" {
			if diff := contains(status.Config.Original, p.generated); diff != "" {
				return fmt.Sprintf("the Alertmanager serves another configuration than parameter %s: %s", p.name, diff)
			}
		}
	}
	return ""
}

// contains reports how served (a configuration as Prometheus or the
// Alertmanager render it back) misses what generated says; "" when every
// value generated sets is served. Rendering fills in defaults, masks
// secrets as <secret>, resolves file paths against the configuration's
// folder and writes durations its own way (60s as 1m), so values are
// compared as such.
func contains(served, generated string) string {
	var s, g any
	if err := yaml.Unmarshal([]byte(served), &s); err != nil {
		return "the served configuration is not YAML: " + err.Error()
	}
	if err := yaml.Unmarshal([]byte(generated), &g); err != nil {
		return "the generated configuration is not YAML: " + err.Error()
	}
	return subset(s, g, "")
}

func subset(served, generated any, at string) string {
	switch g := generated.(type) {
	case map[string]any:
		s, _ := served.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(g)) {
			sv, ok := s[k]
			if !ok {
				if zero(g[k]) {
					continue // rendering omits empty values
				}
				return fmt.Sprintf("%s is not served", join(at, k))
			}
			if d := subset(sv, g[k], join(at, k)); d != "" {
				return d
			}
		}
	case []any:
		s, _ := served.([]any)
		if len(s) != len(g) {
			return fmt.Sprintf("%s: %d entries served, %d generated", at, len(s), len(g))
		}
		for i := range g {
			if d := subset(s[i], g[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
	default:
		if !sameScalar(served, generated, at) {
			return fmt.Sprintf("%s is %v, generated %v", at, served, generated)
		}
	}
	return ""
}

func sameScalar(served, generated any, at string) bool {
	s, g := fmt.Sprint(served), fmt.Sprint(generated)
	if s == g || s == "<secret>" {
		return true
	}
	if strings.HasSuffix(at, "_file") || strings.Contains(at, "rule_files[") || strings.Contains(at, "templates[") {
		return path.Base(s) == path.Base(g) // resolved against the configuration's folder
	}
	if strings.HasPrefix(at, "global.external_labels.") && strings.Contains(g, "${") {
		// Prometheus 3 expands ${VAR} in external labels from its
		// environment (the configuration docs, <global>'s
		// external_labels): amp's __replica__ is the task's id.
		return expansion(g).MatchString(s)
	}
	if sd, err := model.ParseDuration(s); err == nil {
		if gd, err := model.ParseDuration(g); err == nil {
			return sd == gd
		}
	}
	if sf, err := strconv.ParseFloat(s, 64); err == nil {
		if gf, err := strconv.ParseFloat(g, 64); err == nil {
			return sf == gf
		}
	}
	return false
}

// expansion matches what a value with ${VAR} references can expand to:
// the literal parts as they are, anything in place of each reference.
func expansion(v string) *regexp.Regexp {
	parts := regexp.MustCompile(`\$\{[^}]*\}`).Split(v, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case int:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

// rulesServed compares a rule group file with the groups Prometheus has
// loaded: each group by name, its rules by name, kind and hold duration.
func rulesServed(served []promapi.RuleGroup, generated string) string {
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				For    string `yaml:"for"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(generated), &file); err != nil {
		return "the generated rules are not YAML: " + err.Error()
	}
	for _, g := range file.Groups {
		i := slices.IndexFunc(served, func(s promapi.RuleGroup) bool { return s.Name == g.Name })
		if i < 0 {
			return fmt.Sprintf("group %s is not loaded", g.Name)
		}
		s := served[i]
		if len(s.Rules) != len(g.Rules) {
			return fmt.Sprintf("group %s: %d rules loaded, %d generated", g.Name, len(s.Rules), len(g.Rules))
		}
		for j, r := range g.Rules {
			name := r.Alert + r.Record
			got := s.Rules[j]
			if got.Name != name {
				return fmt.Sprintf("group %s: rule %d is %s, generated %s", g.Name, j+1, got.Name, name)
			}
			if r.For != "" {
				want, _ := model.ParseDuration(r.For)
				if int64(got.Duration) != int64(time.Duration(want).Seconds()) {
					return fmt.Sprintf("group %s: rule %s holds for %ds, generated %s", g.Name, name, int64(got.Duration), r.For)
				}
			}
		}
	}
	return ""
}
