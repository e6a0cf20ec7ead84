package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

const stateBucket = "acme-prometheus-tfstate"

// TestRemoteState proves the state story against the emulator: the
// bootstrap stack makes a safe bucket, the main stack keeps its state there
// and nowhere else, S3-native locking stops a concurrent apply, and two
// environments keep separate state.
//
// Teardown resets the emulator instead of destroying the bucket: moto hangs
// deleting a versioned bucket that holds delete markers, and the bucket is
// protected by prevent_destroy anyway.
func TestRemoteState(t *testing.T) {
	h := newHarness(t)
	s3c := s3.NewFromConfig(h.aws, func(o *s3.Options) { o.UsePathStyle = true })
	dev := h.deploy(t, "dev", map[string]string{"PROMAWS_STATE_BUCKET": stateBucket, "PROMAWS_NODE_COUNT": "1", "PROMAWS_ENVIRONMENT": "dev"})
	boot := dev.bootstrap(t)

	step(t, "bootstrap creates a protected bucket and re-plans clean", func(t *testing.T) {
		if err := boot.Init(h.ctx); err != nil {
			t.Fatalf("init: %v", err)
		}
		if err := boot.Apply(h.ctx); err != nil {
			t.Fatalf("apply: %v", err)
		}
		if changed, err := boot.Plan(h.ctx); err != nil || changed {
			t.Fatalf("second plan of the bootstrap stack must be clean: changed=%v err=%v", changed, err)
		}
		v, err := s3c.GetBucketVersioning(h.ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(stateBucket)})
		if err != nil || v.Status != "Enabled" {
			t.Errorf("versioning: %+v %v", v, err)
		}
		enc, err := s3c.GetBucketEncryption(h.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(stateBucket)})
		if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) == 0 {
			t.Errorf("default encryption: %v", err)
		}
		pab, err := s3c.GetPublicAccessBlock(h.ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(stateBucket)})
		if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) ||
			!aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) || !aws.ToBool(pab.PublicAccessBlockConfiguration.IgnorePublicAcls) {
			t.Errorf("public access block: %+v %v", pab, err)
		}
		// The TLS-only bucket policy is not applied to the emulator: moto
		// ignores Deny conditions and would deny everything (stacks/local.go).
		// Its content is checked on the AWS profile's synth instead.
	})

	step(t, "main stack keeps its state in the bucket only", func(t *testing.T) {
		dev.apply(t)
		dev.assertCleanPlan(t)
		for _, local := range []string{dev.StateFile(), filepath.Join(dev.stackDir(dev.Settings.StackName()), "terraform.tfstate")} {
			if _, err := os.Stat(local); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a local state file exists: %s", local)
			}
		}
		if got := stateResources(t, h, s3c, dev.Settings.StateKey()); got == 0 {
			t.Errorf("state object %s holds no resources", dev.Settings.StateKey())
		}
	})

	step(t, "a concurrent apply fails on the lock and changes nothing", func(t *testing.T) {
		// A second working copy, as a colleague's machine would have.
		other := copyStack(t, dev.stackDir(dev.Settings.StackName()))
		tf2, err := tfenv.New(h.ctx, other, h.emu.Env(dev.Settings.Region))
		if err != nil {
			t.Fatal(err)
		}
		if err := tf2.Init(h.ctx); err != nil {
			t.Fatalf("init of the second copy: %v", err)
		}
		before := stateSerial(t, h, s3c, dev.Settings.StateKey())

		// The first apply adds a node, holding the lock while it works.
		dev.resynth(t, map[string]string{"PROMAWS_NODE_COUNT": "2"})
		first := make(chan error, 1)
		go func() { first <- dev.TF.Apply(h.ctx) }()
		waitForLock(t, h, s3c, dev.Settings.StateKey(), first)

		err = tf2.Apply(h.ctx)
		if err == nil || !strings.Contains(err.Error(), "lock") {
			t.Fatalf("the concurrent apply must fail on the state lock, got: %v", err)
		}
		if err := <-first; err != nil {
			t.Fatalf("the first apply must succeed: %v", err)
		}
		after := stateSerial(t, h, s3c, dev.Settings.StateKey())
		if after != before+1 {
			t.Errorf("state serial %d -> %d: exactly one apply may have written", before, after)
		}
		if n := len(dev.groupInstances(t)); n != 2 {
			t.Errorf("node group has %d instances after the first apply, want 2", n)
		}
		// That the first apply left a clean state is checked by the next
		// step's plan of dev, which nothing between can make clean.
	})

	step(t, "two environments keep separate state", func(t *testing.T) {
		prod := h.deploy(t, "prod", map[string]string{"PROMAWS_STATE_BUCKET": stateBucket, "PROMAWS_NODE_COUNT": "0", "PROMAWS_ENVIRONMENT": "prod", "PROMAWS_VPC_CIDR": "10.1.0.0/16", "PROMAWS_FLOW_LOGS": "true",
			// and runs on task storage: the third storage mode applies and re-plans clean too.
			"PROMAWS_STORAGE_MODE": "ephemeral"})
		prod.apply(t)
		prod.assertCleanPlan(t)
		if prod.Settings.StateKey() == dev.Settings.StateKey() {
			t.Fatal("environments share a state key")
		}
		devVPC, prodVPC := dev.outputs(t)["vpc_id"], prod.outputs(t)["vpc_id"]
		if devVPC == "" || devVPC == prodVPC {
			t.Errorf("each environment must own its VPC: dev %s prod %s", devVPC, prodVPC)
		}
		dev.assertCleanPlan(t) // the locked apply completed, and prod's apply left dev's state alone
		if stateResources(t, h, s3c, prod.Settings.StateKey()) == 0 {
			t.Error("prod state object is empty")
		}
		if id := prod.outputs(t)["tsdb_file_system_id"]; id != "" {
			t.Errorf("storageMode=ephemeral must create no file system, got %s", id)
		}
		// Task storage: the data bind mount starts as the image's VOLUME
		// /prometheus (owned by nobody), so the task user opens its TSDB.
		prom := h.startPrometheus(t, prod.Settings)
		prom.waitHealthy(t)
		if v, err := prom.api.Scalar(h.ctx, `prometheus_tsdb_head_chunks_created_total >= 0`); err != nil || v == "" {
			t.Errorf("the TSDB on task storage must be open: %v", err)
		}
		prom.Stop()
		// prod also opts in to VPC flow logs: they apply and re-plan clean.
		logs, err := ec2.NewFromConfig(h.aws).DescribeFlowLogs(h.ctx, &ec2.DescribeFlowLogsInput{})
		if err != nil || len(logs.FlowLogs) != 1 || aws.ToString(logs.FlowLogs[0].ResourceId) != prodVPC {
			t.Errorf("prod's VPC must have exactly one flow log: %+v %v", logs, err)
		}
	})
}

