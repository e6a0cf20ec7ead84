package fargate

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// registry is the private ECR registry of taskDef's account in the test
// region.
const registry = "123456789012.dkr.ecr." + region + ".amazonaws.com"

// pullThroughCache creates, in the emulator's registry, a pull through
// cache rule of a new prefix <owner>-<id>/quay for quay.io and the
// repositories named (below the prefix), and returns the prefix.
func pullThroughCache(t *testing.T, ctx context.Context, owner string, repos ...string) string {
	t.Helper()
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	c := ecr.NewFromConfig(cfg)
	prefix := owner + "-" + newID()[:6] + "/quay"
	if _, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String("quay.io")}); err != nil {
		t.Fatalf("cache rule %s: %v", prefix, err)
	}
	for _, repo := range repos {
		if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(prefix + "/" + repo)}); err != nil {
			t.Fatalf("repository %s/%s: %v", prefix, repo, err)
		}
	}
	return prefix
}

// pinnedTag is the tag of the Prometheus release the stack pins.
func pinnedTag(t *testing.T) string {
	t.Helper()
	ref, err := imageref.Parse(config.DefaultPrometheusImage)
	if err != nil || ref.Tag == "" {
		t.Fatalf("%s: no tag (%v)", config.DefaultPrometheusImage, err)
	}
	return ref.Tag
}

// versionCheck is a container printing the Prometheus version of image.
func versionCheck(image string) ecstypes.ContainerDefinition {
	c := busybox("prometheus", `prometheus --version`)
	c.Image = aws.String(image)
	return c
}

// A task whose image is in the account's private registry, in a
// repository a pull through cache rule for quay.io fills, runs the replica
// of the upstream image (quay.io/prometheus/prometheus:<tag>, the release
// prom/prometheus:<tag> is) with no route to the internet, and says what
// it pulled.
func TestPullThroughCacheRunsTheUpstreamReplica(t *testing.T) {
	ctx := setup(t)
	tag := pinnedTag(t)
	prefix := pullThroughCache(t, ctx, "runner-test", "prometheus/prometheus")
	image := registry + "/" + prefix + "/prometheus/prometheus:" + tag
	def := taskDef(nil, versionCheck(image))
	def.ExecutionRoleArn = role(t, ctx, "exec")
	task := runToEnd(t, ctx, def, RunOptions{PrivateRegistryOnly: true})
	if log := task.Containers[0].LogTail(20); exitCode(t, task.Containers[0]) != 0 || !strings.Contains(log, "prometheus, version "+strings.TrimPrefix(tag, "v")) {
		t.Fatalf("the cached image must run the Prometheus replica:\n%s", log)
	}
	want := []Pull{{Container: "prometheus", Image: image, Upstream: "quay.io/prometheus/prometheus:" + tag}}
	if got := task.Pulled(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("Pulled() = %+v, want %+v", got, want)
	}
}

