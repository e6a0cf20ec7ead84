package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
)

// TestAlertDeliveryFailsForGood: the bundled Alertmanager of the default
// stack cannot publish to the alarm topic at all (every SNS Publish is
// refused with AuthorizationError, HTTP 403, as SNS refuses a principal the
// topic or its role does not allow), and an alert fires (a node's
// node_exporter stopped: NodeDown). The Alertmanager gives up and logs
// taskcontract.DeliveryFailedLog; the applied stack counts that exact line
// with a CloudWatch Logs metric filter on the task's log group, whose
// metric an alarm watches (at least 1 in 60 s) and which notifies the
// topic as cloudwatch.amazonaws.com, a publisher the topic's policy admits
// for that alarm, so the path does not depend on the task role's
// publishing. Once publishing works again the firing alert is delivered.
//
// Blind spots: moto stores metric filters and alarms but evaluates neither
// (no log line becomes a datapoint, no alarm changes state), and the local
// runner writes container logs to files, not to CloudWatch Logs. So the
// filter's pattern is judged against the Alertmanager's real log line by
// CloudWatch's documented rules (matchesFilterPattern), and the alarm and
// the topic policy by what they hold; that CloudWatch turns the line into
// an ALARM within about a minute is AWS's promise, not tested here.
func TestAlertDeliveryFailsForGood(t *testing.T) {
	h := newHarness(t)
	dep := h.deploy(t, "delivery", map[string]string{"PROMAWS_NODE_COUNT": "1",
		"PROMAWS_ALERT_GROUP_WAIT": "1s", "PROMAWS_ALERT_GROUP_INTERVAL": "5s", "PROMAWS_ALERT_REPEAT_INTERVAL": "1h"})
	dep.apply(t)
	topic := dep.outputs(t)["alarm_topic_arn"]
	if topic == "" {
		t.Fatal("the stack has no alarm_topic_arn output")
	}
	queue := h.subscribeQueue(t, topic)
	prom := h.startPrometheus(t, dep.Settings)
	prom.waitHealthy(t)
	prom.waitForNodes(t, dep.groupInstances(t))

	refused := &refusedPublishes{}
	restore := h.emu.Override(refused.answer)
	t.Cleanup(restore)

	var line string
	var lineAt time.Time
	step(t, "an alert that cannot be published makes the Alertmanager log the line the alarm counts", func(t *testing.T) {
		stopped := time.Now()
		prom.task.NodeExporter.Stop()
		// Two failures: the first, and the next group_interval's attempt
		// failing again (nothing gets through; each failure is a line the
		// filter counts).
		lines := awaitDeliveryFailures(t, prom, queue, 2)
		line = lines[0]
		var err error
		if lineAt, err = logfmtTime(line); err != nil {
			t.Fatalf("%v:\n%s", err, line)
		}
		first, n := refused.seen()
		if n == 0 {
			t.Fatalf("the Alertmanager logged %q, but no Publish was refused: another failure than the injected one:\n%s", taskcontract.DeliveryFailedLog, line)
		}
		// The Alertmanager logs SNS's message with the status, not its code.
		if !strings.Contains(line, "status code 403") || !strings.Contains(line, refusedMarker) {
			t.Errorf("the logged failure is not the injected one (HTTP 403, %q):\n%s", refusedMarker, line)
		}
		t.Logf("node_exporter stopped at %s, first Publish refused %.1f s later, %q logged %.3f s after that, and again on the next attempt (%d Publish refused so far):\n%s",
			stopped.Format(time.TimeOnly), first.Sub(stopped).Seconds(), taskcontract.DeliveryFailedLog, lineAt.Sub(first).Seconds(), n, strings.Join(lines, "\n"))
	})

	var filter metricFilter
	step(t, "the stack's metric filter on the task's log group matches that line", func(t *testing.T) {
		group := alertmanagerLogGroup(t, prom)
		filters := h.metricFilters(t, group)
		for _, f := range filters {
			ok, err := matchesFilterPattern(f.FilterPattern, line)
			if err != nil {
				t.Errorf("filter %s: %v", f.FilterName, err)
			}
			if ok {
				filter = f
			}
		}
		if filter.FilterName == "" {
			t.Fatalf("no metric filter of log group %s matches the Alertmanager's line (filters %+v):\n%s", group, filters, line)
		}
		if len(filter.MetricTransformations) != 1 || filter.MetricTransformations[0].MetricValue != "1" {
			t.Fatalf("filter %s must count each line once (metric value 1): %+v", filter.FilterName, filter.MetricTransformations)
		}
		t.Logf("filter %s (pattern %s) counts into %s/%s", filter.FilterName, filter.FilterPattern,
			filter.MetricTransformations[0].MetricNamespace, filter.MetricTransformations[0].MetricName)
	})

	var alarm cwtypes.MetricAlarm
	step(t, "an alarm on that metric (at least 1 in 60 s) notifies the topic", func(t *testing.T) {
		m := filter.MetricTransformations[0]
		out, err := cloudwatch.NewFromConfig(h.aws).DescribeAlarms(h.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(dep.Settings.StackName())})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(out.MetricAlarms, func(a cwtypes.MetricAlarm) bool {
			return aws.ToString(a.Namespace) == m.MetricNamespace && aws.ToString(a.MetricName) == m.MetricName
		})
		if i < 0 {
			t.Fatalf("no alarm of the stack watches %s/%s", m.MetricNamespace, m.MetricName)
		}
		alarm = out.MetricAlarms[i]
		if aws.ToFloat64(alarm.Threshold) != 1 || alarm.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold ||
			aws.ToInt32(alarm.Period) != 60 || aws.ToInt32(alarm.EvaluationPeriods) != 1 || alarm.Statistic != cwtypes.StatisticSum {
			t.Errorf("alarm %s must fire on a sum of at least 1 in one 60 s period: %s %s %v, period %d, %d period(s)", aws.ToString(alarm.AlarmName),
				alarm.Statistic, alarm.ComparisonOperator, aws.ToFloat64(alarm.Threshold), aws.ToInt32(alarm.Period), aws.ToInt32(alarm.EvaluationPeriods))
		}
		if !slices.Contains(alarm.AlarmActions, topic) {
			t.Errorf("alarm %s must notify the topic %s: %v", aws.ToString(alarm.AlarmName), topic, alarm.AlarmActions)
		}
		if !strings.HasSuffix(aws.ToString(alarm.AlarmName), "-alert-delivery-failing") {
			t.Errorf("alarm %s: want the name docs/operations.md gives (…-alert-delivery-failing)", aws.ToString(alarm.AlarmName))
		}
	})

	step(t, "the topic lets CloudWatch publish for that alarm", func(t *testing.T) {
		attrs, err := sns.NewFromConfig(h.aws).GetTopicAttributes(h.ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
		if err != nil {
			t.Fatal(err)
		}
		if !policyLetsPublish(t, attrs.Attributes["Policy"], "cloudwatch.amazonaws.com", topic, aws.ToString(alarm.AlarmArn)) {
			t.Errorf("the topic's policy does not let cloudwatch.amazonaws.com publish for %s:\n%s", aws.ToString(alarm.AlarmArn), attrs.Attributes["Policy"])
		}
	})

	var cleared, arrived time.Time
	step(t, "publishing back, the firing alert reaches the topic", func(t *testing.T) {
		restore()
		cleared = time.Now()
		m := queue.await(t, prom, "[FIRING:1] NodeDown")
		arrived = time.Now()
		_, n := refused.seen()
		t.Logf("NodeDown arrived %.1f s after publishing worked again (%d Publish call(s) refused during the fault, the last notification given up kept no record, so the next group_interval sent it again):\n%s",
			arrived.Sub(cleared).Seconds(), n, m.Subject)
	})

	if t.Failed() {
		return
	}
	// The one alert that fired arrived once publishing worked again (the
	// step above fails otherwise): none lost, only delayed. The attempts
	// refused meanwhile are in Survived.
	first, n := refused.seen()
	toLog, lost := lineAt.Sub(first).Seconds(), 0
	if err := bench.RecordFault(bench.RecordsDir(), bench.FaultRecord{
		Fault: "alert delivery failing for good (SNS Publish denied)",
		Injected: "every SNS Publish answered AuthorizationError (HTTP 403) by the emulator's front while NodeDown fired, " +
			"then publishing restored (TestAlertDeliveryFailsForGood)",
		Survived: fmt.Sprintf("the Alertmanager logged %q, which the stack's metric filter counts into the …-alert-delivery-failing alarm "+
			"(CloudWatch publishes it, the topic policy admits that alarm); %d notification attempt(s) refused during the fault, "+
			"the firing alert delivered %.0f s after publishing worked again", taskcontract.DeliveryFailedLog, n, arrived.Sub(cleared).Seconds()),
		AlertsLost:     &lost,
		Seconds:        &toLog,
		SecondsMeaning: "from the first refused Publish to the Alertmanager's log line (on AWS the alarm's 60 s period comes on top)",
	}); err != nil {
		t.Errorf("recording the figures: %v", err)
	}
}

