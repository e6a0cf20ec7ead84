// Package planpreview turns `terraform show -json <planfile>` into what a
// reviewer needs on a merge request: counts, destructive changes first, the
// changed resources grouped by cdktf construct, and the Prometheus
// configuration as a readable YAML diff. It also writes GitLab's Terraform
// report and tells CI whether a plan destroys anything.
//
// It never prints attribute values, with one exception: the insecure_value
// of an aws_ssm_parameter (the generated prometheus.yml or alertmanager.yml), and only when
// Terraform does not mark it sensitive. Everything else is shown by
// attribute name only.
package planpreview

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Action is what Terraform does to one resource.
type Action string

// The actions a plan summary distinguishes. A replacement is one action
// here (Terraform lists it as delete+create or create+delete).
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
)

// Counts are the resources per action.
type Counts struct {
	Create, Update, Replace, Delete int
}

// Destroys reports whether anything is deleted, replacements included.
func (c Counts) Destroys() bool { return c.Delete+c.Replace > 0 }

// Changes is the number of resources that change at all.
func (c Counts) Changes() int { return c.Create + c.Update + c.Replace + c.Delete }

func (c *Counts) add(o Counts) {
	c.Create += o.Create
	c.Update += o.Update
	c.Replace += o.Replace
	c.Delete += o.Delete
}

// Change is one resource that changes.
type Change struct {
	Address string
	Type    string
	Action  Action
	// Construct is the cdktf construct path below the stack, e.g.
	// "prometheus/config"; Group is its first element ("prometheus").
	Construct, Group string
	// Guessed is set when Construct was derived from the resource name
	// because cdk.tf.json has no metadata for it (a resource removed
	// from the configuration, or no cdk.tf.json beside the plan).
	Guessed bool
	// Why: the reason Terraform gives for a replacement or deletion.
	Why string
	// Attributes are the names (never the values) of the top-level
	// attributes that change in an update or replacement.
	Attributes []string
}

// ConfigDiff is a changed aws_ssm_parameter value (the Prometheus
// configuration), as a line diff.
type ConfigDiff struct {
	Address, Construct string
	Action             Action
	// Diff is the unified line diff; empty when Hidden says why not.
	Diff   string
	Hidden string
}

// Effect is what applying a plan does to the running Prometheus.
type Effect string

const (
	// Untouched: nothing Prometheus runs from changes.
	Untouched Effect = ""
	// ReloadsInPlace: only the parameters the config-sync sidecar keeps
	// change; the running task reloads them, with the same process, head
	// and history.
	ReloadsInPlace Effect = "reloads in place"
	// Restarts: the task definition or the service changes, and ECS
	// replaces the task.
	Restarts Effect = "restarts Prometheus"
)

// Stack is the summary of one stack's plan.
type Stack struct {
	Name    string
	Counts  Counts
	Changes []Change
	// Effect is what the plan does to the running Prometheus, and Causes
	// the addresses that decide it.
	Effect  Effect
	Causes  []string
	Configs []ConfigDiff
	// Outputs are the names of root outputs whose value changes.
	Outputs []string
}

