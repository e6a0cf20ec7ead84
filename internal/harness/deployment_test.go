package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// Given a stack folder, when a deployment made with DropLockChecksums
// inits it, the lock selects the provider without checksums; one made
// without (the demo's, make bench's) keeps them, as a user's init does.
func TestInitDropsTheLockChecksumsWhenAsked(t *testing.T) {
	if _, err := tools.Find("terraform"); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, drop := range []bool{false, true} {
		dir := t.TempDir()
		stack := `{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 5.88"}}}}`
		if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), []byte(stack), 0o644); err != nil {
			t.Fatal(err)
		}
		tf, err := tfenv.New(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := &Deployment{dropLockChecksums: drop}

		if err := d.init(ctx, tf); err != nil {
			t.Fatal(err)
		}

		lock, err := os.ReadFile(filepath.Join(dir, tfenv.LockFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(lock), `provider "registry.terraform.io/hashicorp/aws"`) {
			t.Errorf("DropLockChecksums %v: the lock selects no AWS provider:\n%s", drop, lock)
		}
		if checked := strings.Contains(string(lock), "h1:"); checked == drop {
			t.Errorf("DropLockChecksums %v: lock has checksums %v:\n%s", drop, checked, lock)
		}
	}
}
