package fargate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// PrometheusBase is the base image the official Prometheus Dockerfile
// names (FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest, linux/amd64).
const PrometheusBase = "quay.io/prometheus/busybox-linux-amd64:latest"

// LocalImage is the image docker/Dockerfile builds (`docker build -t
// prometheus-aws docker/`): the official image with the generated
// configuration baked in.
const LocalImage = "prometheus-aws"

// CatalogOptions locate what the product's image replicas are built from.
type CatalogOptions struct {
	// PrometheusImage is the official image the stack deploys, e.g.
	// prom/prometheus:v3.16.0 (config.DefaultPrometheusImage).
	PrometheusImage string
	// AlertmanagerImage is the official image of the bundled Alertmanager,
	// e.g. prom/alertmanager:v0.35.0 (config.DefaultAlertmanagerImage),
	// built with the alertmanager and amtool make tools built. Empty leaves
	// it out.
	AlertmanagerImage string
	// ToolsBin holds the prometheus and promtool binaries make tools built
	// (static, as release builds are), and prometheus-ui if it was built.
	ToolsBin string
	// DockerDir is this repository's docker/ folder (LocalImage's context);
	// empty leaves LocalImage out.
	DockerDir string
	// CacheDir holds the built replicas.
	CacheDir string
}

// Catalog is the product's image catalog: the official Prometheus image
// built from its own Dockerfile (in the Go module cache, the version the
// image tag names) with the binaries make tools built, on the busybox
// base; and docker/Dockerfile's image on top of it.
func Catalog(o CatalogOptions) (*Images, error) {
	module, err := PrometheusModuleVersion(o.PrometheusImage)
	if err != nil {
		return nil, err
	}
	dir, err := moduleDir("github.com/prometheus/prometheus", module)
	if err != nil {
		return nil, err
	}
	build := ".build/linux-amd64/"
	// The build with the web UI (scripts/build-prometheus-ui.sh), as the
	// release binary in the image has it, when there is one.
	prometheus := filepath.Join(o.ToolsBin, "prometheus")
	if _, err := os.Stat(filepath.Join(o.ToolsBin, "prometheus-ui")); err == nil {
		prometheus = filepath.Join(o.ToolsBin, "prometheus-ui")
	}
	imgs := &Images{CacheDir: o.CacheDir, Sources: map[string]Source{
		PrometheusBase: Busybox{},
		o.PrometheusImage: Dockerfile{
			Path: filepath.Join(dir, "Dockerfile"), Context: dir,
			Files: map[string]string{
				build + "prometheus": prometheus,
				build + "promtool":   filepath.Join(o.ToolsBin, "promtool"),
			},
			// Nothing in the task runs promtool; make tools-light skips it.
			Optional: []string{build + "promtool"},
			Args:     map[string]string{"ARCH": "amd64", "OS": "linux"},
		},
	}}
	if o.AlertmanagerImage != "" {
		version, err := AlertmanagerModuleVersion(o.AlertmanagerImage)
		if err != nil {
			return nil, err
		}
		dir, err := moduleDir("github.com/prometheus/alertmanager", version)
		if err != nil {
			return nil, err
		}
		imgs.Sources[o.AlertmanagerImage] = Dockerfile{
			Path: filepath.Join(dir, "Dockerfile"), Context: dir,
			Files: map[string]string{
				build + "alertmanager": filepath.Join(o.ToolsBin, "alertmanager"),
				build + "amtool":       filepath.Join(o.ToolsBin, "amtool"),
			},
			Args: map[string]string{"ARCH": "amd64", "OS": "linux"},
		}
	}
	if o.DockerDir != "" {
		imgs.Sources[LocalImage] = Dockerfile{Path: filepath.Join(o.DockerDir, "Dockerfile"), Context: o.DockerDir}
	}
	return imgs, nil
}

var prometheusTag = regexp.MustCompile(`^(?:.*/)?prometheus:v3\.(\d+)\.(\d+)$`)

// PrometheusModuleVersion maps an official image tag to the Go module
// version of the same release: Prometheus 3.X.Y is module v0.3XX.Y
// (prom/prometheus:v3.16.0 -> v0.316.0).
func PrometheusModuleVersion(image string) (string, error) {
	m := prometheusTag.FindStringSubmatch(image)
	if m == nil {
		return "", fmt.Errorf("image %q is not an official Prometheus 3 tag (prom/prometheus:v3.X.Y)", image)
	}
	minor := m[1]
	if len(minor) == 1 {
		minor = "0" + minor
	}
	return fmt.Sprintf("v0.3%s.%s", minor, m[2]), nil
}

var alertmanagerTag = regexp.MustCompile(`^(?:.*/)?alertmanager:(v0\.\d+\.\d+)$`)

// AlertmanagerModuleVersion maps an official Alertmanager image tag to its
// Go module version, the same (prom/alertmanager:v0.35.0 -> v0.35.0).
func AlertmanagerModuleVersion(image string) (string, error) {
	m := alertmanagerTag.FindStringSubmatch(image)
	if m == nil {
		return "", fmt.Errorf("image %q is not an official Alertmanager tag (prom/alertmanager:v0.X.Y)", image)
	}
	return m[1], nil
}

// moduleDir is a module's folder in the Go module cache.
func moduleDir(path, version string) (string, error) {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("go env GOMODCACHE: %w", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(cache, path+"@"+version)
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return "", fmt.Errorf("the recipe of the image (%s@%s/Dockerfile) is not in the Go module cache: run make tools", path, version)
	}
	return dir, nil
}
