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
// every variant. All variants are validated in one run (tfenv.ValidateTogether).
func TestTerraformValidate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	dirs := map[string]string{}
	for _, v := range everyVariant() {
		s := v.synth(t)
		dirs[v.name] = s.dir
		if s.bootstrap != nil {
			dirs[v.name+"/bootstrap"] = s.bootstrapDir
		}
	}
	results, err := tfenv.ValidateTogether(ctx, dirs)
	if err != nil {
		t.Fatal(err)
	}
	for name := range dirs {
		t.Run(name, func(t *testing.T) {
			if err := results[name]; err != nil {
				t.Fatal(err)
			}
		})
	}
}
