package amconfig_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/amconfig"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

func load(t *testing.T, env map[string]string) *config.Settings {
	t.Helper()
	s, err := config.Load(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// variants are every kind of configuration the settings can produce: the
// created topic or the user's, with or without a Prometheus link, the local
// overlay, other timing.
var variants = map[string]struct {
	env  map[string]string
	opts amconfig.Options
}{
	"default":   {nil, amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder}},
	"own topic": {map[string]string{"PROMAWS_ALARM_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:ops"}, amconfig.Options{TopicARN: "arn:aws:sns:eu-central-1:123456789012:ops"}},
	"domain": {map[string]string{"PROMAWS_TLS_DOMAIN": "prometheus.example.com", "PROMAWS_TLS_ZONE_ID": "Z123", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"},
		amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder, PrometheusURL: "https://prometheus.example.com"}},
	"load balancer": {map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/abc", "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"},
		amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder, PrometheusURL: amconfig.PrometheusURLPlaceholder}},
	"timing": {map[string]string{"PROMAWS_ALERT_GROUP_WAIT": "5s", "PROMAWS_ALERT_GROUP_INTERVAL": "10s", "PROMAWS_ALERT_REPEAT_INTERVAL": "1m"},
		amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder}},
	"local": {map[string]string{"PROMAWS_ENDPOINT": "https://127.0.0.1:4566"}, amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder}},
	"amp":   {map[string]string{"PROMAWS_STORAGE_MODE": "amp"}, amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder}},
}

// amtool runs `amtool args...` and fails the test with its output.
func amtool(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := tools.Find("amtool")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Given every configuration the settings can produce, when amtool checks
// it, then Alertmanager would load it: one receiver, the topic, resolved
// notices on.
func TestEveryConfigurationPassesAmtool(t *testing.T) {
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			c, err := amconfig.ForTask(load(t, v.env), v.opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := amtool(t, "check-config", file)
			if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, " - 1 receivers") || !strings.Contains(out, " - 2 inhibit rules") {
				t.Errorf("amtool check-config:\n%s", out)
			}
			sc := c.Receivers[0].SNSConfigs[0]
			if sc.TopicARN != v.opts.TopicARN || !sc.SendResolved || sc.SigV4.Region != "eu-central-1" {
				t.Errorf("the receiver must publish to %s, resolved notices included, signed for the region: %+v", v.opts.TopicARN, sc)
			}
			if local := v.env["PROMAWS_ENDPOINT"]; (sc.APIURL != "") != (local != "") || sc.APIURL != local {
				t.Errorf("api_url %q: the emulator endpoint in the local profile only (%q)", sc.APIURL, local)
			}
		})
	}
}

// Given the message templates, when amtool renders them on its example
// alerts, then they execute, and the subject is one line.
func TestTemplatesRender(t *testing.T) {
	c, err := amconfig.Generate(load(t, nil), amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder, PrometheusURL: "https://p.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "none.tmpl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sc := c.Receivers[0].SNSConfigs[0]
	subject := amtool(t, "template", "render", "--template.glob="+empty, "--template.text="+sc.Subject)
	if strings.Count(strings.TrimSpace(subject), "\n") != 0 || !strings.Contains(subject, "prometheus-aws/dev") || len(strings.TrimSpace(subject)) > 100 {
		t.Errorf("subject must be one line of at most 100 characters (SNS) naming the deployment: %q", subject)
	}
	msg := amtool(t, "template", "render", "--template.glob="+empty, "--template.text="+sc.Message)
	for _, want := range []string{"FIRING", "RESOLVED", "Prometheus: https://p.example.com/alerts", "environment dev"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// Given settings, the route groups by alert name with their timing, and
// NodeDown mutes the other alerts of its instance.
func TestRouteAndInhibitions(t *testing.T) {
	c, err := amconfig.Generate(load(t, map[string]string{"PROMAWS_ALERT_REPEAT_INTERVAL": "12h"}), amconfig.Options{TopicARN: "x"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Route
	if r.Receiver != amconfig.ReceiverName || strings.Join(r.GroupBy, ",") != "alertname" || r.GroupWait != "30s" || r.GroupInterval != "5m" || r.RepeatInterval != "12h" {
		t.Errorf("route: %+v", r)
	}
	down := c.InhibitRules[0]
	if down.SourceMatchers[0] != `alertname="NodeDown"` || strings.Join(down.Equal, ",") != "instance" {
		t.Errorf("NodeDown must mute its instance's other alerts: %+v", down)
	}
	if _, err := amconfig.Generate(load(t, nil), amconfig.Options{}); err == nil {
		t.Error("a configuration without a topic must be refused")
	}
}

// Given storageMode amp, the workspace definition holds the same
// configuration under alertmanager_config, which amtool accepts; with the
// local overlay's api_url it is refused (AMP sends to AWS's SNS only).
func TestAMPDefinition(t *testing.T) {
	s := load(t, map[string]string{"PROMAWS_STORAGE_MODE": "amp"})
	c, err := amconfig.Generate(s, amconfig.Options{TopicARN: amconfig.TopicARNPlaceholder})
	if err != nil {
		t.Fatal(err)
	}
	def, err := c.AMPDefinition()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Config string `yaml:"alertmanager_config"`
	}
	if err := yaml.Unmarshal([]byte(def), &parsed); err != nil {
		t.Fatal(err)
	}
	want, _ := c.YAML()
	if parsed.Config != string(want) {
		t.Errorf("the definition must carry the configuration as is:\n%s", def)
	}
	file := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(file, []byte(parsed.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	amtool(t, "check-config", file)
	if err := c.ApplyLocal(amconfig.LocalOptions{Endpoint: "http://127.0.0.1:5000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AMPDefinition(); err == nil {
		t.Error("an AMP definition with an api_url must be refused")
	}
	if err := c.ApplyLocal(amconfig.LocalOptions{Endpoint: "http://127.0.0.1:5000"}); err == nil {
		t.Error("a second local overlay must be refused")
	}
	c2, _ := amconfig.Generate(s, amconfig.Options{TopicARN: "x"})
	if err := c2.ApplyLocal(amconfig.LocalOptions{Endpoint: "https://sns.eu-central-1.amazonaws.com"}); err == nil {
		t.Error("a non-loopback endpoint must be refused")
	}
}
