package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// alertmanagerParam is the parameter holding alertmanager.yml.
func alertmanagerParam(t *testing.T, d *policy.Doc) map[string]any {
	t.Helper()
	_, p := named(t, d, "aws_ssm_parameter", "/alertmanager/alertmanager.yml")
	return p
}

func taskContainers(t *testing.T, v *variant) []string {
	t.Helper()
	_, task := one(t, v.doc(t), "aws_ecs_task_definition")
	var defs []struct{ Name string }
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
	}
	return names
}

// The bundled delivery (efs and ephemeral, no alertmanagerUrls): the
// official Alertmanager image as the task's second container, its
// configuration from the settings in a parameter with the created topic's
// ARN filled in at apply, its state on an access point of its own, and the
// topic moved, not replaced, from where the alarms created it before.
func TestBundledAlertmanager(t *testing.T) {
	d := byDefault.doc(t)
	am, task := containerNamed(t, byDefault, taskcontract.AlertmanagerContainerName)
	if am["image"] != config.DefaultAlertmanagerImage || am["essential"] != true || am["user"] != taskcontract.User || am["readonlyRootFilesystem"] != true {
		t.Errorf("the Alertmanager container: official pinned image, essential, the task user, read-only root: %v %v %v %v", am["image"], am["essential"], am["user"], am["readonlyRootFilesystem"])
	}
	command, _ := am["command"].([]any)
	if len(command) != 3 || unescape(policy.Str(command[0])) != taskcontract.AlertmanagerEntrypoint || command[1] != taskcontract.AlertmanagerScriptName ||
		command[2] != taskcontract.FlagRoutePrefix+taskcontract.AlertmanagerRoutePrefix {
		t.Errorf("command must be [script, %s, %s/alertmanager]: %v parts", taskcontract.AlertmanagerScriptName, taskcontract.FlagRoutePrefix, len(command))
	}
	if !strings.Contains(mustJSON(t, am["healthCheck"]), "127.0.0.1:9093/alertmanager/-/healthy") || !strings.Contains(mustJSON(t, am["environment"]), taskcontract.EnvAlertmanagerConfigDir) ||
		!strings.Contains(mustJSON(t, am["mountPoints"]), `"containerPath":"`+taskcontract.ConfigDir+`","readOnly":true`) {
		t.Errorf("health check on its own port and route, configuration from the config-sync volume, read-only: %v %v %v", am["healthCheck"], am["environment"], am["mountPoints"])
	}
	topic, _ := one(t, d, "aws_sns_topic")
	value := policy.Str(alertmanagerParam(t, d)["insecure_value"])
	if !strings.Contains(value, "topic_arn: "+policy.Ref("aws_sns_topic", topic, "arn")) || strings.Contains(value, taskcontract.TopicARNPlaceholder) ||
		!strings.Contains(value, "send_resolved: true") || strings.Contains(value, "api_url") {
		t.Errorf("alertmanager.yml must send to the created topic (resolved too) on AWS's SNS:\n%s", value)
	}
	if !strings.Contains(mustJSON(t, task["volume"]), `"name":"alertmanager"`) {
		t.Errorf("the task needs the Alertmanager's volume: %v", task["volume"])
	}
	apName, ap := withAttr(t, d, "aws_efs_access_point", "root_directory.path", taskcontract.AlertmanagerStoragePath)
	if policy.Num(policy.Path(ap, "posix_user", "uid")) != taskcontract.UID || !strings.Contains(mustJSON(t, task["volume"]), policy.Ref("aws_efs_access_point", apName, "id")) {
		t.Errorf("efs: the Alertmanager's state on an access point of its own, as the task user: %v", ap)
	}
	name, _ := findRole(t, d, "prometheus-task")
	if !strings.Contains(mustJSON(t, rolePolicy(t, d, name)), policy.Ref("aws_efs_access_point", apName, "arn")) {
		t.Error("the task role must be allowed to mount the Alertmanager's access point")
	}
	moved := mustJSON(t, d.Raw["moved"])
	if !strings.Contains(moved, "aws_sns_topic.alarms_topic_CB6504A9") || !strings.Contains(moved, "aws_sns_topic."+topic) {
		t.Errorf("the topic must be moved from the alarms' address, not replaced: %s", moved)
	}
	if names := taskContainers(t, ephemeral); strings.Join(names, ",") != "prometheus,config-sync,alertmanager" {
		t.Errorf("ephemeral: want Prometheus, config-sync and the Alertmanager, have %v", names)
	}
}

