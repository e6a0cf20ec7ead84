package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// TestBadInputWritesNothing feeds dangerous or malformed settings, from the
// environment and from cdktf.json, to the program's entry path: each must be
// refused with a message naming the setting, before anything is written.
func TestBadInputWritesNothing(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		context string // cdktf.json context object
		field   string
	}{
		{"world-open admin", map[string]string{"PROMAWS_ADMIN_CIDRS": "0.0.0.0/0"}, "", "adminCidrs"},
		{"world-open ssh", map[string]string{"PROMAWS_SSH_KEY_NAME": "ops", "PROMAWS_SSH_CIDRS": "::/0"}, "", "sshCidrs"},
		{"huge node count", map[string]string{"PROMAWS_NODE_COUNT": "5000"}, "", "nodeCount"},
		{"region", nil, `{"region": "moon-1"}`, "region"},
		{"typo in context", nil, `{"NodeCount": 3}`, "nodeCount"},
		{"unknown env", map[string]string{"PROMAWS_NODES": "3"}, "", "PROMAWS_NODES"},
		{"bucket name", map[string]string{"PROMAWS_STATE_BUCKET": "Bad_Bucket"}, "", "stateBucket"},
		{"unknown environment", map[string]string{"PROMAWS_ENVIRONMENT": "qa"}, `{"environments": {"dev": {}}}`, "environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.context != "" {
				if err := os.WriteFile(filepath.Join(dir, "cdktf.json"), []byte(`{"language":"go","context":`+c.context+`}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("CDKTF_CONTEXT_JSON", "")
			var stderr bytes.Buffer
			if _, err := settingsOrExplain(dir, c.env, &stderr); err == nil {
				t.Fatal("bad input must be refused")
			}
			if !strings.Contains(stderr.String(), c.field) || !strings.Contains(stderr.String(), "nothing was synthesized") {
				t.Errorf("message must name %s and say nothing was written:\n%s", c.field, stderr.String())
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "cdktf.json" {
					t.Errorf("bad input wrote %s", e.Name())
				}
			}
		})
	}
}

// TestMistakesExitTwo runs the built program as a user would, on each
// class of mistake that once got through (a panic, silent typos, zero
// durations, near-miss regions and zones, colliding ports, broken JSON):
// status 2, a message naming the setting and the fix, no cdktf.out.
func TestMistakesExitTwo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "prometheus-aws")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cases := []struct {
		name, cdktfJSON string
		env             []string
		want            []string
	}{
		{"narrow vpc", `{"context": {"vpcCidr": "10.0.0.0/25"}}`, nil, []string{"vpcCidr (PROMAWS_VPC_CIDR)", "/16../24"}},
		{"typo at the top", `{"context": {"nodeCont": 3}}`, nil, []string{`context key "nodeCont" is not a setting; did you mean "nodeCount"`}},
		{"typo in an environment", `{"context": {"environments": {"dev": {"nodeCuont": 3}}}}`, nil, []string{`context.environments.dev key "nodeCuont"`, `"nodeCount"`}},
		{"typo through CDKTF_CONTEXT_JSON (cdktf synth -c)", "", []string{`CDKTF_CONTEXT_JSON={"nodCount": "3"}`}, []string{`context key "nodCount" is not a setting; did you mean "nodeCount"`}},
		{"typo in a variable", "", []string{"PROMAWS_NODE_CONUT=3"}, []string{"PROMAWS_NODE_CONUT is not a setting; did you mean PROMAWS_NODE_COUNT?"}},
		{"zero scrape interval", "", []string{"PROMAWS_SCRAPE_INTERVAL=0s"}, []string{"scrapeInterval (PROMAWS_SCRAPE_INTERVAL)", "outside 1s to 1h"}},
		{"zero refresh interval", "", []string{"PROMAWS_REFRESH_INTERVAL=0s"}, []string{"refreshInterval (PROMAWS_REFRESH_INTERVAL)", "panics in Prometheus"}},
		{"region typo", "", []string{"PROMAWS_REGION=eu-centrall-1"}, []string{"region (PROMAWS_REGION)", "did you mean eu-central-1?", "allowUnknownRegions=true"}},
		{"zone letter", "", []string{"PROMAWS_AVAILABILITY_ZONES=eu-central-1a,eu-central-1bb"}, []string{"availabilityZones (PROMAWS_AVAILABILITY_ZONES)"}},
		{"discovery region typo", "", []string{"PROMAWS_DISCOVERY_REGIONS=eu-wset-1"}, []string{"discoveryRegions (PROMAWS_DISCOVERY_REGIONS)", "did you mean eu-west-1?"}},
		{"ports collide", "", []string{"PROMAWS_PROMETHEUS_PORT=9100"}, []string{"prometheusPort (PROMAWS_PROMETHEUS_PORT)", "different ports"}},
		{"broken cdktf.json", "{\n  \"context\": {\n    \"nodeCount\": 3,\n  }\n}\n", nil, []string{"cdktf.json: line 4, column 3", "it must be JSON"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.cdktfJSON != "" {
				if err := os.WriteFile(filepath.Join(dir, "cdktf.json"), []byte(c.cdktfJSON), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin)
			cmd.Dir = dir
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, c.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("want exit status 2, got %v:\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "cdktf.out")); err == nil {
				t.Error("a refused input wrote cdktf.out")
			}
		})
	}
}

// TestSmallTaskWarnsButSynthesizes: a fleet larger than the task holds is a
// warning on the entry path, naming the size to use; the settings stand.
func TestSmallTaskWarnsButSynthesizes(t *testing.T) {
	t.Setenv("CDKTF_CONTEXT_JSON", "")
	var stderr bytes.Buffer
	s, err := settingsOrExplain(t.TempDir(), map[string]string{"PROMAWS_EXPECTED_TARGETS": "5000"}, &stderr)
	if err != nil || s == nil {
		t.Fatalf("a size warning must not refuse the settings: %v\n%s", err, stderr.String())
	}
	// The size to use is sizing's rule's (config's tests hold the rule).
	size, ok := sizing.Smallest(sizing.NeedMiB(5000*sizing.SeriesPerTarget), s.TaskCPU)
	if !ok {
		t.Fatal("5,000 targets must fit a Fargate size")
	}
	for _, want := range []string{"prometheus-aws: warning: taskMemory=1024 (PROMAWS_TASK_MEMORY)", "5000 targets (expectedTargets)", "use " + size.String()} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
