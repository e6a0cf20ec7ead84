package fargate

import (
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
)

// A tag pinned by digest (Renovate's pinDigests) still names the release
// the replica is built from; anything else is refused.
func TestModuleVersionsOfPinnedTags(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("0f", 32)
	for image, want := range map[string]string{
		"prom/prometheus:v3.16.0":                        "v0.316.0",
		"quay.io/prometheus/prometheus:v3.16.0" + digest: "v0.316.0",
		"prom/prometheus:v3.2.1" + digest:                "v0.302.1",
	} {
		if got, err := PrometheusModuleVersion(image); err != nil || got != want {
			t.Errorf("PrometheusModuleVersion(%s) = %q, %v; want %q", image, got, err, want)
		}
	}
	for image, want := range map[string]string{
		"prom/alertmanager:v0.35.0":                        "v0.35.0",
		"quay.io/prometheus/alertmanager:v0.35.0" + digest: "v0.35.0",
	} {
		if got, err := AlertmanagerModuleVersion(image); err != nil || got != want {
			t.Errorf("AlertmanagerModuleVersion(%s) = %q, %v; want %q", image, got, err, want)
		}
	}
	for _, image := range []string{"prom/prometheus:v3.16.0@sha256:abc", "prom/prometheus:latest" + digest, "prom/alertmanager:v0.35.0@md5:" + strings.Repeat("0f", 16)} {
		if _, err := PrometheusModuleVersion(image); err == nil {
			t.Errorf("PrometheusModuleVersion(%s): want a refusal", image)
		}
		if _, err := AlertmanagerModuleVersion(image); err == nil {
			t.Errorf("AlertmanagerModuleVersion(%s): want a refusal", image)
		}
	}
}

// node_exporter's replica is its official image's recipe with the binary
// make tools built, which must be static: the base has no libc, so a
// dynamic one would fail only when a task starts, with a puzzling "not
// found".
func TestNodeExporterReplicaNeedsAStaticBinary(t *testing.T) {
	image := "prom/node-exporter:v" + userdata.Version()
	if _, err := nodeExporter(CatalogOptions{NodeExporterImage: image, NodeExporterBin: "/bin/ls"}); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("a dynamic node_exporter (/bin/ls stands in): %v, want a refusal naming it dynamically linked", err)
	}
	src, err := nodeExporter(CatalogOptions{NodeExporterImage: image, NodeExporterBin: busyboxBinary})
	if err != nil {
		t.Fatalf("a static binary (busybox stands in): %v", err)
	}
	if src.Files[".build/linux-amd64/node_exporter"] != busyboxBinary || !strings.HasSuffix(src.Path, "node_exporter@v"+userdata.Version()+"/Dockerfile") {
		t.Errorf("replica recipe %+v: want node_exporter's own Dockerfile with the given binary", src)
	}
	if _, err := nodeExporter(CatalogOptions{NodeExporterImage: "prom/node-exporter:latest", NodeExporterBin: busyboxBinary}); err == nil {
		t.Error("an unversioned tag: want a refusal")
	}
}
