// Package promapi reads the few Prometheus HTTP API answers the demo, make
// verify and the end-to-end tests need: active targets, instant queries, and
// Prometheus's own /metrics (all an agent serves of itself).
package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Target is one active scrape target.
type Target struct {
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	Health           string            `json:"health"`
	LastError        string            `json:"lastError"`
	Labels           map[string]string `json:"labels"`
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
}

// Client talks to one Prometheus.
type Client struct {
	// BaseURL such as http://127.0.0.1:9090.
	BaseURL string
	// Username and Password, when set, are sent as basic auth.
	Username, Password string
	HTTP               *http.Client
}

// New returns a client with a short request timeout.
func New(baseURL string) *Client {
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// fetch GETs path with the client's credentials and returns the body of a
// 200 answer (a StatusError otherwise).
func (c *Client) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, Body: string(body)}
	}
	return body, nil
}

// Get fetches an API path (/api/v1/...) and decodes its data into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	body, err := c.fetch(ctx, path)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

// Ready reports whether Prometheus answers /-/ready with 200 (it does once
// the TSDB is open and the configuration loaded).
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.fetch(ctx, "/-/ready")
	return err
}

// StatusError is a non-200 answer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// Targets returns the active targets, optionally of one scrape pool (job).
func (c *Client) Targets(ctx context.Context, pool string) ([]Target, error) {
	var data struct {
		ActiveTargets []Target `json:"activeTargets"`
	}
	q := "?state=active"
	if pool != "" {
		q += "&scrapePool=" + url.QueryEscape(pool)
	}
	if err := c.Get(ctx, "/api/v1/targets"+q, &data); err != nil {
		return nil, err
	}
	sort.Slice(data.ActiveTargets, func(i, j int) bool {
		return data.ActiveTargets[i].Labels["instance"] < data.ActiveTargets[j].Labels["instance"]
	})
	return data.ActiveTargets, nil
}

// RuleGroups returns the names of the loaded rule groups, in file order,
// with the number of alerting rules in each.
func (c *Client) RuleGroups(ctx context.Context) (names []string, alerts map[string]int, err error) {
	groups, err := c.Rules(ctx)
	if err != nil {
		return nil, nil, err
	}
	alerts = map[string]int{}
	for _, g := range groups {
		names = append(names, g.Name)
		for _, r := range g.Rules {
			if r.Type == "alerting" {
				alerts[g.Name]++
			}
		}
	}
	return names, alerts, nil
}

// RuleGroup is a group of /api/v1/rules, the parts this client reads.
type RuleGroup struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// Rule is one loaded rule.
type Rule struct {
	Name string `json:"name"`
	Type string `json:"type"` // alerting or recording
	// Duration is an alerting rule's hold time (for), in seconds.
	Duration float64 `json:"duration"`
}

// Rules are the loaded rule groups, in file order.
func (c *Client) Rules(ctx context.Context) ([]RuleGroup, error) {
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	err := c.Get(ctx, "/api/v1/rules", &data)
	return data.Groups, err
}

// Scalar runs an instant query whose answer is one sample and returns its
// value as text.
func (c *Client) Scalar(ctx context.Context, query string) (string, error) {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := c.Get(ctx, "/api/v1/query?query="+url.QueryEscape(query), &data); err != nil {
		return "", err
	}
	if len(data.Result) != 1 {
		return "", fmt.Errorf("query %q: %d samples, want 1", query, len(data.Result))
	}
	s, _ := data.Result[0].Value[1].(string)
	return s, nil
}

// Sample is one series of an instant query's answer: its labels and its
// value as text.
type Sample struct {
	Metric map[string]string
	Value  string
}

// Query runs an instant query at the current time and returns the series
// of its answer (a scalar or string answer is one sample without labels).
func (c *Client) Query(ctx context.Context, query string) ([]Sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := c.Get(ctx, "/api/v1/query?query="+url.QueryEscape(query), &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		var v [2]any
		if err := json.Unmarshal(data.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: %s answer: %v", query, data.ResultType, err)
		}
		s, _ := v[1].(string)
		return []Sample{{Value: s}}, nil
	}
	var vector []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(data.Result, &vector); err != nil {
		return nil, fmt.Errorf("query %q: %v", query, err)
	}
	out := make([]Sample, len(vector))
	for i, v := range vector {
		s, _ := v.Value[1].(string)
		out[i] = Sample{Metric: v.Metric, Value: s}
	}
	return out, nil
}

