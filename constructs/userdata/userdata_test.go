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
	// CI installs shellcheck (scripts/install-tools.sh): missing is a failure.
	shellcheck, err := tools.Find("shellcheck")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, "node_exporter.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck node_exporter.sh: %v\n%s", err, out)
	}
}

func TestRenderKeepsOneScript(t *testing.T) {
	out := Render(Options{ListenPort: 9200})
	if !strings.HasPrefix(out, "#!/bin/bash\n") {
		t.Fatal("rendered user data must start with the shebang")
	}
	lines := strings.SplitN(out, "\n", 4)
	if lines[2] != `NODE_EXPORTER_LISTEN_ADDRESS="${NODE_EXPORTER_LISTEN_ADDRESS:-:9200}"` {
		t.Errorf("the port line must follow the shebang, got %q", lines[1:3])
	}
	if _, rest, _ := strings.Cut(Script, "\n"); !strings.HasSuffix(out, rest) {
		t.Error("everything after the rendered header must be the script, unchanged")
	}
	if !strings.Contains(Render(Options{}), `${NODE_EXPORTER_LISTEN_ADDRESS:-:9100}"`+"\n") {
		t.Error("ListenPort 0 must render the default port 9100")
	}
	// EC2 rejects user data over 16 KB (before base64).
	if len(out) > 16<<10 {
		t.Errorf("user data is %d bytes; EC2 allows 16384", len(out))
	}
	path := filepath.Join(t.TempDir(), "userdata.sh")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n on the rendered user data: %v\n%s", err, msg)
	}
}

func TestRenderRefusesBadPort(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Render must refuse port 70000")
		}
	}()
	Render(Options{ListenPort: 70000})
}

func TestPinsVersionAndChecksums(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version()) {
		t.Fatalf("pinned version %q is not x.y.z", Version())
	}
	sums := map[string]string{}
	for _, arch := range []string{"AMD64", "ARM64"} {
		m := regexp.MustCompile(`(?m)^NODE_EXPORTER_SHA256_` + arch + `="([0-9a-f]{64})"$`).FindStringSubmatch(Script)
		if m == nil {
			t.Errorf("no pinned 64-hex sha256 for %s", arch)
			continue
		}
		sums[arch] = m[1]
	}
	if len(sums) == 2 && sums["AMD64"] == sums["ARM64"] {
		t.Error("the amd64 and arm64 checksums are the same value")
	}
	// Renovate's regex manager reads the comment right above the version.
	if !strings.Contains(Script, "# renovate: datasource=github-releases depName=prometheus/node_exporter\nNODE_EXPORTER_VERSION=") {
		t.Error("the renovate comment must directly precede NODE_EXPORTER_VERSION")
	}
	for _, want := range []string{
		"sha256sum -c", "CHECKSUM MISMATCH",
		"useradd --system --no-create-home", `--shell "$shell"`,
		"install -o root -g root -m 0755",
		"systemctl daemon-reload", "systemctl enable --now node_exporter.service",
	} {
		if !strings.Contains(Script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(Script), `main "$@"`) {
		t.Error(`the script must end with main "$@"`)
	}
}

// release is a fake node_exporter release served from a file:// mirror.
type release struct {
	base string // NODE_EXPORTER_DOWNLOAD_BASE
	path string // the tarball
	sum  string // its sha256
}

