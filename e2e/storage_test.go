package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/fargate"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
	"github.com/prometheus-aws/prometheus-aws/verify"
)

// TestAMPRemoteWrite applies storageMode=amp with two replicas against the
// emulator: the workspace, the task role allowed aps:RemoteWrite on that
// workspace only, the config's remote_write URL naming it, two tasks. Then
// the service's two tasks, run as Fargate runs them, remote-write to a
// loopback receiver standing in for the workspace's host (moto stores
// workspaces but ingests nothing): the requests must go to the workspace's
// path, be SigV4-signed for the aps service with each task's role
// credentials and carry the HA labels AMP de-duplicates on, the same
// cluster and a replica of each task's own. The de-duplication itself
// happens in AMP, beyond the emulator (docs/DESIGN.md names the blind spot).
// The tasks run Prometheus in agent mode (no query API, a WAL and no TSDB),
// and what the workspace's ruler evaluates reaches it: every series its
// rules read arrives at the receiver. The workspace keeps retention's days
// (its configuration, which the emulator's front answers for moto), and
// verify reads an agent's configuration and discovery from what it serves.
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

	t.Run("the workspace keeps retention's days", func(t *testing.T) {
		out, err := amp.NewFromConfig(h.aws).DescribeWorkspaceConfiguration(h.ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: aws.String(workspaceID)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := aws.ToInt32(out.WorkspaceConfiguration.RetentionPeriodInDays), int32(s.WorkspaceRetentionDays()); got != want || want != 15 {
			t.Errorf("the workspace keeps %d days, want retention's %d (15d by default), not AMP's 150", got, want)
		}
	})

	var ruler []byte // the rules the workspace's ruler evaluates
	t.Run("the workspace's ruler holds the rules, less those an agent cannot feed", func(t *testing.T) {
		ns, err := amp.NewFromConfig(h.aws).DescribeRuleGroupsNamespace(h.ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: aws.String(workspaceID), Name: aws.String(s.StackName())})
		if err != nil {
			t.Fatal(err)
		}
		want, err := alerting.ForAgent(alerting.Rules())
		if err != nil {
			t.Fatal(err)
		}
		ruler = ns.RuleGroupsNamespace.Data
		if got := string(ruler); got != string(want) {
			t.Errorf("the workspace's rule groups namespace is not rules.yml less %v:\n%s", alerting.ServerOnly, got)
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

	recv := &remoteWriteReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	// Both of the service's tasks (desired count 2), as ECS would run them:
	// each its own task id, both from the one task definition.
	proms := []*prometheus{
		h.startPrometheusWith(t, s, rig.TaskOptions{RemoteWrite: srv.Listener.Addr().String()}),
		h.startPrometheusWith(t, s, rig.TaskOptions{RemoteWrite: srv.Listener.Addr().String()}),
	}
	t.Run("the service's two tasks write signed samples with one cluster and distinct replica labels", func(t *testing.T) {
		running, err := ecs.NewFromConfig(h.aws).ListTasks(h.ctx, &ecs.ListTasksInput{Cluster: aws.String(out["cluster_name"]), ServiceName: aws.String(out["service_name"])})
		if err != nil || len(running.TaskArns) != 2 {
			t.Fatalf("the service must run its two tasks: %v %v", running, err)
		}
		ids := []string{proms[0].task.Task.ID, proms[1].task.Task.ID}
		if ids[0] == ids[1] {
			t.Fatalf("two tasks with one id %s", ids[0])
		}
		byReplica, err := recv.waitReplicas(h, ids, 2*time.Minute)
		if err != nil {
			t.Fatalf("%v\nfirst task's log:\n%s\nsecond task's log:\n%s", err, proms[0].logTail(), proms[1].logTail())
		}
		for i, prom := range proms {
			req := byReplica[ids[i]]
			if want := "/workspaces/" + workspaceID + "/api/v1/remote_write"; req.path != want {
				t.Errorf("task %s: remote write went to %s, want the workspace's %s", ids[i], req.path, want)
			}
			// The signature, recomputed with the SDK's signer from the
			// task role's credentials (the container credentials
			// endpoint's), must be the one sent; a changed body must not
			// match it.
			creds := prom.task.Task.RoleCredentials()
			if err := verifySigV4(req, req.raw, creds, s.Region); err != nil {
				t.Errorf("task %s: remote write is not SigV4-signed by the task role for aps in %s: %v", ids[i], s.Region, err)
			}
			tampered := append([]byte{}, req.raw...)
			tampered[len(tampered)-1] ^= 0xff
			if err := verifySigV4(req, tampered, creds, s.Region); err == nil {
				t.Error("the signature check must fail for a changed body")
			}
		}
		t.Logf("cluster labels per replica label: %v", recv.clusters())
		// Every series carries the cluster and its task's replica name
		// (the entrypoint reads the task id from the metadata endpoint):
		// one cluster, two replicas, the labels AMP de-duplicates by.
		for replica, clusters := range recv.clusters() {
			if !slices.Contains(ids, replica) || !slices.Equal(clusters, []string{s.StackName()}) {
				t.Errorf("series with %s=%q carry %s %q; want only %s=%s and the %s of one of the tasks %v",
					promconfig.ReplicaLabel, replica, promconfig.ClusterLabel, clusters, promconfig.ClusterLabel, s.StackName(), promconfig.ReplicaLabel, ids)
			}
		}
	})

	t.Run("the tasks run Prometheus in agent mode", func(t *testing.T) {
		for _, p := range proms {
			var flags map[string]string
			if err := p.api.Get(p.ctx, "/api/v1/status/flags", &flags); err != nil {
				t.Fatal(err)
			}
			if flags["agent"] != "true" || flags["storage.agent.path"] != taskcontract.StoragePath {
				t.Errorf("task %s: --agent %q, --storage.agent.path %q; want true and the data volume %s", p.task.Task.ID, flags["agent"], flags["storage.agent.path"], taskcontract.StoragePath)
			}
			if _, err := p.api.Query(p.ctx, "up"); err == nil || !strings.Contains(err.Error(), "unavailable with Prometheus Agent") {
				t.Errorf("task %s: the query API answered (%v); an agent refuses it", p.task.Task.ID, err)
			}
		}
	})

	t.Run("every series the workspace's rules read arrives", func(t *testing.T) {
		if ruler == nil {
			t.Fatal("the workspace's rules were not read")
		}
		read := seriesRead(t, ruler)
		var missing []string
		waitFor(t, h.ctx, 2*time.Minute, proms[0], func() (bool, string) {
			got := recv.names()
			missing = slices.DeleteFunc(slices.Clone(read), func(n string) bool { return got[n] })
			return len(missing) == 0, fmt.Sprintf("the rules read %v; not received yet: %v", read, missing)
		})
		t.Logf("the workspace's rules read %d series names, all received: %v", len(read), read)
	})

	t.Run("verify reads an agent's configuration and discovery", func(t *testing.T) {
		v := &verifier{h: h, d: d, p: proms[0]}
		results := v.run(t, verify.Options{Wait: 2 * time.Minute, Interval: 3 * time.Second})
		want := map[string]verify.Status{"configuration served": verify.Pass, "discovery": verify.Pass, "storage": verify.Skip}
		for _, r := range results {
			if w, ok := want[r.Check]; ok && r.Status != w {
				t.Errorf("%s is %s (%s), want %s", r.Check, r.Status, r.Detail, w)
			}
		}
	})
}

// seriesRead are the metric names the rules' expressions read of the nodes
// (node_*, up) and of Prometheus itself (prometheus_*), sorted.
func seriesRead(t *testing.T, rules []byte) []string {
	t.Helper()
	var file struct {
		Groups []struct {
			Rules []struct{ Expr string }
		}
	}
	if err := yaml.Unmarshal(rules, &file); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	name := regexp.MustCompile(`\b(up|node_[a-zA-Z0-9_]+|prometheus_[a-zA-Z0-9_]+)\b`)
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			for _, n := range name.FindAllString(r.Expr, -1) {
				names[n] = true
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("the rules read no series")
	}
	return slices.Sorted(maps.Keys(names))
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

// remoteWriteReceiver keeps, per __replica__ label, the first
// remote-write request whose series carry it and the cluster labels they
// carried, and every metric name received.
type remoteWriteReceiver struct {
	mu        sync.Mutex
	byReplica map[string]*received
	replicas  map[string]map[string]bool // replica -> cluster labels
	received  map[string]bool            // metric names
}

// names are the metric names received so far.
func (r *remoteWriteReceiver) names() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.received)
}

type received struct {
	host, path string
	header     http.Header
	raw        []byte // the body as sent (snappy)
	body       []byte // snappy-decoded protobuf WriteRequest
}

// readRemoteWrite reads a remote write request's body as sent (snappy)
// and decoded; ok false: the client has been answered 400.
func readRemoteWrite(w http.ResponseWriter, req *http.Request) (raw, body []byte, ok bool) {
	raw, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "want a POST with a body", http.StatusBadRequest)
		return nil, nil, false
	}
	body, err = snappy.Decode(nil, raw)
	if err != nil {
		http.Error(w, "body is not snappy: "+err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	return raw, body, true
}

func (r *remoteWriteReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, body, ok := readRemoteWrite(w, req)
	if !ok {
		return
	}
	series, err := decodeWriteRequest(body)
	if err != nil {
		http.Error(w, "body is not a WriteRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	got := &received{host: req.Host, path: req.URL.Path, header: req.Header.Clone(), raw: raw, body: body}
	r.mu.Lock()
	if r.replicas == nil {
		r.byReplica, r.replicas, r.received = map[string]*received{}, map[string]map[string]bool{}, map[string]bool{}
	}
	for _, labels := range series {
		r.received[labels["__name__"]] = true
		replica := labels[promconfig.ReplicaLabel]
		if r.byReplica[replica] == nil {
			r.byReplica[replica], r.replicas[replica] = got, map[string]bool{}
		}
		r.replicas[replica][labels[promconfig.ClusterLabel]] = true
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// waitReplicas polls until series with every replica label of ids
// arrived (each task sends once its first scrapes are in the WAL), and
// returns the first request of each replica seen.
func (r *remoteWriteReceiver) waitReplicas(h *harness, ids []string, limit time.Duration) (map[string]*received, error) {
	deadline := time.Now().Add(limit)
	for {
		r.mu.Lock()
		seen := maps.Clone(r.byReplica)
		r.mu.Unlock()
		missing := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return seen[id] != nil })
		if len(missing) == 0 {
			return seen, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no series with %s %v reached the receiver in %s; replica labels seen: %q", promconfig.ReplicaLabel, missing, limit, slices.Sorted(maps.Keys(seen)))
		}
		select {
		case <-h.ctx.Done():
			return nil, h.ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// clusters are the cluster labels the series of each replica carried,
// sorted.
func (r *remoteWriteReceiver) clusters() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for replica, clusters := range r.replicas {
		out[replica] = slices.Sorted(maps.Keys(clusters))
	}
	return out
}
