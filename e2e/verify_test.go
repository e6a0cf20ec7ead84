package e2e

import (
	"bytes"
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/verify"
)

// TestVerify: make verify passes on a healthy stack whose task runs as
// Fargate runs it, its alert round trip arrives and leaves no queue or
// subscription behind, and it fails, naming the cause, for each fault an
// operator must hear of: an alarm in ALARM, a parameter changed out of
// band, a tagged instance Prometheus has not discovered, a configuration
// config-sync has not delivered, a node's target down, the task stopped.
// Each fault is made by changing the deployment (or the emulator's answers
// to the task alone), never verify's inputs.
func TestVerify(t *testing.T) {
	h := newHarness(t)
	d := h.deploy(t, "verify", nil)
	d.apply(t)
	p := h.startPrometheus(t, d.Settings)
	v := &verifier{h: h, d: d, p: p}

	step(t, "a healthy stack verifies", func(t *testing.T) {
		results := v.run(t, verify.Options{Wait: 3 * time.Minute, Interval: 3 * time.Second})
		for _, r := range results {
			if r.Status == verify.Fail {
				t.Errorf("healthy stack: %s failed: %s", r.Check, r.Detail)
			}
		}
		// The test's topic has no subscriber and no round trip was asked
		// for; nothing else may be short of a pass.
		want := map[string]verify.Status{"alert path": verify.Warn, "alert roundtrip": verify.Skip}
		for _, r := range results {
			if w, ok := want[r.Check]; (ok && r.Status != w) || (!ok && r.Status != verify.Pass) {
				t.Errorf("healthy stack: %s is %s (%s), want %s", r.Check, r.Status, r.Detail, cmp.Or(w, verify.Pass))
			}
		}
	})

	step(t, "the command line says verified and exits 0", func(t *testing.T) {
		out, code := v.command(t)
		if code != 0 || !strings.Contains(out, d.Settings.StackName()+": verified") {
			t.Fatalf("make verify on a healthy stack: exit %d\n%s", code, out)
		}
		t.Logf("make verify on the healthy stack:\n%s", out)
	})

	step(t, "the alert round trip arrives and leaves nothing behind", func(t *testing.T) {
		r := v.check(t, "alert roundtrip", verify.Options{AlertRoundtrip: true, RoundtripTimeout: 2 * time.Minute})
		if r.Status != verify.Pass {
			t.Fatalf("alert roundtrip: %s: %s", r.Status, r.Detail)
		}
		queues, err := sqs.NewFromConfig(h.aws).ListQueues(h.ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("prometheus-aws-verify-")})
		if err != nil || len(queues.QueueUrls) != 0 {
			t.Errorf("the temporary queue remains: %v %v", queues.QueueUrls, err)
		}
		subs, err := sns.NewFromConfig(h.aws).ListSubscriptions(h.ctx, &sns.ListSubscriptionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs.Subscriptions {
			if aws.ToString(s.Protocol) == "sqs" {
				t.Errorf("the temporary subscription remains: %s", aws.ToString(s.SubscriptionArn))
			}
		}
	})

	step(t, "an alarm in ALARM fails alarms", func(t *testing.T) {
		name := v.alarm(t)
		v.setAlarm(t, name, cwtypes.StateValueAlarm)
		v.wantFail(t, "alarms", name)
		out, code := v.command(t)
		if code != 1 || !strings.Contains(out, "NOT verified") {
			t.Errorf("make verify with an alarm in ALARM: exit %d, want 1\n%s", code, out)
		}
		v.setAlarm(t, name, cwtypes.StateValueOk)
	})

	step(t, "a parameter changed out of band fails configuration served", func(t *testing.T) {
		name := rig.ConfigParameter(d.Settings)
		c := ssm.NewFromConfig(h.aws)
		orig, err := c.GetParameter(h.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		put := func(value string) {
			if _, err := c.PutParameter(h.ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Overwrite: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
		}
		put(strings.Replace(aws.ToString(orig.Parameter.Value), "scrape_interval: 5s", "scrape_interval: 9s", 1))
		v.wantFail(t, "configuration served", "changed outside a deploy")
		put(aws.ToString(orig.Parameter.Value))
	})

	step(t, "a tagged instance Prometheus has not discovered fails discovery", func(t *testing.T) {
		// The task's own EC2 calls fail (an outage only it sees), so
		// Prometheus keeps its targets and cannot learn of the new node.
		unblock := v.failTaskCalls(t, func(r *emulator.Request) bool {
			return strings.Contains(string(r.Body), "Action=DescribeInstances")
		})
		id := v.taggedInstance(t)
		v.wantFail(t, "discovery", id)
		unblock()
		v.wantPass(t, "discovery", 2*time.Minute)
		h.terminate(t, []string{id})
	})

	step(t, "a configuration config-sync has not delivered fails configuration served", func(t *testing.T) {
		unblock := v.failTaskCalls(t, func(r *emulator.Request) bool { return r.Target == "AmazonSSM.GetParameters" })
		d.resynth(t, map[string]string{"PROMAWS_SCRAPE_INTERVAL": "7s"})
		d.apply(t)
		v.wantFail(t, "configuration served", "interval is 5s, generated 7s")
		unblock()
		v.wantPass(t, "configuration served", 2*time.Minute)
	})

	step(t, "a node's target down fails discovery", func(t *testing.T) {
		addr := p.task.NodeExporterAddress
		p.task.NodeExporter.Stop()
		v.wantFailWithin(t, "discovery", "targets down", time.Minute)
		ne, err := rig.StartNodeExporterAt(h.ctx, t.TempDir(), addr)
		if err != nil {
			t.Fatal(err)
		}
		p.task.NodeExporter = ne
		t.Cleanup(ne.Stop)
		v.wantPass(t, "discovery", time.Minute)
	})

	step(t, "the task stopped fails service steady", func(t *testing.T) {
		pid := p.task.Container().PID()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.task.Task.Done()
		v.wantFail(t, "service steady", "Essential container in task exited [prometheus exited 137")
		v.wantFail(t, "containers healthy", "no running task")
	})
}

// verifier runs verify against one test's deployment.
type verifier struct {
	h *harness
	d *deployment
	p *prometheus
}

func (v *verifier) target(t *testing.T) *verify.Target {
	t.Helper()
	state, err := v.d.State(v.h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tg := &verify.Target{Settings: v.d.Settings, State: state, AWS: v.h.aws}
	verify.Reach(v.h.ctx, tg, verify.ReachOptions{PrometheusURL: v.p.api.BaseURL, AlertmanagerURL: v.p.task.AlertmanagerURL})
	select {
	case <-v.p.task.Task.Done():
	default:
		if tg.Unreachable != "" {
			t.Fatalf("verify cannot reach the task: %s", tg.Unreachable)
		}
	}
	return tg
}

func (v *verifier) run(t *testing.T, o verify.Options) []verify.Result {
	t.Helper()
	results := verify.Run(v.h.ctx, v.target(t), o)
	var b bytes.Buffer
	verify.Print(&b, v.d.Settings.StackName(), results)
	t.Logf("verify:\n%s", b.String())
	return results
}

// check runs verify once and returns the named check's result.
func (v *verifier) check(t *testing.T, name string, o verify.Options) verify.Result {
	t.Helper()
	for _, r := range v.run(t, o) {
		if r.Check == name {
			return r
		}
	}
	t.Fatalf("verify has no check %q", name)
	return verify.Result{}
}

// wantFail: one run of verify fails the check with a detail naming cause.
func (v *verifier) wantFail(t *testing.T, name, cause string) {
	t.Helper()
	r := v.check(t, name, verify.Options{})
	if r.Status != verify.Fail || !strings.Contains(r.Detail, cause) {
		t.Fatalf("%s: %s (%s), want it failed naming %q", name, r.Status, r.Detail, cause)
	}
	if r.Fix == "" {
		t.Errorf("%s failed without saying how to fix it: %s", name, r.Detail)
	}
}

// wantFailWithin: the check fails naming cause within d (a scrape must
// happen first); verify's own retry would wait for a pass, so poll here.
func (v *verifier) wantFailWithin(t *testing.T, name, cause string, d time.Duration) {
	t.Helper()
	var r verify.Result
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(2 * time.Second) {
		if r = v.check(t, name, verify.Options{}); r.Status == verify.Fail && strings.Contains(r.Detail, cause) {
			return
		}
	}
	t.Fatalf("%s: %s (%s), want it failed naming %q within %s", name, r.Status, r.Detail, cause, d)
}

// wantPass: verify --wait passes the check again.
func (v *verifier) wantPass(t *testing.T, name string, wait time.Duration) {
	t.Helper()
	if r := v.check(t, name, verify.Options{Wait: wait, Interval: 2 * time.Second}); r.Status != verify.Pass {
		t.Fatalf("%s did not pass again within %s: %s", name, wait, r.Detail)
	}
}

// command runs cmd/verify as make verify does, against the emulator, and
// returns its output and exit status.
func (v *verifier) command(t *testing.T) (string, int) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(v.h.ctx, "go", "run", "./cmd/verify", "--stack-dir", v.d.StackDir(),
		"--prometheus-url", v.p.api.BaseURL, "--alertmanager-url", v.p.task.AlertmanagerURL)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AWS_CA_BUNDLE="+v.h.emu.CAFile)
	for k, val := range v.d.Env {
		cmd.Env = append(cmd.Env, k+"="+val)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("go run ./cmd/verify: %v\n%s", err, out)
	}
	return string(out), code
}

func (v *verifier) alarm(t *testing.T) string {
	t.Helper()
	out, err := cloudwatch.NewFromConfig(v.h.aws).DescribeAlarms(v.h.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(v.d.Settings.StackName())})
	if err != nil || len(out.MetricAlarms) == 0 {
		t.Fatalf("the stack's alarms: %v", err)
	}
	return aws.ToString(out.MetricAlarms[0].AlarmName)
}

func (v *verifier) setAlarm(t *testing.T, name string, state cwtypes.StateValue) {
	t.Helper()
	if _, err := cloudwatch.NewFromConfig(v.h.aws).SetAlarmState(v.h.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
		StateValue: state, StateReason: aws.String("set by TestVerify")}); err != nil {
		t.Fatal(err)
	}
}

// taggedInstance launches a running instance with the discovery tag.
func (v *verifier) taggedInstance(t *testing.T) string {
	t.Helper()
	s := v.d.Settings
	out, err := ec2.NewFromConfig(v.h.aws).RunInstances(v.h.ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.d.outputsList(t, "subnet_ids")[0]),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String("Name"), Value: aws.String("late-node")},
			{Key: aws.String(s.DiscoveryTagKey), Value: aws.String(s.DiscoveryTagValue)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// failTaskCalls makes the emulator answer the task's own requests that
// match with HTTP 503 (signed with the task role's key: nobody else sees
// the outage) until the returned function is called.
func (v *verifier) failTaskCalls(t *testing.T, match func(*emulator.Request) bool) func() {
	t.Helper()
	key := v.p.task.Task.RoleCredentials().AccessKeyId
	if key == "" {
		t.Fatal("the task has no role credentials")
	}
	remove := v.h.emu.Override(func(r *emulator.Request) (emulator.Answer, bool) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+key+"/") || !match(r) {
			return emulator.Answer{}, false
		}
		return emulator.Answer{Status: 503, Body: []byte(`{"__type":"ServiceUnavailable","message":"injected by TestVerify"}`)}, true
	})
	t.Cleanup(remove)
	return remove
}
