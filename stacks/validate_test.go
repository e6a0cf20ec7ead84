package stacks

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// TestTerraformValidate runs `terraform init` and `terraform validate` with
// the real AWS provider (the local mirror here, the registry elsewhere) on
// the synthesized JSON: the schema, not just our reading of it, must accept
// every variant.
func TestTerraformValidate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	dirs := map[string]string{}
	for name, dir := range outDirs {
		dirs[name] = dir
	}
	for name, dir := range bootstrapDirs {
		dirs[name+"/bootstrap"] = dir
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each validate is one CPU-bound terraform
			if err := tfenv.Validate(ctx, dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}
