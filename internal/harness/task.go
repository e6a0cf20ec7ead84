// Package harness holds what the demo, make bench and the end-to-end tests
// share to run the product against the emulator. This file runs the
// stack's Prometheus task the way Fargate would: the task definition as
// the emulator holds it after terraform apply, through the local Fargate
// runner (internal/fargate), with node_exporter standing in for the nodes.
package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// Fargate runs the tasks of stacks applied to the emulator.
type Fargate struct {
	Runner *fargate.Runner
	emu    *emulator.Emulator
}

// NewFargate prepares a runner whose state (task folders, EFS data) lives
// in dir. The image replicas are cached beside the tools make tools built.
func NewFargate(ctx context.Context, emu *emulator.Emulator, dir string) (*Fargate, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	nodeExporter, err := tools.Find("node_exporter")
	if err != nil {
		return nil, err
	}
	imgs, err := fargate.Catalog(fargate.CatalogOptions{
		PrometheusImage:   config.DefaultPrometheusImage,
		AlertmanagerImage: config.DefaultAlertmanagerImage,
		ConfigSyncImage:   config.DefaultConfigSyncImage,
		NodeExporterImage: NodeExporterImage,
		NodeExporterBin:   nodeExporter,
		ToolsBin:          tools.Bin(),
		DockerDir:         filepath.Join(root, "docker"),
		CacheDir:          filepath.Join(tools.Bin(), "..", "images"),
	})
	if err != nil {
		return nil, err
	}
	r, err := fargate.New(ctx, fargate.Options{Images: imgs, AWS: emu.AWSConfig, Dir: dir})
	if err != nil {
		return nil, err
	}
	emu.Override(ecsView(r))
	return &Fargate{Runner: r, emu: emu}, nil
}

// NodeExporterImage is node_exporter's official image at the version the
// nodes install: the runner's stand-in for a user's own task on ECS.
var NodeExporterImage = "prom/node-exporter:v" + userdata.Version()

// moduleRoot is the folder of this module's go.mod, above the working
// directory (tests run in their package's folder, the demo at the root).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/prometheus-aws/prometheus-aws\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the prometheus-aws module: run from the repository")
		}
		dir = parent
	}
}

// TaskOptions place the Prometheus task.
type TaskOptions struct {
	// NodeExporter is where every node scrape goes (the emulated
	// instances' addresses exist nowhere); empty starts a node_exporter.
	NodeExporter string
	// RemoteWrite receives storageMode=amp's remote write (host:port on
	// loopback); empty leaves nothing listening there.
	RemoteWrite string
	// HostPort publishes Prometheus's port on 127.0.0.1:HostPort, and
	// AlertmanagerHostPort the bundled Alertmanager's; 0 picks a free port.
	HostPort             int
	AlertmanagerHostPort int
	// Dir holds node_exporter's log; default a new temp folder.
	Dir string
	// ConfigYAML, when set, is put into the stack's configuration parameter
	// before the task starts (ECS reads secrets at start): make bench runs
	// variants of the intervals this way. Default: the applied value.
	ConfigYAML string
	// Egress adds what the task reaches besides the emulator, the nodes and
	// the remote-write receiver: port inside the task -> loopback host:port
	// (fargate.RunOptions.Egress), e.g. the published port of another task
	// the runner runs, which ECS discovery finds at fargate.ENIAddress.
	Egress map[int]string
	// PrivateRegistryOnly runs the task as in subnets without a route to
	// the internet (fargate.RunOptions.PrivateRegistryOnly): every image
	// must come from the account's private ECR registry, e.g. through the
	// stack's pull through cache; Task.Pulled says what was pulled. Always
	// on when the stack's private subnets have none (natGateways=none).
	PrivateRegistryOnly bool
	// CPU and Memory, when set, replace the task definition's size (cpu
	// units, MiB), as if the stack were synthesized with taskCpu and
	// taskMemory: make bench's sizing runs each size this way.
	CPU, Memory string
}

// PrometheusTask is the stack's Prometheus task under the runner.
type PrometheusTask struct {
	Task *fargate.Task
	// API reaches Prometheus through the task's port mapping, with the
	// basic auth credentials of the stack's secret when it has one.
	API *promapi.Client
	// NodeExporter is nil when TaskOptions.NodeExporter was given;
	// NodeExporterAddress is where every node scrape goes.
	NodeExporter        *proc.Process
	NodeExporterAddress string
	// AlertmanagerURL reaches the bundled Alertmanager through the task's
	// port mapping (same credentials as API); "" without one.
	AlertmanagerURL string
}

