package imageref

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for image, want := range map[string]Ref{
		"prom/prometheus:v3.16.0":     {"docker.io", "prom/prometheus", "v3.16.0", ""},
		"busybox":                     {"docker.io", "library/busybox", "", ""},
		"quay.io/prometheus/am:v1":    {"quay.io", "prometheus/am", "v1", ""},
		"localhost:5000/p:1":          {"localhost:5000", "p", "1", ""},
		"public.ecr.aws/a/b@sha256:x": {"public.ecr.aws", "a/b", "", "sha256:x"},
		"r.example/a:1@sha256:x":      {"r.example", "a", "1", "sha256:x"},
	} {
		got, err := Parse(image)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", image, got, err, want)
		}
	}
	if _, err := Parse("quay.io/"); err == nil {
		t.Error("a registry without a repository must be refused")
	}
}

func TestPrivateECR(t *testing.T) {
	e, ok := PrivateECR("123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/prometheus:v3")
	if !ok || e.RepositoryARN() != "arn:aws:ecr:eu-central-1:123456789012:repository/team/prometheus" {
		t.Errorf("got %+v %v", e, ok)
	}
	for _, image := range []string{"prom/prometheus:v3", "123456789012.dkr.ecr.eu-central-1.amazonaws.com.evil.example/p:1", "public.ecr.aws/aws-cli/aws-cli:2"} {
		if _, ok := PrivateECR(image); ok {
			t.Errorf("%s is not in private ECR", image)
		}
	}
}

// The product's images are pulled through rules that need no credentials:
// the Prometheus project's Docker Hub images through Quay, where each
// release is published too.
func TestCached(t *testing.T) {
	for image, want := range map[string]string{
		"prom/prometheus:v3.16.0":               "quay prometheus/prometheus",
		"prom/alertmanager:v0.35.0":             "quay prometheus/alertmanager",
		"quay.io/prometheus/prometheus:v3":      "quay prometheus/prometheus",
		"public.ecr.aws/aws-cli/aws-cli:2.32.2": "ecr-public aws-cli/aws-cli",
		"registry.k8s.io/pause:3.9":             "k8s pause",
	} {
		u, repo, err := Cached(image)
		if err != nil || u.Name+" "+repo != want {
			t.Errorf("Cached(%q) = %s %s, %v; want %s", image, u.Name, repo, err, want)
		}
	}
	for _, image := range []string{"grafana/grafana:13.1.2", "busybox:1", "ghcr.io/org/x:1"} {
		if _, _, err := Cached(image); err == nil || !strings.Contains(err.Error(), "only with credentials") {
			t.Errorf("Cached(%q) must be refused with the reason: %v", image, err)
		}
	}
}

func TestRulePrefixFitsECR(t *testing.T) {
	quay := Upstreams[0]
	if p := RulePrefix("prometheus-aws-dev", Upstreams[1]); p != "prometheus-aws-dev/ecr-public" {
		t.Errorf("a short owner is kept whole: %s", p)
	}
	a, b := RulePrefix("prometheus-aws-staging-eu-1", quay), RulePrefix("prometheus-aws-staging-eu-2", quay)
	if len(a) > MaxRulePrefix || len(b) > MaxRulePrefix || a == b || !strings.HasSuffix(a, "/quay") {
		t.Errorf("long owners are cut to %d characters and stay distinct: %s, %s", MaxRulePrefix, a, b)
	}
	for _, u := range Upstreams {
		if p := RulePrefix(strings.Repeat("x", 40), u); len(p) > MaxRulePrefix {
			t.Errorf("%s is %d characters", p, len(p))
		}
	}
}