// WaitForTargets polls the targets of job until their instance_id labels are
// exactly ids and all are up, or ctx ends. Every scrape URL must be on
// loopback (the local profile's promise): anything else fails at once.
func (c *Client) WaitForTargets(ctx context.Context, job string, ids []string) ([]Target, error) {
	want := append([]string(nil), ids...)
	sort.Strings(want)
	var last []Target
	var lastErr error
	for {
		targets, err := c.Targets(ctx, job)
		last, lastErr = targets, err
		if err == nil {
			var got []string
			up := true
			for _, tg := range targets {
				u, perr := url.Parse(tg.ScrapeURL)
				if perr != nil || u.Hostname() != "127.0.0.1" {
					return nil, fmt.Errorf("scrape URL %q is not loopback: the local overlay must rewrite every address", tg.ScrapeURL)
				}
				got = append(got, tg.Labels["instance_id"])
				up = up && tg.Health == "up"
			}
			sort.Strings(got)
			if strings.Join(got, ",") == strings.Join(want, ",") && up {
				return targets, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("targets of job %s never became exactly %v, all up; last: %s (error %v)", job, want, Describe(last), lastErr)
		case <-time.After(2 * time.Second):
		}
	}
}

// Describe summarises targets for messages.
func Describe(ts []Target) string {
	var parts []string
	for _, tg := range ts {
		parts = append(parts, fmt.Sprintf("%s=%s(%s)", tg.Labels["instance_id"], tg.Health, tg.LastError))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Config is the configuration Prometheus runs (/api/v1/status/config), as
// it renders it.
func (c *Client) Config(ctx context.Context) (string, error) {
	var data struct {
		YAML string `json:"yaml"`
	}
	err := c.Get(ctx, "/api/v1/status/config", &data)
	return data.YAML, err
}

// AlertingRules returns the names of the loaded alerting rules.
func (c *Client) AlertingRules(ctx context.Context) ([]string, error) {
	groups, err := c.Rules(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Type == "alerting" {
				names = append(names, r.Name)
			}
		}
	}
	return names, nil
}

// RuntimeInfo is the part of /api/v1/status/runtimeinfo this client reads.
// StartTime is the process's own start: unlike the self-scraped
// process_start_time_seconds, it never answers from an earlier process's
// samples (a restart on the same TSDB serves those until its first
// self-scrape).
type RuntimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	StorageRetention    string    `json:"storageRetention"`
}

// RuntimeInfo is the running process's runtime information.
func (c *Client) RuntimeInfo(ctx context.Context) (RuntimeInfo, error) {
	var info RuntimeInfo
	if err := c.Get(ctx, "/api/v1/status/runtimeinfo", &info); err != nil {
		return RuntimeInfo{}, err
	}
	if info.StartTime.IsZero() {
		return RuntimeInfo{}, fmt.Errorf("/api/v1/status/runtimeinfo: no startTime")
	}
	return info, nil
}

// Metrics is Prometheus's own /metrics page: every sample line, by series
// name. An agent (--agent) serves it while its query API answers
// "unavailable with Prometheus Agent", so what a query would read of
// Prometheus itself is read here.
type Metrics map[string][]MetricSample

// MetricSample is one line of the page: its labels and value.
type MetricSample struct {
	Labels map[string]string
	Value  float64
}

// Metrics reads /metrics (the text exposition format, which Prometheus
// serves to a client that asks for no other).
func (c *Client) Metrics(ctx context.Context) (Metrics, error) {
	body, err := c.fetch(ctx, "/metrics")
	if err != nil {
		return nil, err
	}
	return ParseMetrics(string(body))
}

// ParseMetrics reads the text exposition format: `name{label="value",...}
// value [timestamp]` lines, # lines skipped.
func ParseMetrics(text string) (Metrics, error) {
	m := Metrics{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		labels := map[string]string{}
		if strings.HasPrefix(rest, "{") {
			var err error
			if labels, rest, err = parseLabels(rest[1:]); err != nil {
				return nil, fmt.Errorf("/metrics line %d: %v: %s", n+1, err, line)
			}
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("/metrics line %d has no value: %s", n+1, line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics line %d: %v: %s", n+1, err, line)
		}
		m[name] = append(m[name], MetricSample{Labels: labels, Value: v})
	}
	return m, nil
}

// parseLabels reads `name="value",...}` (escapes \\, \" and \n) and
// returns what follows the brace.
func parseLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], nil
		}
		eq := strings.Index(s, "=\"")
		if eq < 0 {
			return nil, "", fmt.Errorf("a label without =\"")
		}
		name := strings.TrimSpace(s[:eq])
		s = s[eq+2:]
		var v strings.Builder
		for {
			if s == "" {
				return nil, "", fmt.Errorf("label %s is not closed", name)
			}
			c := s[0]
			s = s[1:]
			if c == '"' {
				break
			}
			if c == '\\' && s != "" {
				c, s = s[0], s[1:]
				if c == 'n' {
					c = '\n'
				}
			}
			v.WriteByte(c)
		}
		labels[name] = v.String()
	}
}

// Sum adds up the samples of name whose labels include match; ok is false
// when there is none.
func (m Metrics) Sum(name string, match map[string]string) (sum float64, ok bool) {
	for _, s := range m.matching(name, match) {
		sum, ok = sum+s.Value, true
	}
	return sum, ok
}

// Max is the largest sample of name whose labels include match; ok is
// false when there is none.
func (m Metrics) Max(name string, match map[string]string) (max float64, ok bool) {
	for _, s := range m.matching(name, match) {
		if !ok || s.Value > max {
			max, ok = s.Value, true
		}
	}
	return max, ok
}

func (m Metrics) matching(name string, match map[string]string) []MetricSample {
	var out []MetricSample
next:
	for _, s := range m[name] {
		for k, v := range match {
			if s.Labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}