// What ECS fails a pull with, the runner fails it with: the task is
// STOPPED (TaskFailedToStart) before any container starts, and the error
// says why and what to do.
func TestPullFailuresLikeECS(t *testing.T) {
	ctx := setup(t)
	tag := pinnedTag(t)
	execRole := role(t, ctx, "exec")
	prefix := pullThroughCache(t, ctx, "runner-fail", "prometheus/node-exporter")
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	pushed := "runner-pushed-" + newID()[:6] + "/app"
	if _, err := ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(pushed)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, image string
		o           RunOptions
		noExecRole  bool
		want        []string
	}{
		{name: "Docker Hub without a route", image: config.DefaultPrometheusImage, o: RunOptions{PrivateRegistryOnly: true},
			want: []string{"CannotPullContainerError: pull image manifest has been retried", "failed to resolve ref docker.io/" + config.DefaultPrometheusImage,
				`Head "https://registry-1.docker.io/v2/prom/prometheus/manifests/` + tag + `": dial tcp registry-1.docker.io:443: i/o timeout`,
				"only the private ECR registry 123456789012.dkr.ecr." + region + ".amazonaws.com"}},
		{name: "another region's registry without a route", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + prefix + "/prometheus/prometheus:" + tag,
			o:    RunOptions{PrivateRegistryOnly: true},
			want: []string{"CannotPullContainerError:", "dial tcp 123456789012.dkr.ecr.us-east-1.amazonaws.com:443: i/o timeout"}},
		{name: "missing repository", image: registry + "/" + prefix + "/prometheus/alertmanager:v0.35.0",
			want: []string{"CannotPullContainerError:", "not found: name unknown", "The repository with name '" + prefix + "/prometheus/alertmanager' does not exist in the registry with id '123456789012'",
				"create the repository"}},
		{name: "no rule and no replica", image: registry + "/" + pushed + ":1.0",
			want: []string{"CannotPullContainerError: " + registry + "/" + pushed + ":1.0: repository " + pushed + " exists in registry 123456789012, but no pull through cache rule's prefix begins its name",
				"the image catalog has no replica of the image"}},
		{name: "upstream without a replica", image: registry + "/" + prefix + "/prometheus/node-exporter:v1.9.1",
			want: []string{"CannotPullContainerError: " + registry + "/" + prefix + "/prometheus/node-exporter:v1.9.1, pulled through its repository's cache rule from quay.io/prometheus/node-exporter:v1.9.1",
				`image "quay.io/prometheus/node-exporter:v1.9.1" has no local replica`}},
		{name: "private image without an execution role", image: registry + "/" + prefix + "/prometheus/node-exporter:v1.9.1", noExecRole: true,
			want: []string{"CannotPullContainerError:", "no basic auth credentials", "set executionRoleArn"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			def := taskDef(nil, versionCheck(c.image))
			if !c.noExecRole {
				def.ExecutionRoleArn = execRole
			}
			c.o.Region = region
			task, err := runner.Run(ctx, def, c.o)
			if err == nil {
				task.Stop("test over")
				t.Fatal("the pull must fail")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error must say %q:\n%v", want, err)
				}
			}
			if code, _ := task.StoppedReason(); task.LastStatus() != "STOPPED" || code != "TaskFailedToStart" || task.Containers[0].Status() != "PENDING" {
				t.Errorf("task %s (%s), container %s; want STOPPED (TaskFailedToStart), the container never started", task.LastStatus(), code, task.Containers[0].Status())
			}
			if len(task.Pulled()) != 0 {
				t.Errorf("nothing was pulled, Pulled() says %+v", task.Pulled())
			}
		})
	}
}

// The catalog knows the product's images by the names they have on the
// registries the cache pulls from: the Prometheus project's Quay images
// are aliases of the same releases on Docker Hub; the AWS CLI image is on
// ECR Public already.
func TestCatalogKnowsTheCacheUpstreamNames(t *testing.T) {
	cat, err := Catalog(CatalogOptions{PrometheusImage: config.DefaultPrometheusImage, AlertmanagerImage: config.DefaultAlertmanagerImage,
		ConfigSyncImage: config.DefaultConfigSyncImage, ToolsBin: tools.Bin(), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	for upstream, image := range map[string]string{
		"quay.io/prometheus/prometheus:" + strings.TrimPrefix(config.DefaultPrometheusImage, "prom/prometheus:"):       config.DefaultPrometheusImage,
		"quay.io/prometheus/alertmanager:" + strings.TrimPrefix(config.DefaultAlertmanagerImage, "prom/alertmanager:"): config.DefaultAlertmanagerImage,
	} {
		if got := cat.Aliases[upstream]; got != image {
			t.Errorf("alias %s is %q, want %s", upstream, got, image)
		}
	}
	if !strings.HasPrefix(config.DefaultConfigSyncImage, "public.ecr.aws/") || cat.Sources[config.DefaultConfigSyncImage] == nil {
		t.Errorf("the config-sync image %s must be in the catalog under its ECR Public name", config.DefaultConfigSyncImage)
	}
	for alias, image := range cat.Aliases {
		if cat.Sources[image] == nil {
			t.Errorf("alias %s names %s, which has no recipe", alias, image)
		}
	}
}