// refusedMarker ends the message of every refused Publish, so the
// Alertmanager's log line can be told from another failure.
const refusedMarker = "injected by TestAlertDeliveryFailsForGood"

// refusedPublishes answers every SNS Publish as SNS answers a principal it
// does not authorize, and remembers when it first did and how often.
type refusedPublishes struct {
	mu    sync.Mutex
	first time.Time
	n     int
}

// answer is the emulator front override. The SNS SDK speaks the query
// protocol: Action=Publish in a form body, the answer an XML ErrorResponse.
func (r *refusedPublishes) answer(req *emulator.Request) (emulator.Answer, bool) {
	if !strings.Contains(req.Header.Get("Authorization"), "/sns/aws4_request") {
		return emulator.Answer{}, false
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil || form.Get("Action") != "Publish" {
		return emulator.Answer{}, false
	}
	r.mu.Lock()
	if r.n == 0 {
		// At the log's precision, so the figure from here to the log line
		// is never negative.
		r.first = time.Now().Truncate(time.Millisecond)
	}
	r.n++
	r.mu.Unlock()
	body := `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>AuthorizationError</Code>` +
		`<Message>not authorized to perform: SNS:Publish on resource: ` + form.Get("TopicArn") + ` (` + refusedMarker + `)</Message>` +
		`</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`
	return emulator.Answer{Status: http.StatusForbidden, Body: []byte(body), ContentType: "text/xml"}, true
}

func (r *refusedPublishes) seen() (first time.Time, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first, r.n
}

// awaitDeliveryFailures waits until the Alertmanager has logged
// DeliveryFailedLog n times and returns those lines. A message reaching
// the topic meanwhile fails the test at once: the fault is not in place.
func awaitDeliveryFailures(t *testing.T, prom *prometheus, queue *topicQueue, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(prom.ctx, 4*time.Minute)
	defer cancel()
	logPath := prom.task.Task.Container(taskcontract.AlertmanagerContainerName).LogPath
	for {
		if lines := linesWith(t, logPath, taskcontract.DeliveryFailedLog); len(lines) >= n {
			return lines[:n]
		}
		out, err := queue.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if ctx.Err() != nil {
			t.Fatalf("the Alertmanager did not log %q %d times (%v)\nalertmanager log:\n%s", taskcontract.DeliveryFailedLog, n, ctx.Err(), prom.task.AlertmanagerLogTail(30))
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			t.Fatalf("a message reached the topic although every Publish is refused: the fault is not in place\n%s", aws.ToString(out.Messages[0].Body))
		}
	}
}

// linesWith are the lines of file holding s.
func linesWith(t *testing.T, file, s string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

// logfmtTime is the time= field of a logfmt line (Prometheus's and the
// Alertmanager's log format).
func logfmtTime(line string) (time.Time, error) {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "time="); ok {
			return time.Parse(time.RFC3339Nano, v)
		}
	}
	return time.Time{}, errors.New("the log line has no time= field")
}

