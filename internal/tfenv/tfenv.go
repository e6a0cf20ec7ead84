// Package tfenv prepares Terraform for the tests and the demo: the binary,
// a CLI configuration that installs the AWS provider from a local filesystem
// mirror when the machine has one (the public registry otherwise), a shared
// plugin cache, and a clean environment.
package tfenv

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// MirrorCandidates are folders checked for a filesystem mirror holding
// registry.terraform.io/hashicorp/aws. TF_PROVIDER_MIRROR overrides them,
// and `make tools` records a mirror it found elsewhere in the tools cache
// (file provider-mirror).
var MirrorCandidates = []string{"/opt/tf-plugins", "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"}

// Mirror returns the filesystem mirror root, or "" when there is none.
func Mirror() string {
	candidates := MirrorCandidates
	if data, err := os.ReadFile(filepath.Join(filepath.Dir(tools.Bin()), "provider-mirror")); err == nil {
		candidates = append([]string{strings.TrimSpace(string(data))}, candidates...)
	}
	if m := os.Getenv("TF_PROVIDER_MIRROR"); m != "" {
		candidates = []string{m}
	}
	for _, dir := range candidates {
		if st, err := os.Stat(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws")); err == nil && st.IsDir() {
			return dir
		}
	}
	return ""
}

// CLIConfig is the Terraform CLI configuration: mirror first when present,
// and a plugin cache so every working folder shares one provider copy,
// unless the mirror is unpacked: then init links each working folder's
// provider to the mirror itself, and a cache would only add a copy that
// inits side by side race to fill (Terraform's cache "is not guaranteed to
// be concurrency safe"). `make tools` writes it through cmd/tfrc; New writes
// it again, so the tests need no earlier step.
func CLIConfig(mirror, cacheDir string) string {
	var b strings.Builder
	if !unpacked(mirror) {
		fmt.Fprintf(&b, "plugin_cache_dir = %q\n", cacheDir)
	}
	if mirror != "" {
		fmt.Fprintf(&b, `provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/*/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
`, mirror)
	}
	return b.String()
}

// unpacked reports whether mirror holds the AWS provider unpacked (a folder
// per platform, not a zip).
func unpacked(mirror string) bool {
	if mirror == "" {
		return false
	}
	m, _ := filepath.Glob(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws", "*", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-aws_*"))
	return len(m) > 0
}

// WriteCLIConfig writes CLIConfig into dir/terraformrc (creating the cache
// folder) and returns the file's path.
func WriteCLIConfig(dir string) (string, error) {
	cache := filepath.Join(dir, "terraform-plugin-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "terraformrc")
	return path, os.WriteFile(path, []byte(CLIConfig(Mirror(), cache)), 0o644)
}

// GOGC is the garbage collector setting Terraform and its plugins run with
// here. Every terraform command starts the AWS provider, whose start (its
// schema of ~1,500 resources) costs ~3 s of CPU, Terraform's own reading of
// that schema ~2 s more: make test starts it about 250 times on 2 cores.
// Collecting less often cuts that CPU by about a third for ~250 MB more
// peak memory per process (measured with terraform validate of the main
// stack: 7.4 s CPU at GOGC=100, 4.9 s at 400).
const GOGC = "400"

// Environ is env (e.g. the emulator's) plus what every Terraform run of the
// tests, the demo and make bench gets: the CLI configuration (provider
// mirror, plugin cache) and GOGC. New uses it; so do callers that run
// terraform through another program (the cdktf CLI, the terraform CLI as
// make does), adding CHECKPOINT_DISABLE and TF_IN_AUTOMATION, which tfexec
// sets itself and refuses from its caller.
func Environ(env []string) ([]string, error) {
	rc, err := WriteCLIConfig(filepath.Dir(tools.Bin()))
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(env), "TF_CLI_CONFIG_FILE="+rc, "GOGC="+GOGC), nil
}

