package emulator_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
)

// taskKey stands for a task role's key: the faults fail its calls alone.
const taskKey = "AKIAFAULTEDTASKROLE0"

// faultClients are SDK clients of one caller at the emulator, with the
// SDK's default retry rules and attempts (3) but no backoff delay, which
// is not the subject here.
type faultClients struct {
	ssm *ssm.Client
	ec2 *ec2.Client
	sns *sns.Client
}

func clientsFor(t *testing.T, ctx context.Context, emu *emulator.Emulator, key string, http1 bool) faultClients {
	t.Helper()
	cfg, err := emu.AWSConfig(ctx, "eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, emulator.SecretKey, "")
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	if http1 { // as the AWS CLI speaks; the Go SDK asks for HTTP/2
		cfg.HTTPClient = cfg.HTTPClient.(*awshttp.BuildableClient).WithTransportOptions(func(tr *http.Transport) {
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			tr.TLSClientConfig = tr.TLSClientConfig.Clone()
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		})
	}
	return faultClients{ssm: ssm.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg)}
}

// faultSetup is an emulator holding a parameter and a topic, with the
// task's clients and another caller's.
type faultSetup struct {
	ctx         context.Context
	emu         *emulator.Emulator
	task, other faultClients
	param       string
	topic       string
}

func newFaultSetup(t *testing.T) *faultSetup {
	ctx, emu := start(t)
	s := &faultSetup{ctx: ctx, emu: emu, task: clientsFor(t, ctx, emu, taskKey, false), other: clientsFor(t, ctx, emu, emulator.AccessKey, false),
		param: "/faults/prometheus.yml"}
	if _, err := s.other.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(s.param), Value: aws.String("global: {}"),
		Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	topic, err := s.other.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms")})
	if err != nil {
		t.Fatal(err)
	}
	s.topic = aws.ToString(topic.TopicArn)
	return s
}

// inject installs f until the subtest ends.
func (s *faultSetup) inject(t *testing.T, f *emulator.Fault) *emulator.Fault {
	t.Helper()
	t.Cleanup(s.emu.Override(f.Override()))
	return f
}

func (s *faultSetup) getParameter(c faultClients) error {
	_, err := c.ssm.GetParameter(s.ctx, &ssm.GetParameterInput{Name: aws.String(s.param)})
	return err
}

func (s *faultSetup) describeInstances(c faultClients) error {
	_, err := c.ec2.DescribeInstances(s.ctx, &ec2.DescribeInstancesInput{})
	return err
}

func (s *faultSetup) publish(c faultClients) error {
	_, err := c.sns.Publish(s.ctx, &sns.PublishInput{TopicArn: aws.String(s.topic), Message: aws.String("[FIRING:1] NodeDown")})
	return err
}

// wantServiceError fails unless err is the service's error code with
// status, after attempts requests reached the fault.
func wantServiceError(t *testing.T, f *emulator.Fault, err error, code string, status int, attempts int64) {
	t.Helper()
	var api interface{ ErrorCode() string }
	var resp *awshttp.ResponseError
	if !errors.As(err, &api) || api.ErrorCode() != code || !errors.As(err, &resp) || resp.HTTPStatusCode() != status {
		t.Errorf("%s: want %s with HTTP %d, got %v", f.Describe(), code, status, err)
	}
	if f.Hits() != attempts {
		t.Errorf("%s: %d attempts reached the fault, want %d", f.Describe(), f.Hits(), attempts)
	}
}

