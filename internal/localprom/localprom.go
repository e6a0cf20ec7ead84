// Package localprom runs Prometheus locally the way the Fargate task runs
// it: docker/entrypoint.sh, the generated configuration plus the local
// overlay, and the basic auth web config and password from the stack's
// secret, here read from the emulator. Shared by the demo and the tests.
package localprom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/docker"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// Local is a running Prometheus and, unless Options.TargetAddress was
// given, the node_exporter every target uses.
type Local struct {
	Prometheus *proc.Process
	// NodeExporter is nil when Options.TargetAddress was given.
	NodeExporter *proc.Process
	API          *promapi.Client
	// ConfigFile is the effective prometheus.yml, for people to read.
	ConfigFile string
}

// Stop ends both processes.
func (l *Local) Stop() {
	l.Prometheus.Stop()
	if l.NodeExporter != nil {
		l.NodeExporter.Stop()
	}
}

// Options tune StartWith.
type Options struct {
	// Binary is the Prometheus to run; empty means the one `make tools` built.
	Binary string
	// TargetAddress (host:port on loopback) is where every discovered node
	// is scraped instead of a node_exporter of its own, which is then not
	// started (the bench serves many targets from one recorded page).
	TargetAddress string
	// RemoteWriteURL (loopback) receives the remote write of storageMode
	// amp; empty drops it (the emulator's workspace ingests nothing).
	RemoteWriteURL string
}

// Start runs node_exporter and Prometheus (on s.PrometheusPort) under dir.
// Binary is the Prometheus to run; empty means the one `make tools` built.
func Start(ctx context.Context, s *config.Settings, emu *emulator.Emulator, dir, binary string) (*Local, error) {
	return StartWith(ctx, s, emu, dir, Options{Binary: binary})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, s *config.Settings, emu *emulator.Emulator, dir string, o Options) (*Local, error) {
	binary, target := o.Binary, o.TargetAddress
	var err error
	if binary == "" {
		if binary, err = tools.Find("prometheus"); err != nil {
			return nil, err
		}
	}
	// ne stays nil with a given target.
	var ne *proc.Process
	if target == "" {
		if ne, target, err = startNodeExporter(ctx, s, dir); err != nil {
			return nil, err
		}
	}
	stopNE := func() {
		if ne != nil {
			ne.Stop()
		}
	}

	cfg := promconfig.Generate(s)
	if err := cfg.ApplyLocal(promconfig.LocalOptions{
		Endpoint: emu.Endpoint(), AccessKey: emulator.AccessKey, SecretKey: emulator.SecretKey,
		TargetAddress: target, CAFile: emu.CAFile,
		RemoteWriteURL: o.RemoteWriteURL,
	}); err != nil {
		stopNE()
		return nil, err
	}
	yaml, err := cfg.YAML()
	if err != nil {
		stopNE()
		return nil, err
	}
	runtime := filepath.Join(dir, "run")
	// Only what the task would get: Prometheus 3 discovers nothing while
	// AWS_CA_BUNDLE is set, and no AWS variable belongs here.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"PROMETHEUS_BIN=" + binary,
		"PROMETHEUS_RUNTIME_DIR=" + runtime,
		"PROMETHEUS_STORAGE_PATH=" + filepath.Join(dir, "data"),
		"PROMETHEUS_PORT=" + strconv.Itoa(s.PrometheusPort),
		"PROMETHEUS_CONFIG_YAML=" + string(yaml),
		"PROMETHEUS_RULES_YAML=" + string(alerting.Rules()),
	}
	api := promapi.New(fmt.Sprintf("http://127.0.0.1:%d", s.PrometheusPort))
	ready := api.BaseURL + "/-/ready"
	if s.BasicAuth {
		secret, err := BasicAuthSecret(ctx, emu, s)
		if err != nil {
			stopNE()
			return nil, err
		}
		env = append(env, "PROMETHEUS_WEB_CONFIG_YAML="+secret["web_config"], "PROMETHEUS_BASIC_AUTH_PASSWORD="+secret["password"])
		api.Username, api.Password = secret["username"], secret["password"]
		ready = fmt.Sprintf("http://%s@127.0.0.1:%d/-/ready", url.UserPassword(api.Username, api.Password), s.PrometheusPort)
	}
	p, err := proc.Start(ctx, proc.Spec{Name: "prometheus", Path: "sh", Dir: dir, Env: env,
		Args: []string{"-c", docker.Entrypoint, "prometheus-entrypoint", "--storage.tsdb.retention.time=" + s.TSDBRetention()}})
	if err != nil {
		stopNE()
		return nil, err
	}
	l := &Local{Prometheus: p, NodeExporter: ne, API: api, ConfigFile: filepath.Join(runtime, "prometheus.yml")}
	if err := proc.WaitHTTP(ctx, ready, p); err != nil {
		l.Stop()
		return nil, err
	}
	return l, nil
}

// startNodeExporter runs node_exporter on a free loopback port other than
// Prometheus's and returns it with its address.
func startNodeExporter(ctx context.Context, s *config.Settings, dir string) (*proc.Process, string, error) {
	bin, err := tools.Find("node_exporter")
	if err != nil {
		return nil, "", err
	}
	port, err := proc.FreePort()
	for err == nil && port == s.PrometheusPort {
		port, err = proc.FreePort()
	}
	if err != nil {
		return nil, "", err
	}
	ne, err := proc.Start(ctx, proc.Spec{Name: "node_exporter", Path: bin, Dir: dir,
		Args: []string{"--web.listen-address=127.0.0.1:" + strconv.Itoa(port)}})
	if err != nil {
		return nil, "", err
	}
	return ne, fmt.Sprintf("127.0.0.1:%d", port), nil
}

// SecretName is the basic auth secret of the settings' stack.
func SecretName(s *config.Settings) string { return s.StackName() + "-prometheus-basic-auth" }

// BasicAuthSecret reads username, password and web_config from the
// stack's secret in the emulator.
func BasicAuthSecret(ctx context.Context, emu *emulator.Emulator, s *config.Settings) (map[string]string, error) {
	cfg, err := emu.AWSConfig(ctx, s.Region)
	if err != nil {
		return nil, err
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(SecretName(s))})
	if err != nil {
		return nil, fmt.Errorf("basic auth secret %s: %w", SecretName(s), err)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return nil, fmt.Errorf("basic auth secret %s is not JSON: %w", SecretName(s), err)
	}
	if len(v["password"]) < 24 || !strings.HasPrefix(v["web_config"], "basic_auth_users:") {
		return nil, fmt.Errorf("basic auth secret %s lacks a strong password or a web config", SecretName(s))
	}
	return v, nil
}