// The local profile changes the delivery in its overlays only: SNS at the
// emulator, NodeDown's for: shortened.
func TestLocalAlertDelivery(t *testing.T) {
	value := policy.Str(alertmanagerParam(t, localProfile.doc(t))["insecure_value"])
	if !strings.Contains(value, "api_url: http://127.0.0.1:5000") {
		t.Errorf("local: SNS must be asked at the emulator:\n%s", value)
	}
	rules, _ := alerting.ForTask(true)
	groups, err := pconstructs.RuleFiles(string(rules))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		_, p := named(t, localProfile.doc(t), "aws_ssm_parameter", "/prometheus/"+g.File)
		if unescape(policy.Str(p["insecure_value"])) != g.YAML {
			t.Errorf("local: the task must receive the overlay's rules (group %s)", g.Group)
		}
	}
}

// Your own topic (alarmTopicArn): the task publishes to it, by ARN, and
// nothing is created for it; a created topic under a customer key lets the
// task use the key.
func TestAlertTopicChoices(t *testing.T) {
	d := alarmTopic.doc(t)
	if len(d.Of("aws_sns_topic")) != 0 || !strings.Contains(policy.Str(alertmanagerParam(t, d)["insecure_value"]), "topic_arn: "+testTopic) {
		t.Errorf("alarmTopicArn: no topic created, alerts to %s", testTopic)
	}
	name, _ := findRole(t, d, "prometheus-task")
	doc := mustJSON(t, rolePolicy(t, d, name))
	if !strings.Contains(doc, `"Resource":["`+testTopic+`"],"Sid":"PublishAlerts"`) || strings.Contains(doc, "kms:GenerateDataKey") {
		t.Errorf("alarmTopicArn: publish to that topic alone, no key rights: %s", doc)
	}
	d = tlsDomainLocal.doc(t)
	name, _ = findRole(t, d, "prometheus-task")
	if doc := mustJSON(t, rolePolicy(t, d, name)); !strings.Contains(doc, `"kms:GenerateDataKey*","kms:Decrypt"],"Condition":{"StringEquals":{"kms:ViaService":["sns.eu-central-1.amazonaws.com"]}},"Effect":"Allow","Resource":["`+testKey+`"],"Sid":"PublishAlertsEncrypted"`) {
		t.Errorf("a topic under the customer key: the task must be able to use the key, through SNS only (kms:ViaService): %s", doc)
	}
}

// alertmanagerUrls replaces the bundled delivery: no second container, no
// parameter, no publishing right.
func TestOwnAlertmanagersReplaceTheBundledOne(t *testing.T) {
	for _, v := range []*variant{moreRegions, remote} {
		d := v.doc(t)
		if names := taskContainers(t, v); strings.Join(names, ",") != "prometheus,config-sync" {
			t.Errorf("%s: alertmanagerUrls set, yet the task runs %v", v, names)
		}
		for _, p := range d.Of("aws_ssm_parameter") {
			if strings.Contains(policy.Str(p["name"]), "alertmanager") {
				t.Errorf("%s: an Alertmanager parameter beside alertmanagerUrls", v)
			}
		}
		name, _ := findRole(t, d, "prometheus-task")
		if strings.Contains(mustJSON(t, rolePolicy(t, d, name)), "sns:Publish") {
			t.Errorf("%s: the task may publish although it delivers nothing itself", v)
		}
	}
}

