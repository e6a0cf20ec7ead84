// Package tools finds the external programs tests and the demo run
// (promtool, prometheus, node_exporter, terraform): an explicit environment
// variable first, then the per-machine cache that `make tools` fills, then
// PATH. A missing tool is an error that says how to get it.
package tools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Bin is the cache `make tools` installs into.
func Bin() string {
	if dir := os.Getenv("PROMAWS_TOOLS_BIN"); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "prometheus-aws", "bin")
}

// Find returns the path of tool (e.g. "promtool"); $PROMTOOL style
// variables (upper-cased name) override the search.
func Find(name string) (string, error) {
	if p := os.Getenv(strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); p != "" {
		return p, nil
	}
	if p := filepath.Join(Bin(), name); isExecutable(p) {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in %s or PATH: run `make tools`", name, Bin())
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// PrometheusWithoutUI is why the prometheus make tools built has no web UI
// (scripts/install-tools.sh records it when the UI build fails), or "".
func PrometheusWithoutUI() string {
	data, err := os.ReadFile(filepath.Join(Bin(), ".prometheus.no-ui"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
