package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// The alert path: something sends Prometheus's alerts on, that sender is
// not failing, and the topic reaches someone. --alert-roundtrip proves it
// end to end with a test alert.

func topicArn(t *Target) string {
	if r := first(t.State, "aws_sns_topic"); r != nil {
		return str(r, "arn")
	}
	return ""
}

func checkAlertPath(ctx context.Context, t *Target, _ Options) Result {
	s := t.Settings
	var via string
	switch s.AlertDelivery() {
	case config.AlertDeliveryAMP:
		ws := first(t.State, "aws_prometheus_workspace")
		def := first(t.State, "aws_prometheus_alert_manager_definition")
		if ws == nil {
			return fail("apply the stack (make deploy)", "storageMode=amp but the state holds no workspace")
		}
		if def == nil && s.Local() {
			return skip("", "the workspace's alert manager: the emulator has no AMP alert manager definitions (stacks/local.go); checked on AWS")
		}
		out, err := amp.NewFromConfig(t.AWS).DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: aws.String(str(ws, "id"))})
		if err != nil {
			return fail("check the credentials' aps:DescribeAlertManagerDefinition permission", "the workspace's alert manager: %v", err)
		}
		if st := out.AlertManagerDefinition.Status; st == nil || st.StatusCode != "ACTIVE" {
			reason := ""
			if st != nil {
				reason = fmt.Sprintf("%s %s", st.StatusCode, aws.ToString(st.StatusReason))
			}
			return fail("read the definition's status reason; make deploy writes it again", "the workspace's alert manager definition is not active: %s", reason)
		}
		via = "the workspace's alert manager"
	default:
		if t.Prometheus == nil {
			return skip(t.Unreachable, "the alert path was not checked (Prometheus not reachable)")
		}
		var ams struct {
			Active []struct {
				URL string `json:"url"`
			} `json:"activeAlertmanagers"`
		}
		if err := t.Prometheus.Get(ctx, "/api/v1/alertmanagers", &ams); err != nil {
			return fail("", "reading /api/v1/alertmanagers: %v", err)
		}
		if len(ams.Active) == 0 {
			return fail("alertmanagerUrls (PROMAWS_ALERTMANAGER_URLS) or the bundled Alertmanager's container", "Prometheus has no Alertmanager to send alerts to")
		}
		errs, err := t.Prometheus.Scalar(ctx, `sum(increase(prometheus_notifications_errors_total[10m])) + sum(increase(prometheus_notifications_dropped_total[10m])) or vector(0)`)
		if err != nil {
			return fail("", "reading prometheus_notifications_errors_total: %v", err)
		}
		if n, _ := strconv.ParseFloat(errs, 64); n > 0 {
			return fail("the container log names the Alertmanager that failed", "Prometheus failed or dropped %.0f alert notifications in the last 10 minutes", n)
		}
		via = fmt.Sprintf("Prometheus -> %d Alertmanager(s)", len(ams.Active))
		if s.AlertDelivery() == config.AlertDeliveryExternal {
			return pass("%s (alertmanagerUrls: your Alertmanagers deliver)", via)
		}
		if t.Alertmanager != nil {
			failed, err := t.Alertmanager.failedNotifications(ctx)
			if err != nil {
				return fail("", "reading the Alertmanager's metrics: %v", err)
			}
			if failed > 0 {
				return fail("the alertmanager container log names the error (sns:Publish permission, the key policy of an encrypted topic)",
					"the Alertmanager failed %.0f notifications to the topic since it started", failed)
			}
			via += " -> SNS"
		}
	}
	arn := topicArn(t)
	if arn == "" {
		return fail("apply the stack (make deploy)", "the state holds no alarm topic")
	}
	subs, err := sns.NewFromConfig(t.AWS).ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil {
		return fail("check the credentials' sns:ListSubscriptionsByTopic permission", "listing the topic's subscriptions: %v", err)
	}
	confirmed := 0
	for _, sub := range subs.Subscriptions {
		if a := aws.ToString(sub.SubscriptionArn); strings.HasPrefix(a, "arn:") {
			confirmed++
		}
	}
	if confirmed == 0 {
		return warn("set alarmEmail (PROMAWS_ALARM_EMAIL) and confirm the e-mail AWS sends, or subscribe your chat or paging to "+arn,
			"%s -> topic %s, which has no confirmed subscription: alerts reach nobody", via, arn)
	}
	return pass("%s -> topic with %d confirmed subscription(s)", via, confirmed)
}

