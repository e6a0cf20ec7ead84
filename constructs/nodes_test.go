package constructs_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func nodeProps(n int) *pconstructs.NodeExporterInstanceProps {
	return &pconstructs.NodeExporterInstanceProps{
		Name: "node", VpcId: vpcID, SubnetIds: subnetIDs, ScraperSecurityGroupId: sgID, Count: &n,
		InstanceType: "t3.micro", Port: 9100, DiscoveryTagKey: "prometheus:scrape", DiscoveryTagValue: "true",
	}
}

// Given the required props, when synthesized, then a fixed-size group of
// nodes booting the shared script from the latest Amazon Linux 2023, with
// IMDSv2 only, an encrypted 8 GiB gp3 root on /dev/xvda, the discovery tag
// on every node, the metrics port open to the scraper alone and no SSH.
func TestNodesDefaults(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) { pconstructs.NewNodeExporterInstance(s, "nodes", nodeProps(3)) })

	asg := only(t, d, "aws_autoscaling_group")
	if asg["min_size"] != 3.0 || asg["max_size"] != 3.0 || asg["desired_capacity"] != 3.0 {
		t.Errorf("group size %v/%v/%v, want 3", asg["min_size"], asg["max_size"], asg["desired_capacity"])
	}
	if tags := asJSON(t, asg["tag"]); tags != `[{"key":"Name","propagate_at_launch":true,"value":"node"},{"key":"prometheus:scrape","propagate_at_launch":true,"value":"true"}]` {
		t.Errorf("group tags %s", tags)
	}
	lt := only(t, d, "aws_launch_template")
	if script, _ := base64.StdEncoding.DecodeString(policy.Str(lt["user_data"])); string(script) != userdata.Render(userdata.Options{ListenPort: 9100}) {
		t.Error("user data is not the shared script for port 9100")
	}
	if lt["key_name"] != nil || policy.Str(policy.Path(lt, "metadata_options", "http_tokens")) != "required" {
		t.Errorf("key %v, IMDS %v: no SSH key, IMDSv2 only", lt["key_name"], lt["metadata_options"])
	}
	root := policy.Path(lt, "block_device_mappings")
	if asJSON(t, root) != `[{"device_name":"/dev/xvda","ebs":{"delete_on_termination":"true","encrypted":"true","volume_size":8,"volume_type":"gp3"}}]` {
		t.Errorf("root volume %s", asJSON(t, root))
	}
	if amis := dataSources(d, "aws_ssm_parameter"); len(amis) != 1 || !strings.Contains(asJSON(t, amis), `"name":"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"`) {
		t.Errorf("image lookups %s; the image comes from AL2023's public SSM parameter, x86_64 for t3", asJSON(t, amis))
	}
	ingress := d.Of("aws_vpc_security_group_ingress_rule")
	for _, r := range ingress {
		if r["referenced_security_group_id"] != *sgID || r["from_port"] != 9100.0 {
			t.Errorf("ingress %v: only the scraper on 9100", r)
		}
	}
	if len(ingress) != 1 {
		t.Errorf("%d ingress rules, want the scraper's only", len(ingress))
	}
}

// Given SSH access and a Graviton type, when synthesized, then the key
// pair and port 22 for the ranges, and the arm64 image.
func TestNodesSSHAndGraviton(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := nodeProps(1)
		p.InstanceType = "t4g.small"
		p.SSH = &pconstructs.SSHAccess{KeyName: "ops", Cidrs: []string{"192.0.2.0/24"}}
		pconstructs.NewNodeExporterInstance(s, "nodes", p)
	})
	if lt := only(t, d, "aws_launch_template"); lt["key_name"] != "ops" {
		t.Errorf("key_name %v", lt["key_name"])
	}
	ssh := 0
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if r["from_port"] == 22.0 {
			ssh++
			if r["cidr_ipv4"] != "192.0.2.0/24" {
				t.Errorf("SSH rule %v", r)
			}
		}
	}
	if ssh != 1 {
		t.Errorf("%d SSH rules, want 1", ssh)
	}
	amis := dataSources(d, "aws_ssm_parameter")
	if len(amis) != 1 {
		t.Errorf("%d image lookups, want 1", len(amis))
	}
	for _, ami := range amis {
		if name := policy.Str(policy.Path(ami, "name")); name != "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" {
			t.Errorf("image parameter %s", name)
		}
	}
}

// Given a pinned AMI, when synthesized, then no image lookup.
func TestNodesPinnedAMI(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := nodeProps(1)
		p.AmiId = "ami-0123456789abcdef0"
		pconstructs.NewNodeExporterInstance(s, "nodes", p)
	})
	if lt := only(t, d, "aws_launch_template"); lt["image_id"] != "ami-0123456789abcdef0" || len(dataSources(d, "aws_ssm_parameter")) != 0 {
		t.Errorf("image %v with %d lookups", lt["image_id"], len(dataSources(d, "aws_ssm_parameter")))
	}
}

// Given only where the nodes go and who scrapes them, when built, then the
// defaults apply (2 t3.micro nodes, node_exporter on 9100, tagged
// prometheus:scrape=true); without them, or with half an SSH opt-in, every
// missing prop is named.
func TestNodesMinimalProps(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewNodeExporterInstance(s, "nodes", &pconstructs.NodeExporterInstanceProps{Name: "n", VpcId: vpcID, SubnetIds: subnetIDs, ScraperSecurityGroupId: sgID})
	})
	if g := only(t, d, "aws_autoscaling_group"); policy.Num(g["desired_capacity"]) != defaults.NodeCount {
		t.Errorf("nodes %v, want %d", g["desired_capacity"], defaults.NodeCount)
	}
	if lt := only(t, d, "aws_launch_template"); lt["instance_type"] != defaults.NodeInstanceType {
		t.Errorf("instance type %v, want %s", lt["instance_type"], defaults.NodeInstanceType)
	}
	if in := only(t, d, "aws_vpc_security_group_ingress_rule"); policy.Num(in["from_port"]) != defaults.NodeExporterPort {
		t.Errorf("node_exporter port %v, want %d", in["from_port"], defaults.NodeExporterPort)
	}
	if !strings.Contains(asJSON(t, d.Raw), defaults.DiscoveryTagKey) {
		t.Errorf("the nodes must carry the discovery tag %s", defaults.DiscoveryTagKey)
	}
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewNodeExporterInstance(s, "nodes", &pconstructs.NodeExporterInstanceProps{Name: "n"})
	}, "NodeExporterInstance nodes", "VpcId", "SubnetIds", "ScraperSecurityGroupId")
	refused(t, func(s cdktf.TerraformStack) {
		p := nodeProps(1)
		p.SSH = &pconstructs.SSHAccess{KeyName: "ops"}
		pconstructs.NewNodeExporterInstance(s, "nodes", p)
	}, "SSH.Cidrs")
}
