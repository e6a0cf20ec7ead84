package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// notificationsFailed counts the bundled Alertmanager's failed SNS
// notifications, as Prometheus scrapes them (job alertmanager).
const notificationsFailed = `sum(alertmanager_notifications_failed_total{job="alertmanager",integration="sns"})`

// notificationsDelayed: SNS publishing is throttled while NodeDown fires
// for every node (node_exporter stopped), then fails with HTTP 500 while
// the alerts resolve (node_exporter back); each time every notification
// reaches the topic once the fault clears.
func (a *apiFaults) notificationsDelayed(t *testing.T, q *topicQueue, nodes []string) {
	addr := a.p.task.NodeExporterAddress
	q.drain(t) // whatever an earlier step sent
	fired := a.notificationFault(t, q, "SNS publishing throttled while alerts fire", "[FIRING",
		&emulator.Fault{Service: "sns", Actions: []string{"Publish"}, Mode: emulator.Throttle},
		func() []string {
			a.p.task.NodeExporter.Stop()
			return a.waitFiring(t, nodes)
		})
	a.notificationFault(t, q, "SNS publishing failing (HTTP 500) while alerts resolve", "[RESOLVED",
		&emulator.Fault{Service: "sns", Actions: []string{"Publish"}, Mode: emulator.ServerError},
		func() []string {
			ne, err := rig.StartNodeExporterAt(a.p.ctx, t.TempDir(), addr)
			if err != nil {
				t.Fatal(err)
			}
			a.p.task.NodeExporter = ne
			t.Cleanup(ne.Stop)
			a.waitFiring(t, nil)
			return fired
		})
}

// notificationFault injects f on the task's SNS publishing, lets cause
// make notifications (it returns the instances they must name), waits
// until the Alertmanager has failed to deliver twice, clears the fault and
// collects the messages whose subject starts with prefix until each
// instance is named. It returns the instances.
func (a *apiFaults) notificationFault(t *testing.T, q *topicQueue, name, prefix string, f *emulator.Fault, cause func() []string) []string {
	t.Helper()
	before := a.p.mustScalar(t, notificationsFailed)
	clear := a.inject(t, f)
	named := cause()
	a.until(t, func() (bool, string) {
		n := a.p.scalar(t, notificationsFailed)
		return n >= before+2, fmt.Sprintf("%s = %v, want two failures more than %v", notificationsFailed, n, before)
	})
	if leaked := q.drain(t); len(leaked) > 0 {
		t.Fatalf("%s: messages reached the topic through the fault: %v", f.Describe(), leaked)
	}
	failed := a.p.mustScalar(t, notificationsFailed) - before
	clear()
	cleared := time.Now()
	seen := q.collect(t, prefix, named, 4*time.Minute)
	arrived := time.Since(cleared).Seconds()
	lost := len(named) - len(seen)
	t.Logf("%s: %v notifications failed (%d calls failed); once it cleared %d of %d alerts arrived %q in %.1f s",
		f.Describe(), failed, f.Hits(), len(seen), len(named), prefix, arrived)
	recordAPIFault(t, bench.FaultRecord{
		Fault:    name,
		Injected: f.Describe() + " for the task role, until the Alertmanager had failed twice (emulator front)",
		Survived: fmt.Sprintf("%d of %d alerts reached the topic once it cleared; %v failed notifications counted (alertmanager_notifications_failed_total)",
			len(seen), len(named), failed),
		AlertsLost:     &lost,
		Seconds:        &arrived,
		SecondsMeaning: "from the fault clearing to the last alert at the topic's subscriber",
	})
	if lost > 0 {
		t.Errorf("%s: %d of %d alerts never reached the topic once it cleared: %v arrived, want %v\nalertmanager log:\n%s", f.Describe(), lost, len(named), seen, named, a.p.task.AlertmanagerLogTail(30))
	}
	return named
}

// waitFiring waits until NodeDown fires for exactly the instances want
// (none: every NodeDown resolved) and returns them.
func (a *apiFaults) waitFiring(t *testing.T, want []string) []string {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var firing []string
	a.until(t, func() (bool, string) {
		res, err := a.p.api.Query(a.p.ctx, `ALERTS{alertname="NodeDown",alertstate="firing"}`)
		if err != nil {
			return false, err.Error()
		}
		firing = nil
		for _, s := range res {
			firing = append(firing, s.Metric["instance_id"])
		}
		slices.Sort(firing)
		return slices.Equal(firing, want), fmt.Sprintf("NodeDown firing for %v, want %v", firing, want)
	})
	return firing
}

// drain receives and deletes every message waiting in the queue.
func (q *topicQueue) drain(t *testing.T) []string {
	t.Helper()
	var subjects []string
	for {
		got := q.receive(t, 1)
		if len(got) == 0 {
			return subjects
		}
		for _, m := range got {
			subjects = append(subjects, m.Subject)
		}
	}
}

// collect receives messages until those whose subject starts with prefix
// have named every instance, or bound passes; it returns the instances
// named.
func (q *topicQueue) collect(t *testing.T, prefix string, instances []string, bound time.Duration) []string {
	t.Helper()
	seen := map[string]bool{}
	for end := time.Now().Add(bound); len(seen) < len(instances) && time.Now().Before(end); {
		for _, m := range q.receive(t, 2) {
			if !strings.HasPrefix(m.Subject, prefix) {
				continue
			}
			for _, id := range instances {
				if strings.Contains(m.Message, id) {
					seen[id] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// receive takes up to ten messages, waiting up to wait seconds, and
// deletes them.
func (q *topicQueue) receive(t *testing.T, wait int32) []snsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(q.ctx, time.Minute)
	defer cancel()
	out, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
	if err != nil {
		t.Fatalf("receiving from the topic's queue: %v", err)
	}
	var msgs []snsMessage
	for _, m := range out.Messages {
		var env snsMessage
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
			t.Fatalf("not an SNS envelope: %s", aws.ToString(m.Body))
		}
		if _, err := q.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, env)
	}
	return msgs
}
