package policy

import (
	"strings"
	"testing"
)

// Each rule must catch its violation: a policy test that cannot fail is a defect.
func TestRulesCatchViolations(t *testing.T) {
	cases := []struct {
		rule, doc string
		opts      Options
	}{
		{"no-world-ingress", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"0.0.0.0/0","from_port":22,"to_port":22,"ip_protocol":"tcp"}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv6":"::/0","from_port":9090,"to_port":9090,"ip_protocol":"tcp"}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_security_group":{"sg":{"ingress":[{"cidr_blocks":["0.0.0.0/0"],"from_port":0,"to_port":0,"protocol":"-1"}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"no-world-ingress", `{"resource":{"aws_security_group_rule":{"r":{"type":"ingress","cidr_blocks":["0.0.0.0/0"],"from_port":9100,"to_port":9100,"protocol":"tcp"}}}}`, Options{AllowWorldOpenAdmin: true}},
		{"node-port-from-scraper-only", `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"10.0.0.0/16","from_port":9100,"to_port":9100,"ip_protocol":"tcp"}}}}`, Options{}},
		{"node-port-from-scraper-only", `{"resource":{"aws_vpc_security_group_ingress_rule":{"a":{"referenced_security_group_id":"${a}","from_port":9100,"to_port":9100,"ip_protocol":"tcp"},"b":{"referenced_security_group_id":"${b}","from_port":9000,"to_port":9200,"ip_protocol":"tcp"}}}}`, Options{}},
		{"imdsv2", `{"resource":{"aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"optional","http_put_response_hop_limit":1},"block_device_mappings":[{"ebs":{"encrypted":"true"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"imdsv2", `{"resource":{"aws_instance":{"i":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":2},"root_block_device":{"encrypted":true},"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":1},"block_device_mappings":[{"device_name":"/dev/xvda","ebs":{"encrypted":"false"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_efs_file_system":{"fs":{"tags":{"Name":"x"}}}}}`, Options{}},
		{"encrypted-volumes", `{"resource":{"aws_ecs_task_definition":{"t":{"volume":[{"name":"data","efs_volume_configuration":{"file_system_id":"fs-1","transit_encryption":"DISABLED"}}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"no-wildcard-actions", `{"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}}}`, Options{}},
		{"no-wildcard-actions", `{"resource":{"aws_iam_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeInstances\",\"s3:*\"]}]}","tags":{"Name":"x"}}}}}`, Options{}},
		{"secret-recovery-window", `{"resource":{"aws_secretsmanager_secret":{"s":{"name":"x","tags":{"Name":"x"}}}}}`, Options{}},
		{"name-tags", `{"resource":{"aws_vpc":{"v":{"cidr_block":"10.0.0.0/16","tags":{"team":"x"}}}}}`, Options{}},
		{"http-listener-redirects", `{"resource":{"aws_lb_listener":{"l":{"port":80,"protocol":"HTTP","default_action":[{"type":"forward","target_group_arn":"x"}],"tags":{"Name":"x"}}}}}`, Options{}},
		{"http-listener-redirects", `{"resource":{"aws_lb_listener":{"l":{"port":443,"protocol":"HTTPS","ssl_policy":"ELBSecurityPolicy-2016-08","tags":{"Name":"x"}}}}}`, Options{}},
		{"name-tags", `{"resource":{"aws_autoscaling_group":{"g":{"tag":[{"key":"Name","value":"n","propagate_at_launch":false}]}}}}`, Options{}},
		{"sns-key-usable", `{"resource":{"aws_sns_topic":{"t":{"name":"alarms","kms_master_key_id":"alias/aws/sns","tags":{"Name":"x"}}}}}`, Options{}},
		{"sns-key-usable", `{"resource":{"aws_sns_topic":{"t":{"name":"alarms","kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:alias/aws/sns","tags":{"Name":"x"}}}}}`, Options{}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			d, err := Parse([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			v := Check(d, c.opts)
			if len(v) == 0 {
				t.Fatalf("%s must flag %s", c.rule, c.doc)
			}
			fired := false
			for _, x := range v {
				fired = fired || x.Rule == c.rule
			}
			if !fired {
				t.Errorf("%s did not fire; got %v", c.rule, v)
			}
		})
	}
}

func TestOptInAllowsOnlyThePrometheusPort(t *testing.T) {
	doc := `{"resource":{"aws_vpc_security_group_ingress_rule":{"r":{"cidr_ipv4":"0.0.0.0/0","from_port":9090,"to_port":9090,"ip_protocol":"tcp"}}}}`
	d, _ := Parse([]byte(doc))
	if v := Check(d, Options{AllowWorldOpenAdmin: true}); len(v) != 0 {
		t.Fatalf("allowWorldOpenAdmin must allow 9090: %v", v)
	}
	if v := Check(d, Options{}); len(v) != 1 || !strings.Contains(v[0].Message, "0.0.0.0/0") {
		t.Fatalf("without the opt-in 9090 to the world is a violation: %v", v)
	}
}

func TestCleanDocumentPasses(t *testing.T) {
	doc := `{"resource":{
	  "aws_vpc_security_group_ingress_rule":{"r":{"referenced_security_group_id":"${aws_security_group.p.id}","from_port":9100,"to_port":9100,"ip_protocol":"tcp"}},
	  "aws_launch_template":{"lt":{"metadata_options":{"http_tokens":"required","http_put_response_hop_limit":1},"block_device_mappings":[{"ebs":{"encrypted":"true"}}],"tags":{"Name":"x"}}},
	  "aws_iam_role_policy":{"p":{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeInstances\"],\"Resource\":[\"*\"]}]}"}},
	  "aws_secretsmanager_secret":{"s":{"recovery_window_in_days":0,"tags":{"Name":"s"}}},
	  "aws_sns_topic":{"t":{"kms_master_key_id":"arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","tags":{"Name":"t"}}}}}`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, Options{}); len(v) != 0 {
		t.Fatalf("clean document flagged: %v", v)
	}
}
