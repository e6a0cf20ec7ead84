package constructs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupingressrule"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// ECSDiscoveryProps let Prometheus discover ECS tasks (aws_sd_configs
// role ecs) and scrape them.
type ECSDiscoveryProps struct {
	// ClusterArns limit discovery, and the task role, to these clusters;
	// taskcontract.AccountIDPlaceholder in an ARN stands for the
	// deployment's account. Default: none, every cluster of the
	// DiscoveryRegions.
	ClusterArns []string
	// ScrapePorts are the ports the task may connect out to, within
	// ScrapeCidr, to scrape the tasks. Required.
	ScrapePorts []int
	// ScrapeCidr is the range the tasks live in (the VPC's). Required.
	ScrapeCidr string
}

// ECSDiscoveryActions are the calls Prometheus 3.16's ECS discovery makes
// (discovery/aws/ecs.go): ListClusters (every cluster only),
// DescribeClusters (a credential probe without a cluster, i.e. the
// default one, then the clusters), ListServices, DescribeServices,
// ListTasks, DescribeTasks, DescribeContainerInstances (EC2 launch type);
// with EC2's DescribeInstances (EC2 launch type hosts: granted to the node
// discovery already) and DescribeNetworkInterfaces (the public IP of
// awsvpc tasks: a failure drops the whole cluster's tasks).
var ECSDiscoveryActions = []string{"ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices", "ecs:DescribeServices",
	"ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeContainerInstances"}

// ecsDiscoveryStatements are the task role's grants for ECS discovery in
// regions, as narrow as ECS's authorization allows (Service Authorization
// Reference, Amazon Elastic Container Service): DescribeClusters takes a
// cluster resource; ListServices, ListTasks, DescribeServices, DescribeTasks
// and DescribeContainerInstances take the ecs:cluster condition key;
// ListClusters and EC2's Describe* no resource at all (hence "*" with the
// region condition, as for the node discovery).
func ecsDiscoveryStatements(regions, clusterArns []string) []Statement {
	inRegions := map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": regions}}
	eni := Statement{Sid: "ECSDiscoveryNetworkInterfaces", Effect: "Allow", Action: []string{"ec2:DescribeNetworkInterfaces"},
		Resource: []string{"*"}, Condition: inRegions}
	if len(clusterArns) == 0 {
		return []Statement{{Sid: "ECSDiscovery", Effect: "Allow", Action: ECSDiscoveryActions, Resource: []string{"*"}, Condition: inRegions}, eni}
	}
	described := append([]string(nil), clusterArns...)
	for _, arn := range clusterArns {
		// Prometheus probes its credentials with DescribeClusters and no
		// cluster: ECS authorizes that on the region's default cluster.
		if def := defaultClusterRE.ReplaceAllString(arn, "${1}default"); !slices.Contains(described, def) {
			described = append(described, def)
		}
	}
	return []Statement{
		{Sid: "ECSDiscoveryClusters", Effect: "Allow", Action: []string{"ecs:DescribeClusters"}, Resource: described},
		{Sid: "ECSDiscoveryInClusters", Effect: "Allow", Action: []string{"ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeContainerInstances"},
			Resource: []string{"*"}, Condition: map[string]any{"ArnEquals": map[string]any{"ecs:cluster": clusterArns}}},
		eni,
	}
}

var defaultClusterRE = regexp.MustCompile(`^(.*:cluster/).*$`)

// checkECSDiscovery refuses what only a program gets wrong.
func checkECSDiscovery(id string, e *ECSDiscoveryProps) {
	if e == nil {
		return
	}
	if len(e.ScrapePorts) == 0 || e.ScrapeCidr == "" {
		panic(fmt.Sprintf("PrometheusFargateService %s: ECSDiscovery needs ScrapePorts and ScrapeCidr (where the tasks' metrics are)", id))
	}
	for _, arn := range e.ClusterArns {
		if !strings.Contains(arn, ":ecs:") || !strings.Contains(arn, ":cluster/") {
			panic(fmt.Sprintf("PrometheusFargateService %s: ECSDiscovery.ClusterArns: %q is not a cluster ARN", id, arn))
		}
	}
}

// accountID replaces taskcontract.AccountIDPlaceholder in v with the
// deployment's account id (a caller identity data source, created once).
func (s *PrometheusFargateService) accountID(scope constructs.Construct, v string) string {
	if !strings.Contains(v, taskcontract.AccountIDPlaceholder) {
		return v
	}
	if s.account == nil {
		s.account = dataawscalleridentity.NewDataAwsCallerIdentity(scope, jsii.String("account"), &dataawscalleridentity.DataAwsCallerIdentityConfig{})
	}
	return strings.ReplaceAll(v, taskcontract.AccountIDPlaceholder, *s.account.AccountId())
}

// NewScrapeIngress lets the scraper's security group (Prometheus's:
// output prometheus_security_group_id) reach port on a task's security
// group, by reference, and nothing else: the rule a user adds to an ECS
// service that opts in to scraping.
func NewScrapeIngress(scope constructs.Construct, id string, taskSecurityGroupId, scraperSecurityGroupId *string, port int) vpcsecuritygroupingressrule.VpcSecurityGroupIngressRule {
	return vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(scope, jsii.String(id), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
		SecurityGroupId:           taskSecurityGroupId,
		ReferencedSecurityGroupId: scraperSecurityGroupId,
		IpProtocol:                jsii.String("tcp"),
		FromPort:                  jsii.Number(port),
		ToPort:                    jsii.Number(port),
		Description:               jsii.String("Prometheus scrapes the task's metrics"),
	})
}
