package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

const stateBucket = "acme-prometheus-tfstate"

// TestRemoteState proves the state story against the emulator: the
// bootstrap stack applies, the main stack keeps its state in its bucket
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

	step(t, "bootstrap creates the bucket and re-plans clean", func(t *testing.T) {
		if err := boot.Init(h.ctx); err != nil {
			t.Fatalf("init: %v", err)
		}
		if err := boot.Apply(h.ctx); err != nil {
			t.Fatalf("apply: %v", err)
		}
		if changed, err := boot.Plan(h.ctx); err != nil || changed {
			t.Fatalf("second plan of the bootstrap stack must be clean: changed=%v err=%v", changed, err)
		}
		// What the bucket is made of (versioning, encryption, public access
		// blocked, the TLS-only policy, which moto could not honour) is the
		// synthesized JSON's: constructs' TestStateBucket and stacks'
		// TestStateBucketIsProtected check it; here, that it applies.
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
		// The TSDB's own metric, once the first self-scrape has stored it
		// (an event: HEALTHY may come before that scrape).
		waitFor(t, h.ctx, 2*time.Minute, prom, func() (bool, string) {
			v, err := prom.api.Scalar(h.ctx, `prometheus_tsdb_head_chunks_created_total >= 0`)
			return err == nil && v != "", fmt.Sprintf("the TSDB on task storage must be open and store the self-scrape: %q %v", v, err)
		})
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

// TestRemoteStateLockTable proves stateLockTable, the DynamoDB opt-in for
// Terraform < 1.10: the bootstrap stack creates the table beside the
// bucket, the main stack's state lives in the bucket, and while an apply
// holds the state its lock item is in the table and a concurrent apply
// from another working copy is refused, writing nothing. The first apply
// is held at Terraform's approval prompt, so the lock is held for as long
// as the test needs it, not for as long as an apply happens to take.
func TestRemoteStateLockTable(t *testing.T) {
	h := newHarness(t)
	const table = "prometheus-aws-tflock"
	s3c := s3.NewFromConfig(h.aws, func(o *s3.Options) { o.UsePathStyle = true })
	dep := h.deploy(t, "locktable", map[string]string{"PROMAWS_STATE_BUCKET": stateBucket, "PROMAWS_STATE_LOCK_TABLE": table, "PROMAWS_NODE_COUNT": "0"})
	key := dep.Settings.StateKey()
	lockID := stateBucket + "/" + key // Terraform's S3 backend names the item so

	step(t, "bootstrap creates the bucket and the lock table", func(t *testing.T) {
		boot := dep.bootstrap(t)
		if err := boot.Init(h.ctx); err != nil {
			t.Fatalf("init: %v", err)
		}
		if err := boot.Apply(h.ctx); err != nil {
			t.Fatalf("apply: %v", err)
		}
		var out struct {
			Table struct {
				TableStatus string
				KeySchema   []struct{ AttributeName, KeyType string }
			}
		}
		h.dynamoDB(t, "DescribeTable", map[string]string{"TableName": table}, &out)
		if k := out.Table.KeySchema; out.Table.TableStatus != "ACTIVE" || len(k) != 1 || k[0].AttributeName != "LockID" || k[0].KeyType != "HASH" {
			t.Fatalf("lock table %s must be ACTIVE with hash key LockID, as Terraform's S3 backend needs: %+v", table, out.Table)
		}
	})

	step(t, "the main stack keeps its state in the bucket, locked through the table", func(t *testing.T) {
		dep.apply(t)
		if stateResources(t, h, s3c, key) == 0 {
			t.Errorf("state object %s holds no resources", key)
		}
		if _, err := s3c.HeadObject(h.ctx, &s3.HeadObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(key + ".tflock")}); err == nil {
			t.Errorf("%s.tflock exists: with stateLockTable the lock must be the table's, not S3-native", key)
		}
		if item := lockItem(t, h, table, lockID); item != nil {
			t.Errorf("after the apply its lock must be released, the table still holds %v", item)
		}
	})

	step(t, "while an apply holds the lock its item is in the table, and a concurrent apply is refused", func(t *testing.T) {
		other := copyStack(t, dep.stackDir(dep.Settings.StackName()))
		tf2, err := tfenv.New(h.ctx, other, h.emu.Env(dep.Settings.Region))
		if err != nil {
			t.Fatal(err)
		}
		if err := tf2.Init(h.ctx); err != nil {
			t.Fatalf("init of the second copy: %v", err)
		}
		before := stateSerial(t, h, s3c, key)

		dep.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "7s"})
		first := startHeldApply(t, h, dep.stackDir(dep.Settings.StackName()), dep.Settings.Region)
		first.waitForPrompt(t)

		item := lockItem(t, h, table, lockID)
		if item == nil {
			t.Fatalf("an apply waiting for approval holds the state, but the table has no item %s:\n%s", lockID, tail(first.output(), 15))
		}
		var info struct{ ID, Operation, Path string }
		if err := json.Unmarshal([]byte(item["Info"].S), &info); err != nil || info.Operation != "OperationTypeApply" || info.Path != lockID || info.ID == "" {
			t.Errorf("lock item %s must describe the apply holding it: Info %q (%v)", lockID, item["Info"].S, err)
		}

		err = tf2.Apply(h.ctx)
		if err == nil || !strings.Contains(err.Error(), "Error acquiring the state lock") || !strings.Contains(err.Error(), info.ID) {
			t.Fatalf("the concurrent apply must be refused on the table's lock %s, got: %v", info.ID, err)
		}
		if now := stateSerial(t, h, s3c, key); now != before {
			t.Errorf("state serial %d -> %d while the lock was held: the refused apply wrote", before, now)
		}

		first.approve(t)
		if after := stateSerial(t, h, s3c, key); after != before+1 {
			t.Errorf("state serial %d -> %d: exactly the approved apply may have written", before, after)
		}
		if item := lockItem(t, h, table, lockID); item != nil {
			t.Errorf("the approved apply must release its lock, the table still holds %v", item)
		}
		dep.assertCleanPlan(t)
	})
}

