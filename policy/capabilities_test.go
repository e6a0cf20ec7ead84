package policy

import (
	"strings"
	"testing"
)

// A container that keeps the default capabilities, or drops them all and
// adds one back, fails least-capability; drop ALL alone passes.
func TestLeastCapability(t *testing.T) {
	none := strings.Replace(okContainer, `"capabilities":{"drop":["ALL"]},`, "", 1)
	if none == okContainer {
		t.Fatal("okContainer no longer drops ALL as this test expects")
	}
	for _, c := range []struct{ what, container string }{
		{"no capabilities block", none},
		{"drops one only", strings.Replace(okContainer, `"drop":["ALL"]`, `"drop":["NET_RAW"]`, 1)},
		{"adds one back", strings.Replace(okContainer, `"drop":["ALL"]`, `"drop":["ALL"],"add":["CHOWN"]`, 1)},
	} {
		d, err := Parse([]byte(taskDoc(`[`+c.container+`]`, `[{"name":"data"}]`, "")))
		if err != nil {
			t.Fatal(err)
		}
		if v := leastCapability(d, Options{}); len(v) != 1 || v[0].Rule != "least-capability" {
			t.Errorf("%s: want one least-capability violation, got %v", c.what, v)
		}
	}
	d, _ := Parse([]byte(taskDoc(`[`+okContainer+`]`, `[{"name":"data"}]`, "")))
	if v := leastCapability(d, Options{}); len(v) != 0 {
		t.Errorf("drop ALL is flagged: %v", v)
	}
}
