package fargate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
)

// What the runner asks ECR (the emulator) when a task's image is in a
// private registry: whether the repository exists, and which pull through
// cache rule fills it.

// repositoryNotFound is ECR's answer for a repository missing from its
// registry.
type repositoryNotFound struct{ message string }

func (e repositoryNotFound) Error() string { return e.message }

// repository checks that the repository of a private image exists, asked
// with the credentials the pull is made with (the execution role's).
func (c cloud) repository(ctx context.Context, creds Credentials, e imageref.ECR) error {
	cfg, err := c.as(ctx, e.Region, creds)
	if err != nil {
		return err
	}
	_, err = ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
		RegistryId: aws.String(e.Account), RepositoryNames: []string{e.Repository}})
	if notFound := (*ecrtypes.RepositoryNotFoundException)(nil); errors.As(err, &notFound) {
		return repositoryNotFound{notFound.ErrorMessage()}
	}
	return err
}

// cacheRule is the pull through cache rule whose prefix begins the
// repository's name (the longest, should two), nil when none does. ECR
// reads its own rules: asked with the runner's credentials, as ECS reads
// an access point.
func (c cloud) cacheRule(ctx context.Context, e imageref.ECR) (*ecrtypes.PullThroughCacheRule, error) {
	cfg, err := c.base(ctx, e.Region)
	if err != nil {
		return nil, err
	}
	var best *ecrtypes.PullThroughCacheRule
	pages := ecr.NewDescribePullThroughCacheRulesPaginator(ecr.NewFromConfig(cfg), &ecr.DescribePullThroughCacheRulesInput{RegistryId: aws.String(e.Account)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("pull through cache rules of registry %s in %s: %w", e.Account, e.Region, err)
		}
		for _, rule := range page.PullThroughCacheRules {
			prefix := aws.ToString(rule.EcrRepositoryPrefix)
			if strings.HasPrefix(e.Repository, prefix+"/") && (best == nil || len(prefix) > len(aws.ToString(best.EcrRepositoryPrefix))) {
				best = &rule
			}
		}
	}
	return best, nil
}