// dynamoString is a DynamoDB string attribute.
type dynamoString struct{ S string }

// lockItem is the lock table's item id (consistent read), nil when there
// is none.
func lockItem(t *testing.T, h *harness, table, id string) map[string]dynamoString {
	t.Helper()
	var out struct{ Item map[string]dynamoString }
	h.dynamoDB(t, "GetItem", map[string]any{"TableName": table, "ConsistentRead": true,
		"Key": map[string]dynamoString{"LockID": {S: id}}}, &out)
	return out.Item
}

// heldApply is a terraform apply that waits at its approval prompt,
// holding the state lock, until approve answers it.
type heldApply struct {
	stdin io.WriteCloser
	out   *lockedBuffer
	done  chan struct{} // closed once terraform has exited, with err set
	err   error
}

// startHeldApply runs terraform apply in dir as a person at a terminal
// would: with the approval prompt, answered later.
func startHeldApply(t *testing.T, h *harness, dir, region string) *heldApply {
	t.Helper()
	bin, err := tools.Find("terraform")
	if err != nil {
		t.Fatal(err)
	}
	env, err := tfenv.Environ(h.emu.Env(region))
	if err != nil {
		t.Fatal(err)
	}
	a := &heldApply{out: &lockedBuffer{}, done: make(chan struct{})}
	cmd := exec.CommandContext(h.ctx, bin, "apply", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")...)
	cmd.Stdout, cmd.Stderr = a.out, a.out
	if a.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("terraform apply: %v", err)
	}
	go func() {
		a.err = cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		a.stdin.Close() // an unanswered prompt cancels the apply
		<-a.done
	})
	return a
}

func (a *heldApply) output() string { return a.out.String() }

// waitForPrompt waits until Terraform asks for approval: it has planned
// and holds the state lock.
func (a *heldApply) waitForPrompt(t *testing.T) {
	t.Helper()
	timeout := time.After(5 * time.Minute)
	for !strings.Contains(a.output(), "Enter a value:") {
		select {
		case <-a.done:
			t.Fatalf("terraform apply ended before asking for approval (%v):\n%s", a.err, tail(a.output(), 40))
		case <-timeout:
			t.Fatalf("terraform apply never asked for approval:\n%s", tail(a.output(), 40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// approve answers yes and waits for the apply to succeed.
func (a *heldApply) approve(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(a.stdin, "yes\n"); err != nil {
		t.Fatal(err)
	}
	<-a.done
	if a.err != nil || !strings.Contains(a.output(), "Apply complete!") {
		t.Fatalf("the approved apply did not complete (%v):\n%s", a.err, tail(a.output(), 40))
	}
}

// lockedBuffer is a bytes.Buffer safe for a process writing and a test
// reading at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