// The fault injector as the AWS SDK sees it at the emulator's endpoint:
// each mode fails one caller's matching calls the way the service does,
// the SDK retries what it retries and surfaces the service's error, and
// every other call goes through.
func TestFaults(t *testing.T) {
	s := newFaultSetup(t)
	throttle := retry.IsErrorThrottles(retry.DefaultThrottles)

	t.Run("throttled: the SDK retries, then returns the service's throttling error", func(t *testing.T) {
		f := s.inject(t, &emulator.Fault{Service: "ssm", Actions: []string{"GetParameter"}, AccessKey: taskKey, Mode: emulator.Throttle})
		err := s.getParameter(s.task)
		wantServiceError(t, f, err, "ThrottlingException", http.StatusBadRequest, 3)
		if throttle.IsErrorThrottle(err) != aws.TrueTernary {
			t.Errorf("the SDK must take %v for throttling", err)
		}
		g := s.inject(t, &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, AccessKey: taskKey, Mode: emulator.Throttle})
		err = s.describeInstances(s.task)
		wantServiceError(t, g, err, "RequestLimitExceeded", http.StatusServiceUnavailable, 3)
		if throttle.IsErrorThrottle(err) != aws.TrueTernary {
			t.Errorf("the SDK must take %v for throttling", err)
		}
		// SNS's own throttling error is modeled, and its code (Throttled) is
		// not among the SDK's throttling codes: one attempt, the typed error.
		// The Alertmanager's next flush is what retries a notification.
		h := s.inject(t, &emulator.Fault{Service: "sns", Actions: []string{"Publish"}, AccessKey: taskKey, Mode: emulator.Throttle})
		err = s.publish(s.task)
		var typed *snstypes.ThrottledException
		if !errors.As(err, &typed) {
			t.Errorf("SNS throttling must surface as %T: %v", typed, err)
		}
		wantServiceError(t, h, err, "Throttled", http.StatusTooManyRequests, 1)
	})

	t.Run("server errors: retried, then the service's typed error", func(t *testing.T) {
		f := s.inject(t, &emulator.Fault{Service: "ssm", Actions: []string{"GetParameter"}, AccessKey: taskKey, Mode: emulator.ServerError})
		err := s.getParameter(s.task)
		var internal *ssmtypes.InternalServerError
		if !errors.As(err, &internal) {
			t.Errorf("SSM's 500 must surface as %T: %v", internal, err)
		}
		wantServiceError(t, f, err, "InternalServerError", http.StatusInternalServerError, 3)
		g := s.inject(t, &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, AccessKey: taskKey, Mode: emulator.ServerError, Status: http.StatusServiceUnavailable})
		wantServiceError(t, g, s.describeInstances(s.task), "Unavailable", http.StatusServiceUnavailable, 3)
		h := s.inject(t, &emulator.Fault{Service: "sns", Actions: []string{"Publish"}, AccessKey: taskKey, Mode: emulator.ServerError})
		err = s.publish(s.task)
		var snsInternal *snstypes.InternalErrorException
		if !errors.As(err, &snsInternal) {
			t.Errorf("SNS's 500 must surface as %T: %v", snsInternal, err)
		}
		wantServiceError(t, h, err, "InternalError", http.StatusInternalServerError, 3)
	})

	t.Run("slow: answered after the delay, or the caller's deadline ends it", func(t *testing.T) {
		f := s.inject(t, &emulator.Fault{Service: "ssm", Actions: []string{"GetParameter"}, AccessKey: taskKey, Mode: emulator.Slow, Delay: time.Second})
		start := time.Now()
		if err := s.getParameter(s.task); err != nil {
			t.Errorf("%s: the answer must come after the delay: %v", f.Describe(), err)
		}
		if took := time.Since(start); took < f.Delay {
			t.Errorf("%s: answered in %s", f.Describe(), took)
		}
		ctx, cancel := context.WithTimeout(s.ctx, f.Delay/4)
		defer cancel()
		if _, err := s.task.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.param)}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: a caller's shorter deadline must end the call: %v", f.Describe(), err)
		}
	})

	t.Run("dropped: no answer, retried as a connection error, over HTTP/1.1 and HTTP/2", func(t *testing.T) {
		var mu sync.Mutex
		protos := map[string]bool{}
		t.Cleanup(s.emu.Override(func(r *emulator.Request) (emulator.Answer, bool) {
			mu.Lock()
			defer mu.Unlock()
			protos[r.Proto] = true
			return emulator.Answer{}, false
		}))
		f := s.inject(t, &emulator.Fault{Service: "ec2", Actions: []string{"DescribeInstances"}, AccessKey: taskKey, Mode: emulator.Drop})
		http1 := clientsFor(t, s.ctx, s.emu, taskKey, true)
		for i, c := range []faultClients{s.task, http1} {
			before := f.Hits()
			err := s.describeInstances(c)
			var api interface{ ErrorCode() string }
			if err == nil || errors.As(err, &api) {
				t.Errorf("%s: want a connection error, got %v", f.Describe(), err)
			}
			if n := f.Hits() - before; n != 3 {
				t.Errorf("%s (client %d): %d attempts, want 3 (a dropped connection is retried): %v", f.Describe(), i, n, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if !protos["HTTP/1.1"] || !protos["HTTP/2.0"] {
			t.Errorf("want calls over HTTP/1.1 and HTTP/2, saw %v", protos)
		}
	})

	t.Run("only the caller's matching calls fail, and only while installed", func(t *testing.T) {
		f := &emulator.Fault{Service: "ssm", Actions: []string{"GetParameter"}, AccessKey: taskKey, Mode: emulator.ServerError}
		remove := s.emu.Override(f.Override())
		if err := s.getParameter(s.other); err != nil {
			t.Errorf("another caller's call must go through: %v", err)
		}
		if _, err := s.task.ssm.GetParameters(s.ctx, &ssm.GetParametersInput{Names: []string{s.param}}); err != nil {
			t.Errorf("another action must go through: %v", err)
		}
		if err := s.describeInstances(s.task); err != nil {
			t.Errorf("another service must go through: %v", err)
		}
		if f.Hits() != 0 {
			t.Errorf("%s: %d calls reached it, want none", f.Describe(), f.Hits())
		}
		remove()
		if err := s.getParameter(s.task); err != nil {
			t.Errorf("removed, the fault must be gone: %v", err)
		}
	})
}
