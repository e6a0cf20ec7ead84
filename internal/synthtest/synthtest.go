// Package synthtest synthesizes a cdktf app inside a test, the way the
// examples' and constructs' tests need it: into the test's temporary
// folder, parsed for assertions, and checked by terraform validate with
// the real provider. Callers share one jsii runtime per test binary
// (jsii.Close in TestMain).
package synthtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Stack builds an app with build, synthesizes it and returns the named
// stack's document and folder.
func Stack(t testing.TB, stack string, build func(app cdktf.App)) (*policy.Doc, string) {
	t.Helper()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(t.TempDir())})
	build(app)
	app.Synth()
	dir := filepath.Join(*app.Outdir(), "stacks", stack)
	d, err := policy.ParseFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	return d, dir
}

// Validate fails t unless terraform init and validate accept dir.
func Validate(t testing.TB, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tfenv.Validate(ctx, dir); err != nil {
		t.Fatal(err)
	}
}

// Main runs a test binary's tests and closes its one jsii runtime: call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