// AlertmanagerLogTail is the last n lines of the bundled Alertmanager's
// output.
func (p *PrometheusTask) AlertmanagerLogTail(n int) string {
	if c := p.Task.Container(taskcontract.AlertmanagerContainerName); c != nil {
		return c.LogTail(n)
	}
	return ""
}

// Container is the Prometheus container.
func (p *PrometheusTask) Container() *fargate.Container {
	return p.Task.Container(taskcontract.ContainerName)
}

// LogTail is the last n lines of Prometheus's output, then those of every
// other container of the task, each under its name, status and exit code.
func (p *PrometheusTask) LogTail(n int) string {
	var b strings.Builder
	b.WriteString(p.Container().LogTail(n))
	for _, c := range p.Task.Containers {
		if c.Name == taskcontract.ContainerName {
			continue
		}
		code, exited := c.ExitCode()
		fmt.Fprintf(&b, "\n--- container %s: %s", c.Name, c.Status())
		if exited {
			fmt.Fprintf(&b, ", exit code %d", code)
		}
		b.WriteString(" ---\n" + c.LogTail(n))
	}
	return b.String()
}

// Stop stops the task as ECS does, then node_exporter.
func (p *PrometheusTask) Stop() {
	p.Task.Stop("stopped by the harness")
	if p.NodeExporter != nil {
		p.NodeExporter.Stop()
	}
}

// RunPrometheus runs one task of the stack's Prometheus service from the
// task definition the service names in the emulator, and waits until
// Prometheus is ready.
func (f *Fargate) RunPrometheus(ctx context.Context, s *config.Settings, o TaskOptions) (*PrometheusTask, error) {
	def, err := f.ServiceTaskDefinition(ctx, s)
	if err != nil {
		return nil, err
	}
	if o.CPU != "" {
		def.Cpu = aws.String(o.CPU)
	}
	if o.Memory != "" {
		def.Memory = aws.String(o.Memory)
	}
	if o.ConfigYAML != "" {
		if err := f.putConfig(ctx, s, o.ConfigYAML); err != nil {
			return nil, err
		}
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "node-exporter-"); err != nil {
			return nil, err
		}
	}
	p := &PrometheusTask{}
	target := o.NodeExporter
	if target == "" {
		if p.NodeExporter, target, err = StartNodeExporter(ctx, o.Dir); err != nil {
			return nil, err
		}
	}
	egress, err := f.egress(s, target, o.RemoteWrite)
	if err != nil {
		p.stopNodeExporter()
		return nil, err
	}
	for port, addr := range o.Egress {
		if _, taken := egress[port]; taken {
			p.stopNodeExporter()
			return nil, fmt.Errorf("TaskOptions.Egress: port %d is already the emulator's, the nodes' or the remote-write receiver's", port)
		}
		egress[port] = addr
	}
	task, err := f.Runner.Run(ctx, def, fargate.RunOptions{
		Region: s.Region, Cluster: s.StackName(), Egress: egress,
		HostPorts: map[int]int{s.PrometheusPort: o.HostPort, s.AlertmanagerPort: o.AlertmanagerHostPort}, TrustedCA: f.emu.CAFile,
		Group: "service:" + ServiceName(s), PrivateRegistryOnly: o.PrivateRegistryOnly || noRouteOut(s),
	})
	if err != nil {
		p.stopNodeExporter()
		return nil, fmt.Errorf("the Prometheus task did not start: %w", err)
	}
	p.Task = task
	p.NodeExporterAddress = target
	p.API = promapi.New("http://" + task.Endpoint(s.PrometheusPort))
	if s.AlertDelivery() == config.AlertDeliveryBundled {
		p.AlertmanagerURL = "http://" + task.Endpoint(s.AlertmanagerPort) + taskcontract.AlertmanagerRoutePrefix
	}
	if s.BasicAuth {
		secret, err := f.BasicAuthSecret(ctx, s)
		if err != nil {
			p.Stop()
			return nil, err
		}
		p.API.Username, p.API.Password = secret["username"], secret["password"]
	}
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// noRouteOut reports whether the task's subnets have no route to the
// internet: private ones without a NAT gateway.
func noRouteOut(s *config.Settings) bool {
	return s.Private() && s.NatGateways == config.NatNone
}

