package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(name string) string {
	return filepath.Join("..", "..", "planpreview", "testdata", name, "plan.json")
}

func TestWritesSummaryAndReport(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-gitlab-report", report, "-fail-on-destroy", fixture("create")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "| `prometheus-aws-dev` | 52 | 0 | 0 | 0 |") {
		t.Errorf("summary on stdout lacks the counts:\n%s", stdout.String())
	}
	data, err := os.ReadFile(report)
	if err != nil || string(data) != `{"create":52,"update":0,"delete":0}` {
		t.Errorf("report %s (%v)", data, err)
	}
}

func TestFailOnDestroy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-fail-on-destroy", fixture("noop")}, 0},
		{[]string{"-fail-on-destroy", fixture("replace")}, exitDestroys},
		{[]string{"-fail-on-destroy", fixture("noop"), fixture("destroy")}, exitDestroys},
		{[]string{fixture("destroy")}, 0}, // without the flag a destroy is only reported
	} {
		out := filepath.Join(t.TempDir(), "summary.md")
		var stderr bytes.Buffer
		if code := run(append([]string{"-o", out}, tc.args...), &bytes.Buffer{}, &stderr); code != tc.want {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.want, stderr.String())
		}
		// The summary is written even when the exit says "destroys".
		if _, err := os.Stat(out); err != nil {
			t.Errorf("%v: summary not written: %v", tc.args, err)
		}
		if tc.want == exitDestroys && !strings.Contains(stderr.String(), "ALLOW_DESTROY=1") {
			t.Errorf("the refusal must say how to approve: %s", stderr.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(nil, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "make plan-out") {
		t.Errorf("no arguments: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"missing.json"}, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "terraform show -json") {
		t.Errorf("missing plan: exit %d, %s", code, stderr.String())
	}
}
