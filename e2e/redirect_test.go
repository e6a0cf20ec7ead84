package e2e

import (
	"fmt"
	"testing"
)

// assertHTTPRedirects checks, in the emulator's Elastic Load Balancing API
// (DescribeListeners of the applied load balancer), the promise "HTTP on
// 80 only redirects": the listener on port 80 has one action, a permanent
// (301) redirect to HTTPS on 443 that keeps host, path and query, which is
// what an ELB then answers every HTTP request with. moto carries no
// traffic, so the answer itself is not observed (docs/DESIGN.md names the
// blind spot); the listener AWS would act on is.
func assertHTTPRedirects(t *testing.T, h *harness, dep *deployment) {
	t.Helper()
	state, err := dep.State(h.ctx)
	if err != nil || state == nil {
		t.Fatalf("terraform state: %v (or nothing applied)", err)
	}
	var arns []string
	for _, r := range state.Values.RootModule.Resources {
		if r.Type == "aws_lb" {
			arns = append(arns, fmt.Sprint(r.AttributeValues["arn"]))
		}
	}
	if len(arns) != 1 {
		t.Fatalf("want one load balancer in the state, have %v", arns)
	}
	listeners := h.elbListeners(t, arns[0])
	ports := map[int]string{}
	for _, l := range listeners {
		ports[l.Port] = l.Protocol
		if l.Port != 80 {
			continue
		}
		if l.Protocol != "HTTP" || len(l.DefaultActions) != 1 {
			t.Fatalf("listener 80 must be HTTP with one action, the redirect: %+v", l)
		}
		a := l.DefaultActions[0]
		if a.Type != "redirect" || a.RedirectConfig == nil {
			t.Fatalf("listener 80 must only redirect, its action is %q", a.Type)
		}
		t.Logf("listener 80 of %s: %s %+v", arns[0], a.Type, *a.RedirectConfig)
		// An unset host, path or query is ELB's default: the request's own.
		keeps := func(v, def string) bool { return v == "" || v == def }
		if r := a.RedirectConfig; r.Protocol != "HTTPS" || r.Port != "443" || r.StatusCode != "HTTP_301" ||
			!keeps(r.Host, "#{host}") || !keeps(r.Path, "/#{path}") || !keeps(r.Query, "#{query}") {
			t.Errorf("listener 80 redirects with %+v; want a 301 to https://#{host}:443/#{path}?#{query}, the request's URL on HTTPS", *r)
		}
	}
	if ports[80] != "HTTP" || ports[443] != "HTTPS" || len(ports) != 2 {
		t.Errorf("the load balancer must listen on 443 (HTTPS) and 80 (HTTP, redirecting) only: %v", ports)
	}
}
