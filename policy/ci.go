package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// CIRoleTag marks a CI role with its kind, "plan" or "deploy"
// (constructs.CIRoleTag; stacks' test keeps the two equal).
const CIRoleTag = "prometheus-aws:ci-role"

// pinnedSubject is a token subject naming one project: a GitHub
// repository (repo:owner/repo:...) or a GitLab project path
// (project_path:group/project:...), with no wildcard before the colon
// that ends it.
var pinnedSubject = regexp.MustCompile(`^(repo:[^*?:/]+/[^*?:/]+|project_path:[^*?:]+):[^*?]*\*?$`)

// ciTrustPinned: a role that trusts OpenID Connect tokens admits one
// audience and only named subjects of one project; a deploy role only
// exact subjects. Without a pinned sub, any pipeline of any project on the
// same CI platform could assume the role (AWS IAM user guide, "Configuring
// a role for GitHub OIDC identity provider": "ensure that you include a
// condition on sub").
func ciTrustPinned(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_iam_role") {
		r := d.Of("aws_iam_role")[name]
		var p struct {
			Statement []struct {
				Action    any                       `json:"Action"`
				Condition map[string]map[string]any `json:"Condition"`
			} `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(Str(r["assume_role_policy"])), &p); err != nil {
			continue
		}
		deploy := false
		if tags, ok := r["tags"].(map[string]any); ok {
			deploy = Str(tags[CIRoleTag]) == "deploy"
		}
		res := "aws_iam_role." + name
		for _, st := range p.Statement {
			if !strings.Contains(fmt.Sprint(st.Action), "sts:AssumeRoleWithWebIdentity") {
				continue
			}
			var aud, sub []string
			var subOp string
			for op, keys := range st.Condition {
				for k, v := range keys {
					switch {
					case strings.HasSuffix(k, ":aud") && op == "StringEquals":
						aud = append(aud, Strings(v)...)
					case strings.HasSuffix(k, ":sub"):
						sub = append(sub, Strings(v)...)
						subOp = op
					}
				}
			}
			if len(aud) == 0 {
				out = append(out, Violation{"ci-trust-pinned", res, "trusts web identity tokens without a StringEquals condition on the audience (:aud)"})
			}
			if len(sub) == 0 {
				out = append(out, Violation{"ci-trust-pinned", res, "trusts web identity tokens without a condition on the subject (:sub): any pipeline of the platform could assume it"})
			}
			for _, s := range sub {
				if !pinnedSubject.MatchString(s) {
					out = append(out, Violation{"ci-trust-pinned", res, fmt.Sprintf("subject %q does not pin one project (repo:owner/repo:... or project_path:group/project:...)", s)})
				}
			}
			if deploy && (subOp != "StringEquals" || strings.ContainsAny(strings.Join(sub, ""), "*?")) {
				out = append(out, Violation{"ci-trust-pinned", res, "a deploy role must admit exact subjects (StringEquals, no wildcard): the protected branch or environment"})
			}
		}
	}
	return out
}