// Load reads a plan JSON file (`terraform show -json`) and summarises it.
// Construct paths come from cdk.tf.json in the same folder when it exists
// (make plan-out writes plan.json beside it), and the stack name from its
// metadata, else from the folder name.
func Load(planFile string) (*Stack, error) {
	data, err := os.ReadFile(planFile)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w (write it with: terraform show -json tfplan > plan.json, or make plan-out)", err)
	}
	var plan tfjson.Plan
	if err := json.Unmarshal(data, &plan); err != nil {
		return nil, fmt.Errorf("%s is not a Terraform plan in JSON: %w (expected the output of terraform show -json <planfile>)", planFile, err)
	}
	if plan.FormatVersion == "" {
		return nil, fmt.Errorf("%s has no format_version: it is not the output of terraform show -json <planfile>", planFile)
	}
	dir := filepath.Dir(planFile)
	name := filepath.Base(dir)
	var paths map[string]string
	synth := filepath.Join(dir, "cdk.tf.json")
	if data, err := os.ReadFile(synth); err == nil {
		stack, p, err := ConstructPaths(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", synth, err)
		}
		paths = p
		if stack != "" {
			name = stack
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return Summarise(name, &plan, paths), nil
}

// ConstructPaths maps each resource address of a synthesized cdk.tf.json
// to its construct path below the stack, from the metadata cdktf writes
// into every resource ("//": {"metadata": {"path": "stack/construct/id"}}).
// Terraform ignores "//" keys, so the plan JSON does not carry these paths;
// this is the only place they live.
func ConstructPaths(cdkTFJSON []byte) (stack string, paths map[string]string, err error) {
	type meta struct {
		Metadata struct {
			Path      string `json:"path"`
			StackName string `json:"stackName"`
		} `json:"metadata"`
	}
	var doc struct {
		Meta     meta `json:"//"`
		Resource map[string]map[string]struct {
			Meta meta `json:"//"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(cdkTFJSON, &doc); err != nil {
		return "", nil, fmt.Errorf("not a synthesized cdktf stack (cdk.tf.json): %w", err)
	}
	stack = doc.Meta.Metadata.StackName
	paths = map[string]string{}
	for typ, byName := range doc.Resource {
		for name, r := range byName {
			p := r.Meta.Metadata.Path
			if p == "" {
				continue
			}
			if stack != "" {
				p = strings.TrimPrefix(p, stack+"/")
			} else if _, rest, ok := strings.Cut(p, "/"); ok {
				p = rest
			}
			paths[typ+"."+name] = p
		}
	}
	return stack, paths, nil
}

// logicalID is cdktf's resource name: the construct path joined with "_"
// plus an 8-digit hash.
var logicalID = regexp.MustCompile(`^(.+)_[0-9A-F]{8}$`)

// Summarise builds the summary of one stack's plan. paths maps resource
// addresses to construct paths (ConstructPaths); it may be nil.
func Summarise(stack string, plan *tfjson.Plan, paths map[string]string) *Stack {
	s := &Stack{Name: stack}
	configured := configuredAttributes(plan)
	for _, rc := range plan.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode || rc.Change == nil {
			continue
		}
		action, ok := actionOf(rc.Change.Actions)
		if !ok {
			continue
		}
		c := Change{Address: rc.Address, Type: rc.Type, Action: action}
		c.Construct, c.Guessed = constructOf(rc, paths)
		c.Group, _, _ = strings.Cut(c.Construct, "/")
		c.Why = why(rc)
		if h := replaceHints[rc.Type]; h != "" && action == Replace {
			c.Why += "; " + h
		}
		if action == Update || action == Replace {
			c.Attributes = changedAttributes(rc.Change, configured[configAddress(rc)])
		}
		switch action {
		case Create:
			s.Counts.Create++
		case Update:
			s.Counts.Update++
		case Replace:
			s.Counts.Replace++
		case Delete:
			s.Counts.Delete++
		}
		s.Changes = append(s.Changes, c)
		if rc.Type == "aws_ssm_parameter" {
			if d, ok := configDiff(c, rc.Change); ok {
				s.Configs = append(s.Configs, d)
			}
		}
	}
	sort.SliceStable(s.Changes, func(i, j int) bool {
		a, b := s.Changes[i], s.Changes[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Address < b.Address
	})
	s.Effect, s.Causes = effectOf(s.Changes)
	for name, oc := range plan.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() && len(oc.Actions) > 0 {
			s.Outputs = append(s.Outputs, name)
		}
	}
	sort.Strings(s.Outputs)
	return s
}

// serviceGroup is the construct id of the Prometheus service in the main
// stack (stacks.NewMain), under which its parameters live.
const serviceGroup = "prometheus"

// effectOf: a new revision of the task definition, or a change of the
// service beyond its tags, replaces the running task; a change of the
// service's parameters alone is carried by the config-sync sidecar and
// reloaded in place. That holds for a parameter replaced under the same
// name too (deleted and created again, e.g. a tier lowered): it starts
// again at version 1, and config-sync, which compares each parameter's
// version and modification time, delivers it; meanwhile the file stays.
// A parameter replaced under a new name is a new name in the task
// definition as well, which restarts. A plan that creates or deletes the
// service starts or ends Prometheus rather than touching a running one: no
// effect is named.
func effectOf(changes []Change) (Effect, []string) {
	var restart, reload []string
	for _, c := range changes {
		switch {
		case c.Type == "aws_ecs_task_definition" && c.Action == Replace,
			c.Type == "aws_ecs_service" && (c.Action == Replace || c.Action == Update && !onlyTags(c.Attributes)):
			restart = append(restart, c.Address)
		case c.Type == "aws_ssm_parameter" && c.Group == serviceGroup && (c.Action == Update || c.Action == Replace):
			reload = append(reload, c.Address)
		}
	}
	switch {
	case len(restart) > 0:
		return Restarts, restart
	case len(reload) > 0:
		return ReloadsInPlace, reload
	}
	return Untouched, nil
}

func onlyTags(attrs []string) bool {
	for _, a := range attrs {
		if a != "tags" && a != "tags_all" {
			return false
		}
	}
	return true
}

func actionOf(a tfjson.Actions) (Action, bool) {
	switch {
	case a.Create():
		return Create, true
	case a.Update():
		return Update, true
	case a.Replace():
		return Replace, true
	case a.Delete():
		return Delete, true
	}
	return "", false // no-op, read, forget
}

// configAddress is the address of the resource block behind rc:
// aws_x.name[0] -> aws_x.name.
func configAddress(rc *tfjson.ResourceChange) string {
	addr := rc.Address
	if rc.Index != nil {
		addr, _, _ = strings.Cut(addr, "[")
	}
	return addr
}

// configuredAttributes maps each resource block of the plan's root module
// to the attributes and blocks its configuration sets. Only these are
// listed as changed: the computed ones (id, arn, ...) that a replacement
// turns unknown would bury the one that matters.
func configuredAttributes(plan *tfjson.Plan) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	if plan.Config == nil || plan.Config.RootModule == nil {
		return out
	}
	for _, r := range plan.Config.RootModule.Resources {
		set := map[string]bool{}
		for k := range r.Expressions {
			set[k] = true
		}
		out[r.Address] = set
	}
	return out
}

func constructOf(rc *tfjson.ResourceChange, paths map[string]string) (string, bool) {
	if p, ok := paths[configAddress(rc)]; ok {
		return p, false
	}
	if m := logicalID.FindStringSubmatch(rc.Name); m != nil {
		return strings.ReplaceAll(m[1], "_", "/"), true
	}
	return "(no construct)", true
}

// replaceHints say what a replacement of a resource type means for this
// deployment, where that is not obvious from the type.
var replaceHints = map[string]string{
	"aws_ecs_task_definition": "a new task definition revision: ECS restarts Prometheus (with storageMode=ephemeral its TSDB starts empty)",
}

// why explains a replacement or deletion in words.
func why(rc *tfjson.ResourceChange) string {
	switch rc.ActionReason {
	case tfjson.ActionReasonReplaceBecauseCannotUpdate:
		if p := replacePaths(rc.Change.ReplacePaths); p != "" {
			return p + " cannot change in place"
		}
		return "an attribute cannot change in place"
	case tfjson.ActionReasonReplaceBecauseTainted:
		return "tainted (a previous apply failed half-way)"
	case tfjson.ActionReasonReplaceByRequest:
		return "replacement requested (-replace)"
	case tfjson.ActionReasonReplaceByTriggers:
		return "replace_triggered_by"
	case tfjson.ActionReasonDeleteBecauseNoResourceConfig:
		return "removed from the configuration"
	case tfjson.ActionReasonDeleteBecauseCountIndex, tfjson.ActionReasonDeleteBecauseEachKey, tfjson.ActionReasonDeleteBecauseWrongRepetition:
		return "count/for_each no longer includes it"
	case tfjson.ActionReasonDeleteBecauseNoModule:
		return "its module was removed"
	}
	a := rc.Change.Actions
	if a.Delete() {
		return "destroy plan"
	}
	if a.Replace() {
		if p := replacePaths(rc.Change.ReplacePaths); p != "" {
			return p + " cannot change in place"
		}
	}
	return ""
}

// replacePaths formats replace_paths ([["cidr_block"], ["tag", 0, "key"]])
// as attribute paths, e.g. `cidr_block`, `tag[0].key`.
func replacePaths(paths []interface{}) string {
	var out []string
	for _, p := range paths {
		steps, ok := p.([]interface{})
		if !ok {
			continue
		}
		var b strings.Builder
		for i, st := range steps {
			switch v := st.(type) {
			case string:
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(v)
			case float64:
				b.WriteString("[" + strconv.Itoa(int(v)) + "]")
			case json.Number:
				b.WriteString("[" + v.String() + "]")
			}
		}
		out = append(out, "`"+b.String()+"`")
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// changedAttributes lists the top-level attribute names whose value
// differs between before and after, or becomes unknown. Names only: a
// value is never looked at beyond equality. With configured (the
// attributes the configuration sets) it lists only those; without (no
// configuration in the plan) every attribute that changes.
func changedAttributes(ch *tfjson.Change, configured map[string]bool) []string {
	before, _ := ch.Before.(map[string]interface{})
	after, _ := ch.After.(map[string]interface{})
	unknown, _ := ch.AfterUnknown.(map[string]interface{})
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		if configured != nil && !configured[k] {
			continue
		}
		u := unknown[k]
		becomesUnknown := u != nil && u != false && !isEmptyContainer(u)
		if becomesUnknown || !reflect.DeepEqual(before[k], after[k]) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

func isEmptyContainer(v interface{}) bool {
	switch x := v.(type) {
	case map[string]interface{}:
		for _, e := range x {
			if e != false && e != nil && !isEmptyContainer(e) {
				return false
			}
		}
		return true
	case []interface{}:
		for _, e := range x {
			if e != false && e != nil && !isEmptyContainer(e) {
				return false
			}
		}
		return true
	}
	return false
}

// configAttr holds the Prometheus configuration (stacks use a plain String
// parameter so a change is readable; see docs/DESIGN.md).
const configAttr = "insecure_value"

func configDiff(c Change, ch *tfjson.Change) (ConfigDiff, bool) {
	d := ConfigDiff{Address: c.Address, Construct: c.Construct, Action: c.Action}
	before, bok := stringAttr(ch.Before, configAttr)
	after, aok := stringAttr(ch.After, configAttr)
	if !bok && !aok && !isTrue(ch.AfterUnknown, configAttr) {
		return d, false // a parameter that keeps its value elsewhere (value, not insecure_value)
	}
	switch {
	case isTrue(ch.BeforeSensitive, configAttr) || isTrue(ch.AfterSensitive, configAttr):
		// Terraform marks it sensitive (a sensitive variable or function
		// fed it): say that it changed, never what.
		d.Hidden = "marked sensitive by Terraform: not shown"
	case isTrue(ch.AfterUnknown, configAttr):
		d.Hidden = "known only after apply"
	case before == after:
		return d, false
	default:
		d.Diff = lineDiff(before, after, 3)
	}
	return d, true
}

func stringAttr(obj interface{}, key string) (string, bool) {
	m, ok := obj.(map[string]interface{})
	if !ok {
		return "", false
	}
	s, ok := m[key].(string)
	return s, ok
}

// isTrue reads a before_sensitive/after_sensitive/after_unknown mask: the
// whole object is true, or the attribute is true (or a non-empty mask
// below it, for nested values).
func isTrue(mask interface{}, key string) bool {
	switch m := mask.(type) {
	case bool:
		return m
	case map[string]interface{}:
		v, ok := m[key]
		if !ok {
			return false
		}
		if b, ok := v.(bool); ok {
			return b
		}
		return v != nil && !isEmptyContainer(v)
	}
	return false
}
