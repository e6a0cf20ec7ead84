package stacks

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// A test file declares the variants it reads beside its tests, as package
// variables:
//
//	var alarmEmail = declare("alarm-email", env{"PROMAWS_ALARM_EMAIL": "ops@example.com"})
//
// and a test reads alarmEmail.doc(t). A variant is synthesized on its first
// use and cached by its settings: jsii loads the AWS provider assembly once
// per process (~8 s), later synths are cheap, and the same settings are
// never synthesized twice.
//
// Declarations, not a call inside each test body, because some checks hold
// for every variant (the policy rules, terraform validate, the cost
// model): package variables are all set before the first test runs, so
// those tests (everyVariant) see each one whatever order the tests run in.
type variant struct {
	name string
	env  env
}

// env holds PROMAWS_* settings, as config.Load reads them.
type env = map[string]string

// synthesized is what a variant's app synthesizes to.
type synthesized struct {
	settings *config.Settings
	doc      *policy.Doc // the main stack
	dir      string
	// bootstrap is the state stack, nil without a state bucket.
	bootstrap    *policy.Doc
	bootstrapDir string
}

// declared is every variant by name; written only while the package's
// variables are initialized.
var declared = map[string]*variant{}

// declare names a variant for the tests; call it in a package variable's
// declaration.
func declare(name string, e env) *variant {
	if _, dup := declared[name]; dup {
		panic("variant " + name + " declared twice")
	}
	v := &variant{name: name, env: e}
	declared[name] = v
	return v
}

// cache holds each synthesized variant by its settings, in a folder that
// TestMain removes.
var cache struct {
	sync.Mutex
	dir  string
	byKV map[string]*cached
}

type cached struct {
	s   *synthesized
	err error
}

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "stacks-test-")
	if err != nil {
		panic(err)
	}
	cache.dir, cache.byKV = tmp, map[string]*cached{}
	code := m.Run()
	jsii.Close()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// key is the variant's settings in one canonical string.
func (v *variant) key() string {
	kv := make([]string, 0, len(v.env))
	for k, val := range v.env {
		kv = append(kv, k+"="+val)
	}
	sort.Strings(kv)
	return strings.Join(kv, "\n")
}

// synth is the variant synthesized, on first use.
func (v *variant) synth(t testing.TB) *synthesized {
	t.Helper()
	cache.Lock()
	defer cache.Unlock()
	c, ok := cache.byKV[v.key()]
	if !ok {
		c = &cached{}
		c.s, c.err = synthesize(filepath.Join(cache.dir, v.name), v.env)
		cache.byKV[v.key()] = c
	}
	if c.err != nil {
		t.Fatalf("variant %s: %v", v.name, c.err)
	}
	return c.s
}

// doc is the variant's main stack.
func (v *variant) doc(t testing.TB) *policy.Doc {
	t.Helper()
	return v.synth(t).doc
}

// settings are the variant's loaded settings.
func (v *variant) settings(t testing.TB) *config.Settings {
	t.Helper()
	return v.synth(t).settings
}

// bootstrap is the variant's state stack; the variant must have one.
func (v *variant) bootstrap(t testing.TB) *policy.Doc {
	t.Helper()
	b := v.synth(t).bootstrap
	if b == nil {
		t.Fatalf("variant %s has no state bucket, so no bootstrap stack", v.name)
	}
	return b
}

// everyVariant is every declared variant, by name; settings declared under
// two names count once.
func everyVariant() []*variant {
	var out []*variant
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(declared)) {
		if v := declared[name]; !seen[v.key()] {
			seen[v.key()] = true
			out = append(out, v)
		}
	}
	return out
}

// synthesize builds the app for settings e into out and parses its stacks.
func synthesize(out string, e env) (s *synthesized, err error) {
	// jsii reports a construct's refusal as a panic.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
		}
	}()
	settings, err := config.Load(nil, e)
	if err != nil {
		return nil, err
	}
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(out)})
	if _, _, err := NewApp(app, settings); err != nil {
		return nil, err
	}
	app.Synth()
	s = &synthesized{settings: settings, dir: filepath.Join(out, "stacks", settings.StackName())}
	if s.doc, err = policy.ParseFile(filepath.Join(s.dir, "cdk.tf.json")); err != nil {
		return nil, err
	}
	if settings.RemoteState() {
		s.bootstrapDir = filepath.Join(out, "stacks", settings.BootstrapStackName())
		if s.bootstrap, err = policy.ParseFile(filepath.Join(s.bootstrapDir, "cdk.tf.json")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// String is the variant's name, for test messages.
func (v *variant) String() string { return v.name }
