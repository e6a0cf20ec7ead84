package userdata

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

func TestShellcheckClean(t *testing.T) {
	shellcheck, err := tools.Find("shellcheck")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, "node_exporter.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

func TestRenderKeepsOneScript(t *testing.T) {
	out := Render(Options{ListenPort: 9200})
	if !strings.HasPrefix(out, "#!/bin/bash\n") {
		t.Fatal("rendered user data must start with the shebang")
	}
	if !strings.Contains(out, `NODE_EXPORTER_LISTEN_ADDRESS="${NODE_EXPORTER_LISTEN_ADDRESS:-:9200}"`) {
		t.Error("port not rendered")
	}
	if !strings.HasSuffix(out, Script[strings.Index(Script, "\n")+1:]) {
		t.Error("everything after the header must be the script itself")
	}
	if out, err := exec.Command("bash", "-n", "-c", out).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v %s", err, out)
	}
}

func TestPinsVersionAndChecksums(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version()) {
		t.Fatalf("version %q", Version())
	}
	for _, arch := range []string{"AMD64", "ARM64"} {
		if !regexp.MustCompile(`(?m)^NODE_EXPORTER_SHA256_` + arch + `="[0-9a-f]{64}"$`).MatchString(Script) {
			t.Errorf("no pinned sha256 for %s", arch)
		}
	}
	for _, want := range []string{"sha256sum --check", "renovate: datasource=github-releases depName=prometheus/node_exporter", "--shell \"$nologin\"", "--no-create-home", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "-o root -g root -m 0755"} {
		if !strings.Contains(Script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
}

// fakeRelease writes a release-shaped tarball whose binary answers --version.
func fakeRelease(t *testing.T, dir string) (base, sum string) {
	t.Helper()
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("no pinned release for %s", runtime.GOARCH)
	}
	name := "node_exporter-" + Version() + ".linux-" + arch
	base = filepath.Join(dir, "mirror")
	if err := os.MkdirAll(filepath.Join(base, "v"+Version()), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(base, "v"+Version(), name+".tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	body := "#!/bin/sh\necho 'node_exporter, version " + Version() + " (fake)'\n"
	_ = tw.WriteHeader(&tar.Header{Name: name + "/node_exporter", Mode: 0o755, Size: int64(len(body))})
	_, _ = tw.Write([]byte(body))
	tw.Close()
	gz.Close()
	f.Close()
	data, _ := os.ReadFile(path)
	h := sha256.Sum256(data)
	return base, hex.EncodeToString(h[:])
}

func run(t *testing.T, env ...string) (string, error) {
	cmd := exec.Command("bash", "node_exporter.sh")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestChecksumMismatchInstallsNothing(t *testing.T) {
	dir := t.TempDir()
	base, _ := fakeRelease(t, dir)
	root := filepath.Join(dir, "root")
	out, err := run(t, "NODE_EXPORTER_ROOT="+root, "NODE_EXPORTER_DOWNLOAD_BASE=file://"+base)
	if err == nil {
		t.Fatalf("a tarball that does not match the pinned checksum must fail the install:\n%s", out)
	}
	if !strings.Contains(out, "CHECKSUM MISMATCH") {
		t.Errorf("the failure must say so loudly:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/node_exporter")); !os.IsNotExist(err) {
		t.Error("nothing may be installed after a checksum mismatch")
	}
}

func TestInstallThenRerunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	base, sum := fakeRelease(t, dir)
	root := filepath.Join(dir, "root")
	env := []string{"NODE_EXPORTER_ROOT=" + root, "NODE_EXPORTER_DOWNLOAD_BASE=file://" + base, "NODE_EXPORTER_TEST_SHA256=" + sum, "NODE_EXPORTER_LISTEN_ADDRESS=:9200"}
	out, err := run(t, env...)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	st, err := os.Stat(filepath.Join(root, "usr/local/bin/node_exporter"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("binary must be installed 0755: %v", err)
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/node_exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=node_exporter", "--web.listen-address=:9200", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if !strings.Contains(out, "changed: binary unit") {
		t.Errorf("first run must report what it changed:\n%s", out)
	}
	out, err = run(t, env...)
	if err != nil || !strings.Contains(out, "already installed") || !strings.Contains(out, "changed: nothing") {
		t.Fatalf("second run must be a no-op: %v\n%s", err, out)
	}
}

func TestTestSeamNeedsTestRoot(t *testing.T) {
	// Without NODE_EXPORTER_ROOT the test checksum must be ignored: the
	// function that picks the checksum is checked by sourcing it.
	cmd := exec.Command("bash", "-c", `eval "$(sed -n '/^expected_sha256()/,/^}/p' node_exporter.sh)"; ROOT=""; NODE_EXPORTER_SHA256_AMD64=pinned; NODE_EXPORTER_TEST_SHA256=fake; expected_sha256 amd64`)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "pinned" {
		t.Fatalf("outside a test root the pinned checksum must be used, got %q %v", out, err)
	}
}
