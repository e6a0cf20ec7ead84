package fargate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
)

// Pull is an image a container of a task pulled.
type Pull struct {
	Container string
	// Image is the image as the task definition names it.
	Image string
	// Upstream is the image ECR's pull through cache fetched it as
	// (<upstreamRegistryUrl>/<path>:<tag>), "" when it was not pulled
	// through a cache rule.
	Upstream string
}

// Pulled lists the images the task's containers pulled, in order.
func (t *Task) Pulled() []Pull {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Pull(nil), t.pulls...)
}

// pull gets a container's image as ECS does and returns its replica. An
// image in a private ECR registry is resolved as ECR resolves it: its
// repository must exist, and a pull through cache rule whose prefix begins
// the repository's name fills it from <upstreamRegistryUrl>/<rest of the
// name>, whose replica the catalog has. With PrivateRegistryOnly any other
// registry is out of reach.
func (t *Task) pull(ctx context.Context, c *Container) (*Image, error) {
	ref, err := imageref.Parse(c.Image)
	if err != nil {
		return nil, fmt.Errorf("CannotPullContainerError: invalid reference format: %w", err)
	}
	e, private := imageref.PrivateECR(c.Image)
	if t.opts.PrivateRegistryOnly && (!private || e.Account != accountOf(t.def) || e.Region != t.region) {
		return nil, t.noRoute(ref)
	}
	name, upstream := c.Image, ""
	if private {
		if upstream, err = t.cached(ctx, e, ref); err != nil {
			return nil, err
		}
		if upstream != "" {
			name = upstream
		} else if !t.r.images.knows(c.Image) {
			return nil, fmt.Errorf("CannotPullContainerError: %s: repository %s exists in registry %s, but no pull through cache rule's prefix begins its name, and the image catalog has no replica of the image (the local runner cannot replicate what was pushed to ECR): create a cache rule whose upstream image the catalog has, or add the image's recipe to the catalog", c.Image, e.Repository, e.Account)
		}
	}
	img, err := t.r.images.Get(ctx, name)
	switch {
	case err != nil && upstream != "":
		return nil, fmt.Errorf("CannotPullContainerError: %s, pulled through its repository's cache rule from %s: %w", c.Image, upstream, err)
	case err != nil:
		return nil, fmt.Errorf("CannotPullContainerError: %w", err)
	}
	t.mu.Lock()
	t.pulls = append(t.pulls, Pull{Container: c.Name, Image: c.Image, Upstream: upstream})
	t.mu.Unlock()
	return img, nil
}

// cached checks that a private image's repository exists and returns the
// upstream image its pull through cache rule fetches, "" without a rule.
func (t *Task) cached(ctx context.Context, e imageref.ECR, ref imageref.Ref) (string, error) {
	image := ref.Registry + "/" + ref.Repository + pin(ref)
	// Fargate pulls from private ECR with the task execution role.
	if aws.ToString(t.def.ExecutionRoleArn) == "" {
		return "", fmt.Errorf("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref %s: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials (Fargate pulls private ECR images with the task execution role, and the task definition has none: set executionRoleArn)", image)
	}
	err := t.r.cloud.repository(ctx, t.execCreds, e)
	if missing := (repositoryNotFound{}); errors.As(err, &missing) {
		return "", fmt.Errorf("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref %s: %s: not found: name unknown: %v (create the repository %s, e.g. with aws_ecr_repository, before the task pulls it)", image, image, err, e.Repository)
	}
	if err != nil {
		return "", fmt.Errorf("CannotPullContainerError: %s: %w", image, err)
	}
	rule, err := t.r.cloud.cacheRule(ctx, e)
	if err != nil {
		return "", fmt.Errorf("CannotPullContainerError: %s: %w", image, err)
	}
	if rule == nil {
		return "", nil
	}
	rest := strings.TrimPrefix(e.Repository, aws.ToString(rule.EcrRepositoryPrefix)+"/")
	return aws.ToString(rule.UpstreamRegistryUrl) + "/" + rest + pin(ref), nil
}

// noRoute is how ECS fails a pull from a registry the task's subnets have
// no route to: without a NAT gateway or a public IP only the VPC
// endpoints are reachable, those of ECR among them.
func (t *Task) noRoute(ref imageref.Ref) error {
	host := ref.Registry
	if host == "docker.io" {
		host = "registry-1.docker.io"
	}
	manifest := ref.Digest
	if manifest == "" {
		manifest = strings.TrimPrefix(pin(ref), ":")
	}
	return fmt.Errorf(`CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref %s/%s%s: failed to do request: Head "https://%s/v2/%s/manifests/%s": dial tcp %s:443: i/o timeout `+
		`(the task's subnets have no route to the internet: it reaches only the private ECR registry %s.dkr.ecr.%s.amazonaws.com, through its VPC endpoints; pull the image through an ECR pull through cache rule)`,
		ref.Registry, ref.Repository, pin(ref), host, ref.Repository, manifest, host, accountOf(t.def), t.region)
}

// pin is what an image reference pins, Docker's ":latest" when nothing.
func pin(ref imageref.Ref) string {
	if v := ref.Version(); v != "" {
		return v
	}
	return ":latest"
}
