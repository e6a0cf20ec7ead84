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

// Local is a running Prometheus and the node_exporter every target uses.
type Local struct {
	Prometheus, NodeExporter *proc.Process
	API                      *promapi.Client
	// ConfigFile is the effective prometheus.yml, for people to read.
	ConfigFile string
}

// Stop ends both processes.
func (l *Local) Stop() {
	l.Prometheus.Stop()
	l.NodeExporter.Stop()
}

// Start runs node_exporter and Prometheus (on s.PrometheusPort) under dir.
// Binary is the Prometheus to run; empty means the one `make tools` built.
func Start(ctx context.Context, s *config.Settings, emu *emulator.Emulator, dir, binary string, opts ...Option) (*Local, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	neBin, err := tools.Find("node_exporter")
	if err != nil {
		return nil, err
	}
	if binary == "" {
		if binary, err = tools.Find("prometheus"); err != nil {
			return nil, err
		}
	}
	nePort, err := proc.FreePort()
	for err == nil && nePort == s.PrometheusPort {
		nePort, err = proc.FreePort()
	}
	if err != nil {
		return nil, err
	}
	ne, err := proc.Start(ctx, proc.Spec{Name: "node_exporter", Path: neBin, Dir: dir,
		Args: []string{"--web.listen-address=127.0.0.1:" + strconv.Itoa(nePort)}})
	if err != nil {
		return nil, err
	}

	cfg := promconfig.Generate(s)
	if err := cfg.ApplyLocal(promconfig.LocalOptions{
		Endpoint: emu.Endpoint(), AccessKey: emulator.AccessKey, SecretKey: emulator.SecretKey,
		TargetAddress: fmt.Sprintf("127.0.0.1:%d", nePort), CAFile: emu.CAFile,
		RemoteWriteURL: o.remoteWriteURL,
	}); err != nil {
		ne.Stop()
		return nil, err
	}
	yaml, err := cfg.YAML()
	if err != nil {
		ne.Stop()
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
			ne.Stop()
			return nil, err
		}
		env = append(env, "PROMETHEUS_WEB_CONFIG_YAML="+secret["web_config"], "PROMETHEUS_BASIC_AUTH_PASSWORD="+secret["password"])
		api.Username, api.Password = secret["username"], secret["password"]
		ready = fmt.Sprintf("http://%s@127.0.0.1:%d/-/ready", url.UserPassword(api.Username, api.Password), s.PrometheusPort)
	}
	p, err := proc.Start(ctx, proc.Spec{Name: "prometheus", Path: "sh", Dir: dir, Env: env,
		Args: []string{"-c", docker.Entrypoint, "prometheus-entrypoint", "--storage.tsdb.retention.time=" + s.TSDBRetention()}})
	if err != nil {
		ne.Stop()
		return nil, err
	}
	l := &Local{Prometheus: p, NodeExporter: ne, API: api, ConfigFile: filepath.Join(runtime, "prometheus.yml")}
	if err := proc.WaitHTTP(ctx, ready, p); err != nil {
		l.Stop()
		return nil, err
	}
	return l, nil
}

// Option changes how Start runs Prometheus.
type Option func(*options)

type options struct{ remoteWriteURL string }

// WithRemoteWrite sends the remote write of storageMode amp to url (a
// loopback receiver) instead of dropping it.
func WithRemoteWrite(url string) Option { return func(o *options) { o.remoteWriteURL = url } }

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
