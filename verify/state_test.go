package verify

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

// readPair reads testdata/<name>-pull.json with ParseState and
// testdata/<name>-show.json as tfjson: `terraform state pull` and
// `terraform show -json` of one state.
func readPair(t *testing.T, name string) (got, want *tfjson.State) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + "-pull.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, err = ParseState(raw); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/" + name + "-show.json")
	if err != nil {
		t.Fatal(err)
	}
	want = &tfjson.State{}
	if err := json.Unmarshal(data, want); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// byAddress keeps what verify reads of each resource; attrs false leaves
// the attributes out.
func byAddress(st *tfjson.State, attrs bool) map[string]tfjson.StateResource {
	m := map[string]tfjson.StateResource{}
	for _, r := range st.Values.RootModule.Resources {
		k := tfjson.StateResource{Address: r.Address, Mode: r.Mode, Type: r.Type, Name: r.Name, Index: r.Index, ProviderName: r.ProviderName}
		if attrs {
			k.AttributeValues = r.AttributeValues
		}
		m[r.Address] = k
	}
	return m
}

func sameOutputs(t *testing.T, got, want *tfjson.State) {
	t.Helper()
	for name, w := range want.Values.Outputs {
		g := got.Values.Outputs[name]
		if g == nil || !reflect.DeepEqual(g.Value, w.Value) || g.Sensitive != w.Sensitive {
			t.Errorf("output %s: got %+v, want %+v", name, g, w)
		}
	}
	if len(got.Values.Outputs) != len(want.Values.Outputs) {
		t.Errorf("%d outputs, show has %d", len(got.Values.Outputs), len(want.Values.Outputs))
	}
}

// Given `terraform state pull` and `terraform show -json` of the default
// stack applied to the emulator (make bench's; 54 resources of the AWS
// provider), when ParseState reads the raw state, then every resource,
// attribute and output verify can read is the one show gives.
func TestParseStateReadsWhatShowGives(t *testing.T) {
	got, want := readPair(t, "state-aws")
	if g, w := byAddress(got, true), byAddress(want, true); !reflect.DeepEqual(g, w) || len(w) < 50 {
		t.Errorf("resources differ from show's (%d of them):\n got %+v\nwant %+v", len(w), g, w)
	}
	sameOutputs(t, got, want)
	if output(got, "cluster_name") != "prometheus-aws-dev" || str(first(got, "aws_ecs_service"), "name") != "prometheus-aws-dev-prometheus" {
		t.Error("verify's readers must find the output and the resources")
	}
}

// Given both of testdata/state-index.tf's state (resources with count and
// for_each, outputs, one sensitive), ParseState gives show's addresses and
// index keys. Its terraform_data attributes are of a dynamic type, which
// the raw state wraps with the type (only the schema tells them apart),
// so they are left out here; the AWS provider's resources above have none.
func TestParseStateAddressesIndexedResources(t *testing.T) {
	got, want := readPair(t, "state-index")
	if g, w := byAddress(got, false), byAddress(want, false); !reflect.DeepEqual(g, w) || len(w) != 5 {
		t.Errorf("resources differ from show's (%d of them):\n got %+v\nwant %+v", len(w), g, w)
	}
	sameOutputs(t, got, want)
}

// An empty state (nothing applied) is nil, not an error; another format
// version is refused by name.
func TestParseStateEmptyAndOtherVersions(t *testing.T) {
	if st, err := ParseState(nil); st != nil || err != nil {
		t.Errorf("empty state: %v %v, want nil, nil", st, err)
	}
	if _, err := ParseState([]byte(`{"version": 3}`)); err == nil {
		t.Error("format version 3 must be refused")
	}
}
