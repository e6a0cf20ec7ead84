// Package emulator runs the moto AWS emulator for the tests and the demo,
// on loopback only, inside a loopback-only network namespace.
//
// Safety rules it enforces: it refuses to start unless every network
// interface is loopback (run through scripts/netns.sh, as make test does);
// moto gets static test credentials and AWS_EC2_METADATA_DISABLED (started
// without them it reached for instance metadata); nothing of the caller's
// AWS environment is passed on.
package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

// AccessKey and SecretKey are the static credentials everything uses
// against the emulator.
const (
	AccessKey = "test"
	SecretKey = "test"
)

// Options tune Start.
type Options struct {
	// Dir holds moto's log; default a new temp folder.
	Dir string
	// Port on 127.0.0.1 of the endpoint; default a free one.
	Port int
	// Detach lets moto outlive the caller (the demo).
	Detach bool
}

// Emulator is a running moto server, speaking HTTPS with its own
// throw-away certificate.
type Emulator struct {
	endpoint string
	// CAFile is the PEM certificate clients must trust.
	CAFile  string
	Process *proc.Process
	client  *http.Client
	// front answers at endpoint, cache the pull through cache API moto
	// lacks and workspaces the AMP workspace configuration API (all nil on
	// an Attach handle).
	front      *front
	cache      *pullThroughCache
	workspaces *workspaceConfigs
}

// CheckLoopbackOnly returns an error unless this network namespace has no
// interface but loopback.
func CheckLoopbackOnly() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	return checkInterfaces(ifaces)
}

func checkInterfaces(ifaces []net.Interface) error {
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("not in a loopback-only network namespace (interface %s exists): run through scripts/netns.sh (make test and make demo do)", i.Name)
		}
	}
	return nil
}

// Start launches moto_server on 127.0.0.1 and waits until it answers.
func Start(ctx context.Context, o Options) (*Emulator, error) {
	if err := CheckLoopbackOnly(); err != nil {
		return nil, err
	}
	moto, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not found: install moto with its server extra (pip install 'moto[server]') or run make tools")
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "moto-"); err != nil {
			return nil, err
		}
	}
	// The endpoint clients use is the front (front.go); moto listens
	// behind it.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(o.Port))
	if err != nil {
		return nil, fmt.Errorf("emulator endpoint: %w", err)
	}
	cert, key, err := writeCertificate(o.Dir)
	if err != nil {
		l.Close()
		return nil, err
	}
	e, err := Attach("https://"+l.Addr().String(), cert)
	if err != nil {
		l.Close()
		return nil, err
	}
	motoURL, err := e.startMoto(ctx, moto, o, cert, key)
	if err == nil {
		e.cache, e.workspaces = newPullThroughCache(), newWorkspaceConfigs()
		e.front, err = startFront(l, motoURL, cert, key, e.client, e.cache.override, e.workspaces.override)
	}
	if err == nil {
		err = proc.WaitHTTPWith(ctx, e.client, e.endpoint+"/moto-api/", e.Process)
	}
	if err != nil {
		e.Stop()
		l.Close()
		return nil, err
	}
	return e, nil
}

// startMoto starts moto on a free port and waits until it answers. A port
// found free can be taken by another process before moto binds it (tests
// start emulators side by side), so that case is retried on another port.
func (e *Emulator) startMoto(ctx context.Context, moto string, o Options, cert, key string) (string, error) {
	env := append(baseEnv(),
		"MOTO_IAM_LOAD_MANAGED_POLICIES=true", // AWS-managed policy attachments
		// ACM issues a DNS-validated certificate at once, not after 60 s.
		"MOTO_ACM_VALIDATION_WAIT=0",
		"AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := proc.FreePort()
		if err != nil {
			return "", err
		}
		p, err := proc.Start(ctx, proc.Spec{
			Name: "moto", Path: moto, Dir: o.Dir, Env: env, Detach: o.Detach,
			Args: []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port), "-c", cert, "-k", key},
		})
		if err != nil {
			return "", err
		}
		url := "https://127.0.0.1:" + strconv.Itoa(port)
		if lastErr = proc.WaitHTTPWith(ctx, e.client, url+"/moto-api/", p); lastErr == nil {
			e.Process = p
			return url, nil
		}
		p.Stop()
		if !strings.Contains(proc.Tail(filepath.Join(o.Dir, "moto.log"), 5), "in use") {
			break
		}
	}
	return "", lastErr
}

// Attach returns a handle on an emulator at endpoint whose certificate is
// caFile.
func Attach(endpoint, caFile string) (*Emulator, error) {
	if !config.IsLoopbackEndpoint(endpoint) {
		return nil, fmt.Errorf("emulator endpoint %q is not loopback", endpoint)
	}
	client, err := httpClient(caFile)
	if err != nil {
		return nil, err
	}
	return &Emulator{endpoint: endpoint, CAFile: caFile, client: client}, nil
}

// baseEnv is the environment passed on to tools: PATH and HOME only, never
// the caller's AWS settings (profile, CA bundle, real credentials).
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Endpoint is the emulator's URL.
func (e *Emulator) Endpoint() string { return e.endpoint }

// Stop ends moto and the front (only if this handle started them).
func (e *Emulator) Stop() {
	if e.front != nil {
		e.front.close()
	}
	if e.Process != nil {
		e.Process.Stop()
	}
}

// Reset wipes every resource in the emulator (the pull through cache
// rules and workspace configurations only on the handle that started it,
// which holds them).
func (e *Emulator) Reset() error {
	if e.cache != nil {
		e.cache.reset()
		e.workspaces.reset()
	}
	resp, err := e.client.Post(e.endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Env is the environment for Terraform and other AWS clients aimed at the
// emulator: PATH/HOME, static credentials, no metadata, the endpoint and
// its certificate.
func (e *Emulator) Env(region string) []string {
	return append(baseEnv(),
		"AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL="+e.endpoint,
		"AWS_CA_BUNDLE="+e.CAFile,
		"AWS_REGION="+region, "AWS_DEFAULT_REGION="+region,
	)
}

// AWSConfig is an SDK configuration aimed at the emulator.
func (e *Emulator) AWSConfig(ctx context.Context, region string) (aws.Config, error) {
	ca, err := os.ReadFile(e.CAFile)
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
		awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		// Trust the emulator's certificate (this also overrides an
		// AWS_CA_BUNDLE in the caller's environment).
		awsconfig.WithCustomCABundle(bytes.NewReader(ca)),
	)
	if err != nil {
		return cfg, err
	}
	cfg.BaseEndpoint = aws.String(e.endpoint)
	return cfg, nil
}