// Behind the load balancer the Alertmanager is served like Prometheus:
// same listener, TLS and admin ranges, under its route prefix; the task
// admits the load balancer on its port, and no range directly.
func TestAlertmanagerBehindTheLoadBalancer(t *testing.T) {
	d := tlsCert.doc(t)
	_, rule := one(t, d, "aws_lb_listener_rule")
	if got := mustJSON(t, policy.Path(rule, "condition", "path_pattern", "values")); got != `["/alertmanager","/alertmanager/*"]` {
		t.Errorf("listener rule paths %s", got)
	}
	tgs := d.Of("aws_lb_target_group")
	var am map[string]any
	for _, tg := range tgs {
		if policy.Num(tg["port"]) == 9093 {
			am = tg
		}
	}
	if len(tgs) != 2 || am == nil || policy.Str(policy.Path(am, "health_check", "path")) != "/alertmanager/-/healthy" || policy.Str(policy.Path(am, "health_check", "matcher")) != "200,401" {
		t.Errorf("a target group on 9093 checked on /alertmanager/-/healthy (401 with basic auth): %v", am)
	}
	_, svc := one(t, d, "aws_ecs_service")
	if !strings.Contains(mustJSON(t, svc["load_balancer"]), `"container_name":"alertmanager","container_port":9093`) {
		t.Errorf("the service must register the Alertmanager container: %s", mustJSON(t, svc["load_balancer"]))
	}
	// Messages link to Prometheus on the load balancer's own name.
	lbName, _ := one(t, d, "aws_lb")
	if v := policy.Str(alertmanagerParam(t, d)["insecure_value"]); !strings.Contains(v, "Prometheus: https://"+policy.Ref("aws_lb", lbName, "dns_name")+"/alerts") ||
		strings.Contains(v, taskcontract.PrometheusURLPlaceholder) {
		t.Errorf("tls-cert: the messages must link to https://<load balancer>/alerts:\n%s", v)
	}
	if v := policy.Str(alertmanagerParam(t, tlsDomainLocal.doc(t))["insecure_value"]); !strings.Contains(v, "Prometheus: https://prometheus.example.com/alerts") {
		t.Errorf("tls-domain-local: the messages must link to the domain:\n%s", v)
	}
	am2, _ := containerNamed(t, tlsCert, taskcontract.AlertmanagerContainerName)
	if !strings.Contains(mustJSON(t, am2["command"]), taskcontract.FlagExternalURL+"https://") {
		t.Errorf("behind the load balancer the Alertmanager must know its URL: %v", am2["command"])
	}
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(r["from_port"]) == 9093 && (r["cidr_ipv4"] != nil || r["cidr_ipv6"] != nil) {
			t.Errorf("with a load balancer no range reaches the Alertmanager directly: %v", r)
		}
	}
	// Direct access: the admin ranges, as Prometheus's.
	n := 0
	for _, r := range opened.doc(t).Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(r["from_port"]) == 9093 {
			n++
		}
	}
	if n != 2 {
		t.Errorf("opened: the Alertmanager port must admit both admin ranges, %d rules", n)
	}
}

// AMP's alert delivery against the emulator (no alert manager definition
// there).
var ampLocal = declare("amp-local", env{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ENDPOINT": "http://127.0.0.1:5000"})

// AMP's delivery: the rules in the workspace's ruler, the same routing as
// its alert manager (sending to the topic, which admits aps.amazonaws.com
// for this workspace), and tasks that neither evaluate nor send.
func TestAMPAlertDelivery(t *testing.T) {
	d := amp.doc(t)
	_, ns := one(t, d, "aws_prometheus_rule_group_namespace")
	// The tasks run in agent mode: rules.yml as shipped, but the alerts
	// that read a server's TSDB, which an agent has not.
	agentRules, err := alerting.ForAgent(alerting.Rules())
	if err != nil {
		t.Fatal(err)
	}
	if unescape(policy.Str(ns["data"])) != string(agentRules) {
		t.Errorf("the ruler must hold rules.yml as shipped, less %v (alerting.ForAgent)", alerting.ServerOnly)
	}
	ws, _ := one(t, d, "aws_prometheus_workspace")
	topic, _ := one(t, d, "aws_sns_topic")
	_, def := one(t, d, "aws_prometheus_alert_manager_definition")
	body := policy.Str(def["definition"])
	if !strings.HasPrefix(body, "alertmanager_config: |") || !strings.Contains(body, "topic_arn: "+policy.Ref("aws_sns_topic", topic, "arn")) || strings.Contains(body, "api_url") {
		t.Errorf("the definition must route to the topic on AWS's SNS:\n%s", body)
	}
	if def["workspace_id"] != policy.Ref("aws_prometheus_workspace", ws, "id") {
		t.Errorf("definition of workspace %v", def["workspace_id"])
	}
	_, tp := one(t, d, "aws_sns_topic_policy")
	if p := policy.Str(tp["policy"]); !strings.Contains(p, "aps.amazonaws.com") || !strings.Contains(p, policy.Ref("aws_prometheus_workspace", ws, "arn")) {
		t.Errorf("the topic must admit this workspace's alert manager:\n%s", p)
	}
	if names := taskContainers(t, amp); strings.Join(names, ",") != "prometheus,config-sync" {
		t.Errorf("amp: replicas run no Alertmanager, have %v", names)
	}
	for name, p := range d.Of("aws_ssm_parameter") {
		if strings.Contains(policy.Str(p["name"]), "/rules/") {
			t.Errorf("amp: the tasks must not evaluate the rules (the ruler does, once); have %s", name)
		}
	}
	_, local := one(t, ampLocal.doc(t), "aws_prometheus_alert_manager_definition")
	if policy.Num(local["count"]) != 0 {
		t.Error("amp-local: moto has no alert manager definitions; the resource must be left out there only")
	}
}
