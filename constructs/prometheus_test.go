package constructs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/synthtest"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const testConfig = "global:\n  scrape_interval: 30s\n"

func prometheusProps() *pconstructs.PrometheusFargateServiceProps {
	return &pconstructs.PrometheusFargateServiceProps{
		Name: "p", Region: "eu-central-1", VpcId: vpcID, SubnetIds: subnetIDs, ConfigYAML: testConfig,
		Image: "prom/prometheus:v3.16.0", ConfigSyncImage: "public.ecr.aws/aws-cli/aws-cli:2.32.2", Port: 9090, Cpu: 512, Memory: 1024, LogRetentionDays: 30,
		Retention: "15d", DesiredCount: 1, DiscoveryRegions: []string{"eu-central-1"},
	}
}

// statements are the Sids of a role policy's document.
func statements(t *testing.T, d *policy.Doc, name string) []string {
	t.Helper()
	for _, p := range d.Of("aws_iam_role_policy") {
		if p["name"] != name {
			continue
		}
		var doc struct{ Statement []struct{ Sid string } }
		if err := json.Unmarshal([]byte(policy.Str(p["policy"])), &doc); err != nil {
			t.Fatal(err)
		}
		var sids []string
		for _, s := range doc.Statement {
			sids = append(sids, s.Sid)
		}
		return sids
	}
	t.Fatalf("no role policy %s", name)
	return nil
}

func containerOf(t *testing.T, d *policy.Doc) map[string]any {
	t.Helper()
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(only(t, d, "aws_ecs_task_definition")["container_definitions"])), &defs); err != nil || len(defs) != 2 ||
		defs[1]["name"] != taskcontract.ConfigSyncContainerName {
		t.Fatalf("container definitions: want Prometheus and config-sync: %v", err)
	}
	return defs[0]
}

// Given the required props, when synthesized, then one Fargate task of
// the given size and image on a cluster with Container Insights, the
// configuration in a Standard SSM parameter, logs kept as long as asked,
// an execution role that reads only its logs and the parameter, a task
// role that only discovers, no ingress at all, and a service that stops
// the old task before starting the new one.
func TestPrometheusServiceDefaults(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewPrometheusFargateService(s, "prometheus", prometheusProps())
	})

	if c := only(t, d, "aws_ecs_cluster"); asJSON(t, c["setting"]) != `[{"name":"containerInsights","value":"enabled"}]` {
		t.Errorf("cluster settings %s", asJSON(t, c["setting"]))
	}
	task := only(t, d, "aws_ecs_task_definition")
	if task["cpu"] != "512" || task["memory"] != "1024" || task["network_mode"] != "awsvpc" || asJSON(t, task["requires_compatibilities"]) != `["FARGATE"]` {
		t.Errorf("task %v/%v %v %v", task["cpu"], task["memory"], task["network_mode"], task["requires_compatibilities"])
	}
	c := containerOf(t, d)
	if c["image"] != "prom/prometheus:v3.16.0" || c["name"] != taskcontract.ContainerName || c["readonlyRootFilesystem"] != true {
		t.Errorf("container %v %v read-only %v", c["image"], c["name"], c["readonlyRootFilesystem"])
	}
	if param := only(t, d, "aws_ssm_parameter"); param["insecure_value"] != testConfig || param["tier"] != "Standard" {
		t.Errorf("config parameter %v", param)
	}
	if lg := only(t, d, "aws_cloudwatch_log_group"); lg["retention_in_days"] != 30.0 || lg["kms_key_id"] != nil {
		t.Errorf("log group %v", lg)
	}
	if got := strings.Join(statements(t, d, "start-prometheus"), ","); got != "Logs" {
		t.Errorf("execution role statements %s, want Logs", got)
	}
	if got := strings.Join(statements(t, d, "prometheus"), ","); got != "EC2Discovery,ConfigSync" {
		t.Errorf("task role statements %s, want EC2Discovery,ConfigSync", got)
	}
	if n := count(d, "aws_vpc_security_group_ingress_rule"); n != 0 {
		t.Errorf("%d ingress rules without AdminCidrs or a load balancer", n)
	}
	svc := only(t, d, "aws_ecs_service")
	if svc["desired_count"] != 1.0 || svc["deployment_minimum_healthy_percent"] != 0.0 || svc["deployment_maximum_percent"] != 100.0 ||
		policy.Path(svc, "network_configuration", "assign_public_ip") != true {
		t.Errorf("service %v", svc)
	}
	if count(d, "aws_secretsmanager_secret") != 0 || count(d, "aws_efs_file_system") != 0 {
		t.Error("no basic auth and no EFS unless asked")
	}
}

