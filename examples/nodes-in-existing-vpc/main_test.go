package main

import (
	"encoding/base64"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/userdata"
	"github.com/prometheus-aws/prometheus-aws/internal/synthtest"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func TestMain(m *testing.M) { synthtest.Main(m) }

// Given the example app, when it is synthesized, then the nodes join the
// VPC given by variables (no network of their own), boot the shared
// install script, admit only the scraper on 9100, and Terraform accepts it.
func TestNodesJoinTheGivenVPC(t *testing.T) {
	d, dir := synthtest.Stack(t, "nodes", func(app cdktf.App) { NewNodes(app, "nodes", "eu-central-1") })

	if n := len(d.Names("aws_vpc")) + len(d.Names("aws_subnet")); n != 0 {
		t.Errorf("the example must use the existing VPC, but creates %d VPC/subnet resources", n)
	}
	_, sg, _ := d.Only("aws_security_group")
	if policy.Str(sg["vpc_id"]) != "${var.vpc_id}" {
		t.Errorf("node security group in %v, want the vpc_id variable", sg["vpc_id"])
	}
	_, asg, _ := d.Only("aws_autoscaling_group")
	if policy.Str(asg["vpc_zone_identifier"]) != "${var.subnet_ids}" || asg["desired_capacity"] != 2.0 {
		t.Errorf("group: subnets %v, %v nodes; want the subnet_ids variable and 2", asg["vpc_zone_identifier"], asg["desired_capacity"])
	}
	_, lt, _ := d.Only("aws_launch_template")
	if got, _ := base64.StdEncoding.DecodeString(policy.Str(lt["user_data"])); string(got) != userdata.Render(userdata.Options{ListenPort: 9100}) {
		t.Error("the nodes must boot the shared user-data script")
	}
	ingress := d.Of("aws_vpc_security_group_ingress_rule")
	if len(ingress) != 1 {
		t.Fatalf("ingress rules %v: only the scraper on 9100", ingress)
	}
	for _, r := range ingress {
		if policy.Str(r["referenced_security_group_id"]) != "${var.scraper_security_group_id}" || r["from_port"] != 9100.0 {
			t.Errorf("ingress %v: want 9100 from the scraper_security_group_id variable", r)
		}
	}
	synthtest.Validate(t, dir)
}