// alertmanagerLogGroup is the log group the Alertmanager container logs to
// (its awslogs-group), from the task definition the service runs.
func alertmanagerLogGroup(t *testing.T, prom *prometheus) string {
	t.Helper()
	def, err := prom.h.runner.ServiceTaskDefinition(prom.ctx, prom.s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range def.ContainerDefinitions {
		if aws.ToString(c.Name) == taskcontract.AlertmanagerContainerName && c.LogConfiguration != nil {
			if g := c.LogConfiguration.Options["awslogs-group"]; g != "" {
				return g
			}
		}
	}
	t.Fatalf("the %s container of %s logs to no CloudWatch Logs group", taskcontract.AlertmanagerContainerName, aws.ToString(def.TaskDefinitionArn))
	return ""
}

// metricFilter is one filter as CloudWatch Logs DescribeMetricFilters
// returns it.
type metricFilter struct {
	FilterName            string `json:"filterName"`
	FilterPattern         string `json:"filterPattern"`
	LogGroupName          string `json:"logGroupName"`
	MetricTransformations []struct {
		MetricName      string `json:"metricName"`
		MetricNamespace string `json:"metricNamespace"`
		MetricValue     string `json:"metricValue"`
	} `json:"metricTransformations"`
}

// metricFilters is DescribeMetricFilters of a log group (the module holds
// no CloudWatch Logs client: rawapi_test.go).
func (h *harness) metricFilters(t *testing.T, group string) []metricFilter {
	t.Helper()
	body, err := json.Marshal(map[string]string{"logGroupName": group})
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"X-Amz-Target": {"Logs_20140328.DescribeMetricFilters"}, "Content-Type": {"application/x-amz-json-1.1"}}
	var out struct {
		MetricFilters []metricFilter `json:"metricFilters"`
	}
	if err := json.Unmarshal(h.awsCall(t, "logs", header, body), &out); err != nil {
		t.Fatalf("DescribeMetricFilters of %s: %v", group, err)
	}
	return out.MetricFilters
}