func (p *PrometheusTask) stopNodeExporter() {
	if p.NodeExporter != nil {
		p.NodeExporter.Stop()
	}
}

// egress is what the task reaches: the emulator at its own address, the
// nodes' node_exporter port and the local remote-write receiver.
func (f *Fargate) egress(s *config.Settings, target, remoteWrite string) (map[int]string, error) {
	u, err := url.Parse(f.emu.Endpoint())
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, fmt.Errorf("emulator endpoint %s has no port", f.emu.Endpoint())
	}
	egress := map[int]string{port: u.Host, s.NodeExporterPort: target}
	if remoteWrite != "" {
		egress[promconfig.LocalRemoteWritePort] = remoteWrite
	}
	return egress, nil
}

// waitReady polls /-/ready through the port mapping until it answers 200,
// failing early with the container's log when the task stops.
func (p *PrometheusTask) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		err := p.API.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.Task.Done():
			code, reason := p.Task.StoppedReason()
			return fmt.Errorf("the Prometheus task stopped (%s: %s) before it was ready; its log:\n%s", code, reason, p.LogTail(30))
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready (%v); its log:\n%s", err, p.LogTail(30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ServiceTaskDefinition is the task definition the stack's Prometheus
// service runs, as the emulator holds it: the JSON ECS would receive.
func (f *Fargate) ServiceTaskDefinition(ctx context.Context, s *config.Settings) (*ecstypes.TaskDefinition, error) {
	cfg, err := f.emu.AWSConfig(ctx, s.Region)
	if err != nil {
		return nil, err
	}
	c := ecs.NewFromConfig(cfg)
	service := ServiceName(s)
	svcs, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.StackName()), Services: []string{service}})
	if err != nil || len(svcs.Services) != 1 {
		return nil, fmt.Errorf("ECS service %s in cluster %s: %v (is the stack applied?)", service, s.StackName(), err)
	}
	td, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svcs.Services[0].TaskDefinition})
	if err != nil {
		return nil, fmt.Errorf("task definition %s: %w", aws.ToString(svcs.Services[0].TaskDefinition), err)
	}
	return td.TaskDefinition, nil
}

// ServiceName is the stack's Prometheus service.
func ServiceName(s *config.Settings) string { return s.StackName() + "-prometheus" }

// ConfigParameter is the SSM parameter holding the stack's prometheus.yml.
func ConfigParameter(s *config.Settings) string {
	return "/" + s.StackName() + "/prometheus/prometheus.yml"
}

func (f *Fargate) putConfig(ctx context.Context, s *config.Settings, yaml string) error {
	cfg, err := f.emu.AWSConfig(ctx, s.Region)
	if err != nil {
		return err
	}
	_, err = ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(ConfigParameter(s)), Value: aws.String(yaml),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("config parameter %s: %w", ConfigParameter(s), err)
	}
	return nil
}

// SecretName is the basic auth secret of the settings' stack.
func SecretName(s *config.Settings) string { return s.StackName() + "-prometheus-basic-auth" }

// BasicAuthSecret reads username, password and web_config from the
// stack's secret in the emulator, as an operator reads it.
func (f *Fargate) BasicAuthSecret(ctx context.Context, s *config.Settings) (map[string]string, error) {
	cfg, err := f.emu.AWSConfig(ctx, s.Region)
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

// StartNodeExporter runs node_exporter (the version the nodes install) on
// a free loopback port and returns it with its address.
func StartNodeExporter(ctx context.Context, dir string) (*proc.Process, string, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ne, err := StartNodeExporterAt(ctx, dir, addr)
	return ne, addr, err
}

// StartNodeExporterAt runs node_exporter on addr (host:port on loopback),
// e.g. again where a stopped one listened, and waits until it answers.
func StartNodeExporterAt(ctx context.Context, dir, addr string) (*proc.Process, error) {
	bin, err := tools.Find("node_exporter")
	if err != nil {
		return nil, err
	}
	ne, err := proc.Start(ctx, proc.Spec{Name: "node_exporter", Path: bin, Dir: dir,
		Args: []string{"--web.listen-address=" + addr}})
	if err != nil {
		return nil, err
	}
	if err := ne.WaitHTTP(ctx, "http://"+addr+"/metrics"); err != nil {
		ne.Stop()
		return nil, err
	}
	return ne, nil
}