// fakeRelease writes a tarball shaped like the real one for this machine's
// architecture: node_exporter-<v>.linux-<arch>/node_exporter, a script that
// answers --version like the real binary.
func fakeRelease(t *testing.T) release {
	t.Helper()
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("the script pins no release for %s", runtime.GOARCH)
	}
	name := "node_exporter-" + Version() + ".linux-" + arch
	base := filepath.Join(t.TempDir(), "mirror")
	dir := filepath.Join(base, "v"+Version())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	body := "#!/bin/sh\necho 'node_exporter, version " + Version() + " (branch: fake, revision: test)'\n"
	for _, h := range []*tar.Header{
		{Name: name + "/", Mode: 0o755, Typeflag: tar.TypeDir},
		{Name: name + "/node_exporter", Mode: 0o755, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return release{base: base, path: path, sum: hex.EncodeToString(h[:])}
}

// run runs the script with only PATH and env set, under a test root.
func run(t *testing.T, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "node_exporter.sh")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestChecksumMismatchInstallsNothing(t *testing.T) {
	rel := fakeRelease(t)
	root := t.TempDir()
	// No NODE_EXPORTER_TEST_SHA256: the fake tarball meets the pinned checksum.
	out, err := run(t, "NODE_EXPORTER_ROOT="+root, "NODE_EXPORTER_DOWNLOAD_BASE=file://"+rel.base)
	if err == nil {
		t.Fatalf("a tarball that does not match the pinned checksum must fail the install:\n%s", out)
	}
	if !strings.Contains(out, "CHECKSUM MISMATCH") || !strings.Contains(out, "got "+rel.sum) {
		t.Errorf("the failure must say so loudly, with the expected and actual sums:\n%s", out)
	}
	for _, p := range []string{"usr/local/bin/node_exporter", "etc/systemd/system/node_exporter.service"} {
		if exists(filepath.Join(root, p)) {
			t.Errorf("%s was installed after a checksum mismatch", p)
		}
	}
}

// The positive path needs the checksum of a fake tarball: the test seam
// NODE_EXPORTER_TEST_SHA256, honoured only under NODE_EXPORTER_ROOT.
func TestInstallThenRerunChangesNothing(t *testing.T) {
	rel := fakeRelease(t)
	root := t.TempDir()
	env := []string{"NODE_EXPORTER_ROOT=" + root, "NODE_EXPORTER_DOWNLOAD_BASE=file://" + rel.base,
		"NODE_EXPORTER_TEST_SHA256=" + rel.sum, "NODE_EXPORTER_LISTEN_ADDRESS=:9200"}
	out, err := run(t, env...)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	bin := filepath.Join(root, "usr/local/bin/node_exporter")
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("the binary must be installed with mode 0755: %v %v", st, err)
	}
	unitPath := filepath.Join(root, "etc/systemd/system/node_exporter.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"User=node_exporter\n", "Group=node_exporter\n",
		"ExecStart=/usr/local/bin/node_exporter --web.listen-address=:9200\n",
		"Restart=on-failure\n", "NoNewPrivileges=yes\n", "CapabilityBoundingSet=\n",
		"ProtectSystem=strict\n", "ProtectHome=yes\n", "PrivateTmp=yes\n", "PrivateDevices=yes\n",
		"ProtectKernelTunables=yes\n", "ProtectKernelModules=yes\n", "ProtectControlGroups=yes\n",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK\n", "RestrictNamespaces=yes\n",
		"LockPersonality=yes\n", "MemoryDenyWriteExecute=yes\n", "WantedBy=multi-user.target\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if !strings.Contains(out, "sha256 verified: "+rel.sum) || !strings.Contains(out, "changed: binary unit)") {
		t.Errorf("the first run must verify and report what it changed:\n%s", out)
	}

	// Second run, with the mirror gone: nothing may be downloaded or written.
	if err := os.Remove(rel.path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(unitPath)
	out, err = run(t, env...)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "already installed") || !strings.Contains(out, "unchanged") ||
		!strings.Contains(out, "changed: nothing)") || strings.Contains(out, "downloading") {
		t.Errorf("the second run must be a no-op:\n%s", out)
	}
	if after, _ := os.Stat(unitPath); !after.ModTime().Equal(before.ModTime()) {
		t.Error("the second run rewrote an identical unit")
	}

	// A new listen address rewrites the unit only (and so restarts on a host).
	env[3] = "NODE_EXPORTER_LISTEN_ADDRESS=127.0.0.1:9300"
	out, err = run(t, env...)
	if err != nil || !strings.Contains(out, "changed: unit)") || strings.Contains(out, "downloading") {
		t.Fatalf("a new listen address must change the unit and nothing else: %v\n%s", err, out)
	}
	if unit, _ := os.ReadFile(unitPath); !strings.Contains(string(unit), "--web.listen-address=127.0.0.1:9300\n") {
		t.Error("unit not rewritten with the new listen address")
	}
}

func TestUnitMatchesHostMounts(t *testing.T) {
	rel := fakeRelease(t)
	root := t.TempDir()
	// A separate /home stays visible (read-only) to the filesystem collector.
	if err := os.MkdirAll(filepath.Join(root, "proc/self"), 0o755); err != nil {
		t.Fatal(err)
	}
	mounts := "/dev/nvme0n1p1 / xfs rw 0 0\n/dev/nvme1n1 /home ext4 rw 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "proc/self/mounts"), []byte(mounts), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "NODE_EXPORTER_ROOT="+root, "NODE_EXPORTER_DOWNLOAD_BASE=file://"+rel.base,
		"NODE_EXPORTER_TEST_SHA256="+rel.sum, `NODE_EXPORTER_EXTRA_FLAGS=--collector.systemd --collector.textfile.directory=/var/lib/%n/$HOME`)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	unit, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/node_exporter.service"))
	if !strings.Contains(string(unit), "ProtectHome=read-only\n") {
		t.Error("with /home mounted the unit must use ProtectHome=read-only")
	}
	// % and $ reach node_exporter literally, not as systemd specifiers or variables.
	if !strings.Contains(string(unit), "--web.listen-address=:9100 --collector.systemd --collector.textfile.directory=/var/lib/%%n/$$HOME\n") {
		t.Errorf("extra flags not escaped for ExecStart=:\n%s", unit)
	}
	// Where systemd-analyze exists, the unit must parse: systemd reports an
	// unknown directive or a bad value as "<file>:<line>: ...". (Its exit
	// status is not used: the binary exists only under the test root.)
	if exe, err := exec.LookPath("systemd-analyze"); err == nil {
		msg, _ := exec.Command(exe, "verify", "--man=no", filepath.Join(root, "etc/systemd/system/node_exporter.service")).CombinedOutput()
		if regexp.MustCompile(`node_exporter\.service:\d+:`).Match(msg) {
			t.Errorf("systemd-analyze verify rejects lines of the unit:\n%s", msg)
		}
	}
}