// bootstrap returns Terraform for the deployment's state stack.
func (d *deployment) bootstrap(t *testing.T) *tfexec.Terraform {
	t.Helper()
	tf, err := tfenv.New(d.h.ctx, d.stackDir(d.Settings.BootstrapStackName()), d.h.emu.Env(d.Settings.Region))
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

type stateFile struct {
	Serial    int               `json:"serial"`
	Resources []json.RawMessage `json:"resources"`
}

func readState(t *testing.T, h *harness, c *s3.Client, key string) stateFile {
	t.Helper()
	obj, err := c.GetObject(h.ctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("state object %s: %v", key, err)
	}
	defer obj.Body.Close()
	data, _ := io.ReadAll(obj.Body)
	var s stateFile
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("state object %s is not a state file: %v", key, err)
	}
	return s
}

func stateResources(t *testing.T, h *harness, c *s3.Client, key string) int {
	return len(readState(t, h, c, key).Resources)
}

func stateSerial(t *testing.T, h *harness, c *s3.Client, key string) int {
	return readState(t, h, c, key).Serial
}

// waitForLock waits until the S3-native lock object (<key>.tflock) exists.
func waitForLock(t *testing.T, h *harness, c *s3.Client, key string, first <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
	defer cancel()
	for {
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(key + ".tflock")}); err == nil {
			return
		}
		select {
		case err := <-first:
			t.Fatalf("the first apply ended before its lock was seen: %v", err)
		case <-ctx.Done():
			t.Fatal("the first apply never took the S3 lock (.tflock)")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// copyStack copies the synthesized JSON into a fresh working folder.
func copyStack(t *testing.T, dir string) string {
	t.Helper()
	other := filepath.Join(t.TempDir(), "stacks", filepath.Base(dir))
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "cdk.tf.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return other
}
