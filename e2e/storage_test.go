package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/golang/snappy"

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
	t.Cleanup(func() { d.destroy(t) })
	d.assertCleanPlan(t)

	out := d.outputs(t)
	workspaceID := out["amp_workspace_id"]
	if workspaceID == "" {
		t.Fatalf("no amp_workspace_id output: %v", out)
	}
	s := d.settings

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

	t.Run("samples are signed and carry the HA labels", func(t *testing.T) {
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
		auth := req.header.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/"+s.Region+"/aps/aws4_request") {
			t.Errorf("remote write not SigV4-signed for aps in %s: Authorization %q", s.Region, auth)
		}
		body := string(req.body)
		for _, want := range []string{promconfig.ClusterLabel, s.StackName(), promconfig.ReplicaLabel} {
			if !strings.Contains(body, want) {
				t.Errorf("remote-written series lack %q", want)
			}
		}
	})
}

// remoteWriteReceiver keeps the first remote-write request it is sent.
type remoteWriteReceiver struct {
	mu    sync.Mutex
	first *received
}

type received struct {
	path   string
	header http.Header
	body   []byte // snappy-decoded protobuf WriteRequest
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
		r.first = &received{path: req.URL.Path, header: req.Header.Clone(), body: body}
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
