package constructs

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"
	"gopkg.in/yaml.v3"

	cd "github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	tc "github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// The generated files reach the running task through the config-sync
// sidecar: each is an SSM parameter, the sidecar copies every new version
// into the task's shared config volume, and Prometheus (--config.auto-reload)
// and the Alertmanager (SIGHUP from its script) reload in place. The task
// definition names the parameters, never their values, so a change of the
// configuration or of a rule is an in-place parameter update in the plan,
// and no task is replaced.

// syncedFile is one file the sidecar keeps: its path in taskcontract.ConfigDir
// and the parameter holding it.
type syncedFile struct {
	File      string
	Parameter ssmparameter.SsmParameter
	// Encoding is "gzip" for a value stored gzip-compressed and
	// base64-encoded (config-sync decodes it), "" for the file as is.
	Encoding string
}

// RuleFile is one rule group as a file of its own: SSM holds at most 8 KB
// per parameter and the rules are bigger, so each group travels alone
// (and a plan shows which group changed).
type RuleFile struct {
	// Group is the rule group's name; File its path in the config folder.
	Group, File string
	// YAML is a rules file holding that group alone.
	YAML string
}

// RuleFiles splits a Prometheus rules file into one file per group, each
// group's lines kept byte for byte (comments included) under its own
// "groups:" key. It refuses a file that is not a list of groups at the top
// level or whose groups it cannot separate cleanly.
func RuleFiles(rules string) ([]RuleFile, error) {
	var doc ruleGroupNames
	if err := yaml.Unmarshal([]byte(rules), &doc); err != nil {
		return nil, fmt.Errorf("the rules file is not YAML: %w", err)
	}
	lines := strings.SplitAfter(rules, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "groups:" {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("the rules file has no top-level groups: key")
	}
	var files []RuleFile
	var cur []string
	var indent string
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		text := "groups:\n" + strings.Join(cur, "")
		var one ruleGroupNames
		if err := yaml.Unmarshal([]byte(text), &one); err != nil || len(one.Groups) != 1 {
			return fmt.Errorf("the rules file's groups cannot be separated line by line (group %d)", len(files)+1)
		}
		name := one.Groups[0].Name
		files = append(files, RuleFile{Group: name, File: path.Join(tc.RulesDir, name+".yml"), YAML: text})
		cur = nil
		return nil
	}
	for _, l := range lines[start:] {
		trimmed := strings.TrimLeft(l, " ")
		if strings.HasPrefix(trimmed, "- name:") && (indent == "" || l[:len(l)-len(trimmed)] == indent) {
			indent = l[:len(l)-len(trimmed)]
			if err := flush(); err != nil {
				return nil, err
			}
		}
		if len(cur) == 0 && !strings.HasPrefix(trimmed, "- name:") {
			// Blank lines and comments between groups belong to none.
			if strings.TrimSpace(l) == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
		}
		cur = append(cur, l)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(files) != len(doc.Groups) {
		return nil, fmt.Errorf("the rules file has %d groups, %d were separated", len(doc.Groups), len(files))
	}
	for i, f := range files {
		if f.Group != doc.Groups[i].Name || !groupFileName.MatchString(f.Group) {
			return nil, fmt.Errorf("rule group %q cannot name a file (letters, digits, dots, dashes, underscores)", f.Group)
		}
	}
	return files, nil
}

// ruleGroupNames is what RuleFiles reads of a rules file.
type ruleGroupNames struct {
	Groups []struct {
		Name string `yaml:"name"`
	} `yaml:"groups"`
}

// groupFileName is a group name that can name its file (and its
// parameter): no path separator, no leading dot.
var groupFileName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// newRuleParameters holds each rule group in a parameter of its own,
// /<name>/prometheus/rules/<group>.yml; a group no tier holds is refused.
func newRuleParameters(scope constructs.Construct, id string, p *PrometheusFargateServiceProps) []syncedFile {
	if p.RulesYAML == "" {
		return nil
	}
	groups, err := RuleFiles(p.RulesYAML)
	if err != nil {
		panic(fmt.Sprintf("PrometheusFargateService %s: RulesYAML: %v", id, err))
	}
	var out []syncedFile
	for _, g := range groups {
		value := g.YAML
		// Links to the load balancer's URL (dashboard annotations) are
		// filled in at apply; counted at the longest such URL.
		links := strings.Count(value, tc.PrometheusURLPlaceholder)
		if links > 0 && p.LoadBalancer == nil {
			panic(fmt.Sprintf("PrometheusFargateService %s: rule group %s links to %s, which only a LoadBalancer fills in", id, g.Group, tc.PrometheusURLPlaceholder))
		}
		size := len(value) + links*(maxURLLength-len(tc.PrometheusURLPlaceholder))
		tier := SSMTier(size)
		if tier == "" {
			panic(fmt.Sprintf("PrometheusFargateService %s: rule group %s is %d bytes; an SSM parameter holds at most %d (Advanced tier): split it into smaller groups", id, g.Group, size, SSMAdvancedLimit))
		}
		v := TerraformLiteral(value)
		if links > 0 {
			v = strings.ReplaceAll(v, tc.PrometheusURLPlaceholder, *p.LoadBalancer.URL)
		}
		param := newGeneratedParameter(scope, "rules-"+g.Group, p.Name, "prometheus", g.File, tier, v)
		out = append(out, syncedFile{File: g.File, Parameter: param})
	}
	return out
}

// maxURLLength bounds a load balancer URL (https:// and a DNS name of at
// most 253 characters would be more; an ALB's own name with its region is
// under 100, a custom domain usually too).
const maxURLLength = 128

// syncedFiles are every file the sidecar keeps, in a stable order:
// prometheus.yml, the rule groups, alertmanager.yml, Grafana's.
func (s *PrometheusFargateService) syncedFiles() []syncedFile {
	files := []syncedFile{{File: tc.ConfigFile, Parameter: s.Config}}
	files = append(files, s.rules...)
	if s.AlertmanagerConfig != nil {
		files = append(files, syncedFile{File: tc.AlertmanagerConfigFile, Parameter: s.AlertmanagerConfig})
	}
	return append(files, s.grafana...)
}

// maxSyncedFiles is what one GetParameters call returns at most (SSM API
// reference, GetParameters: Names, 1 to 10 items); the sidecar reads all
// versions in one call.
const maxSyncedFiles = 10

// checkSyncedFiles refuses more files than one round can read.
func (s *PrometheusFargateService) checkSyncedFiles(id string) {
	if n := len(s.syncedFiles()); n > maxSyncedFiles {
		panic(fmt.Sprintf("PrometheusFargateService %s: config-sync would keep %d files (prometheus.yml, %d rule groups, alertmanager.yml, %d of Grafana's); one GetParameters call reads at most %d: merge rule groups or dashboards", id, n, len(s.rules), len(s.grafana), maxSyncedFiles))
	}
}

// syncedParameterArns are what the sidecar reads, and all the task role
// may read of SSM.
func (s *PrometheusFargateService) syncedParameterArns() []string {
	var arns []string
	for _, f := range s.syncedFiles() {
		arns = append(arns, *f.Parameter.Arn())
	}
	return arns
}

// configSyncStatement lets the task role read exactly the synced
// parameters (the sidecar's GetParameters and GetParameter calls).
func (s *PrometheusFargateService) configSyncStatement() Statement {
	return Statement{Sid: "ConfigSync", Effect: "Allow", Action: []string{"ssm:GetParameters", "ssm:GetParameter"}, Resource: s.syncedParameterArns()}
}

// configSyncContainer is the sidecar: the official AWS CLI image running
// taskcontract's config-sync.sh inline, as root (the shared volume is a
// bind mount Fargate creates root-owned 0755: ECS developer guide, "Use
// bind mounts with Amazon ECS"), with a read-only root and its HOME (the
// CLI's cache) on an exec-able tmpfs (taskcontract.ConfigSyncHomeOptions). Essential: without it no change would arrive;
// its script retries every error, so it exits only when stopped.
func (s *PrometheusFargateService) configSyncContainer() cd.Container {
	p := &s.props
	var lines []string
	for _, f := range s.syncedFiles() {
		line := f.File + " " + *f.Parameter.Name()
		if f.Encoding != "" {
			line += " " + f.Encoding
		}
		lines = append(lines, line)
	}
	env := []cd.KeyValue{
		{Name: tc.EnvConfigSyncFiles, Value: strings.Join(lines, "\n")},
		{Name: tc.EnvConfigSyncDir, Value: tc.ConfigDir},
		{Name: tc.EnvConfigSyncInterval, Value: strconv.Itoa(tc.ConfigSyncIntervalSeconds)},
		// The CLI reads AWS_DEFAULT_REGION (Fargate sets it too).
		{Name: "AWS_DEFAULT_REGION", Value: p.Region},
		{Name: "HOME", Value: tc.ConfigSyncHome},
	}
	if p.ConfigSyncEndpointURL != "" {
		env = append(env, cd.KeyValue{Name: tc.EnvConfigSyncEndpointURL, Value: p.ConfigSyncEndpointURL})
	}
	return cd.Container{
		Name:                   tc.ConfigSyncContainerName,
		Image:                  p.ConfigSyncImage,
		Essential:              true,
		User:                   "0",
		EntryPoint:             []string{tc.Shell, "-c"},
		Command:                []string{TerraformLiteral(tc.ConfigSyncScript), tc.ConfigSyncScriptName},
		ReadonlyRootFilesystem: true,
		MountPoints:            []cd.MountPoint{{SourceVolume: tc.ConfigVolume, ContainerPath: tc.ConfigDir}},
		LinuxParameters: &cd.LinuxParameters{Capabilities: dropAll(), Tmpfs: []cd.Tmpfs{{
			ContainerPath: tc.ConfigSyncHome, Size: tc.RuntimeTmpfsMiB, MountOptions: tc.ConfigSyncHomeOptions(),
		}}},
		Environment: env,
		// Healthy once every file has arrived (then for good: a later
		// failure keeps the files and is logged, rather than replacing a
		// working task).
		HealthCheck:      healthCheck("test -f "+tc.ConfigDir+"/"+tc.SyncedMarker, 10),
		StopTimeout:      10,
		LogConfiguration: awslogs(*s.LogGroup.Name(), p.Region, tc.LogStreamPrefix),
	}
}

// configMount is a reader's read-only view of the shared config volume.
func configMount() cd.MountPoint {
	return cd.MountPoint{SourceVolume: tc.ConfigVolume, ContainerPath: tc.ConfigDir, ReadOnly: true}
}

// afterConfigSync starts a reader once the sidecar runs; the reader's
// script then waits for the first sync (taskcontract.SyncedMarker).
func afterConfigSync() []cd.Dependency {
	return []cd.Dependency{{ContainerName: tc.ConfigSyncContainerName, Condition: "START"}}
}
