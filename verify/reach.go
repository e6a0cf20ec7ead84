package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// How verify reaches Prometheus and the Alertmanager, in this order: the
// URLs given (a tunnel, Session Manager port forwarding), the load
// balancer the stack made, or the running task's own address (public, else
// private: verify must run inside adminCidrs or the VPC). The basic auth
// password comes from the stack's Secrets Manager secret, as an operator
// reads it.

// ReachOptions override how Prometheus and the Alertmanager are reached.
type ReachOptions struct {
	// PrometheusURL and AlertmanagerURL (with its /alertmanager prefix),
	// e.g. http://127.0.0.1:9090 through a tunnel; empty: found.
	PrometheusURL, AlertmanagerURL string
}

// Alertmanager is the bundled Alertmanager's API.
type Alertmanager struct {
	// URL includes the route prefix, e.g. https://lb/alertmanager.
	URL                string
	Username, Password string
	HTTP               *http.Client
}

// Reach fills t.Prometheus and t.Alertmanager, or t.Unreachable.
func Reach(ctx context.Context, t *Target, o ReachOptions) {
	s := t.Settings
	user, password, err := credentials(ctx, t)
	if err != nil {
		t.Unreachable = err.Error()
		return
	}
	promURL, amURL, how := o.PrometheusURL, o.AlertmanagerURL, "given"
	hint := reachHint
	if promURL == "" && s.SingleSignOn() {
		// The load balancer would answer with the sign-in redirect: only
		// the machine path (or a URL given) reaches the API.
		hint = machinePathHint(s)
		if len(s.MachineSecurityGroupIDs) == 0 {
			t.Unreachable = fmt.Sprintf("sso=%s: the load balancer sends every request to the sign-in page, which verify cannot follow, and no machine path is configured; "+
				"the checks that need Prometheus's or the Alertmanager's API are skipped. %s", s.SSO, hint)
			return
		}
		host, err := taskAddress(ctx, t, true)
		if err != nil {
			t.Unreachable = err.Error() + ". " + hint
			return
		}
		promURL, how = "http://"+net.JoinHostPort(host, strconv.Itoa(s.PrometheusPort)), "the machine path, the task's private address"
		if amURL == "" {
			amURL = "http://" + net.JoinHostPort(host, strconv.Itoa(s.AlertmanagerPort)) + taskcontract.AlertmanagerRoutePrefix
		}
	}
	if promURL == "" {
		if lb := output(t.State, "prometheus_url"); lb != "" {
			promURL, how = strings.TrimSuffix(lb, "/"), "the load balancer"
			if amURL == "" {
				amURL = promURL + taskcontract.AlertmanagerRoutePrefix
			}
		} else {
			host, err := taskAddress(ctx, t, false)
			if err != nil {
				t.Unreachable = err.Error()
				return
			}
			promURL, how = "http://"+net.JoinHostPort(host, strconv.Itoa(s.PrometheusPort)), "the task's address"
			if amURL == "" {
				amURL = "http://" + net.JoinHostPort(host, strconv.Itoa(s.AlertmanagerPort)) + taskcontract.AlertmanagerRoutePrefix
			}
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	p := promapi.New(promURL)
	p.Username, p.Password, p.HTTP = user, password, client
	probe, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	if err := p.Ready(probe); err != nil {
		t.Unreachable = fmt.Sprintf("Prometheus at %s (%s) does not answer: %v. %s", promURL, how, err, hint)
		return
	}
	t.Prometheus = p
	if amURL != "" && s.AlertDelivery() == "bundled" {
		t.Alertmanager = &Alertmanager{URL: strings.TrimSuffix(amURL, "/"), Username: user, Password: password, HTTP: client}
	}
}

const reachHint = "Run verify from an address in adminCidrs (PROMAWS_ADMIN_CIDRS), through the HTTPS load balancer " +
	"(tlsCertificateArn or tlsDomain), or give --prometheus-url and --alertmanager-url of a tunnel (Session Manager " +
	"port forwarding through a node, docs/operations.md)"

// machinePathHint says how verify reaches the API behind sso: from a
// member of machineSecurityGroupIds (by security group reference, to the
// task's private address), or through a tunnel given by URL.
func machinePathHint(s *config.Settings) string {
	groups := "none configured: set machineSecurityGroupIds (PROMAWS_MACHINE_SECURITY_GROUP_IDS) to the security group of the host verify runs on"
	if len(s.MachineSecurityGroupIDs) > 0 {
		groups = strings.Join(s.MachineSecurityGroupIDs, ", ")
	}
	return "Behind sso, run verify on a host in one of machineSecurityGroupIds (" + groups + "), which reaches the task's private address directly, " +
		"or give --prometheus-url and --alertmanager-url of a tunnel (Session Manager port forwarding, docs/operations.md)"
}

// credentials are the basic auth user and password from the stack's
// secret ("" without basic auth).
func credentials(ctx context.Context, t *Target) (user, password string, err error) {
	if !t.Settings.BasicAuth {
		return "", "", nil
	}
	secret := first(t.State, "aws_secretsmanager_secret")
	if secret == nil {
		return "", "", fmt.Errorf("basic auth is on but the state holds no Secrets Manager secret: is the stack applied? (make deploy)")
	}
	name := str(secret, "name")
	out, err := secretsmanager.NewFromConfig(t.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("reading the basic auth password from secret %s: %v (verify needs secretsmanager:GetSecretValue on it)", name, err)
	}
	var v struct{ Username, Password string }
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || v.Password == "" {
		return "", "", fmt.Errorf("secret %s holds no username and password", name)
	}
	return v.Username, v.Password, nil
}

// taskAddress is a running task's public address, else its private one;
// the private one only with privateOnly (the machine path: security group
// references admit traffic to private addresses only).
func taskAddress(ctx context.Context, t *Target, privateOnly bool) (string, error) {
	tasks, err := serviceTasks(ctx, t, "RUNNING")
	if err != nil {
		return "", err
	}
	for _, task := range tasks {
		for _, a := range task.Attachments {
			var eni, private string
			for _, d := range a.Details {
				switch aws.ToString(d.Name) {
				case "networkInterfaceId":
					eni = aws.ToString(d.Value)
				case "privateIPv4Address":
					private = aws.ToString(d.Value)
				}
			}
			if eni != "" && !privateOnly {
				out, err := ec2.NewFromConfig(t.AWS).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
				if err == nil && len(out.NetworkInterfaces) == 1 && out.NetworkInterfaces[0].Association != nil {
					if ip := aws.ToString(out.NetworkInterfaces[0].Association.PublicIp); ip != "" {
						return ip, nil
					}
				}
			}
			if private != "" {
				return private, nil
			}
		}
	}
	return "", fmt.Errorf("no running task of service %s has an address to reach Prometheus at. %s", serviceName(t), reachHint)
}

// serviceTasks are the service's tasks whose desired status is desired.
func serviceTasks(ctx context.Context, t *Target, desired string) ([]ecsTask, error) {
	c := ecs.NewFromConfig(t.AWS)
	list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(clusterName(t)), ServiceName: aws.String(serviceName(t)),
		DesiredStatus: ecsDesired(desired)})
	if err != nil {
		return nil, fmt.Errorf("listing the tasks of service %s: %v", serviceName(t), err)
	}
	if len(list.TaskArns) == 0 {
		return nil, nil
	}
	out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(clusterName(t)), Tasks: list.TaskArns})
	if err != nil {
		return nil, fmt.Errorf("describing the tasks of service %s: %v", serviceName(t), err)
	}
	return out.Tasks, nil
}

// get fetches path of the Alertmanager's API into out (JSON).
func (a *Alertmanager) get(ctx context.Context, path string, out any) error {
	body, err := a.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

func (a *Alertmanager) do(ctx context.Context, method, path string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Username != "" {
		req.SetBasicAuth(a.Username, a.Password)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return data, nil
}
