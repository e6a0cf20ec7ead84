package promapi

import "testing"

// ParseMetrics reads Prometheus's own page: labels with escapes, special
// values, timestamps, comments; Sum and Max select by label subset.
func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(`# HELP prometheus_remote_storage_samples_total Total number of samples sent to remote storage.
# TYPE prometheus_remote_storage_samples_total counter
prometheus_remote_storage_samples_total{remote_name="a1b2",url="https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"} 1234
prometheus_remote_storage_samples_total{remote_name="c3",url="http://x/y"} 6
prometheus_config_last_reload_successful 1
prometheus_sd_refresh_failures_total{config="node",mechanism="ec2"} 0 1700000000000
odd{a="x,y}",b="say \"hi\"\\ \n"} +Inf
prometheus_remote_storage_highest_timestamp_in_seconds 1.7e+09
`)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Sum("prometheus_remote_storage_samples_total", nil); !ok || v != 1240 {
		t.Errorf("sum of samples_total %v %v, want 1240", v, ok)
	}
	if v, ok := m.Sum("prometheus_remote_storage_samples_total", map[string]string{"remote_name": "c3"}); !ok || v != 6 {
		t.Errorf("remote_name=c3: %v %v, want 6", v, ok)
	}
	if v, ok := m.Max("prometheus_remote_storage_samples_total", nil); !ok || v != 1234 {
		t.Errorf("max %v %v, want 1234", v, ok)
	}
	if v, ok := m.Sum("prometheus_sd_refresh_failures_total", map[string]string{"mechanism": "ec2"}); !ok || v != 0 {
		t.Errorf("a sample with a timestamp: %v %v, want 0", v, ok)
	}
	if s := m["odd"]; len(s) != 1 || s[0].Labels["a"] != "x,y}" || s[0].Labels["b"] != "say \"hi\"\\ \n" {
		t.Errorf("escaped labels: %+v", s)
	}
	if _, ok := m.Sum("absent", nil); ok {
		t.Error("an absent metric must report ok=false")
	}
	if _, err := ParseMetrics("broken{a=\"x\" 1\n"); err == nil {
		t.Error("an unclosed label set must be an error")
	}
}
