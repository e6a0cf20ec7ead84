package fargate

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
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
	// defaults.PrometheusImage (the pinned prom/prometheus).
	PrometheusImage string
	// AlertmanagerImage is the official image of the bundled Alertmanager,
	// e.g. defaults.AlertmanagerImage (the pinned prom/alertmanager),
	// built with the alertmanager and amtool make tools built. Empty leaves
	// it out.
	AlertmanagerImage string
	// ToolsBin holds the prometheus and promtool binaries make tools built
	// (static, as release builds are; prometheus with its web UI when the
	// UI could be built).
	ToolsBin string
	// ConfigSyncImage is the official AWS CLI v2 image of the config-sync
	// sidecar, e.g. defaults.ConfigSyncImage
	// (config.DefaultConfigSyncImage), replicated from Debian's awscli
	// package (AWSCLIDebs). Empty leaves it out.
	ConfigSyncImage string
	// AWSCLIDebs holds Debian's awscli package and its dependencies, as make
	// tools downloads them; default ToolsBin/../debs/awscli.
	AWSCLIDebs string
	// NodeExporterImage is node_exporter's official image
	// (prom/node-exporter:vX.Y.Z or quay.io/prometheus/node-exporter:...),
	// built from its own Dockerfile in the Go module cache with
	// NodeExporterBin: a stand-in for a user's workload on ECS (the ECS
	// discovery test). Empty leaves it out.
	NodeExporterImage string
	// NodeExporterBin is a static node_exporter of the image's version;
	// default ToolsBin/node_exporter (make tools builds it static).
	NodeExporterBin string
	// DockerDir is this repository's docker/ folder (LocalImage's context);
	// empty leaves LocalImage out.
	DockerDir string
	// CacheDir holds the built replicas.
	CacheDir string
}

// Catalog is the product's image catalog: the official Prometheus image
// built from its own Dockerfile (in the Go module cache, the version the
// image tag names) with the binaries make tools built, on the busybox
// base; docker/Dockerfile's image on top of it; and, with ConfigSyncImage,
// the AWS CLI image unpacked from Debian's packages (the named exception).
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
	prometheus := filepath.Join(o.ToolsBin, "prometheus")
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
	if o.ConfigSyncImage != "" {
		src, err := awsCLI(o)
		if err != nil {
			return nil, err
		}
		imgs.Sources[o.ConfigSyncImage] = src
	}
	if o.NodeExporterImage != "" {
		src, err := nodeExporter(o)
		if err != nil {
			return nil, err
		}
		imgs.Sources[o.NodeExporterImage] = src
	}
	if o.DockerDir != "" {
		imgs.Sources[LocalImage] = Dockerfile{Path: filepath.Join(o.DockerDir, "Dockerfile"), Context: o.DockerDir}
	}
	imgs.Aliases = cacheUpstreamNames(imgs.Sources)
	return imgs, nil
}

// cacheUpstreamNames are the names the images of sources have on the
// registry ECR's pull through cache pulls them from, where they differ
// (alias -> image): quay.io/prometheus/prometheus:vX.Y.Z is the release
// prom/prometheus:vX.Y.Z is (imageref.Cached holds that mapping, which the
// stack's cache follows), so a task pulling through a cache rule gets the
// same replica.
func cacheUpstreamNames(sources map[string]Source) map[string]string {
	aliases := map[string]string{}
	for image := range sources {
		u, path, err := imageref.Cached(image)
		if err != nil {
			continue // not reachable through the cache: it has no other name
		}
		ref, _ := imageref.Parse(image) // Cached parsed it
		if upstream := u.URL + "/" + path + ref.Version(); upstream != image {
			aliases[upstream] = image
		}
	}
	return aliases
}

var prometheusTag = regexp.MustCompile(`^(?:.*/)?prometheus:v3\.(\d+)\.(\d+)(?:@sha256:[0-9a-f]{64})?$`)

// PrometheusModuleVersion maps an official image tag to the Go module
// version of the same release: Prometheus 3.X.Y is module v0.3XX.Y
// (prom/prometheus:v3.X.Y -> v0.3XX.Y).
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

var alertmanagerTag = regexp.MustCompile(`^(?:.*/)?alertmanager:(v0\.\d+\.\d+)(?:@sha256:[0-9a-f]{64})?$`)

