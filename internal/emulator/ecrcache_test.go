package emulator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
)

// start runs an emulator of the test's own (inside scripts/netns.sh, as
// make test does).
func start(t *testing.T) (context.Context, *emulator.Emulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	emu, err := emulator.Start(ctx, emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(emu.Stop)
	return ctx, emu
}

func ecrClient(t *testing.T, ctx context.Context, emu *emulator.Emulator, region string) *ecr.Client {
	t.Helper()
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	// One attempt: an error answer is the test's subject, not a retry's.
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.RetryMaxAttempts = 1 })
}

// wantAPIError fails unless err is the API error E with message text.
func wantAPIError[E error](t *testing.T, what string, err error, text string) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Errorf("%s: want %T, got %v", what, e, err)
		return
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("%s: the error must say %q: %v", what, text, err)
	}
}

// The ECR pull through cache API moto lacks, as the SDK sees it at the
// emulator's endpoint: rules created, described, updated and deleted per
// registry (account and region), with the real API's errors.
func TestPullThroughCacheRuleAPI(t *testing.T) {
	ctx, emu := start(t)
	c := ecrClient(t, ctx, emu, "eu-central-1")
	before := time.Now().Add(-time.Second)
	created, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("prometheus-aws-dev/quay"), UpstreamRegistryUrl: aws.String("quay.io")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if aws.ToString(created.RegistryId) != "123456789012" || created.UpstreamRegistry != ecrtypes.UpstreamRegistryQuay ||
		aws.ToTime(created.CreatedAt).Before(before) || aws.ToString(created.UpstreamRegistryUrl) != "quay.io" {
		t.Errorf("create answered registry %q, upstream %q (%q), created %v", aws.ToString(created.RegistryId), created.UpstreamRegistry,
			aws.ToString(created.UpstreamRegistryUrl), aws.ToTime(created.CreatedAt))
	}
	if _, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("prometheus-aws-dev/ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws"),
		RegistryId: aws.String("123456789012")}); err != nil {
		t.Fatalf("create with registryId: %v", err)
	}

	// Described all at once, by prefix, and a page at a time.
	all, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil || len(all.PullThroughCacheRules) != 2 {
		t.Fatalf("describe all: %v %v", err, prefixes(all))
	}
	one, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"prometheus-aws-dev/quay"}})
	if err != nil || len(one.PullThroughCacheRules) != 1 || aws.ToString(one.PullThroughCacheRules[0].UpstreamRegistryUrl) != "quay.io" {
		t.Fatalf("describe one: %v %v", err, prefixes(one))
	}
	var paged []string
	pages := ecr.NewDescribePullThroughCacheRulesPaginator(c, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil || len(page.PullThroughCacheRules) != 1 {
			t.Fatalf("page %d: %v %v", len(paged), err, prefixes(page))
		}
		paged = append(paged, aws.ToString(page.PullThroughCacheRules[0].EcrRepositoryPrefix))
	}
	if strings.Join(paged, " ") != "prometheus-aws-dev/ecr-public prometheus-aws-dev/quay" {
		t.Errorf("pages hold %v", paged)
	}

	// A registry is an account in a region: another region has none.
	other, err := ecrClient(t, ctx, emu, "us-east-1").DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil || len(other.PullThroughCacheRules) != 0 {
		t.Errorf("us-east-1 must have no rules: %v %v", err, prefixes(other))
	}

	_, err = c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("prometheus-aws-dev/quay"), UpstreamRegistryUrl: aws.String("quay.io")})
	wantAPIError[*ecrtypes.PullThroughCacheRuleAlreadyExistsException](t, "the same prefix again", err, "prometheus-aws-dev/quay")
	for prefix, why := range map[string]string{
		"q":                                  "too short",
		"prometheus-aws-development/quay.io": "too long",
		"Prometheus/quay":                    "upper case",
		"prometheus//quay":                   "empty element",
		"-quay":                              "leading separator",
	} {
		_, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
			EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String("quay.io")})
		wantAPIError[*ecrtypes.InvalidParameterException](t, "prefix "+why, err, "ecrRepositoryPrefix")
	}
	_, err = c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("mirror"), UpstreamRegistryUrl: aws.String("registry.example.com")})
	wantAPIError[*ecrtypes.UnsupportedUpstreamRegistryException](t, "an unknown upstream", err, "registry.example.com")
	_, err = c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io")})
	wantAPIError[*ecrtypes.InvalidParameterException](t, "Docker Hub without credentials", err, "credentialArn")
	secret := aws.String("arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf")
	if _, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"), CredentialArn: secret}); err != nil {
		t.Errorf("Docker Hub with a credentialArn: %v", err)
	}
	updated, err := c.UpdatePullThroughCacheRule(ctx, &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub"),
		CredentialArn: aws.String(strings.Replace(*secret, "AbCdEf", "GhIjKl", 1))})
	if err != nil || !strings.HasSuffix(aws.ToString(updated.CredentialArn), "GhIjKl") || updated.UpdatedAt == nil {
		t.Errorf("update: %v", err)
	}

	deleted, err := c.DeletePullThroughCacheRule(ctx, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("prometheus-aws-dev/quay")})
	if err != nil || aws.ToString(deleted.UpstreamRegistryUrl) != "quay.io" {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.DeletePullThroughCacheRule(ctx, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("prometheus-aws-dev/quay")})
	wantAPIError[*ecrtypes.PullThroughCacheRuleNotFoundException](t, "delete of a deleted rule", err, "prometheus-aws-dev/quay")
	_, err = c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"prometheus-aws-dev/quay"}})
	wantAPIError[*ecrtypes.PullThroughCacheRuleNotFoundException](t, "describe of a deleted rule", err, "prometheus-aws-dev/quay")
	_, err = c.UpdatePullThroughCacheRule(ctx, &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("prometheus-aws-dev/quay"), CredentialArn: secret})
	wantAPIError[*ecrtypes.PullThroughCacheRuleNotFoundException](t, "update of a deleted rule", err, "prometheus-aws-dev/quay")

	// Reset forgets the rules with moto's resources.
	if err := emu.Reset(); err != nil {
		t.Fatal(err)
	}
	if left, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{}); err != nil || len(left.PullThroughCacheRules) != 0 {
		t.Errorf("after a reset: %v %v", err, prefixes(left))
	}
}

// prefixes are the rules' prefixes an answer holds (nil: no answer).
func prefixes(out *ecr.DescribePullThroughCacheRulesOutput) []string {
	if out == nil {
		return nil
	}
	var p []string
	for _, r := range out.PullThroughCacheRules {
		p = append(p, aws.ToString(r.EcrRepositoryPrefix))
	}
	return p
}
