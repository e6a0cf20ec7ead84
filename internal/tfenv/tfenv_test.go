package tfenv

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
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

// Inits side by side (the tests run so), from a fresh tools cache: all
// succeed. With this machine's unpacked mirror each links the provider to
// the mirror and no plugin cache is configured; elsewhere the cache is
// filled once under WarmPluginCache's lock. (Before either, two inits
// filling one cache failed with "failed to create directory ... file
// exists", and an init re-filling it left another's link dangling.)
func TestInitsSideBySide(t *testing.T) {
	if _, err := tools.Find("terraform"); err != nil {
		t.Skip(err)
	}
	tf, _ := tools.Find("terraform")
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tf, filepath.Join(bin, "terraform")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PROMAWS_TOOLS_BIN", bin)
	if m := Mirror(); unpacked(m) && strings.Contains(CLIConfig(m, "/cache"), "plugin_cache_dir") {
		t.Errorf("CLI configuration with the unpacked mirror %s has a plugin cache", m)
	}
	errs := make(chan error, 4)
	for range 4 {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), []byte(`{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 5.88"}}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		go func() {
			tf, err := New(context.Background(), dir, nil)
			if err == nil {
				err = tf.Init(context.Background(), tfexec.Backend(false))
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// ValidateTogether names the stack an error is in, and only that one.
func TestValidateTogetherNamesTheInvalidStack(t *testing.T) {
	if Mirror() == "" {
		t.Skip("no provider mirror")
	}
	if _, err := tools.Find("terraform"); err != nil {
		t.Skip(err)
	}
	stack := func(resource string) string {
		dir := t.TempDir()
		doc := `{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 5.88"}}}, "provider": {"aws": [{"region": "eu-central-1"}]}, "resource": {"aws_s3_bucket": {"b": ` + resource + `}}}`
		if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	res, err := ValidateTogether(context.Background(), map[string]string{
		"good": stack(`{"bucket": "b"}`), "bad": stack(`{"bucket": "b", "no_such_argument": "x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res["good"] != nil {
		t.Errorf("good: %v, want valid", res["good"])
	}
	if res["bad"] == nil || !strings.Contains(res["bad"].Error(), "no_such_argument") {
		t.Errorf("bad: %v, want the unsupported argument named", res["bad"])
	}
}

// Given a folder initialised from a mirror holding a provider, when the
// provider's package changes, Terraform refuses to run against the lock's
// checksums; when DropLockChecksums has removed them, it runs (so it no
// longer hashes the package) and the lock keeps the version it selected.
func TestDropLockChecksumsEndsTheProviderCheck(t *testing.T) {
	bin, err := tools.Find("terraform")
	if err != nil {
		t.Skip(err)
	}
	root := t.TempDir()
	pkg := filepath.Join(root, "mirror", "registry.terraform.io", "example", "fake", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	plugin := filepath.Join(pkg, "terraform-provider-fake_v1.0.0")
	rc := filepath.Join(root, "terraformrc")
	dir := filepath.Join(root, "stack")
	for path, data := range map[string]string{
		plugin:                             "#!/bin/sh\nexit 1\n",
		rc:                                 CLIConfig(filepath.Join(root, "mirror"), filepath.Join(root, "cache")),
		filepath.Join(dir, "main.tf.json"): `{"terraform": {"required_providers": {"fake": {"source": "example/fake", "version": "1.0.0"}}}}`,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.SetEnv(map[string]string{"TF_CLI_CONFIG_FILE": rc}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(plugin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("# changed\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := tf.Output(ctx); err == nil || !strings.Contains(err.Error(), "does not match any of the checksums") {
		t.Fatalf("with the checksums, a changed provider package: %v, want Terraform's checksum error", err)
	}

	if err := DropLockChecksums(dir); err != nil {
		t.Fatal(err)
	}

	if _, err := tf.Output(ctx); err != nil {
		t.Errorf("without the checksums Terraform still checks the package: %v", err)
	}
	lock, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`provider "registry.terraform.io/example/fake"`, `version     = "1.0.0"`, `constraints = "1.0.0"`} {
		if !strings.Contains(string(lock), want) {
			t.Errorf("lock file lost %s:\n%s", want, lock)
		}
	}
}
