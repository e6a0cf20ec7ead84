// Command whole-stack is the whole deployment in one screen, from the
// constructs alone: a VPC, nodes running node_exporter, and Prometheus on
// ECS Fargate discovering them by their tag. Every prop is at its default
// except what only you can know: names, the region, who may reach
// Prometheus, and its prometheus.yml.
//
//	cdktf synth   # or: go run .
//	terraform -chdir=cdktf.out/stacks/whole-stack init
//	terraform -chdir=cdktf.out/stacks/whole-stack apply
package main

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
)

// WholeStack is the example's stack and what it creates.
type WholeStack struct {
	cdktf.TerraformStack
	Network    *pconstructs.Network
	Prometheus *pconstructs.PrometheusFargateService
	Nodes      *pconstructs.NodeExporterInstance
}

// NewWholeStack builds the deployment in region; adminCidr may reach
// Prometheus on its port. That is plain HTTP with basic auth: give it your
// VPN's private range (the policy's allowPlainHttpAdmin), never a public
// one; from the internet, put constructs.NewLoadBalancer (HTTPS) in front.
func NewWholeStack(scope constructs.Construct, id, region, adminCidr string) *WholeStack {
	stack := cdktf.NewTerraformStack(scope, jsii.String(id))
	pconstructs.RequireAWSProvider(stack)
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String(region)})
	w := &WholeStack{TerraformStack: stack}
	w.Network = pconstructs.NewNetwork(stack, "network", &pconstructs.NetworkProps{Name: "whole"})
	w.Prometheus = pconstructs.NewPrometheusFargateService(stack, "prometheus", &pconstructs.PrometheusFargateServiceProps{
		Name: "whole", Region: region, VpcId: w.Network.Vpc.Id(), SubnetIds: w.Network.SubnetIds(),
		ConfigYAML: scrapeTaggedNodes(region), AdminCidrs: []string{adminCidr},
	})
	w.Nodes = pconstructs.NewNodeExporterInstance(stack, "nodes", &pconstructs.NodeExporterInstanceProps{
		Name: "whole-node", VpcId: w.Network.Vpc.Id(), SubnetIds: w.Network.SubnetIds(),
		ScraperSecurityGroupId: w.Prometheus.SecurityGroup.Id(),
	})
	return w
}

// scrapeTaggedNodes is a prometheus.yml that finds every running instance
// with the nodes' default tag in region and scrapes node_exporter there.
func scrapeTaggedNodes(region string) string {
	return fmt.Sprintf(`scrape_configs:
  - job_name: node
    ec2_sd_configs:
      - region: %s
        port: %d
        filters:
          - {name: "tag:%s", values: ["%s"]}
          - {name: instance-state-name, values: [running]}
    relabel_configs:
      - {source_labels: [__meta_ec2_instance_id], target_label: instance_id}
`, region, defaults.NodeExporterPort, defaults.DiscoveryTagKey, defaults.DiscoveryTagValue)
}

func main() {
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	NewWholeStack(app, "whole-stack", "eu-central-1", "10.8.0.0/24") // your VPN
	app.Synth()
}
