package stacks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
)

// TestTerraformValidate runs `terraform init` and `terraform validate` with
// the real AWS provider (the local mirror here, the registry elsewhere) on
// the synthesized JSON: the schema, not just our reading of it, must accept
// every variant. All variants are validated in one run (tfenv.ValidateTogether).
func TestTerraformValidate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	dirs := map[string]string{}
	for _, v := range everyVariant() {
		s := v.synth(t)
		dirs[v.name] = s.dir
		if s.bootstrap != nil {
			dirs[v.name+"/bootstrap"] = s.bootstrapDir
		}
	}
	results, err := tfenv.ValidateTogether(ctx, dirs)
	if err != nil {
		t.Fatal(err)
	}
	for name := range dirs {
		t.Run(name, func(t *testing.T) {
			if err := results[name]; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLocalProfileWithoutEndpointStaysOnLoopback plans the local profile
// without AWS_ENDPOINT_URL: the provider's first call (STS, for the account
// id) goes to the profile's closed loopback proxy and fails there, naming
// it, instead of reaching AWS. The environment's own proxy is another
// closed port, so a stack without the guard fails this test without
// leaving the machine either.
func TestLocalProfileWithoutEndpointStaysOnLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	var doc map[string]any
	data, err := os.ReadFile(filepath.Join(localProfile.synth(t).dir, "cdk.tf.json"))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil {
		t.Fatal(err)
	}
	delete(doc["terraform"].(map[string]any), "backend") // state in the test's folder
	dir := t.TempDir()
	if data, err = json.Marshal(doc); err == nil {
		err = os.WriteFile(filepath.Join(dir, "cdk.tf.json"), data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	const envProxy = "http://127.0.0.1:7"
	tf, err := tfenv.New(ctx, dir, []string{"AWS_ENDPOINT_URL=", "HTTPS_PROXY=" + envProxy, "HTTP_PROXY=" + envProxy,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="})
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.Init(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = tf.Plan(ctx)
	msg := strings.Join(strings.Fields(fmt.Sprint(err)), " ")
	guard := strings.TrimPrefix(NoEndpointProxy, "http://")
	if err == nil || !strings.Contains(msg, "proxyconnect tcp: dial tcp "+guard) {
		t.Fatalf("a plan without AWS_ENDPOINT_URL must fail at the loopback proxy %s; got: %v", guard, msg)
	}
	t.Logf("plan without AWS_ENDPOINT_URL: %s", msg[:min(len(msg), 400)])
}
