package policy

import (
	"fmt"
	"sort"
	"strings"
)

// ssoAuthenticates: with single sign-on, no browser request reaches a
// target unauthenticated. Every forward on an HTTPS listener (its default
// action, every listener rule's actions) comes after an authenticate-cognito
// or authenticate-oidc action of a lower order, and the targets' web ports
// admit security groups only (the load balancer's, the machine path's),
// never an address range that would walk around the sign-in.
func ssoAuthenticates(d *Doc, o Options) []Violation {
	if !o.SSO {
		return nil
	}
	var out []Violation
	https := 0
	for _, typ := range []string{"aws_lb_listener", "aws_alb_listener"} {
		for _, name := range d.Names(typ) {
			l := d.Of(typ)[name]
			if Str(l["protocol"]) != "HTTPS" {
				continue
			}
			https++
			if msg := forwardsUnauthenticated(l["default_action"]); msg != "" {
				out = append(out, Violation{"sso-authenticates", typ + "." + name, "default action " + msg})
			}
		}
	}
	if https == 0 {
		out = append(out, Violation{"sso-authenticates", "aws_lb_listener", "sso is on but no HTTPS listener exists to sign people in"})
	}
	for _, typ := range []string{"aws_lb_listener_rule", "aws_alb_listener_rule"} {
		for _, name := range d.Names(typ) {
			if msg := forwardsUnauthenticated(d.Of(typ)[name]["action"]); msg != "" {
				out = append(out, Violation{"sso-authenticates", typ + "." + name, msg})
			}
		}
	}
	ports := map[int]string{o.PrometheusPort: "Prometheus", o.AlertmanagerPort: "the Alertmanager", o.GrafanaPort: "Grafana"}
	for _, g := range ingresses(d) {
		for port, what := range ports {
			if port != 0 && g.covers(port) && (len(g.cidrs) > 0 || g.referencedSG == "") {
				out = append(out, Violation{"sso-authenticates", g.resource, fmt.Sprintf("admits %v to %s's port %d, around the sign-in; behind sso only the load balancer's and the machine path's security groups may reach it (machineSecurityGroupIds)", g.cidrs, what, port)})
			}
		}
	}
	out = append(out, grafanaFromLoadBalancerOnly(d, o)...)
	return out
}

// grafanaFromLoadBalancerOnly: behind sso, Grafana takes the user from the
// X-Amzn-Oidc-Identity header (its auth proxy), which any client that
// reaches its port could forge; so its port admits the load balancer's
// security groups alone, not even the machine path's.
func grafanaFromLoadBalancerOnly(d *Doc, o Options) []Violation {
	if o.GrafanaPort == 0 {
		return nil
	}
	lbGroups := map[string]bool{}
	for _, typ := range []string{"aws_lb", "aws_alb"} {
		for _, lb := range d.Of(typ) {
			for _, g := range Strings(lb["security_groups"]) {
				lbGroups[g] = true
			}
		}
	}
	var out []Violation
	for _, g := range ingresses(d) {
		if !g.covers(o.GrafanaPort) || g.referencedSG == "" {
			continue // address ranges: reported above
		}
		for _, ref := range strings.Split(g.referencedSG, ",") {
			if !lbGroups[ref] {
				out = append(out, Violation{"sso-authenticates", g.resource, fmt.Sprintf("admits security group %s to Grafana's port %d; behind sso Grafana trusts the %s header the load balancer sets, which any other client could forge: only the load balancer's security group may reach it", ref, o.GrafanaPort, "X-Amzn-Oidc-Identity")})
			}
		}
	}
	return out
}

// forwardsUnauthenticated describes the first forward in actions (a
// Terraform JSON list of action blocks) that no authenticate action
// precedes; "" when there is none.
func forwardsUnauthenticated(v any) string {
	actions, _ := v.([]any)
	if m, ok := v.(map[string]any); ok {
		actions = []any{m}
	}
	type step struct {
		order int
		typ   string
	}
	var steps []step
	for i, a := range actions {
		order := int(Num(Path(a, "order")))
		if order == 0 {
			order = i + 1 // unordered: the list's order, as ELB applies it
		}
		typ := Str(Path(a, "type"))
		if typ == "" && Str(Path(a, "target_group_arn")) != "" {
			typ = "forward"
		}
		steps = append(steps, step{order, typ})
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].order < steps[j].order })
	authenticated := false
	for _, s := range steps {
		switch {
		case strings.HasPrefix(s.typ, "authenticate-"):
			authenticated = true
		case s.typ == "forward" && !authenticated:
			return fmt.Sprintf("forwards (order %d) before any authenticate-cognito or authenticate-oidc action: a browser request would reach the target without signing in", s.order)
		}
	}
	return ""
}
