package constructs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

const twoGroups = `# header comment
groups:
  - name: first
    rules:
      # why this alert
      - alert: A
        expr: up == 0

  # between the groups
  - name: second.v2
    rules:
      - alert: B
        expr: vector(1)
`

// Given a rules file, when split, then each group is a rules file of its
// own, its lines kept as written (comments too), under rules/<group>.yml.
func TestRuleFilesSplitByGroup(t *testing.T) {
	files, err := pconstructs.RuleFiles(twoGroups)
	if err != nil || len(files) != 2 {
		t.Fatalf("want two files: %v %v", files, err)
	}
	if files[0].Group != "first" || files[0].File != "rules/first.yml" || !strings.Contains(files[0].YAML, "# why this alert\n") || strings.Contains(files[0].YAML, "alert: B") {
		t.Errorf("first group:\n%s", files[0].YAML)
	}
	if files[1].File != "rules/second.v2.yml" || files[1].YAML != "groups:\n  - name: second.v2\n    rules:\n      - alert: B\n        expr: vector(1)\n" {
		t.Errorf("second group %q", files[1].YAML)
	}
	for _, bad := range []string{"rules: []\n", "groups: [{name: a}, {name: b}]\n", "groups:\n  - name: ../x\n    rules: []\n", ":\n"} {
		if _, err := pconstructs.RuleFiles(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}

// Given rules, when synthesized, then each group is a parameter of its own
// at the tier that holds it, the config-sync sidecar keeps every file from
// its parameter, and the task role may read exactly those parameters.
func TestConfigSyncKeepsEveryFile(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.RulesYAML = twoGroups
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	})
	if count(d, "aws_ssm_parameter") != 3 {
		t.Fatalf("want the config and two rule groups as parameters, have %d", count(d, "aws_ssm_parameter"))
	}
	var defs []map[string]any
	if err := json.Unmarshal([]byte(policy.Str(only(t, d, "aws_ecs_task_definition")["container_definitions"])), &defs); err != nil {
		t.Fatal(err)
	}
	sync := defs[1]
	files := ""
	for _, e := range sync["environment"].([]any) {
		if policy.Path(e, "name") == taskcontract.EnvConfigSyncFiles {
			files = policy.Str(policy.Path(e, "value"))
		}
	}
	lines := strings.Split(files, "\n")
	for i, want := range []string{"prometheus.yml ${aws_ssm_parameter.prometheus_config_", "rules/first.yml ${aws_ssm_parameter.prometheus_rules-first_", "rules/second.v2.yml ${aws_ssm_parameter.prometheus_rules-secondv2_"} {
		if len(lines) != 3 || !strings.HasPrefix(lines[i], want) || !strings.HasSuffix(lines[i], ".name}") {
			t.Errorf("config-sync must keep %q...; keeps\n%s", want, files)
		}
	}
	if v := policy.Check(d, policy.Options{}); len(v) != 0 {
		t.Errorf("policy: %v", v)
	}
}

// Given a rule group bigger than any SSM tier holds, construction refuses
// it, naming the group.
func TestOversizedRuleGroupRefused(t *testing.T) {
	big := "groups:\n  - name: huge\n    rules:\n      - alert: A\n        expr: vector(1)\n        annotations:\n          description: " + strings.Repeat("x", 9000) + "\n"
	refused(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.RulesYAML = big
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "rule group huge", "8192", "split it")
}

// Given more rule groups than one GetParameters call reads beside the
// configuration, construction refuses them.
func TestTooManyRuleGroupsRefused(t *testing.T) {
	rules := "groups:\n"
	for i := range 10 {
		rules += fmt.Sprintf("  - name: g%d\n    rules:\n      - alert: A\n        expr: vector(1)\n", i)
	}
	refused(t, func(s cdktf.TerraformStack) {
		p := prometheusProps()
		p.RulesYAML = rules
		pconstructs.NewPrometheusFargateService(s, "prometheus", p)
	}, "11 files", "at most 10", "merge rule groups")
}
