package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The module holds no SDK client for DynamoDB or Elastic Load Balancing,
// and a test is no reason to add one: these calls speak the two wire
// protocols (JSON with X-Amz-Target, and the query protocol with an XML
// answer) to the emulator directly, signed as the SDK would sign them.

// awsCall posts body to the emulator as service (the signing name) and
// returns the answer's body; an HTTP error fails the test.
func (h *harness) awsCall(t *testing.T, service string, header http.Header, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, *h.aws.BaseEndpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	creds, err := h.aws.Credentials.Retrieve(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, h.aws.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := h.aws.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", service, header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s (%s): HTTP %d: %s", service, header.Get("X-Amz-Target"), body, resp.StatusCode, out)
	}
	return out
}

// dynamoDB calls a DynamoDB operation (JSON protocol) and decodes the
// answer into out.
func (h *harness) dynamoDB(t *testing.T, op string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"X-Amz-Target": {"DynamoDB_20120810." + op}, "Content-Type": {"application/x-amz-json-1.0"}}
	if err := json.Unmarshal(h.awsCall(t, "dynamodb", header, body), out); err != nil {
		t.Fatalf("DynamoDB %s: %v", op, err)
	}
}

// elbListener is one listener as elbv2 DescribeListeners returns it.
type elbListener struct {
	ListenerArn    string      `xml:"ListenerArn"`
	Port           int         `xml:"Port"`
	Protocol       string      `xml:"Protocol"`
	DefaultActions []elbAction `xml:"DefaultActions>member"`
}

// elbAction is one action of a listener or rule, as elbv2 returns it.
type elbAction struct {
	Type           string `xml:"Type"`
	RedirectConfig *struct {
		Protocol, Port, Host, Path, Query, StatusCode string
	} `xml:"RedirectConfig"`
	AuthenticateOidcConfig *struct {
		ClientId, ClientSecret string
		SessionTimeout         int
	} `xml:"AuthenticateOidcConfig"`
}

// elbRule is one listener rule as elbv2 DescribeRules returns it.
type elbRule struct {
	RuleArn   string      `xml:"RuleArn"`
	IsDefault bool        `xml:"IsDefault"`
	Actions   []elbAction `xml:"Actions>member"`
}

// elbRules is elbv2 DescribeRules of a listener.
func (h *harness) elbRules(t *testing.T, listenerArn string) []elbRule {
	t.Helper()
	form := url.Values{"Action": {"DescribeRules"}, "Version": {"2015-12-01"}, "ListenerArn": {listenerArn}}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	var out struct {
		Rules []elbRule `xml:"DescribeRulesResult>Rules>member"`
	}
	if err := xml.Unmarshal(h.awsCall(t, "elasticloadbalancing", header, []byte(form.Encode())), &out); err != nil {
		t.Fatalf("DescribeRules of %s: %v", listenerArn, err)
	}
	return out.Rules
}

// elbListeners is elbv2 DescribeListeners of a load balancer (query
// protocol, XML answer).
func (h *harness) elbListeners(t *testing.T, loadBalancerArn string) []elbListener {
	t.Helper()
	form := url.Values{"Action": {"DescribeListeners"}, "Version": {"2015-12-01"}, "LoadBalancerArn": {loadBalancerArn}}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	var out struct {
		Listeners []elbListener `xml:"DescribeListenersResult>Listeners>member"`
	}
	if err := xml.Unmarshal(h.awsCall(t, "elasticloadbalancing", header, []byte(form.Encode())), &out); err != nil {
		t.Fatalf("DescribeListeners of %s: %v", loadBalancerArn, err)
	}
	return out.Listeners
}
