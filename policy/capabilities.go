package policy

import (
	"strings"
)

// leastCapability: every container of every task definition drops every
// Linux capability ("ALL") and adds none. Prometheus, the Alertmanager and
// Grafana run as non-root users on unprivileged ports; the config-sync
// sidecar runs as root but only writes its own files in the folder it owns
// (no CAP_DAC_OVERRIDE, CAP_CHOWN or CAP_FOWNER). A runtime's default set
// (Docker's and Fargate's: CHOWN, DAC_OVERRIDE, FOWNER, SETUID, NET_RAW,
// ...) would otherwise apply to a root container, and whatever it runs.
// No container needs one today, so the allowlist is empty.
func leastCapability(d *Doc, _ Options) []Violation {
	names, defs, errs := taskDefs(d)
	out := errs
	for _, name := range names {
		for _, c := range defs[name] {
			res := "aws_ecs_task_definition." + name
			var drop, add []string
			if lp := c.LinuxParameters; lp != nil && lp.Capabilities != nil {
				drop, add = lp.Capabilities.Drop, lp.Capabilities.Add
			}
			all := false
			for _, d := range drop {
				if strings.EqualFold(strings.TrimPrefix(strings.ToUpper(d), "CAP_"), "ALL") {
					all = true
				}
			}
			if !all {
				out = append(out, Violation{"least-capability", res, "container " + c.Name + " keeps the runtime's default capabilities: set linuxParameters.capabilities.drop [\"ALL\"]"})
			}
			if len(add) != 0 {
				out = append(out, Violation{"least-capability", res, "container " + c.Name + " adds capabilities " + strings.Join(add, ", ") + ": none is needed"})
			}
		}
	}
	return out
}