// Given basic auth, a customer key, replicas remote writing to a
// workspace and admin ranges, when synthesized, then the secret is read
// by the execution role and delivered by ECS, the key decrypts it, the
// replicas are replaced half at a time, and the web port admits the ranges.
func TestPrometheusServiceOptions(t *testing.T) {
	const key = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	d := given(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.BasicAuth = &pconstructs.BasicAuthProps{User: "admin", PasswordVersion: 1}
		p.KmsKeyArn = key
		p.DesiredCount = 2
		p.Workspace = pconstructs.NewAMPWorkspace(s, "amp", &pconstructs.AMPWorkspaceProps{Name: "p", Region: "eu-central-1"})
		p.AdminCidrs = []string{"198.51.100.0/24", "2001:db8::/32"}
		p.ConfigYAML = "remote_write:\n  - url: https://x/workspaces/" + taskcontract.WorkspaceIDPlaceholder + "/api/v1/remote_write\n"
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	})
	if got := strings.Join(statements(t, d, "start-prometheus"), ","); got != "Logs,BasicAuth,DecryptSecret" {
		t.Errorf("execution role statements %s", got)
	}
	if got := strings.Join(statements(t, d, "prometheus"), ","); got != "EC2Discovery,ConfigSync,RemoteWrite" {
		t.Errorf("task role statements %s", got)
	}
	secrets := asJSON(t, containerOf(t, d)["secrets"])
	for _, name := range []string{taskcontract.EnvWebConfigYAML, taskcontract.EnvBasicAuthPassword} {
		if !strings.Contains(secrets, `"name":"`+name+`"`) {
			t.Errorf("secrets %s lack %s", secrets, name)
		}
	}
	if v := policy.Str(only(t, d, "aws_ssm_parameter")["insecure_value"]); strings.Contains(v, taskcontract.WorkspaceIDPlaceholder) || !strings.Contains(v, "aws_prometheus_workspace") {
		t.Errorf("the placeholder must become the workspace reference: %s", v)
	}
	if svc := only(t, d, "aws_ecs_service"); svc["desired_count"] != 2.0 || svc["deployment_minimum_healthy_percent"] != 50.0 {
		t.Errorf("replicas: %v tasks, %v%% minimum healthy", svc["desired_count"], svc["deployment_minimum_healthy_percent"])
	}
	if n := count(d, "aws_vpc_security_group_ingress_rule"); n != 2 {
		t.Errorf("%d ingress rules, want one per admin range", n)
	}
}

// Given a configuration over 4 KB, when synthesized, then the parameter
// is Advanced; over 8 KB, the construct refuses it (SSM would at apply).
func TestPrometheusServiceConfigSize(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.ConfigYAML = "#" + strings.Repeat("x", pconstructs.SSMStandardLimit) + "\n"
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	})
	if tier := only(t, d, "aws_ssm_parameter")["tier"]; tier != "Advanced" {
		t.Errorf("tier %v, want Advanced", tier)
	}
	refused(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.ConfigYAML = strings.Repeat("x", pconstructs.SSMAdvancedLimit+1)
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "8192")
}

// Given only what nobody but the user can know (name, region, VPC,
// subnets, a configuration), when built, then a whole service comes out with
// the defaults (the pinned images, 9090, 512/1024, 30 days of logs, 15 days
// of samples, one task, discovery in its region) and Terraform accepts it;
// without them, or with two storage modes, the construct names what is
// wrong.
func TestPrometheusServiceMinimalProps(t *testing.T) {
	d, dir := synthtest.Stack(t, "test", func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("test"))
		pconstructs.RequireAWSProvider(stack)
		provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("eu-central-1")})
		pconstructs.NewPrometheusFargateService(stack, "prometheus", &pconstructs.PrometheusFargateServiceProps{
			Name: "p", Region: "eu-central-1", VpcId: vpcID, SubnetIds: subnetIDs, ConfigYAML: "global: {}\n"})
	})
	task := only(t, d, "aws_ecs_task_definition")
	if task["cpu"] != fmt.Sprint(defaults.TaskCpu) || task["memory"] != fmt.Sprint(defaults.TaskMemory) {
		t.Errorf("task size %v/%v, want the defaults", task["cpu"], task["memory"])
	}
	defs := policy.Str(task["container_definitions"])
	for _, want := range []string{defaults.PrometheusImage, defaults.ConfigSyncImage, `"containerPort":9090`, taskcontract.FlagRetention + defaults.Retention} {
		if !strings.Contains(defs, want) {
			t.Errorf("the task lacks the default %s", want)
		}
	}
	if svc := only(t, d, "aws_ecs_service"); policy.Num(svc["desired_count"]) != defaults.DesiredCount {
		t.Errorf("desired count %v", svc["desired_count"])
	}
	if lg := only(t, d, "aws_cloudwatch_log_group"); policy.Num(lg["retention_in_days"]) != defaults.LogRetentionDays {
		t.Errorf("log retention %v", lg["retention_in_days"])
	}
	regional := false
	for _, p := range d.Of("aws_iam_role_policy") {
		regional = regional || strings.Contains(policy.Str(p["policy"]), `"aws:RequestedRegion":["eu-central-1"]`)
	}
	if !regional {
		t.Error("discovery must default to the service's region")
	}
	if v := policy.Check(d, policy.Options{}); len(v) != 0 {
		t.Errorf("policy: %v", v)
	}
	synthtest.Validate(t, dir)
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewPrometheusFargateService(s, "prometheus", &pconstructs.PrometheusFargateServiceProps{Name: "p"})
	}, "PrometheusFargateService prometheus", "Region", "VpcId", "SubnetIds", "ConfigYAML")
	refused(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.Workspace = pconstructs.NewAMPWorkspace(s, "amp", &pconstructs.AMPWorkspaceProps{Name: "p", Region: "eu-central-1"})
		p.EFS = pconstructs.NewEFSStorage(s, "efs", &pconstructs.EFSStorageProps{Name: "p", VpcId: vpcID, SubnetIds: subnetIDs})
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "mutually exclusive")
}
