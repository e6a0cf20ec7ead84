package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// interpolation is a Terraform template interpolation: "${" not escaped
// as "$${" (the shell's own ${...} in a command).
var interpolation = regexp.MustCompile(`(^|[^$])\$\{`)

// oidcSecretNotStored: an OIDC client secret is in no attribute Terraform
// stores. AWS provider 5's authenticate_oidc.client_secret is not
// write-only, so whatever it holds is in the state and in saved plans: it
// must be a literal (a placeholder, never a reference to a secret's
// value), ignored after creation, and set at apply by a terraform_data
// that its listener or rule re-triggers, whose local-exec takes the secret
// from an ephemeral read through its environment, never its command line.
// No data source reads a Secrets Manager secret's value (its secret_string
// is stored in the state); and no provisioner command interpolates an
// ephemeral value (it would be in the process list and Terraform's error
// output).
func oidcSecretNotStored(d *Doc, _ Options) []Violation {
	const rule = "oidc-secret-not-stored"
	var out []Violation
	data, _ := d.Raw["data"].(map[string]any)
	if reads, _ := data["aws_secretsmanager_secret_version"].(map[string]any); len(reads) > 0 {
		for _, name := range sortedKeys(reads) {
			out = append(out, Violation{rule, "data.aws_secretsmanager_secret_version." + name, "reads a secret's value into the Terraform state (secret_string); read it with an ephemeral aws_secretsmanager_secret_version, for a write-only attribute or a provisioner's environment"})
		}
	}
	setters := secretSetters(d)
	for _, t := range []struct{ typ, actions string }{
		{"aws_lb_listener", "default_action"}, {"aws_alb_listener", "default_action"},
		{"aws_lb_listener_rule", "action"}, {"aws_alb_listener_rule", "action"},
	} {
		for _, name := range d.Names(t.typ) {
			r := d.Of(t.typ)[name]
			res := t.typ + "." + name
			actions, _ := r[t.actions].([]any)
			if m, ok := r[t.actions].(map[string]any); ok {
				actions = []any{m}
			}
			for i, a := range actions {
				oidc := Path(a, "authenticate_oidc")
				if oidc == nil {
					continue
				}
				if s := Str(Path(oidc, "client_secret")); interpolation.MatchString(s) {
					out = append(out, Violation{rule, res, fmt.Sprintf("%s[%d].authenticate_oidc.client_secret is %s: provider 5's client_secret is not write-only, so that value would be stored in the state and plans; write a placeholder and set the secret at apply (constructs/oidcsecret.go)", t.actions, i, s)})
				}
				path := fmt.Sprintf("%s[%d].authenticate_oidc[0].client_secret", t.actions, i)
				if !ignores(r, path) {
					out = append(out, Violation{rule, res, fmt.Sprintf("lifecycle.ignore_changes lacks %s: the placeholder must never be written over the secret set at apply", path)})
				}
				if !setters[res] {
					out = append(out, Violation{rule, res, "no terraform_data sets its OIDC client secret at apply: one whose lifecycle.replace_triggered_by names it and whose local-exec provisioner reads ephemeral.aws_secretsmanager_secret_version in its environment"})
				}
			}
		}
	}
	for _, typ := range sortedKeys(d.Resources) {
		for _, name := range d.Names(typ) {
			for _, p := range localExecs(d.Of(typ)[name]) {
				if cmd := Str(p["command"]); interpolation.MatchString(cmd) && strings.Contains(cmd, "ephemeral.") {
					out = append(out, Violation{rule, typ + "." + name, "a local-exec command interpolates an ephemeral value: it would be in the process list and in Terraform's error output; pass it through the provisioner's environment"})
				}
			}
		}
	}
	return out
}

// secretSetters are the resources ("type.name") whose OIDC client secret a
// terraform_data sets: it names them in replace_triggered_by, and its
// local-exec reads an ephemeral secret in its environment with a command
// that interpolates nothing from Terraform.
func secretSetters(d *Doc) map[string]bool {
	out := map[string]bool{}
	for _, td := range d.Of("terraform_data") {
		reads := false
		for _, p := range localExecs(td) {
			env, _ := p["environment"].(map[string]any)
			for _, v := range env {
				reads = reads || strings.Contains(Str(v), "ephemeral.aws_secretsmanager_secret_version.")
			}
			if interpolation.MatchString(Str(p["command"])) {
				reads = false
				break
			}
		}
		if !reads {
			continue
		}
		for _, ref := range Strings(Path(td, "lifecycle", "replace_triggered_by")) {
			out[strings.TrimSuffix(strings.TrimPrefix(ref, "${"), "}")] = true
		}
	}
	return out
}

// localExecs are the local-exec provisioners of a resource.
func localExecs(r map[string]any) []map[string]any {
	var out []map[string]any
	ps, _ := r["provisioner"].([]any)
	for _, p := range ps {
		if le, ok := Path(p, "local-exec").(map[string]any); ok {
			out = append(out, le)
		}
	}
	return out
}

// ignores reports whether r's lifecycle.ignore_changes covers path ("all",
// the path itself, or a prefix of it).
func ignores(r map[string]any, path string) bool {
	v := Path(r, "lifecycle", "ignore_changes")
	if Str(v) == "all" {
		return true
	}
	for _, p := range Strings(v) {
		if p == "all" || p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
