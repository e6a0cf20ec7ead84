package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
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

// State is what verify reads of a stack's Terraform state, in the shape of
// `terraform show -json`.
type State = tfjson.State

// ReadState is the state of tf's folder (`terraform state pull`, read by
// ParseState); nil when nothing is applied.
func ReadState(ctx context.Context, tf *tfexec.Terraform) (*State, error) {
	raw, err := tf.StatePull(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform state pull: %w", err)
	}
	return ParseState([]byte(raw))
}

// ParseState reads the raw state `terraform state pull` prints (format
// version 4) into State. Unlike `terraform show -json`, state pull loads
// no provider: show spends about 2 s of CPU on the AWS provider's schema
// for every call, and verify needs only the recorded attributes, which
// the raw state holds as they are. Nil when the state is empty (nothing
// applied yet).
func ParseState(raw []byte) (*State, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var st struct {
		Version          int    `json:"version"`
		TerraformVersion string `json:"terraform_version"`
		Outputs          map[string]struct {
			Value     any  `json:"value"`
			Sensitive bool `json:"sensitive"`
		} `json:"outputs"`
		Resources []struct {
			Module    string `json:"module"`
			Mode      string `json:"mode"`
			Type      string `json:"type"`
			Name      string `json:"name"`
			Provider  string `json:"provider"`
			Instances []struct {
				IndexKey   any             `json:"index_key"`
				Attributes map[string]any  `json:"attributes"`
				Sensitive  json.RawMessage `json:"sensitive_attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("terraform state: %w", err)
	}
	if st.Version != 4 {
		return nil, fmt.Errorf("terraform state format version %d: verify reads version 4 (Terraform 0.12 and later)", st.Version)
	}
	out := &State{FormatVersion: "1.0", TerraformVersion: st.TerraformVersion, Values: &tfjson.StateValues{
		Outputs: map[string]*tfjson.StateOutput{}, RootModule: &tfjson.StateModule{}}}
	for name, o := range st.Outputs {
		out.Values.Outputs[name] = &tfjson.StateOutput{Value: o.Value, Sensitive: o.Sensitive}
	}
	modules := map[string]*tfjson.StateModule{"": out.Values.RootModule}
	for _, r := range st.Resources {
		m := modules[r.Module]
		if m == nil {
			m = &tfjson.StateModule{Address: r.Module}
			modules[r.Module] = m
			out.Values.RootModule.ChildModules = append(out.Values.RootModule.ChildModules, m)
		}
		base := r.Type + "." + r.Name
		if r.Mode == string(tfjson.DataResourceMode) {
			base = "data." + base
		}
		if r.Module != "" {
			base = r.Module + "." + base
		}
		for _, in := range r.Instances {
			addr := base
			switch k := in.IndexKey.(type) {
			case float64:
				addr += "[" + strconv.FormatFloat(k, 'f', -1, 64) + "]"
			case string:
				addr += "[" + strconv.Quote(k) + "]"
			}
			m.Resources = append(m.Resources, &tfjson.StateResource{Address: addr, Mode: tfjson.ResourceMode(r.Mode),
				Type: r.Type, Name: r.Name, Index: in.IndexKey, ProviderName: providerName(r.Provider), AttributeValues: in.Attributes})
		}
	}
	return out, nil
}

// providerName is show's provider_name for the raw state's provider
// reference: provider["registry.terraform.io/hashicorp/aws"] (with
// .alias after it for an aliased configuration).
func providerName(ref string) string {
	if rest, ok := strings.CutPrefix(ref, `provider["`); ok {
		if name, _, ok := strings.Cut(rest, `"]`); ok {
			return name
		}
	}
	return ref
}
