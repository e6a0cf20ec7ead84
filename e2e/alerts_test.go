package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// TestAlertsReachTheTopic proves the bundled alert delivery end to end: the
// task's Prometheus and Alertmanager containers run through the local
// Fargate runner from the applied task definition (efs mode: Alertmanager's
// state on an access point of its own; basic auth on both), an SQS queue in
// the emulator subscribes to the stack's alarm topic, and the shipped
// NodeDown rule (the local overlay shortens its for: to
// alerting.LocalNodeDownFor, its only change) turns a stopped node_exporter
// into a message naming the alert and the instance, then, once the node is
// back, into the resolved message. The timing comes from the settings
// (alertGroupWait, alertGroupInterval), as a user would set it.
func TestAlertsReachTheTopic(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "alerts", map[string]string{"PROMAWS_NODE_COUNT": "1",
		"PROMAWS_ALERT_GROUP_WAIT": "1s", "PROMAWS_ALERT_GROUP_INTERVAL": "5s", "PROMAWS_ALERT_REPEAT_INTERVAL": "1h"})
	dep.apply(t)
	out := dep.outputs(t)
	topic := out["alarm_topic_arn"]
	if topic == "" || out["alertmanager_config_parameter"] == "" {
		t.Fatalf("outputs lack alarm_topic_arn or alertmanager_config_parameter: %v", out)
	}
	queue := h.subscribeQueue(t, topic)
	ids := dep.groupInstances(t)
	if len(ids) != 1 {
		t.Fatalf("want one node, have %v", ids)
	}

	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t) // both containers' health checks
	prom.waitForNodes(t, ids)

	step(t, "the Alertmanager answers like Prometheus: basic auth on its port", func(t *testing.T) {
		url := prom.task.AlertmanagerURL + "/api/v2/status"
		for _, c := range []struct {
			user, password string
			want           int
		}{{"", "", http.StatusUnauthorized}, {prom.api.Username, prom.api.Password, http.StatusOK}} {
			req, _ := http.NewRequestWithContext(h.ctx, http.MethodGet, url, nil)
			if c.user != "" {
				req.SetBasicAuth(c.user, c.password)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s as %q: HTTP %d, want %d", url, c.user, resp.StatusCode, c.want)
			}
		}
	})

	step(t, "a stopped node_exporter fires NodeDown, delivered to the topic", func(t *testing.T) {
		prom.task.NodeExporter.Stop()
		m := queue.await(t, prom, "[FIRING:1] NodeDown")
		for _, want := range []string{"NodeDown [critical]", ids[0], "Since ", "Project prometheus-aws, environment dev"} {
			if !strings.Contains(m.Message, want) {
				t.Errorf("the message lacks %q:\n%s", want, m.Message)
			}
		}
	})

	step(t, "the node back, the resolved message follows", func(t *testing.T) {
		ne, err := rig.StartNodeExporterAt(h.ctx, t.TempDir(), prom.task.NodeExporterAddress)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ne.Stop)
		m := queue.await(t, prom, "[RESOLVED] NodeDown")
		if !strings.Contains(m.Message, "RESOLVED (1)") || !strings.Contains(m.Message, ids[0]) || !strings.Contains(m.Message, "Resolved at ") {
			t.Errorf("the resolved message must name the instance:\n%s", m.Message)
		}
	})
}

// topicQueue is an SQS queue subscribed to a topic: what a subscriber
// (email, chat, pager) would receive.
type topicQueue struct {
	ctx context.Context
	sqs *sqs.Client
	url string
}

// snsMessage is the SNS envelope SQS receives.
type snsMessage struct {
	Subject string `json:"Subject"`
	Message string `json:"Message"`
}

func (h *harness) subscribeQueue(t *testing.T, topic string) *topicQueue {
	t.Helper()
	q := &topicQueue{ctx: h.ctx, sqs: sqs.NewFromConfig(h.aws)}
	var arn string
	q.url, arn = h.queue(t, "alerts")
	if _, err := sns.NewFromConfig(h.aws).Subscribe(h.ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	return q
}

// queue creates an SQS queue in the emulator and returns its URL and ARN.
func (h *harness) queue(t *testing.T, name string) (url, arn string) {
	t.Helper()
	q := sqs.NewFromConfig(h.aws)
	created, err := q.CreateQueue(h.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(h.ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(created.QueueUrl), attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// await receives messages until one's subject starts with prefix; bounded
// generously (the rule's for:, a scrape, a group wait), never timed.
func (q *topicQueue) await(t *testing.T, prom *prometheus, prefix string) snsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(q.ctx, 4*time.Minute)
	defer cancel()
	var seen []string
	for ctx.Err() == nil {
		out, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var env snsMessage
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("not an SNS envelope: %s", aws.ToString(m.Body))
			}
			if _, err := q.sqs.DeleteMessage(q.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(env.Subject, prefix) {
				return env
			}
			seen = append(seen, env.Subject)
		}
	}
	t.Fatalf("no message %q reached the topic's subscriber (saw %q)\nalertmanager log:\n%s\nprometheus log:\n%s",
		prefix, seen, prom.task.AlertmanagerLogTail(30), prom.logTail())
	return snsMessage{}
}
