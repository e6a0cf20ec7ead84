package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// Behind sso the load balancer answers every request with the sign-in
// redirect: verify must not take it for Prometheus, and must say how to
// reach the API (the machine path or a tunnel) in the checks it skips. A
// URL given still reaches it; without sso the load balancer does.
func TestReachBehindSingleSignOn(t *testing.T) {
	ready := 0
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/ready" {
			ready++
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer lb.Close()
	state := &tfjson.State{Values: &tfjson.StateValues{Outputs: map[string]*tfjson.StateOutput{"prometheus_url": {Value: lb.URL}}}}
	load := func(env map[string]string) *config.Settings {
		base := map[string]string{"PROMAWS_TLS_CERTIFICATE_ARN": "arn:aws:acm:eu-central-1:123456789012:certificate/0f3c9a6e-1234-4cde-9abc-0123456789ab",
			"PROMAWS_ADMIN_CIDRS": "192.0.2.0/24", "PROMAWS_BASIC_AUTH": "false"}
		for k, v := range env {
			base[k] = v
		}
		s, err := config.Load(nil, base)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()

	// sso, no machine path: nothing reached, the load balancer not asked.
	tg := &Target{Settings: load(map[string]string{"PROMAWS_SSO": "cognito"}), State: state}
	Reach(ctx, tg, ReachOptions{})
	if tg.Prometheus != nil || ready != 0 {
		t.Fatalf("behind sso verify must not take the load balancer's answer (the sign-in page) for Prometheus: reached %v, %d probes", tg.Prometheus != nil, ready)
	}
	for _, want := range []string{"sso=cognito", "sign-in", "machineSecurityGroupIds", "PROMAWS_MACHINE_SECURITY_GROUP_IDS", "--prometheus-url"} {
		if !strings.Contains(tg.Unreachable, want) {
			t.Errorf("the reason must name %q: %s", want, tg.Unreachable)
		}
	}
	for name, check := range map[string]func(context.Context, *Target, Options) Result{"storage": checkStorage} {
		if r := check(ctx, tg, Options{}); r.Status != Skip || !strings.Contains(r.Fix, "machineSecurityGroupIds") {
			t.Errorf("%s behind sso without a way in: want skip naming the machine path, got %s %q (fix %q)", name, r.Status, r.Detail, r.Fix)
		}
	}

	// sso with a URL given (a tunnel): reached.
	tg = &Target{Settings: load(map[string]string{"PROMAWS_SSO": "cognito"}), State: state}
	Reach(ctx, tg, ReachOptions{PrometheusURL: lb.URL})
	if tg.Prometheus == nil {
		t.Errorf("behind sso a --prometheus-url given must be used: %s", tg.Unreachable)
	}

	// No sso: the load balancer is Prometheus's way in.
	ready = 0
	tg = &Target{Settings: load(nil), State: state}
	Reach(ctx, tg, ReachOptions{})
	if tg.Prometheus == nil || ready != 1 {
		t.Errorf("without sso the load balancer reaches Prometheus: %s (%d probes)", tg.Unreachable, ready)
	}
}
