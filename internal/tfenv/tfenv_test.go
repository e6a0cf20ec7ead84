package tfenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfiguredMirror(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte(CLIConfig("/opt/mirror", "/cache")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ConfiguredMirror(map[string]string{"TF_CLI_CONFIG_FILE": rc}); got != "/opt/mirror" {
		t.Errorf("mirror %q, want /opt/mirror", got)
	}
	if err := os.WriteFile(rc, []byte(CLIConfig("", "/cache")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ConfiguredMirror(map[string]string{"TF_CLI_CONFIG_FILE": rc}); got != "" {
		t.Errorf("a configuration without a mirror names %q", got)
	}
	if got := ConfiguredMirror(map[string]string{"TF_CLI_CONFIG_FILE": filepath.Join(dir, "missing")}); got != "" {
		t.Errorf("a missing configuration names %q", got)
	}
}

// The lock file comes from the mirror alone (the test runs where the
// registry is unreachable), and an existing one is left as it is.
func TestLockFromMirror(t *testing.T) {
	mirror := Mirror()
	if mirror == "" {
		t.Skip("no provider mirror on this machine (the registry serves the provider)")
	}
	dir := t.TempDir()
	stack := `{"terraform":{"required_providers":{"aws":{"source":"hashicorp/aws","version":"~> 5.88"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wrote, err := LockFromMirror(ctx, dir, mirror)
	if err != nil || !wrote {
		t.Fatalf("first lock: wrote %v, %v", wrote, err)
	}
	lock, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil || !strings.Contains(string(lock), `"registry.terraform.io/hashicorp/aws"`) || !strings.Contains(string(lock), "h1:") {
		t.Fatalf("lock file %q (%v)", lock, err)
	}
	if wrote, err := LockFromMirror(ctx, dir, mirror); err != nil || wrote {
		t.Errorf("an existing lock file must be kept: wrote %v, %v", wrote, err)
	}
}

// New must accept what Environ adds: tfexec refuses some variables it
// manages itself (TF_IN_AUTOMATION, CHECKPOINT_DISABLE, ...).
func TestNewAcceptsItsEnvironment(t *testing.T) {
	if _, err := New(context.Background(), t.TempDir(), []string{"AWS_REGION=eu-central-1"}); err != nil {
		t.Fatal(err)
	}
}
