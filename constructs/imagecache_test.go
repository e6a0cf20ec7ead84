package constructs_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Given the pinned images, when synthesized, then one rule per upstream
// registry the cache reaches without credentials (the Prometheus project's
// Docker Hub images through Quay), a repository per image under its rule's
// prefix, and each image named by its repository's URL and its pin.
func TestImageCache(t *testing.T) {
	var images []string
	var pulls []pconstructs.Statement
	d := given(t, func(s cdktf.TerraformStack) {
		c := pconstructs.NewImageCache(s, "cache", &pconstructs.ImageCacheProps{Owner: "prometheus-aws-dev",
			Images: []string{defaults.PrometheusImage, defaults.AlertmanagerImage, defaults.ConfigSyncImage}})
		for _, image := range []string{defaults.PrometheusImage, defaults.ConfigSyncImage} {
			images = append(images, c.Image(image))
		}
		pulls = c.PullStatements(images...)
	})
	rules := map[string]string{}
	for _, r := range d.Of("aws_ecr_pull_through_cache_rule") {
		rules[policy.Str(r["ecr_repository_prefix"])] = policy.Str(r["upstream_registry_url"])
	}
	if len(rules) != 2 || rules["prometheus-aws-dev/quay"] != "quay.io" || rules["prometheus-aws-dev/ecr-public"] != "public.ecr.aws" {
		t.Errorf("rules %v", rules)
	}
	var names []string
	for _, r := range d.Of("aws_ecr_repository") {
		names = append(names, policy.Str(r["name"]))
		if r["force_delete"] != true {
			t.Errorf("repository %v: destroy must remove the cached copies", r)
		}
	}
	slices.Sort(names)
	if want := []string{"prometheus-aws-dev/ecr-public/aws-cli/aws-cli", "prometheus-aws-dev/quay/prometheus/alertmanager", "prometheus-aws-dev/quay/prometheus/prometheus"}; !slices.Equal(names, want) {
		t.Errorf("repositories %v, want %v", names, want)
	}
	if count(d, "aws_ecr_lifecycle_policy") != 3 {
		t.Errorf("%d lifecycle policies, want one per repository", count(d, "aws_ecr_lifecycle_policy"))
	}
	_, tag, _ := strings.Cut(defaults.PrometheusImage, ":")
	if !strings.HasSuffix(images[0], ":"+tag) || !strings.Contains(images[0], "${") {
		t.Errorf("the cached Prometheus image is %q: its repository's URL with the pinned tag %s", images[0], tag)
	}
	if len(pulls) != 2 || !slices.Contains(pulls[1].Action, "ecr:BatchImportUpstreamImage") || len(pulls[1].Resource) != 2 {
		t.Errorf("the execution role pulls and imports exactly the two images' repositories: %+v", pulls)
	}
}

// Given an image only on Docker Hub (which the cache reaches only with
// credentials), when built, then the construct refuses it and says why.
func TestImageCacheRefusesDockerHub(t *testing.T) {
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewImageCache(s, "cache", &pconstructs.ImageCacheProps{Owner: "p", Images: []string{defaults.GrafanaImage}})
	}, "only with credentials")
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewImageCache(s, "cache", &pconstructs.ImageCacheProps{Owner: "p"})
	}, "Images")
}