// failedNotifications is alertmanager_notifications_failed_total summed
// over integrations (from its /metrics).
func (a *Alertmanager) failedNotifications(ctx context.Context) (float64, error) {
	body, err := a.do(ctx, "GET", "/metrics", nil)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "alertmanager_notifications_failed_total") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum, nil
}

// checkRoundtrip sends a test alert to the Alertmanager and waits until it
// arrives through the topic in a temporary queue, which it always deletes.
func checkRoundtrip(ctx context.Context, t *Target, o Options) Result {
	if !o.AlertRoundtrip {
		return skip("run verify with --alert-roundtrip (sends one test alert to every subscriber of the topic)", "no test alert sent")
	}
	if t.Settings.AlertDelivery() != config.AlertDeliveryBundled {
		return skip("", "the round trip needs the bundled Alertmanager (alert delivery is %s)", t.Settings.AlertDelivery())
	}
	if t.Alertmanager == nil {
		return skip(t.Unreachable, "the Alertmanager is not reachable")
	}
	timeout := o.RoundtripTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	id := randomID()
	queue, cleanup, err := temporaryQueue(ctx, t, "prometheus-aws-verify-"+id)
	defer cleanup()
	if err != nil {
		return fail("verify needs sqs:CreateQueue, sqs:SetQueueAttributes, sqs:DeleteQueue and sns:Subscribe, sns:Unsubscribe", "%v", err)
	}
	labels := map[string]string{"alertname": "PrometheusAwsVerify", "verify_id": id, "severity": "info"}
	post := func(ends time.Time) error {
		alert := []map[string]any{{"labels": labels, "annotations": map[string]string{
			"summary": "Test alert from make verify (" + id + "); resolved at once"}, "endsAt": ends.UTC().Format(time.RFC3339)}}
		data, _ := json.Marshal(alert)
		_, err := t.Alertmanager.do(ctx, "POST", "/api/v2/alerts", bytes.NewReader(data))
		return err
	}
	if err := post(time.Now().Add(timeout)); err != nil {
		return fail("", "posting the test alert: %v", err)
	}
	defer func() { _ = post(time.Now()) }() // resolved, so it does not repeat
	start := time.Now()
	c := sqs.NewFromConfig(t.AWS)
	for time.Since(start) < timeout {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 10, MaxNumberOfMessages: 10})
		if err != nil {
			return fail("", "reading the temporary queue: %v", err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), id) {
				return pass("a test alert went Alertmanager -> topic -> a temporary queue in %s (queue deleted)", time.Since(start).Round(time.Second))
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fail("the alertmanager container log names the error; the alert path check says more",
		"the test alert did not arrive through the topic within %s", timeout)
}

// temporaryQueue creates a queue subscribed to the alarm topic; cleanup
// unsubscribes and deletes it (always safe to call).
func temporaryQueue(ctx context.Context, t *Target, name string) (url string, cleanup func(), err error) {
	q, s := sqs.NewFromConfig(t.AWS), sns.NewFromConfig(t.AWS)
	var subscription string
	cleanup = func() {
		// Even when ctx was cancelled: nothing may stay behind.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if subscription != "" {
			_, _ = s.Unsubscribe(bg, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subscription)})
		}
		if url != "" {
			_, _ = q.DeleteQueue(bg, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
		}
	}
	topic := topicArn(t)
	if topic == "" {
		return "", cleanup, fmt.Errorf("the state holds no alarm topic")
	}
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", cleanup, fmt.Errorf("creating a temporary queue: %w", err)
	}
	url = aws.ToString(created.QueueUrl)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return url, cleanup, fmt.Errorf("reading the temporary queue: %w", err)
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{
		"Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
		"Resource": arn, "Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topic}}}}})
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"Policy": string(policy)}}); err != nil {
		return url, cleanup, fmt.Errorf("letting the topic send to the temporary queue: %w", err)
	}
	sub, err := s.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(arn),
		ReturnSubscriptionArn: true})
	if err != nil {
		return url, cleanup, fmt.Errorf("subscribing the temporary queue to %s: %w", topic, err)
	}
	subscription = aws.ToString(sub.SubscriptionArn)
	return url, cleanup, nil
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
