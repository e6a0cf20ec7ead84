package fargate

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// configSyncContainer is a container on the AWS CLI image as the
// config-sync sidecar is defined: root, read-only root filesystem, its
// HOME on a tmpfs with the sidecar's mount options, a shell script as the command, the emulator's endpoint in
// CONFIG_SYNC_ENDPOINT_URL (Debian's awscli predates AWS_ENDPOINT_URL).
func configSyncContainer(endpoint, script string) ecstypes.ContainerDefinition {
	return ecstypes.ContainerDefinition{
		Name: aws.String("config-sync"), Image: aws.String(config.DefaultConfigSyncImage), User: aws.String("0"),
		Essential: aws.Bool(true), ReadonlyRootFilesystem: aws.Bool(true),
		LinuxParameters: &ecstypes.LinuxParameters{Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String(taskcontract.ConfigSyncHome),
			Size: taskcontract.RuntimeTmpfsMiB, MountOptions: taskcontract.ConfigSyncHomeOptions()}}},
		Environment: []ecstypes.KeyValuePair{{Name: aws.String("HOME"), Value: aws.String(taskcontract.ConfigSyncHome)},
			{Name: aws.String("AWS_DEFAULT_REGION"), Value: aws.String(region)},
			{Name: aws.String("CONFIG_SYNC_ENDPOINT_URL"), Value: aws.String(endpoint)}},
		EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{script, "config-sync"},
	}
}

// The AWS CLI image's replica (Debian's awscli) runs the sidecar's kind of
// script: with the task role's credentials from the credentials endpoint
// it reads an SSM parameter from the emulator and writes it into a bind
// mount, where the next container reads it; a missing parameter fails
// with the CLI's error and exit status.
func TestConfigSyncOnTheAWSCLIImage(t *testing.T) {
	ctx := setup(t)
	withConfigSyncImage(t)

	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	const value = "global: {scrape_interval: 15s}"
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/runner-test/config-sync"),
		Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(emu.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	opts := RunOptions{Region: region, Egress: map[int]string{port: u.Host}, TrustedCA: emu.CAFile}
	taskRole := role(t, ctx, "config-sync")

	sync := configSyncContainer(emu.Endpoint(), `set -e
aws --version
aws --endpoint-url "$CONFIG_SYNC_ENDPOINT_URL" ssm get-parameters --names /runner-test/config-sync \
  --query 'Parameters[0].Value' --output text >/config/prometheus.yml.tmp
mv /config/prometheus.yml.tmp /config/prometheus.yml
echo synced`)
	sync.Essential = aws.Bool(false)
	sync.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("config"), ContainerPath: aws.String("/config")}}
	reader := busybox("reader", `cat /config/prometheus.yml`)
	reader.MountPoints = sync.MountPoints
	reader.DependsOn = []ecstypes.ContainerDependency{{ContainerName: aws.String("config-sync"), Condition: ecstypes.ContainerConditionSuccess}}
	def := taskDef([]ecstypes.Volume{{Name: aws.String("config")}}, sync, reader)
	def.TaskRoleArn = taskRole
	task, err := runner.Run(ctx, def, opts)
	if err != nil {
		t.Fatalf("%v\nconfig-sync:\n%s", err, task.Container("config-sync").LogTail(20))
	}
	<-task.Done()
	if log := task.Container("config-sync").LogTail(10); !strings.Contains(log, "aws-cli/2.") || !strings.Contains(log, "synced") {
		t.Errorf("config-sync log:\n%s", log)
	}
	if log := task.Container("reader").LogTail(5); strings.TrimSpace(log) != value {
		t.Errorf("the reader saw %q in the bind mount, want the parameter's value %q", log, value)
	}

	missing := configSyncContainer(emu.Endpoint(), `aws --endpoint-url "$CONFIG_SYNC_ENDPOINT_URL" ssm get-parameter --name /runner-test/absent --query Parameter.Value --output text`)
	def = taskDef(nil, missing)
	def.TaskRoleArn = taskRole
	task = runToEnd(t, ctx, def, opts)
	if code, log := exitCode(t, task.Containers[0]), task.Containers[0].LogTail(5); code != 254 || !strings.Contains(log, "ParameterNotFound") {
		t.Errorf("a missing parameter must fail with the CLI's status 254 and ParameterNotFound; got %d:\n%s", code, log)
	}
}

// The sidecar's HOME is mounted as the task definition says (the runner's
// helper mounts a real tmpfs with those flags) and is exec-able, as AWS
// CLI v2 needs (taskcontract.ConfigSyncHomeOptions): a program copied
// there runs, and the CLI still answers.
func TestConfigSyncHomeIsExecutable(t *testing.T) {
	ctx := setup(t)
	withConfigSyncImage(t)
	c := configSyncContainer("http://unused", `while read -r m; do case "$m" in *" $HOME "*) echo "$m" ;; esac; done </proc/self/mounts
cp /bin/true "$HOME/probe" && "$HOME/probe" && echo "exec from HOME: ok"
aws --version`)
	task := runToEnd(t, ctx, taskDef(nil, c), RunOptions{Region: region})
	log := task.Containers[0].LogTail(10)
	if code := exitCode(t, task.Containers[0]); code != 0 || !strings.Contains(log, "exec from HOME: ok") || !strings.Contains(log, "aws-cli/") {
		t.Errorf("a program in the sidecar's HOME must run and the CLI answer (exit %d):\n%s", code, log)
	}
	if !strings.Contains(log, "tmpfs "+taskcontract.ConfigSyncHome+" tmpfs rw,nosuid,nodev") || strings.Contains(log, "noexec") {
		t.Errorf("HOME must be a nosuid,nodev tmpfs without noexec:\n%s", log)
	}
}

// The catalog takes only an AWS CLI v2 image, and wants make tools' packages.
func TestConfigSyncImageCatalog(t *testing.T) {
	setup(t)
	for _, image := range []string{"amazon/aws-cli:1.29.0", "public.ecr.aws/aws-cli/aws-cli:latest", "busybox:2.1.0"} {
		if _, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, ConfigSyncImage: image, ToolsBin: tools.Bin()}); err == nil ||
			!strings.Contains(err.Error(), "not an official AWS CLI v2 image") {
			t.Errorf("%s: want a refusal, got %v", image, err)
		}
	}
	for _, image := range []string{"public.ecr.aws/aws-cli/aws-cli:2.32.2", "amazon/aws-cli:2.9.19",
		"public.ecr.aws/aws-cli/aws-cli@sha256:" + strings.Repeat("ab", 32), "aws-cli:2.32.2@sha256:" + strings.Repeat("0f", 32)} {
		if _, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, ConfigSyncImage: image, ToolsBin: tools.Bin()}); err != nil {
			t.Errorf("%s: %v", image, err)
		}
	}
	empty := t.TempDir()
	_, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, ConfigSyncImage: config.DefaultConfigSyncImage, AWSCLIDebs: empty})
	if err == nil || !strings.Contains(err.Error(), "run make tools") || !strings.Contains(err.Error(), empty) {
		t.Errorf("without the packages: %v", err)
	}
}

// withConfigSyncImage adds the AWS CLI image replica (make tools'
// packages) to the shared image sources.
func withConfigSyncImage(t *testing.T) {
	t.Helper()
	cat, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, ConfigSyncImage: config.DefaultConfigSyncImage,
		ToolsBin: tools.Bin(), CacheDir: images.CacheDir})
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	// Top-level tests run one at a time: no Get runs while this is added.
	images.Sources[config.DefaultConfigSyncImage] = cat.Sources[config.DefaultConfigSyncImage]
}
