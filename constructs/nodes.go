package constructs

import (
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalinggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawspartition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsssmparameter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
)

// NodeExporterInstanceProps configures NodeExporterInstance.
type NodeExporterInstanceProps struct {
	// Name prefixes resource names and is every node's Name tag. Required.
	Name string
	// VpcId is the VPC of the nodes' security group. Required.
	VpcId *string
	// SubnetIds are the subnets the nodes spread over. Required.
	SubnetIds *[]*string
	// ScraperSecurityGroupId is the only security group allowed to reach the
	// node_exporter port (Prometheus's). Required.
	ScraperSecurityGroupId *string
	// Count is the number of nodes, kept by an Auto Scaling group. 0 keeps
	// the group empty. Default: 2 (defaults.NodeCount).
	Count *int
	// InstanceType of every node. Default: t3.micro
	// (defaults.NodeInstanceType).
	InstanceType string
	// AmiId pins the image. Default: the latest Amazon Linux 2023 for the
	// instance type's architecture, from the public SSM parameter.
	AmiId string
	// KmsKeyArn encrypts the root volumes with a customer-managed key (its
	// key policy must let the Auto Scaling service-linked role use it).
	// Default: "" (the account's default EBS key).
	KmsKeyArn string
	// Port node_exporter listens on. Default: 9100 (defaults.NodeExporterPort).
	Port int
	// DownloadBase is where the nodes fetch the node_exporter release:
	// an https:// mirror, or s3://bucket/prefix, which the instance role
	// may then read (s3:GetObject under that prefix alone); the pinned
	// checksum is checked either way. Default: "" (GitHub's releases).
	DownloadBase string
	// DiscoveryTagKey / DiscoveryTagValue mark the nodes for Prometheus.
	// Default: prometheus:scrape = true (defaults.DiscoveryTagKey,
	// defaults.DiscoveryTagValue).
	DiscoveryTagKey   string
	DiscoveryTagValue string
	// SSH enables SSH. Default: nil (no SSH; use SSM Session Manager).
	SSH *SSHAccess
	// RootDeviceName is the AMI's root device, which gets an encrypted gp3
	// volume. Default: "/dev/xvda" (Amazon Linux; Ubuntu uses "/dev/sda1").
	RootDeviceName string
	// RootVolumeSize in GiB. Default: 8.
	RootVolumeSize int
}

// SSHAccess opens SSH to the nodes: the EC2 key pair they accept, and the
// ranges that may reach port 22. Both required.
type SSHAccess struct {
	KeyName string
	Cidrs   []string
}

// NodeExporterInstance is a group of identical EC2 nodes that install
// node_exporter from the shared user-data script on first boot. One
// launch template plus an Auto Scaling group means the node count is a
// number, not one resource block per node, and a failed node is replaced.
type NodeExporterInstance struct {
	constructs.Construct
	SecurityGroup    securitygroup.SecurityGroup
	Role             iamrole.IamRole
	InstanceProfile  iaminstanceprofile.IamInstanceProfile
	LaunchTemplate   launchtemplate.LaunchTemplate
	AutoScalingGroup autoscalinggroup.AutoscalingGroup
	// Ami is the SSM lookup of the image; nil when AmiId was given.
	Ami dataawsssmparameter.DataAwsSsmParameter
	// UserData is the rendered script (plain text) the nodes boot with.
	UserData string
}

