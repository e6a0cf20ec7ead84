package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// Defaults returns the settings with every field at its documented default.
func Defaults() *Settings {
	s := &Settings{}
	for _, f := range Fields {
		// Defaults are literals in this package; a parse error is a bug.
		if err := f.set(s, f.Default); err != nil {
			panic(err)
		}
	}
	return s
}

// Load builds settings from defaults, then the cdktf context, then the
// environment (the later source wins), and validates the result. ctx and env
// may be nil; env is usually OSEnv().
//
// Unknown PROMAWS_* variables and context keys that differ from a setting only
// in case are errors: a typo must not silently deploy the default.
func Load(ctx map[string]any, env map[string]string) (*Settings, error) {
	s := Defaults()
	base, overlay, errs := splitEnvironments(ctx, env)
	errs = append(errs, applyContext(s, base, "context")...)
	if overlay != nil {
		name, _ := base["environment"].(string)
		if v, ok := env["PROMAWS_ENVIRONMENT"]; ok {
			name = v
		}
		if name == "" {
			name = envDefault()
		}
		errs = append(errs, applyContext(s, overlay, "context."+EnvironmentsKey+"."+name)...)
	}
	for _, f := range Fields {
		if raw, ok := env[f.Env()]; ok {
			if err := f.set(s, raw); err != nil {
				errs = append(errs, fmt.Errorf("%w (set in the environment)", err))
			}
		}
	}
	errs = append(errs, unknownEnv(env)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// EnvironmentsKey is the context object holding per-environment overrides:
// {"environments": {"prod": {"nodeCount": 4}}}. The environment setting
// (context, or PROMAWS_ENVIRONMENT on the command line) picks one.
const EnvironmentsKey = "environments"

// splitEnvironments separates the base context from the selected
// environment's overrides.
func splitEnvironments(ctx map[string]any, env map[string]string) (base, overlay map[string]any, errs []error) {
	base = map[string]any{}
	for k, v := range ctx {
		if k != EnvironmentsKey {
			base[k] = v
		}
	}
	raw, ok := ctx[EnvironmentsKey]
	if !ok {
		return base, nil, nil
	}
	envs, ok := raw.(map[string]any)
	if !ok {
		return base, nil, []error{fmt.Errorf("context %q must be an object of environment name to settings", EnvironmentsKey)}
	}
	name, _ := base["environment"].(string)
	if v, ok := env["PROMAWS_ENVIRONMENT"]; ok {
		name = v
	}
	if name == "" {
		name = envDefault()
	}
	sel, ok := envs[name]
	if !ok {
		return base, nil, []error{fmt.Errorf("environment (PROMAWS_ENVIRONMENT): %q is not in context.%s (%s); add it there or pick one of those", name, EnvironmentsKey, strings.Join(sortedKeys(envs), ", "))}
	}
	overlay, ok = sel.(map[string]any)
	if !ok {
		return base, nil, []error{fmt.Errorf("context.%s.%s must be an object of settings", EnvironmentsKey, name)}
	}
	if _, named := overlay["environment"]; named {
		errs = append(errs, fmt.Errorf("context.%s.%s must not set environment itself", EnvironmentsKey, name))
	}
	return base, overlay, errs
}

func envDefault() string {
	f, _ := FieldByKey("environment")
	return f.Default
}

// CdktfContextKeys are the context keys cdktf 0.20.11 itself reads or
// writes (its lib/app.js, terraform-stack.js, annotations.js and module
// assets: node.tryGetContext and setContext); they pass through. Any other
// key must be a setting: a typo is an error, not a silent default.
var CdktfContextKeys = []string{"cdktfJsonPath", "cdktfRelativeModules", "cdktfStaticModuleAssetHash", "cdktfVersion",
	"@cdktf/disable_stack_trace_in_metadata"}

// applyContext sets the fields named by ctx keys; where names the context
// object in errors ("context", "context.environments.prod").
func applyContext(s *Settings, ctx map[string]any, where string) []error {
	var errs []error
	for _, key := range sortedKeys(ctx) {
		f, ok := FieldByKey(key)
		if !ok {
			if where == "context" && (key == EnvironmentsKey || slices.Contains(CdktfContextKeys, key)) {
				continue
			}
			errs = append(errs, unknownKey(key, where))
			continue
		}
		raw, err := contextString(ctx[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s, in %s): %v", key, f.Env(), where, err))
			continue
		}
		if err := f.set(s, raw); err != nil {
			errs = append(errs, fmt.Errorf("%w (set in cdktf.json %s)", err, where))
		}
	}
	return errs
}

// unknownKey is the error for a context key that is no setting, with the
// nearest setting as a suggestion.
func unknownKey(key, where string) error {
	hint := ""
	if near := nearKey(key); near != "" {
		f, _ := FieldByKey(near)
		hint = fmt.Sprintf(" did you mean %q (%s)?", near, f.Env())
	}
	return fmt.Errorf("%s key %q is not a setting;%s ./help lists every setting (unknown keys are refused, so a typo cannot fall back to a default)", where, key, hint)
}

// LoadContext returns the cdktf context the program was started with: the
// CLI passes it in CDKTF_CONTEXT_JSON; run directly (make synth), the
// "context" object of cdktf.json in dir is read instead.
func LoadContext(dir string) (map[string]any, error) {
	if raw := os.Getenv("CDKTF_CONTEXT_JSON"); raw != "" {
		var ctx map[string]any
		if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
			return nil, jsonError("CDKTF_CONTEXT_JSON", "a JSON object of settings", []byte(raw), err)
		}
		return ctx, nil
	}
	data, err := os.ReadFile(dir + "/cdktf.json")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseCdktfJSON(dir+"/cdktf.json", data)
}

// parseCdktfJSON reads the context object of a cdktf.json document.
func parseCdktfJSON(name string, data []byte) (map[string]any, error) {
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, jsonError(name, `JSON (no comments or trailing commas) with the settings in its "context" object`, data, err)
	}
	return file.Context, nil
}