// AlertmanagerModuleVersion maps an official Alertmanager image tag to its
// Go module version, the same (prom/alertmanager:v0.X.Y -> v0.X.Y).
func AlertmanagerModuleVersion(image string) (string, error) {
	m := alertmanagerTag.FindStringSubmatch(image)
	if m == nil {
		return "", fmt.Errorf("image %q is not an official Alertmanager tag (prom/alertmanager:v0.X.Y)", image)
	}
	return m[1], nil
}

var nodeExporterTag = regexp.MustCompile(`^(?:.*/)?node-exporter:(v1\.\d+\.\d+)(?:@sha256:[0-9a-f]{64})?$`)

// nodeExporter is the replica of node_exporter's official image: its
// Dockerfile (busybox base, /bin/node_exporter, USER nobody) with the
// binary make tools built, which must be static as a release's is (the
// base has no libc).
func nodeExporter(o CatalogOptions) (Dockerfile, error) {
	m := nodeExporterTag.FindStringSubmatch(o.NodeExporterImage)
	if m == nil {
		return Dockerfile{}, fmt.Errorf("image %q is not an official node_exporter tag (prom/node-exporter:v1.X.Y)", o.NodeExporterImage)
	}
	dir, err := moduleDir("github.com/prometheus/node_exporter", m[1])
	if err != nil {
		return Dockerfile{}, err
	}
	bin := o.NodeExporterBin
	if bin == "" {
		bin = filepath.Join(o.ToolsBin, "node_exporter")
	}
	f, err := elf.Open(bin)
	if err != nil {
		return Dockerfile{}, fmt.Errorf("node_exporter for the replica of %s: %w (run make tools)", o.NodeExporterImage, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return Dockerfile{}, fmt.Errorf("%s is dynamically linked: the replica of %s (busybox, no libc) cannot run it; run make tools, which builds it static as a release is", bin, o.NodeExporterImage)
		}
	}
	return Dockerfile{
		Path: filepath.Join(dir, "Dockerfile"), Context: dir,
		Files: map[string]string{".build/linux-amd64/node_exporter": bin},
		Args:  map[string]string{"ARCH": "amd64", "OS": "linux"},
	}, nil
}

var awsCLITag = regexp.MustCompile(`^(?:.*/)?aws-cli(?::2\.\d+\.\d+(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$`)

// awsCLI is the replica of the official AWS CLI v2 image
// (public.ecr.aws/aws-cli/aws-cli: Amazon Linux 2, AWS CLI v2 in
// /usr/local/aws-cli, linked from /usr/local/bin/aws), which cannot be
// built here: Debian 12's awscli package (AWS CLI v2, an older release)
// with its dependencies, under the image's configuration and at its path.
func awsCLI(o CatalogOptions) (DebianPackages, error) {
	if !awsCLITag.MatchString(o.ConfigSyncImage) {
		return DebianPackages{}, fmt.Errorf("image %q is not an official AWS CLI v2 image (public.ecr.aws/aws-cli/aws-cli:2.X.Y or a digest of it): the local runner has no replica of it", o.ConfigSyncImage)
	}
	dir := o.AWSCLIDebs
	if dir == "" {
		dir = filepath.Join(o.ToolsBin, "..", "debs", "awscli")
	}
	if debs, _ := filepath.Glob(filepath.Join(dir, "awscli_*.deb")); len(debs) == 0 {
		return DebianPackages{}, fmt.Errorf("the replica of %s is built from Debian's awscli package, and %s has no awscli_*.deb: run make tools", o.ConfigSyncImage, dir)
	}
	return DebianPackages{
		Dir: dir,
		Config: ImageConfig{
			Entrypoint: []string{"/usr/local/bin/aws"},
			WorkingDir: "/aws",
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		Links: map[string]string{
			"/usr/local/bin/aws": "/usr/bin/aws",
			// Debian's awscli trusts its own copy of the public roots, as
			// the image's does; linked to the system bundle (as Debian's
			// python3-botocore links its own) so that the CLI trusts the
			// emulator's certificate the runner puts there.
			"/usr/lib/python3/dist-packages/awscli/botocore/cacert.pem": CABundle,
		},
	}, nil
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