// matchesFilterPattern judges a CloudWatch Logs filter pattern of terms
// against an unstructured log event by the rules of the CloudWatch Logs
// user guide ("Filter pattern syntax for metric filters, subscription
// filters, filter log events, and Live Tail", matching terms in
// unstructured log events): every term must appear in the event, case
// sensitive; a term in double quotes is an exact phrase, found anywhere in
// the event; a term holding other characters than letters, digits and
// underscores must be quoted. The other forms (JSON, space-delimited,
// %regex%, ?OR, -exclusion) are refused, not guessed at.
func matchesFilterPattern(pattern, event string) (bool, error) {
	var terms []string
	for rest := strings.TrimSpace(pattern); rest != ""; rest = strings.TrimLeft(rest, " ") {
		if rest[0] == '"' {
			var term strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				term.WriteByte(rest[i])
			}
			if i == len(rest) {
				return false, fmt.Errorf("pattern %s: unterminated quoted term", pattern)
			}
			terms, rest = append(terms, term.String()), rest[i+1:]
			continue
		}
		term, after, _ := strings.Cut(rest, " ")
		if strings.IndexFunc(term, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return false, fmt.Errorf("pattern %s: term %s is not a plain word; only quoted phrases and plain words are judged here", pattern, term)
		}
		terms, rest = append(terms, term), after
	}
	if len(terms) == 0 {
		return false, fmt.Errorf("pattern %q: no term (an empty pattern matches every event: counting everything is no delivery alarm)", pattern)
	}
	for _, term := range terms {
		if !strings.Contains(event, term) {
			return false, nil
		}
	}
	return true, nil
}

// The judge above on the shapes it must tell apart.
func TestFilterPatternTerms(t *testing.T) {
	// The line the Alertmanager logged in TestAlertDeliveryFailsForGood.
	event := `time=2026-12-06T22:22:40.094Z level=ERROR source=dispatch.go:642 msg="Notify for alerts failed" component=dispatcher aggrGroup="{}:{alertname=\"NodeDown\"}" num_alerts=1 receiver=alarm-topic err="alarm-topic/sns[0]: notify retry canceled due to unrecoverable error after 1 attempts: unexpected status code 403: not authorized to perform: SNS:Publish on resource: arn:aws:sns:eu-central-1:123456789012:prometheus-aws-dev-prometheus-alarms"`
	for _, c := range []struct {
		pattern string
		want    bool
		err     bool
	}{
		{`"Notify for alerts failed"`, true, false},
		{`"notify for alerts failed"`, false, false}, // case sensitive
		{`"Notify for alert failed"`, false, false},
		{`"Notify for alerts failed" receiver`, true, false},
		{`"Notify for alerts failed" Throttling`, false, false},
		{`Notify for alerts failed`, true, false}, // four words, each anywhere
		{`msg="Notify`, false, true},
		{`{ $.msg = "Notify for alerts failed" }`, false, true},
		{`?Notify ?failed`, false, true},
		{``, false, true},
	} {
		got, err := matchesFilterPattern(c.pattern, event)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("pattern %s: match %v, error %v; want match %v, error %v", c.pattern, got, err, c.want, c.err)
		}
	}
}

// policyLetsPublish reports whether a topic policy has a statement
// allowing service sns:Publish on topic for sourceArn (aws:SourceArn), as
// CloudWatch publishes for an alarm.
func policyLetsPublish(t *testing.T, policy, service, topic, sourceArn string) bool {
	t.Helper()
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service any }
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("topic policy %q: %v", policy, err)
	}
	for _, st := range doc.Statement {
		if st.Effect == "Allow" && slices.Contains(stringList(st.Principal.Service), service) &&
			slices.Contains(stringList(st.Action), "sns:Publish") && slices.Contains(stringList(st.Resource), topic) &&
			slices.Contains(stringList(st.Condition["ArnEquals"]["aws:SourceArn"]), sourceArn) {
			return true
		}
	}
	return false
}

// stringList reads a policy value that is one string or a list of them.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
