// Command nodes-in-existing-vpc adds node_exporter nodes to a VPC you
// already run, with the same checksum-verified install script the
// prometheus-aws deployment uses, so an existing Prometheus (or the one
// prometheus-aws deploys) discovers and scrapes them.
//
// The VPC, its subnets and the scraper's security group are given by id,
// as Terraform variables:
//
//	cdktf synth   # or: go run .
//	terraform -chdir=cdktf.out/stacks/nodes init
//	terraform -chdir=cdktf.out/stacks/nodes apply \
//	  -var vpc_id=vpc-0123 -var 'subnet_ids=["subnet-0a","subnet-0b"]' \
//	  -var scraper_security_group_id=sg-0456
package main

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
)

// Nodes is the example's stack and what it creates.
type Nodes struct {
	cdktf.TerraformStack
	Nodes *pconstructs.NodeExporterInstance
}

// NewNodes is a stack with two t3.small nodes in the given VPC, reachable
// on node_exporter's port (9100, the default) from the scraper's security
// group only, and tagged for discovery (prometheus:scrape=true, the
// default).
func NewNodes(scope constructs.Construct, id, region string) *Nodes {
	stack := cdktf.NewTerraformStack(scope, jsii.String(id))
	pconstructs.RequireAWSProvider(stack)
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String(region)})
	vpcID := cdktf.NewTerraformVariable(stack, jsii.String("vpc_id"), &cdktf.TerraformVariableConfig{
		Type: jsii.String("string"), Description: jsii.String("The existing VPC the nodes join"),
	})
	subnetIDs := cdktf.NewTerraformVariable(stack, jsii.String("subnet_ids"), &cdktf.TerraformVariableConfig{
		Type: jsii.String("list(string)"), Description: jsii.String("Subnets of that VPC the nodes spread over"),
	})
	scraper := cdktf.NewTerraformVariable(stack, jsii.String("scraper_security_group_id"), &cdktf.TerraformVariableConfig{
		Type: jsii.String("string"), Description: jsii.String("Security group of the Prometheus that scrapes them"),
	})
	n := &Nodes{TerraformStack: stack}
	n.Nodes = pconstructs.NewNodeExporterInstance(stack, "nodes", &pconstructs.NodeExporterInstanceProps{
		Name:                   "app-node",
		VpcId:                  vpcID.StringValue(),
		SubnetIds:              subnetIDs.ListValue(),
		ScraperSecurityGroupId: scraper.StringValue(),
		InstanceType:           "t3.small",
	})
	cdktf.NewTerraformOutput(stack, jsii.String("node_security_group_id"), &cdktf.TerraformOutputConfig{Value: n.Nodes.SecurityGroup.Id()})
	cdktf.NewTerraformOutput(stack, jsii.String("node_group_name"), &cdktf.TerraformOutputConfig{Value: n.Nodes.AutoScalingGroup.Name()})
	return n
}

func main() {
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	NewNodes(app, "nodes", "eu-central-1")
	app.Synth()
}
