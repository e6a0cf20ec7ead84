package docker

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

func TestEntrypointIsPOSIXClean(t *testing.T) {
	shellcheck, err := tools.Find("shellcheck")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, "-s", "sh", "entrypoint.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// fakePrometheus records its arguments and the config it was pointed at.
func fakePrometheus(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "prometheus")
	script := "#!/bin/sh\nfor a in \"$@\"; do echo \"ARG $a\"; done\n" +
		"for a in \"$@\"; do case $a in --config.file=*) echo \"CONFIG $(cat \"${a#--config.file=}\")\";; esac; done\n" +
		"env | grep -q PROMETHEUS_CONFIG_YAML && echo LEAKED\nexit 0\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestEntrypointBothCallingConventions runs the script the way the image
// does (as a file) and the way the ECS task does (sh -c "<script>" name args).
func TestEntrypointBothCallingConventions(t *testing.T) {
	for name, argv := range map[string][]string{
		"image": {"sh", "entrypoint.sh", "--storage.tsdb.retention.time=15d"},
		"ecs":   {"sh", "-c", Entrypoint, "prometheus-entrypoint", "--storage.tsdb.retention.time=15d"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = []string{
				"PATH=" + os.Getenv("PATH"),
				"PROMETHEUS_BIN=" + fakePrometheus(t, dir),
				"PROMETHEUS_RUNTIME_DIR=" + filepath.Join(dir, "run"),
				"PROMETHEUS_CONFIG_YAML=global:\n  scrape_interval: 7s",
				"PROMETHEUS_WEB_CONFIG_YAML=basic_auth_users: {}",
				"PROMETHEUS_PORT=9191",
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got := string(out)
			for _, want := range []string{
				"ARG --config.file=" + filepath.Join(dir, "run", "prometheus.yml"),
				"ARG --storage.tsdb.path=/prometheus",
				"ARG --web.listen-address=:9191",
				"ARG --storage.tsdb.retention.time=15d",
				"ARG --web.config.file=" + filepath.Join(dir, "run", "web.yml"),
				"CONFIG global:",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
			// The fake prints the config once; the entrypoint itself never does.
			if strings.Count(got, "scrape_interval: 7s") != 1 || strings.Contains(got, "basic_auth_users") {
				t.Errorf("the entrypoint must not echo the configuration:\n%s", got)
			}
			if strings.Contains(got, "LEAKED") {
				t.Error("config content must not stay in Prometheus's environment")
			}
			if st, err := os.Stat(filepath.Join(dir, "run", "web.yml")); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("web config must be private (0600): %v", err)
			}
		})
	}
}

func TestEntrypointFallsBackToBakedConfig(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "entrypoint.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PROMETHEUS_BIN=" + fakePrometheus(t, dir)}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "ARG --config.file=/etc/prometheus/prometheus.yml") || strings.Contains(string(out), "web.config.file") {
		t.Fatalf("without PROMETHEUS_CONFIG_YAML the baked config is used, and no web config:\n%s", out)
	}
}

func TestDockerfilePinsTheDeployedImage(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if from, ok := strings.CutPrefix(sc.Text(), "FROM "); ok {
			if strings.TrimSpace(from) != config.DefaultPrometheusImage {
				t.Fatalf("Dockerfile FROM %s, but the task runs %s: bump both together", from, config.DefaultPrometheusImage)
			}
			return
		}
	}
	t.Fatal("Dockerfile has no FROM line")
}

func TestDefaultConfigIsGenerated(t *testing.T) {
	want, err := promconfig.Generate(config.Defaults()).YAML()
	if err != nil {
		t.Fatal(err)
	}
	if DefaultConfig != string(want) {
		t.Fatal("docker/prometheus.yml differs from the generated default: run make docker-config")
	}
	promtool, err := tools.Find("promtool")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", "prometheus.yml").CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
}