// New returns Terraform for workdir with Environ(env), the plugin cache
// filled with the providers workdir's stack requires (WarmPluginCache); output goes to the test log through
// tf.SetLogger/SetStdout by the caller if wanted.
func New(ctx context.Context, workdir string, env []string) (*tfexec.Terraform, error) {
	bin, err := tools.Find("terraform")
	if err != nil {
		return nil, err
	}
	full, err := Environ(env)
	if err != nil {
		return nil, err
	}
	if err := warmFor(ctx, workdir); err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(workdir, bin)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range full {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	if err := tf.SetEnv(vars); err != nil {
		return nil, err
	}
	return tf, nil
}

// warmFor fills the plugin cache with the providers the synthesized stack
// in dir requires (its cdk.tf.json; none: nothing to do).
func warmFor(ctx context.Context, dir string) error {
	var stack struct {
		Terraform struct {
			RequiredProviders json.RawMessage `json:"required_providers"`
		} `json:"terraform"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil || json.Unmarshal(data, &stack) != nil || stack.Terraform.RequiredProviders == nil {
		return nil // not a synthesized stack: its init fills the cache
	}
	return WarmPluginCache(ctx, stack.Terraform.RequiredProviders)
}

// WarmPluginCache puts requiredProviders (a required_providers block as
// JSON) into the plugin cache once, under a file lock, before the inits of
// the tests, the demo or make bench: the cache "is not guaranteed to be
// concurrency safe" (Terraform's CLI configuration docs), and two inits
// filling it at once fail with "failed to create directory ... file
// exists" (seen when the tests ran side by side). Once the AWS provider is
// there, inits only read it. With an unpacked mirror there is no cache
// (CLIConfig) and nothing to do. New calls it for its stack; callers that
// run terraform through another program (the cdktf CLI) call it first.
func WarmPluginCache(ctx context.Context, requiredProviders json.RawMessage) error {
	if unpacked(Mirror()) {
		return nil
	}
	cache := filepath.Join(filepath.Dir(tools.Bin()), "terraform-plugin-cache")
	warm := func() bool {
		m, _ := filepath.Glob(filepath.Join(cache, "registry.terraform.io", "hashicorp", "aws", "*", runtime.GOOS+"_"+runtime.GOARCH))
		return len(m) > 0
	}
	if warm() {
		return nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(cache+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if warm() {
		return nil
	}
	bin, err := tools.Find("terraform")
	if err != nil {
		return err
	}
	rc, err := WriteCLIConfig(filepath.Dir(tools.Bin()))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tf-plugin-cache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	config := `{"terraform": {"required_providers": ` + string(requiredProviders) + `}}`
	if err := os.WriteFile(filepath.Join(tmp, "main.tf.json"), []byte(config), 0o644); err != nil {
		return err
	}
	tf, err := tfexec.NewTerraform(tmp, bin)
	if err != nil {
		return err
	}
	if err := tf.SetEnv(map[string]string{"TF_CLI_CONFIG_FILE": rc, "GOGC": GOGC}); err != nil {
		return err
	}
	if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
		return fmt.Errorf("filling the Terraform plugin cache %s: %w", cache, err)
	}
	return nil
}

// Validate runs `terraform init -backend=false` and `terraform validate`
// in dir, a synthesized stack, with the real provider: the error lists
// every diagnostic.
func Validate(ctx context.Context, dir string) error {
	tf, err := New(ctx, dir, nil)
	if err != nil {
		return err
	}
	if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
		return fmt.Errorf("terraform init in %s: %w", dir, err)
	}
	out, err := tf.Validate(ctx)
	if err != nil {
		return fmt.Errorf("terraform validate in %s: %w", dir, err)
	}
	if !out.Valid {
		var b strings.Builder
		for _, d := range out.Diagnostics {
			fmt.Fprintf(&b, "\n%s: %s: %s", d.Severity, d.Summary, d.Detail)
		}
		return fmt.Errorf("terraform validate in %s: invalid:%s", dir, b.String())
	}
	return nil
}

// ValidateTogether validates many synthesized stacks (name to folder) in
// one terraform run, each called as a module of a throw-away root: one
// init and one provider schema load for all of them instead of one each
// (make test validates some 20 variants; a validate costs ~7 s of CPU, most
// of it starting the provider). The provider still checks every stack's
// resources and provider block. A stack called as a module has its backend
// ignored (Terraform warns), which validate -backend=false skips anyway.
// The result maps each name to its errors (nil: valid).
func ValidateTogether(ctx context.Context, dirs map[string]string) (map[string]error, error) {
	root, err := os.MkdirTemp("", "tf-validate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	modules := map[string]any{}
	byFolder := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		folder := fmt.Sprintf("m%d", len(modules))
		if err := os.Symlink(dirs[name], filepath.Join(root, folder)); err != nil {
			return nil, err
		}
		if err := warmFor(ctx, dirs[name]); err != nil {
			return nil, err
		}
		modules[folder] = map[string]string{"source": "./" + folder}
		byFolder[folder] = name
		if real, err := filepath.EvalSymlinks(dirs[name]); err == nil {
			abs, _ := filepath.Abs(real)
			byFolder[abs] = name
		}
	}
	data, err := json.Marshal(map[string]any{"module": modules})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "main.tf.json"), data, 0o644); err != nil {
		return nil, err
	}
	tf, err := New(ctx, root, nil)
	if err != nil {
		return nil, err
	}
	if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
		return nil, fmt.Errorf("terraform init of %d stacks as modules: %w", len(dirs), err)
	}
	out, err := tf.Validate(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform validate of %d stacks as modules: %w", len(dirs), err)
	}
	found := map[string][]string{}
	for _, d := range out.Diagnostics {
		if d.Severity != tfjson.DiagnosticSeverityError {
			continue
		}
		// Terraform names the file by its module folder or, through the
		// symlink, by the stack's own folder.
		name := "(root)"
		if d.Range != nil {
			if n, ok := byFolder[strings.SplitN(d.Range.Filename, "/", 2)[0]]; ok {
				name = n
			} else if n, ok := byFolder[filepath.Dir(d.Range.Filename)]; ok {
				name = n
			}
		}
		found[name] = append(found[name], fmt.Sprintf("%s: %s", d.Summary, d.Detail))
	}
	if root, ok := found["(root)"]; ok {
		return nil, fmt.Errorf("terraform validate: %s", strings.Join(root, "; "))
	}
	res := map[string]error{}
	for name := range dirs {
		if errs := found[name]; len(errs) > 0 {
			res[name] = fmt.Errorf("terraform validate of %s: invalid:\n%s", dirs[name], strings.Join(errs, "\n"))
		} else {
			res[name] = nil
		}
	}
	return res, nil
}

// mirrorPath finds a filesystem_mirror block's path in a CLI configuration.
var mirrorPath = regexp.MustCompile(`(?s)filesystem_mirror\s*\{[^}]*?path\s*=\s*"([^"]+)"`)

// ConfiguredMirror is the filesystem_mirror path of the Terraform CLI
// configuration in effect for env (TF_CLI_CONFIG_FILE, else
// ~/.terraformrc), or "" when it names none.
func ConfiguredMirror(env map[string]string) string {
	file := env["TF_CLI_CONFIG_FILE"]
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		file = filepath.Join(home, ".terraformrc")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	if m := mirrorPath.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// LockFile is the dependency lock file Terraform keeps in a stack folder.
const LockFile = ".terraform.lock.hcl"

// lockHashes is a provider block's hashes attribute as Terraform writes
// the lock file: `  hashes = [`, one checksum a line, `  ]`.
var lockHashes = regexp.MustCompile(`(?m)^[ \t]*hashes[ \t]*=[ \t]*\[[^\]]*\][ \t]*\n`)

// DropLockChecksums removes the providers' checksums from dir's lock file,
// keeping their versions and constraints. Terraform checks an installed
// provider against the lock's checksums at every command that loads
// providers, and skips the check for a provider the lock records none for
// (its "if any"): for the AWS provider that check hashes a 707 MB binary,
// 0.4 s of CPU per command. For throw-away folders whose init has just
// hashed the same package (the tests' deployments); never for a user's
// folder, whose lock is theirs to commit. The next init writes the
// checksums again.
func DropLockChecksums(dir string) error {
	path := filepath.Join(dir, LockFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("dropping the lock file's checksums: %w", err)
	}
	out := lockHashes.ReplaceAll(data, nil)
	if strings.Contains(string(out), "hashes") {
		return fmt.Errorf("dropping the lock file's checksums: %s keeps a hashes attribute in a layout this does not know (a newer Terraform?)", path)
	}
	return os.WriteFile(path, out, 0o644)
}

// LockFromMirror writes dir's lock file from the provider mirror when dir
// has none, and reports whether it wrote one. Without it, cdktf-cli
// 0.20.11 runs `terraform providers lock` after its first init, which
// ignores the CLI configuration's provider_installation and asks the
// public registry: on a machine that reaches only a mirror, the first
// `cdktf deploy` fails (a second works, the init having written the file).
func LockFromMirror(ctx context.Context, dir, mirror string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err == nil {
		return false, nil
	}
	// Terraform as the user runs it (their CLI configuration; none of
	// New's test setup): the lock needs only the mirror.
	bin, err := tools.Find("terraform")
	if err != nil {
		return false, err
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return false, err
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	if err := tf.ProvidersLock(ctx, tfexec.FSMirror(mirror), tfexec.Platform(platform)); err != nil {
		return false, fmt.Errorf("terraform providers lock -fs-mirror=%s -platform=%s in %s: %w", mirror, platform, dir, err)
	}
	return true, nil
}
