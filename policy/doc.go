// Package policy reads synthesized Terraform JSON (cdk.tf.json) and checks
// the product's security promises on it: no world-open ingress, only the
// Prometheus security group reaches node_exporter, IMDSv2, encryption, no
// wildcard IAM actions, Name tags, alarm topics CloudWatch can publish to.
// Scanners such as tfsec miss rules written inline in .tf.json, so these
// checks are ours. They run in `go test` and, on every synthesized stack,
// in `make lint` (cmd/policycheck).
package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Doc is one synthesized stack.
type Doc struct {
	// Raw is the whole document.
	Raw map[string]any
	// Resources maps type -> logical name -> attributes.
	Resources map[string]map[string]map[string]any
}

// Parse reads a cdk.tf.json document.
func Parse(data []byte) (*Doc, error) {
	d := &Doc{Resources: map[string]map[string]map[string]any{}}
	if err := json.Unmarshal(data, &d.Raw); err != nil {
		return nil, fmt.Errorf("not Terraform JSON: %v", err)
	}
	res, _ := d.Raw["resource"].(map[string]any)
	for typ, byName := range res {
		m, _ := byName.(map[string]any)
		d.Resources[typ] = map[string]map[string]any{}
		for name, attrs := range m {
			a, _ := attrs.(map[string]any)
			d.Resources[typ][name] = a
		}
	}
	return d, nil
}

// ParseFile reads a cdk.tf.json file.
func ParseFile(path string) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return d, nil
}

// Of returns the resources of one type, by logical name.
func (d *Doc) Of(typ string) map[string]map[string]any { return d.Resources[typ] }

// Names returns the sorted logical names of one resource type.
func (d *Doc) Names(typ string) []string {
	var out []string
	for n := range d.Resources[typ] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Only returns the single resource of a type; ok is false unless exactly one exists.
func (d *Doc) Only(typ string) (name string, attrs map[string]any, ok bool) {
	if len(d.Resources[typ]) != 1 {
		return "", nil, false
	}
	for n, a := range d.Resources[typ] {
		return n, a, true
	}
	return "", nil, false
}

// Ref is the Terraform expression that references attr of a resource, as
// cdktf writes it: "${aws_security_group.name.id}".
func Ref(typ, name, attr string) string { return "${" + typ + "." + name + "." + attr + "}" }

// Path returns a nested value: Path(a, "metadata_options", "http_tokens").
// Single-element lists (how Terraform JSON writes blocks) are stepped into.
func Path(v any, keys ...string) any {
	for _, k := range keys {
		if l, ok := v.([]any); ok && len(l) == 1 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str returns v as a string ("" when it is not one).
func Str(v any) string { s, _ := v.(string); return s }

// Strings returns v as a list of strings (a lone string becomes a list of one).
func Strings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Num returns v as a number (0 when it is not one).
func Num(v any) float64 { f, _ := v.(float64); return f }

// IsWorld reports whether a CIDR admits the whole internet.
func IsWorld(cidr string) bool {
	cidr = strings.TrimSpace(cidr)
	return cidr == "0.0.0.0/0" || cidr == "::/0"
}