// jsonError says where a JSON document breaks: line and column of the
// offset the decoder reports, and what the document must be.
func jsonError(name, must string, data []byte, err error) error {
	offset := int64(-1)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return fmt.Errorf("%s: %v; it must be %s", name, err, must)
	}
	line, col := 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%s: line %d, column %d: %v; it must be %s", name, line, col, err, must)
}

// contextString turns a JSON context value into the text form Field.set reads.
func contextString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool, float64:
		return fmt.Sprint(t), nil
	case []any:
		parts := make([]string, len(t))
		for i, item := range t {
			str, ok := item.(string)
			if !ok {
				return "", fmt.Errorf("list items must be strings, got %v", item)
			}
			parts[i] = str
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("unsupported value %v; use a string, number, boolean or list of strings", v)
	}
}

// BuildEnv are PROMAWS_* variables of the build and test tooling, not
// settings of the deployment: the tools cache and the e2e opt-out.
var BuildEnv = []string{"PROMAWS_TOOLS_BIN", "PROMAWS_SKIP_E2E"}

// unknownEnv reports PROMAWS_* variables that name no setting.
func unknownEnv(env map[string]string) []error {
	known := map[string]bool{}
	for _, name := range BuildEnv {
		known[name] = true
	}
	for _, f := range Fields {
		known[f.Env()] = true
	}
	var errs []error
	for _, name := range sortedKeys(env) {
		if strings.HasPrefix(name, "PROMAWS_") && !known[name] {
			hint := ""
			if near := nearest(name, sortedStrings(known)); near != "" {
				hint = " did you mean " + near + "?"
			}
			errs = append(errs, fmt.Errorf("environment variable %s is not a setting;%s run ./help for the list", name, hint))
		}
	}
	return errs
}

// OSEnv returns the process environment as a map, for Load.
func OSEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if name, value, ok := strings.Cut(kv, "="); ok {
			env[name] = value
		}
	}
	return env
}

// nearKey is the setting a mistyped key most likely meant: one that differs
// only in letter case, else the nearest by edit distance.
func nearKey(key string) string {
	keys := make([]string, len(Fields))
	for i, f := range Fields {
		if strings.EqualFold(f.Key, key) {
			return f.Key
		}
		keys[i] = f.Key
	}
	return nearest(key, keys)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
