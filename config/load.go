package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	errs = append(errs, applyContext(s, base)...)
	errs = append(errs, applyContext(s, overlay)...)
	for _, f := range Fields {
		if raw, ok := env[f.Env()]; ok {
			if err := f.set(s, raw); err != nil {
				errs = append(errs, fmt.Errorf("%s (from %s)", err, f.Env()))
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

// applyContext sets the fields named by ctx keys.
func applyContext(s *Settings, ctx map[string]any) []error {
	var errs []error
	for _, key := range sortedKeys(ctx) {
		f, ok := FieldByKey(key)
		if !ok {
			if near := nearKey(key); near != "" {
				errs = append(errs, fmt.Errorf("context key %q is not a setting; did you mean %q?", key, near))
			}
			continue // other tools' context keys (cdktf's own flags) pass through
		}
		raw, err := contextString(ctx[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (context): %v", key, err))
			continue
		}
		if err := f.set(s, raw); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// LoadContext returns the cdktf context the program was started with: the
// CLI passes it in CDKTF_CONTEXT_JSON; run directly (make synth), the
// "context" object of cdktf.json in dir is read instead.
func LoadContext(dir string) (map[string]any, error) {
	if raw := os.Getenv("CDKTF_CONTEXT_JSON"); raw != "" {
		var ctx map[string]any
		if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
			return nil, fmt.Errorf("CDKTF_CONTEXT_JSON is not a JSON object: %v", err)
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
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("cdktf.json: %v", err)
	}
	return file.Context, nil
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
			errs = append(errs, fmt.Errorf("environment variable %s is not a setting; run ./help for the list", name))
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

func nearKey(key string) string {
	for _, f := range Fields {
		if strings.EqualFold(f.Key, key) {
			return f.Key
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
