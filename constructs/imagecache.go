package constructs

import (
	"fmt"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrlifecyclepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrpullthroughcacherule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrrepository"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
)

// ImageCacheProps configures ImageCache.
type ImageCacheProps struct {
	// Owner begins the cache rules' repository prefixes
	// (imageref.RulePrefix: <Owner>/quay, <Owner>/ecr-public, cut to ECR's
	// 30 characters), so two stacks in one account keep apart. Required.
	Owner string
	// Images are the upstream images to pull through the cache, each on a
	// registry the cache reaches without credentials (imageref.Cached:
	// Quay, ECR Public, the Kubernetes registry, and the Prometheus
	// project's Docker Hub images through Quay). Required.
	Images []string
	// KeepImages is how many images each cached repository keeps; older
	// ones expire (a pin moved to a new release leaves the old one behind).
	// Default: 5.
	KeepImages int
}

// ImageCache pulls images through Amazon ECR's pull-through cache, so a
// task in a VPC without internet starts from the ECR endpoints alone: one
// cache rule per upstream registry, and the repository of every image
// created here (ECR would create it on first pull, outside Terraform, and
// destroy would leave it behind; a repository that exists is used: ECR
// user guide, "IAM permissions required to sync an upstream registry").
// ECR fetches from the upstream itself, on AWS's side.
type ImageCache struct {
	constructs.Construct
	// Rules by upstream registry name (quay, ecr-public, k8s).
	Rules map[string]ecrpullthroughcacherule.EcrPullThroughCacheRule
	// Repositories by image as given in Images.
	Repositories map[string]ecrrepository.EcrRepository

	images map[string]string
}

// NewImageCache creates the rules and repositories of the images.
func NewImageCache(scope constructs.Construct, id string, props *ImageCacheProps) *ImageCache {
	p := *props
	requireProps("ImageCache", id, need("Owner", p.Owner == ""), need("Images", len(p.Images) == 0))
	p.KeepImages = intOr(p.KeepImages, 5)

	scope = constructs.NewConstruct(scope, jsii.String(id))
	c := &ImageCache{Construct: scope, Rules: map[string]ecrpullthroughcacherule.EcrPullThroughCacheRule{},
		Repositories: map[string]ecrrepository.EcrRepository{}, images: map[string]string{}}
	for i, image := range p.Images {
		u, path, err := imageref.Cached(image)
		if err != nil {
			panic(fmt.Sprintf("ImageCache %q: %v", id, err))
		}
		ref, _ := imageref.Parse(image) // Cached parsed it
		prefix := imageref.RulePrefix(p.Owner, u)
		if _, ok := c.Rules[u.Name]; !ok {
			c.Rules[u.Name] = ecrpullthroughcacherule.NewEcrPullThroughCacheRule(scope, jsii.String("rule-"+u.Name), &ecrpullthroughcacherule.EcrPullThroughCacheRuleConfig{
				EcrRepositoryPrefix: jsii.String(prefix), UpstreamRegistryUrl: jsii.String(u.URL),
			})
		}
		if _, ok := c.Repositories[image]; ok {
			continue
		}
		name := prefix + "/" + path
		repo := ecrrepository.NewEcrRepository(scope, jsii.String(fmt.Sprintf("repository-%d", i)), &ecrrepository.EcrRepositoryConfig{
			Name: jsii.String(name),
			// Cached copies only: destroy removes them with the repository.
			ForceDelete: jsii.Bool(true),
			Tags:        nameTag(name),
		})
		ecrlifecyclepolicy.NewEcrLifecyclePolicy(scope, jsii.String(fmt.Sprintf("repository-%d-lifecycle", i)), &ecrlifecyclepolicy.EcrLifecyclePolicyConfig{
			Repository: repo.Name(),
			Policy:     jsii.String(fmt.Sprintf(`{"rules":[{"rulePriority":1,"description":"keep the %d newest cached images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":%d},"action":{"type":"expire"}}]}`, p.KeepImages, p.KeepImages)),
		})
		c.Repositories[image] = repo
		c.images[image] = *repo.RepositoryUrl() + ref.Version()
	}
	return c
}

// Has reports whether image is one of Images.
func (c *ImageCache) Has(image string) bool { _, ok := c.images[image]; return ok }

// Image is the cached reference of image (one of Images): its repository's
// URL with the image's tag or digest.
func (c *ImageCache) Image(image string) string {
	cached, ok := c.images[image]
	if !ok {
		panic(fmt.Sprintf("ImageCache: %q is not one of its Images", image))
	}
	return cached
}

// PullStatements let an execution role pull the images given that are
// cached here, and fill the cache: the first pull of an image imports it
// from upstream (ecr:BatchImportUpstreamImage), on those repositories
// alone. Nil when none is cached.
func (c *ImageCache) PullStatements(images ...string) []Statement {
	var repos []string
	for _, image := range images {
		for upstream, cached := range c.images {
			if image == cached || image == upstream {
				repos = append(repos, *c.Repositories[upstream].Arn())
			}
		}
	}
	if len(repos) == 0 {
		return nil
	}
	slices.Sort(repos)
	return []Statement{
		{Sid: "ECRCacheToken", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
		{Sid: "ECRCachePull", Effect: "Allow", Action: append(slices.Clone(ECRPullActions), "ecr:BatchImportUpstreamImage"), Resource: slices.Compact(repos)},
	}
}
