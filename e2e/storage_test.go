package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// TestAMPRemoteWrite applies storageMode=amp with two replicas against the
// emulator: the workspace, the task role allowed aps:RemoteWrite on that
// workspace only, the config's remote_write URL naming it, two tasks. Then
// the service's task, run as Fargate runs it, remote-writes to a loopback
// receiver standing in for the workspace's host (moto stores workspaces but
// ingests nothing): the requests must go to the workspace's path, be
// SigV4-signed for the aps service with the task role's credentials and
// carry the HA labels AMP de-duplicates on.
func TestAMPRemoteWrite(t *testing.T) {
	h := newHarness(t)
	d := h.deploy(t, "amp", map[string]string{
		"PROMAWS_STORAGE_MODE": "amp",
		"PROMAWS_REPLICAS":     "2",
		"PROMAWS_NODE_COUNT":   "1",
	})
	d.apply(t)
	d.assertCleanPlan(t)

	out := d.outputs(t)
	workspaceID := out["amp_workspace_id"]
	if workspaceID == "" {
		t.Fatalf("no amp_workspace_id output: %v", out)
	}
	s := d.Settings

	t.Run("config remote-writes to the workspace", func(t *testing.T) {
		param, err := ssm.NewFromConfig(h.aws).GetParameter(h.ctx, &ssm.GetParameterInput{Name: aws.String(out["prometheus_config_parameter"])})
		if err != nil {
			t.Fatal(err)
		}
		// The local profile keeps the workspace's path on a loopback host.
		want := strings.Replace(promconfig.AMPRemoteWriteURL(s.Region, workspaceID), "https://aps-workspaces."+s.Region+".amazonaws.com",
			promconfig.LocalProfile(s).RemoteWriteBase, 1)
		if v := aws.ToString(param.Parameter.Value); !strings.Contains(v, "url: "+want) || !strings.Contains(v, "sigv4:") {
			t.Errorf("config parameter lacks remote_write to %s with sigv4:\n%s", want, v)
		}
	})

	t.Run("task role may remote-write to this workspace only", func(t *testing.T) {
		pol, err := iam.NewFromConfig(h.aws).GetRolePolicy(h.ctx, &iam.GetRolePolicyInput{
			RoleName: aws.String(s.StackName() + "-prometheus-task"), PolicyName: aws.String("prometheus"),
		})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
		var p struct {
			Statement []struct{ Action, Resource []string }
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			t.Fatalf("%v: %s", err, doc)
		}
		var found bool
		for _, st := range p.Statement {
			for _, a := range st.Action {
				if strings.HasPrefix(a, "aps:") {
					if a != "aps:RemoteWrite" || len(st.Resource) != 1 || !strings.HasSuffix(st.Resource[0], ":workspace/"+workspaceID) {
						t.Errorf("aps statement too wide: %v on %v", st.Action, st.Resource)
					}
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no aps:RemoteWrite statement in %s", doc)
		}
	})

	t.Run("two replicas run", func(t *testing.T) {
		svc, err := ecs.NewFromConfig(h.aws).DescribeServices(h.ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(out["cluster_name"]), Services: []string{out["service_name"]},
		})
		if err != nil || len(svc.Services) != 1 {
			t.Fatalf("describe service: %v %v", err, svc)
		}
		if got := svc.Services[0].DesiredCount; got != 2 {
			t.Errorf("desired count %d, want 2", got)
		}
	})

	t.Run("samples are signed by the task role and carry the HA labels", func(t *testing.T) {
		recv := &remoteWriteReceiver{}
		srv := httptest.NewServer(recv)
		t.Cleanup(srv.Close)
		prom := h.startPrometheusWith(t, s, rig.TaskOptions{RemoteWrite: srv.Listener.Addr().String()})
		req, err := recv.wait(h, 90*time.Second)
		if err != nil {
			t.Fatalf("%v\nprometheus log:\n%s", err, prom.logTail())
		}
		if want := "/workspaces/" + workspaceID + "/api/v1/remote_write"; req.path != want {
			t.Errorf("remote write went to %s, want the workspace's %s", req.path, want)
		}
		// The signature, recomputed with the SDK's signer from the task
		// role's credentials (the container credentials endpoint's), must
		// be the one sent; a changed body must not match it.
		creds := prom.task.Task.RoleCredentials()
		if err := verifySigV4(req, req.raw, creds, s.Region); err != nil {
			t.Errorf("remote write is not SigV4-signed by the task role for aps in %s: %v", s.Region, err)
		}
		tampered := append([]byte{}, req.raw...)
		tampered[len(tampered)-1] ^= 0xff
		if err := verifySigV4(req, tampered, creds, s.Region); err == nil {
			t.Error("the signature check must fail for a changed body")
		}
		// Every series carries the cluster and this task's replica name
		// (the entrypoint reads the task id from the metadata endpoint).
		series, err := decodeWriteRequest(req.body)
		if err != nil || len(series) == 0 {
			t.Fatalf("the body is no WriteRequest with series: %v", err)
		}
		for _, labels := range series {
			if labels[promconfig.ClusterLabel] != s.StackName() || labels[promconfig.ReplicaLabel] != prom.task.Task.ID {
				t.Fatalf("series %v: want %s=%s and %s=%s (the task id)", labels, promconfig.ClusterLabel, s.StackName(), promconfig.ReplicaLabel, prom.task.Task.ID)
			}
		}
	})
}

// verifySigV4 recomputes the request's AWS Signature Version 4 over body
// with creds (the headers it names as signed, its date) and compares it.
func verifySigV4(r *received, body []byte, creds fargate.Credentials, region string) error {
	auth := r.header.Get("Authorization")
	m := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`).FindStringSubmatch(auth)
	if m == nil {
		return fmt.Errorf("Authorization %q is not SigV4", auth)
	}
	if m[1] != creds.AccessKeyId || m[2] != region || m[3] != "aps" {
		return fmt.Errorf("signed with key %s for %s/%s, want the task role's %s for %s/aps", m[1], m[2], m[3], creds.AccessKeyId, region)
	}
	when, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	again, err := http.NewRequest(http.MethodPost, "http://"+r.host+r.path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, name := range strings.Split(m[4], ";") {
		if name != "host" {
			again.Header[http.CanonicalHeaderKey(name)] = r.header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyId, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.Token},
		again, hex.EncodeToString(sum[:]), "aps", region, when)
	if err != nil {
		return err
	}
	if got := again.Header.Get("Authorization"); got != auth {
		return fmt.Errorf("signature mismatch:\nsent     %s\nexpected %s", auth, got)
	}
	return nil
}

// decodeWriteRequest reads the labels of every series of a remote-write
// 1.0 WriteRequest (timeseries = 1 { labels = 1 { name = 1, value = 2 } }).
func decodeWriteRequest(b []byte) ([]map[string]string, error) {
	var out []map[string]string
	err := eachField(b, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		labels := map[string]string{}
		err := eachField(v, func(num protowire.Number, v []byte) error {
			if num != 1 {
				return nil // samples, exemplars, histograms
			}
			var name, value string
			err := eachField(v, func(num protowire.Number, v []byte) error {
				switch num {
				case 1:
					name = string(v)
				case 2:
					value = string(v)
				}
				return nil
			})
			labels[name] = value
			return err
		})
		out = append(out, labels)
		return err
	})
	return out, err
}

// eachField calls f with every length-delimited field of a protobuf
// message, skipping the others.
func eachField(b []byte, f func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err := f(num, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// remoteWriteReceiver keeps the first remote-write request it is sent.
type remoteWriteReceiver struct {
	mu    sync.Mutex
	first *received
}

type received struct {
	host, path string
	header     http.Header
	raw        []byte // the body as sent (snappy)
	body       []byte // snappy-decoded protobuf WriteRequest
}

func (r *remoteWriteReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "want a POST with a body", http.StatusBadRequest)
		return
	}
	body, err := snappy.Decode(nil, raw)
	if err != nil {
		http.Error(w, "body is not snappy: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if r.first == nil {
		r.first = &received{host: req.Host, path: req.URL.Path, header: req.Header.Clone(), raw: raw, body: body}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// wait polls until a request arrived (Prometheus sends once its first
// scrapes are in the WAL) or the deadline passes.
func (r *remoteWriteReceiver) wait(h *harness, limit time.Duration) (*received, error) {
	deadline := time.Now().Add(limit)
	for {
		r.mu.Lock()
		got := r.first
		r.mu.Unlock()
		if got != nil {
			return got, nil
		}
		if time.Now().After(deadline) {
			return nil, errNoRemoteWrite
		}
		select {
		case <-h.ctx.Done():
			return nil, h.ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

var errNoRemoteWrite = errors.New("no remote-write request reached the receiver")
