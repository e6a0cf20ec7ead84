package defaults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

// sources are the repository's tracked and new source files, tests,
// test data and documentation left out.
func sources(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-co", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "testdata/") || strings.HasSuffix(f, ".md") ||
			f == "go.sum" || f == "go.mod" || strings.HasSuffix(f, ".png") {
			continue
		}
		files = append(files, f)
	}
	return files
}

// Each pin is written once, here: the constructs, the settings and make
// tools read it from this file, and Renovate bumps it here. The one other
// place is docker/Dockerfile's FROM (an image is built from it; docker's
// test keeps the two equal).
func TestPinsHaveOneHome(t *testing.T) {
	allowed := map[string][]string{
		PrometheusImage:   {"constructs/defaults/defaults.go", "docker/Dockerfile"},
		AlertmanagerImage: {"constructs/defaults/defaults.go"},
		ConfigSyncImage:   {"constructs/defaults/defaults.go"},
		GrafanaImage:      {"constructs/defaults/defaults.go"},
		"v0.316.0":        {}, // the module version is derived (install-tools.sh)
	}
	found := map[string][]string{}
	for _, f := range sources(t) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the working tree
		}
		for pin := range allowed {
			if strings.Contains(string(data), pin) {
				found[pin] = append(found[pin], f)
			}
		}
	}
	for pin, want := range allowed {
		if fmt.Sprint(found[pin]) != fmt.Sprint(want) && !(len(want) == 0 && len(found[pin]) == 0) {
			t.Errorf("%s is written in %v; it belongs in %v only (read it from package defaults)", pin, found[pin], want)
		}
	}
}

// make tools builds the releases the pinned images are: it reads them here.
func TestToolsBuildThePinnedReleases(t *testing.T) {
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "install-tools.sh"), "versions").CombinedOutput()
	if err != nil {
		t.Fatalf("install-tools.sh versions: %v\n%s", err, out)
	}
	_, prom, _ := strings.Cut(PrometheusImage, ":v")
	_, am, _ := strings.Cut(AlertmanagerImage, ":")
	var major, minor, patch int
	fmt.Sscanf(prom, "%d.%d.%d", &major, &minor, &patch)
	for _, want := range []string{"PROMETHEUS_VERSION=" + prom, fmt.Sprintf("PROMETHEUS_MODULE_VERSION=v0.%d%02d.%d", major, minor, patch), "ALERTMANAGER_VERSION=" + am} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("make tools must build %s (the pinned images' releases); it says:\n%s", want, out)
		}
	}
}