func TestRefusesUnsafeSettings(t *testing.T) {
	rel := fakeRelease(t)
	for name, setting := range map[string]string{
		"listen address with a space": "NODE_EXPORTER_LISTEN_ADDRESS=:9100 --web.config.file=/tmp/x",
		"flags adding a directive":    "NODE_EXPORTER_EXTRA_FLAGS=--collector.systemd\nUser=root",
	} {
		root := t.TempDir()
		out, err := run(t, "NODE_EXPORTER_ROOT="+root, "NODE_EXPORTER_DOWNLOAD_BASE=file://"+rel.base,
			"NODE_EXPORTER_TEST_SHA256="+rel.sum, setting)
		if err == nil || !strings.Contains(out, "ERROR") {
			t.Errorf("%s: must be refused:\n%s", name, out)
		}
		if exists(filepath.Join(root, "etc/systemd/system/node_exporter.service")) {
			t.Errorf("%s: a unit was written", name)
		}
	}
}

func TestUnsupportedArchitectureFailsLoudly(t *testing.T) {
	rel := fakeRelease(t)
	shim := t.TempDir()
	if err := os.WriteFile(filepath.Join(shim, "uname"), []byte("#!/bin/sh\necho riscv64\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	cmd := exec.Command("bash", "node_exporter.sh")
	cmd.Env = []string{"PATH=" + shim + string(os.PathListSeparator) + os.Getenv("PATH"),
		"NODE_EXPORTER_ROOT=" + root, "NODE_EXPORTER_DOWNLOAD_BASE=file://" + rel.base, "NODE_EXPORTER_TEST_SHA256=" + rel.sum}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unsupported CPU architecture riscv64") {
		t.Fatalf("an unknown architecture must stop the install: %v\n%s", err, out)
	}
	if exists(filepath.Join(root, "usr/local/bin/node_exporter")) {
		t.Error("a binary was installed for an unsupported architecture")
	}
}

func TestTestChecksumNeedsTestRoot(t *testing.T) {
	// Outside a test root the pinned checksum is the only one: evaluate the
	// script's expected_sha256 on its own (running the whole script without
	// NODE_EXPORTER_ROOT would install onto this machine).
	fn := regexp.MustCompile(`(?ms)^expected_sha256\(\) \{.*?^\}$`).FindString(Script)
	if fn == "" {
		t.Fatal("expected_sha256 not found in the script")
	}
	for _, c := range []struct{ root, want string }{{"", "pinned"}, {"/tmp/x", "fake"}} {
		script := fn + "\nROOT=" + c.root + "\nNODE_EXPORTER_SHA256_AMD64=pinned\nNODE_EXPORTER_TEST_SHA256=fake\nexpected_sha256 amd64\n"
		out, err := exec.Command("bash", "-euc", script).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != c.want {
			t.Errorf("ROOT=%q: expected checksum %q, got %q (%v)", c.root, c.want, out, err)
		}
	}
}

// Given an s3:// mirror (a VPC without internet), the script fetches the
// release with the AWS CLI (a fake one here, copying from a folder standing
// in for the bucket) and still checks the pinned checksum.
func TestInstallsFromAnS3Mirror(t *testing.T) {
	rel := fakeRelease(t)
	root, bin := t.TempDir(), t.TempDir()
	// aws s3 cp --only-show-errors s3://bucket/<key> <file>
	fake := "#!/bin/sh\n[ \"$1 $2 $3\" = \"s3 cp --only-show-errors\" ] || { echo \"unexpected: $*\" >&2; exit 2; }\n" +
		"key=${4#s3://bucket/mirror/}\necho \"aws: $4\"\ncp \"" + rel.base + "/$key\" \"$5\"\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "node_exporter.sh")
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "NODE_EXPORTER_ROOT=" + root,
		"NODE_EXPORTER_DOWNLOAD_BASE=s3://bucket/mirror", "NODE_EXPORTER_TEST_SHA256=" + rel.sum}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install from s3: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "aws: s3://bucket/mirror/v"+Version()+"/") || !strings.Contains(string(out), "sha256 verified") {
		t.Errorf("the release must come through the AWS CLI and be verified:\n%s", out)
	}
	if !exists(filepath.Join(root, "usr/local/bin/node_exporter")) {
		t.Error("node_exporter was not installed")
	}
	if r := Render(Options{DownloadBase: "s3://bucket/mirror"}); !strings.Contains(r, "NODE_EXPORTER_DOWNLOAD_BASE=\"${NODE_EXPORTER_DOWNLOAD_BASE:-s3://bucket/mirror}\"\n") {
		t.Error("Render must set the deployment's mirror as the default")
	}
}
