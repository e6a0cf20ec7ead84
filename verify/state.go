package verify

import (
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
)

// What the stack generated, read from its Terraform state: the names and
// values verify compares the running deployment with. The state, not a
// second naming scheme, so verify cannot drift from the constructs.

// resources are the state's resources of one type (managed ones only),
// sorted by address.
func resources(st *tfjson.State, typ string) []*tfjson.StateResource {
	var out []*tfjson.StateResource
	if st == nil || st.Values == nil {
		return nil
	}
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if r.Type == typ && r.Mode == tfjson.ManagedResourceMode {
				out = append(out, r)
			}
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// str is a resource's string attribute ("" when absent).
func str(r *tfjson.StateResource, key string) string {
	s, _ := r.AttributeValues[key].(string)
	return s
}

// first is the one resource of a type, or nil.
func first(st *tfjson.State, typ string) *tfjson.StateResource {
	if rs := resources(st, typ); len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// output is a stack output's string value ("" when absent).
func output(st *tfjson.State, name string) string {
	if st == nil || st.Values == nil {
		return ""
	}
	if o, ok := st.Values.Outputs[name]; ok {
		s, _ := o.Value.(string)
		return s
	}
	return ""
}

// State is `terraform show -json` of a stack.
type State = tfjson.State
