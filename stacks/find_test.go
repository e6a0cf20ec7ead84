package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Finding things in a synthesized stack, for the tests of every file.

// withAttr returns the one resource of typ whose attribute at key (dotted
// path) ends with suffix.
func withAttr(t *testing.T, d *policy.Doc, typ, key, suffix string) (string, map[string]any) {
	t.Helper()
	var found []string
	var attrs map[string]any
	for name, a := range d.Of(typ) {
		if strings.HasSuffix(policy.Str(policy.Path(a, strings.Split(key, ".")...)), suffix) {
			found, attrs = append(found, name), a
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s with %s ending in %s, have %v of %v", typ, key, suffix, found, d.Names(typ))
	}
	return found[0], attrs
}

// configParam is the parameter holding prometheus.yml.
func configParam(t *testing.T, d *policy.Doc) (string, map[string]any) {
	t.Helper()
	return named(t, d, "aws_ssm_parameter", "/prometheus/prometheus.yml")
}

// one returns the single resource of typ, failing the test otherwise.
func one(t *testing.T, d *policy.Doc, typ string) (string, map[string]any) {
	t.Helper()
	name, a, ok := d.Only(typ)
	if !ok {
		t.Fatalf("want exactly one %s, have %v", typ, d.Names(typ))
	}
	return name, a
}

func findRole(t *testing.T, d *policy.Doc, suffix string) (string, map[string]any) {
	t.Helper()
	return named(t, d, "aws_iam_role", suffix)
}

// named finds the resource of type typ whose name attribute ends in suffix.
func named(t *testing.T, d *policy.Doc, typ, suffix string) (string, map[string]any) {
	t.Helper()
	return withAttr(t, d, typ, "name", suffix)
}

func rolePolicy(t *testing.T, d *policy.Doc, roleName string) map[string]any {
	t.Helper()
	for _, a := range d.Of("aws_iam_role_policy") {
		if a["role"] == policy.Ref("aws_iam_role", roleName, "id") {
			var doc map[string]any
			if err := json.Unmarshal([]byte(policy.Str(a["policy"])), &doc); err != nil {
				t.Fatal(err)
			}
			return doc
		}
	}
	t.Fatalf("no inline policy on role %s", roleName)
	return nil
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
