package e2e

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestUnavailableZoneFailsAtPlan: a zone the region lacks (its shape is
// right, so the settings let it through) is refused by the subnets'
// precondition while Terraform plans, before anything is created.
func TestUnavailableZoneFailsAtPlan(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "zones", map[string]string{"PROMAWS_AVAILABILITY_ZONES": "eu-central-1a,eu-central-1x"})
	if err := dep.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	dep.TF.SetStderr(&stderr)
	defer dep.TF.SetStderr(io.Discard)
	_, err := dep.TF.Plan(h.ctx)
	// Terraform wraps and frames its messages: compare the words.
	words := strings.Join(strings.Fields(strings.ReplaceAll(stderr.String(), "│", " ")), " ")
	if err == nil || !strings.Contains(words, "availabilityZones: eu-central-1x is not an available zone of this region; it has eu-central-1a, eu-central-1b") {
		t.Fatalf("the plan must fail on the zone, naming it and the region's zones: %v\n%s", err, stderr.String())
	}
	vpcs, err := ec2.NewFromConfig(h.aws).DescribeVpcs(h.ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vpcs.Vpcs {
		if !*v.IsDefault {
			t.Errorf("a failed plan created VPC %s", *v.VpcId)
		}
	}
}
