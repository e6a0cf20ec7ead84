// Command prometheus-own-config runs Prometheus on ECS Fargate with a
// prometheus.yml you write yourself (here: static targets), in a new VPC,
// with the constructs of prometheus-aws and none of its settings: Network
// and PrometheusFargateService, with the defaults except a smaller task and
// a shorter retention.
//
//	cdktf synth   # or: go run .
//	terraform -chdir=cdktf.out/stacks/prometheus init
//	terraform -chdir=cdktf.out/stacks/prometheus apply
package main

import (
	_ "embed"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
)

// ConfigYAML is the configuration the task runs, as written.
//
//go:embed prometheus.yml
var ConfigYAML string

// Prometheus is the example's stack and what it creates.
type Prometheus struct {
	cdktf.TerraformStack
	Network    *pconstructs.Network
	Prometheus *pconstructs.PrometheusFargateService
}

// NewPrometheus is a stack with a two-zone VPC and one Prometheus task
// (task storage: the history goes with the task) whose web port admits
// adminCidr only.
func NewPrometheus(scope constructs.Construct, id, region, adminCidr string) *Prometheus {
	stack := cdktf.NewTerraformStack(scope, jsii.String(id))
	pconstructs.RequireAWSProvider(stack)
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String(region)})
	p := &Prometheus{TerraformStack: stack}
	p.Network = pconstructs.NewNetwork(stack, "network", &pconstructs.NetworkProps{Name: "own-config", CidrBlock: "10.20.0.0/16"})
	p.Prometheus = pconstructs.NewPrometheusFargateService(stack, "prometheus", &pconstructs.PrometheusFargateServiceProps{
		Name:       "own-config",
		Region:     region,
		VpcId:      p.Network.Vpc.Id(),
		SubnetIds:  p.Network.SubnetIds(),
		ConfigYAML: ConfigYAML,
		AdminCidrs: []string{adminCidr},
		Cpu:        256,
		Memory:     512,
		Retention:  "7d",
	})
	cdktf.NewTerraformOutput(stack, jsii.String("cluster_name"), &cdktf.TerraformOutputConfig{Value: p.Prometheus.Cluster.Name()})
	return p
}

func main() {
	defer jsii.Close()
	app := cdktf.NewApp(nil)
	NewPrometheus(app, "prometheus", "eu-central-1", "10.8.0.0/24")
	app.Synth()
}
