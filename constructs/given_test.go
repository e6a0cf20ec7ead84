package constructs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/internal/synthtest"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// One jsii runtime for the package's tests; every case gets a fresh stack.
func TestMain(m *testing.M) { synthtest.Main(m) }

// given synthesizes a fresh stack (AWS provider, eu-central-1) holding
// what build adds, and returns its document.
func given(t *testing.T, build func(stack cdktf.TerraformStack)) *policy.Doc {
	t.Helper()
	d, _ := synthtest.Stack(t, "test", func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("test"))
		pconstructs.RequireAWSProvider(stack)
		provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("eu-central-1")})
		build(stack)
	})
	return d
}

// refused asserts that build panics with a message containing every want.
func refused(t *testing.T, build func(stack cdktf.TerraformStack), want ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		msg := fmt.Sprint(recover())
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("refusal %q lacks %q", msg, w)
			}
		}
	}()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(t.TempDir())})
	build(cdktf.NewTerraformStack(app, jsii.String("test")))
	t.Errorf("no refusal; want one naming %v", want)
}

// only is the single resource of typ.
func only(t *testing.T, d *policy.Doc, typ string) map[string]any {
	t.Helper()
	_, r, ok := d.Only(typ)
	if !ok {
		t.Fatalf("want exactly one %s, have %d", typ, len(d.Names(typ)))
	}
	return r
}

// count is the number of resources of typ.
func count(d *policy.Doc, typ string) int { return len(d.Names(typ)) }

// fixed ids for props that take Terraform references.
var (
	vpcID     = jsii.String("vpc-0123456789abcdef0")
	subnetIDs = &[]*string{jsii.String("subnet-0a"), jsii.String("subnet-0b")}
	sgID      = jsii.String("sg-0123456789abcdef0")
)

// asJSON renders v compactly, for comparing nested values.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dataSources are the data blocks of typ, by logical name.
func dataSources(d *policy.Doc, typ string) map[string]any {
	m, _ := policy.Path(d.Raw, "data", typ).(map[string]any)
	return m
}
