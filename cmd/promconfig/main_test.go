package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// clean runs the test in an empty folder (no cdktf.json) with no settings
// in the environment, restoring both afterwards.
func clean(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PROMAWS_") || name == "CDKTF_CONTEXT_JSON" {
			t.Setenv(name, "") // registers the restore
			os.Unsetenv(name)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func generated(t *testing.T, s *config.Settings, local *promconfig.LocalOptions) string {
	t.Helper()
	c := promconfig.Generate(s)
	if local != nil {
		if err := c.ApplyLocal(*local); err != nil {
			t.Fatal(err)
		}
	}
	data, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestRun(t *testing.T) {
	loaded := func(env map[string]string) *config.Settings {
		s, err := config.Load(nil, env)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		context string // cdktf.json context
		want    string // "" = a failure is expected
		errWant string
	}{
		{name: "defaults", want: generated(t, config.Defaults(), nil)},
		{name: "environment", env: map[string]string{"PROMAWS_REGION": "us-east-1"}, want: generated(t, loaded(map[string]string{"PROMAWS_REGION": "us-east-1"}), nil)},
		{name: "cdktf.json context", context: `{"nodeExporterPort": 9200}`, want: generated(t, loaded(map[string]string{"PROMAWS_NODE_EXPORTER_PORT": "9200"}), nil)},
		{name: "-defaults ignores context and environment", args: []string{"-defaults"}, context: `{"nodeExporterPort": 9200}`,
			env: map[string]string{"PROMAWS_REGION": "us-east-1"}, want: generated(t, config.Defaults(), nil)},
		{name: "local profile", env: map[string]string{"PROMAWS_ENDPOINT": "https://127.0.0.1:5000", "PROMAWS_NODE_EXPORTER_PORT": "9101"},
			want: generated(t, loaded(map[string]string{"PROMAWS_ENDPOINT": "https://127.0.0.1:5000", "PROMAWS_NODE_EXPORTER_PORT": "9101"}),
				&promconfig.LocalOptions{Endpoint: "https://127.0.0.1:5000", TargetAddress: "127.0.0.1:9101", RemoteWriteBase: "http://127.0.0.1:19291"})},
		{name: "bad setting", env: map[string]string{"PROMAWS_NODE_EXPORTER_PORT": "0"}, errWant: "nodeExporterPort (PROMAWS_NODE_EXPORTER_PORT)"},
		{name: "unknown variable", env: map[string]string{"PROMAWS_NODE_EXPORTR_PORT": "9100"}, errWant: "PROMAWS_NODE_EXPORTR_PORT is not a setting"},
		{name: "bad context", context: `{"nodeCount": "many"}`, errWant: "nodeCount"},
		{name: "local port clash", env: map[string]string{"PROMAWS_ENDPOINT": "https://127.0.0.1:5000", "PROMAWS_PROMETHEUS_PORT": "19291"}, errWant: "prometheusPort (PROMAWS_PROMETHEUS_PORT)"},
		{name: "removed overlay flag", args: []string{"-local-endpoint", "http://127.0.0.1:5000"}, errWant: "flag provided but not defined"},
		{name: "unknown flag", args: []string{"-region", "us-east-1"}, errWant: "flag provided but not defined"},
		{name: "positional argument", args: []string{"prometheus.yml"}, errWant: `unexpected argument "prometheus.yml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := clean(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			if c.context != "" {
				if err := os.WriteFile("cdktf.json", []byte(`{"language":"go","context":`+c.context+`}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Both outputs: standard output, and -o into a file.
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr)
			file := filepath.Join(dir, "out", "prometheus.yml")
			if err := os.Mkdir(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			var stdout2, stderr2 bytes.Buffer
			code2 := run(append([]string{"-o", file}, c.args...), &stdout2, &stderr2)
			written, ferr := os.ReadFile(file)

			if c.want == "" {
				if code != 2 || code2 != 2 {
					t.Errorf("exit status %d and %d, want 2", code, code2)
				}
				if !strings.Contains(stderr.String(), c.errWant) {
					t.Errorf("stderr must say %q:\n%s", c.errWant, stderr.String())
				}
				if stdout.Len() > 0 || stdout2.Len() > 0 || ferr == nil {
					t.Errorf("bad input must write nothing: stdout %q, file error %v", stdout.String()+stdout2.String(), ferr)
				}
				return
			}
			if code != 0 || code2 != 0 || stderr.Len() > 0 || stderr2.Len() > 0 {
				t.Fatalf("exit status %d/%d, stderr %s%s", code, code2, stderr.String(), stderr2.String())
			}
			if stdout.String() != c.want {
				t.Errorf("stdout differs from promconfig.Generate:\n%s\n--- want\n%s", stdout.String(), c.want)
			}
			if ferr != nil || string(written) != c.want || stdout2.Len() > 0 {
				t.Errorf("-o must write the same YAML to the file and nothing to stdout (%v)", ferr)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "out", ".*")); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "PROMAWS_ENDPOINT") {
		t.Fatalf("-h: status %d, %s", code, stderr.String())
	}
}