// NewNodeExporterInstance creates the nodes, their security group and role.
func NewNodeExporterInstance(scope constructs.Construct, id string, props *NodeExporterInstanceProps) *NodeExporterInstance {
	p := *props
	requireProps("NodeExporterInstance", id, need("Name", p.Name == ""), need("VpcId", p.VpcId == nil),
		need("SubnetIds", p.SubnetIds == nil), need("ScraperSecurityGroupId", p.ScraperSecurityGroupId == nil),
		need("SSH.KeyName", p.SSH != nil && p.SSH.KeyName == ""), need("SSH.Cidrs", p.SSH != nil && len(p.SSH.Cidrs) == 0))
	count := defaults.NodeCount
	if p.Count != nil {
		count = *p.Count
	}
	p.InstanceType = orDefault(p.InstanceType, defaults.NodeInstanceType)
	p.Port = intOr(p.Port, defaults.NodeExporterPort)
	p.DiscoveryTagKey = orDefault(p.DiscoveryTagKey, defaults.DiscoveryTagKey)
	p.DiscoveryTagValue = orDefault(p.DiscoveryTagValue, defaults.DiscoveryTagValue)
	p.RootDeviceName = orDefault(p.RootDeviceName, "/dev/xvda")
	p.RootVolumeSize = intOr(p.RootVolumeSize, 8)

	scope = constructs.NewConstruct(scope, jsii.String(id))
	n := &NodeExporterInstance{Construct: scope}

	n.SecurityGroup = newSecurityGroup(scope, p.Name+"-sg", "node_exporter nodes: metrics port open to Prometheus only", p.VpcId)
	// Scraper -> node on the metrics port, as a pair of rules that reference
	// each other's security group (never a CIDR).
	allowTCP(scope, "metrics-from-scraper", "scraper-to-metrics", p.ScraperSecurityGroupId, n.SecurityGroup.Id(), p.Port)
	// HTTPS out: the node_exporter download, package repositories and the
	// SSM agent. Without a NAT gateway this goes straight to the internet.
	httpsEgress(scope, n.SecurityGroup, "HTTPS to AWS APIs, package repositories and the node_exporter release")
	if p.SSH != nil {
		cidrIngress(scope, "ssh", n.SecurityGroup, p.SSH.Cidrs, 22, "SSH (opted in with sshKeyName)")
	}

	// Operators reach nodes through SSM Session Manager, not SSH.
	n.Role = newServiceRole(scope, "role", p.Name+"-role", "ec2.amazonaws.com")
	iamrolepolicyattachment.NewIamRolePolicyAttachment(scope, jsii.String("ssm-core"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role:      n.Role.Name(),
		PolicyArn: jsii.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"),
	})
	if rest, ok := strings.CutPrefix(p.DownloadBase, "s3://"); ok {
		// The release objects under the mirror's prefix, in this partition.
		partition := dataawspartition.NewDataAwsPartition(scope, jsii.String("partition"), &dataawspartition.DataAwsPartitionConfig{})
		newRolePolicy(scope, "release-mirror", n.Role, "node-exporter-release", Policy(Statement{
			Sid: "ReleaseMirror", Effect: "Allow", Action: []string{"s3:GetObject"},
			Resource: []string{"arn:" + *partition.Partition() + ":s3:::" + strings.Trim(rest, "/") + "/*"},
		}))
	}
	n.InstanceProfile = iaminstanceprofile.NewIamInstanceProfile(scope, jsii.String("profile"), &iaminstanceprofile.IamInstanceProfileConfig{
		Name: jsii.String(p.Name + "-profile"),
		Role: n.Role.Name(),
		Tags: nameTag(p.Name + "-profile"),
	})

	n.launchTemplate(scope, &p)

	tags := []*autoscalinggroup.AutoscalingGroupTag{
		{Key: jsii.String("Name"), Value: jsii.String(p.Name), PropagateAtLaunch: jsii.Bool(true)},
		{Key: jsii.String(p.DiscoveryTagKey), Value: jsii.String(p.DiscoveryTagValue), PropagateAtLaunch: jsii.Bool(true)},
	}
	n.AutoScalingGroup = autoscalinggroup.NewAutoscalingGroup(scope, jsii.String("group"), &autoscalinggroup.AutoscalingGroupConfig{
		Name:              jsii.String(p.Name),
		MinSize:           jsii.Number(count),
		MaxSize:           jsii.Number(count),
		DesiredCapacity:   jsii.Number(count),
		VpcZoneIdentifier: p.SubnetIds,
		HealthCheckType:   jsii.String("EC2"),
		LaunchTemplate: &autoscalinggroup.AutoscalingGroupLaunchTemplate{
			Id:      n.LaunchTemplate.Id(),
			Version: cdktf.Token_AsString(n.LaunchTemplate.LatestVersion(), nil),
		},
		Tag: &tags,
	})
	return n
}

// launchTemplate is how every node boots: the image (pinned, or the
// latest Amazon Linux 2023), the shared user-data script, IMDSv2 only and
// an encrypted root volume.
func (n *NodeExporterInstance) launchTemplate(scope constructs.Construct, p *NodeExporterInstanceProps) {
	image := jsii.String(p.AmiId)
	if p.AmiId == "" {
		n.Ami = dataawsssmparameter.NewDataAwsSsmParameter(scope, jsii.String("ami"), &dataawsssmparameter.DataAwsSsmParameterConfig{
			Name: jsii.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + Architecture(p.InstanceType)),
		})
		// insecure_value: an AMI id is public, and a sensitive image_id would
		// hide AMI changes from plan reviewers.
		image = n.Ami.InsecureValue()
	}

	n.UserData = userdata.Render(userdata.Options{ListenPort: p.Port, DownloadBase: p.DownloadBase})
	n.LaunchTemplate = launchtemplate.NewLaunchTemplate(scope, jsii.String("template"), &launchtemplate.LaunchTemplateConfig{
		Name:                 jsii.String(p.Name),
		ImageId:              image,
		InstanceType:         jsii.String(p.InstanceType),
		KeyName:              keyName(p.SSH),
		VpcSecurityGroupIds:  &[]*string{n.SecurityGroup.Id()},
		IamInstanceProfile:   &launchtemplate.LaunchTemplateIamInstanceProfile{Arn: n.InstanceProfile.Arn()},
		UpdateDefaultVersion: jsii.Bool(true),
		// Encoded in Go: the script is full of ${...}, which Terraform would
		// otherwise read as its own interpolation.
		UserData: jsii.String(base64.StdEncoding.EncodeToString([]byte(n.UserData))),
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint:            jsii.String("enabled"),
			HttpTokens:              jsii.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: jsii.Number(1),          // no token relay to containers
		},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: jsii.String(p.RootDeviceName),
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				Encrypted:           jsii.String("true"),
				KmsKeyId:            optional(p.KmsKeyArn),
				VolumeType:          jsii.String("gp3"),
				VolumeSize:          jsii.Number(p.RootVolumeSize),
				DeleteOnTermination: jsii.String("true"),
			},
		}},
		Tags: nameTag(p.Name),
	})
}

// keyName is the EC2 key pair of the SSH opt-in (nil: no SSH).
func keyName(ssh *SSHAccess) *string {
	if ssh == nil {
		return nil
	}
	return jsii.String(ssh.KeyName)
}

// Architecture returns the Amazon Linux architecture suffix for an
// instance type: Graviton families carry a "g" after the generation digit
// (t4g, m7g, c7gn), everything else is x86_64.
func Architecture(instanceType string) string {
	if gravitonRE.MatchString(instanceType) {
		return "arm64"
	}
	return "x86_64"
}

var gravitonRE = regexp.MustCompile(`^[a-z]+[0-9]+[a-z]*g[a-z]*\.`)
