package emulator_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	amptypes "github.com/aws/aws-sdk-go-v2/service/amp/types"
)

// The AMP workspace configuration API moto lacks, as the SDK (and so the
// AWS provider) sees it at the emulator's endpoint: a workspace keeps AMP's
// default 150 days until its retention is updated, an update answers
// UPDATING and is ACTIVE at once, a retention outside AMP's 1 to 1095 days
// and an unknown workspace are refused as AMP refuses them.
func TestWorkspaceConfigurationAPI(t *testing.T) {
	ctx, emu := start(t)
	cfg, err := emu.AWSConfig(ctx, "eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	c := amp.NewFromConfig(cfg, func(o *amp.Options) { o.RetryMaxAttempts = 1 })
	ws, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("retention")})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *amptypes.WorkspaceConfigurationDescription {
		t.Helper()
		out, err := c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: ws.WorkspaceId})
		if err != nil {
			t.Fatal(err)
		}
		return out.WorkspaceConfiguration
	}
	if got := describe(); aws.ToInt32(got.RetentionPeriodInDays) != 150 || got.Status.StatusCode != amptypes.WorkspaceConfigurationStatusCodeActive {
		t.Errorf("a new workspace: retention %d, status %s; want AMP's default 150 days, ACTIVE", aws.ToInt32(got.RetentionPeriodInDays), got.Status.StatusCode)
	}
	up, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: ws.WorkspaceId, RetentionPeriodInDays: aws.Int32(15)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status.StatusCode != amptypes.WorkspaceConfigurationStatusCodeUpdating {
		t.Errorf("an update answers %s, want UPDATING", up.Status.StatusCode)
	}
	if got := describe(); aws.ToInt32(got.RetentionPeriodInDays) != 15 || got.Status.StatusCode != amptypes.WorkspaceConfigurationStatusCodeActive {
		t.Errorf("after the update: retention %d, status %s; want 15, ACTIVE", aws.ToInt32(got.RetentionPeriodInDays), got.Status.StatusCode)
	}
	for _, days := range []int32{0, 1096} {
		_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: ws.WorkspaceId, RetentionPeriodInDays: aws.Int32(days)})
		var api interface{ ErrorCode() string } // smithy.APIError
		if err == nil || !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
			t.Errorf("retention %d days: %v, want a ValidationException", days, err)
		}
	}
	if got := describe(); aws.ToInt32(got.RetentionPeriodInDays) != 15 {
		t.Errorf("a refused update changed the retention to %d", aws.ToInt32(got.RetentionPeriodInDays))
	}
	_, err = c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: aws.String("ws-00000000-0000-0000-0000-000000000000")})
	wantAPIError[*amptypes.ResourceNotFoundException](t, "an unknown workspace", err, "ws-00000000-0000-0000-0000-000000000000")
	// Everything else of AMP is still moto's.
	if _, err := c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: ws.WorkspaceId}); err != nil {
		t.Errorf("DescribeWorkspace: %v", err)
	}
}
