package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/prometheus-aws/prometheus-aws/config"
	rig "github.com/prometheus-aws/prometheus-aws/internal/harness"
)

// TestBasicAuthPasswordRotation walks the rotation docs/operations.md
// describes ("Rotate it"): increase basicAuthPasswordVersion and apply,
// which writes a new generated password into the secret and changes
// nothing ECS runs (the task definition names the secret, not its value),
// so the running task keeps the password it read at its start; then force
// a new deployment, and the new task answers the new password and refuses
// the old one, on Prometheus and on the bundled Alertmanager.
func TestBasicAuthPasswordRotation(t *testing.T) {
	h := newHarness(t)
	// Task storage: rotation does not depend on where the TSDB lives.
	dep := h.deploy(t, "rotation", map[string]string{"PROMAWS_NODE_COUNT": "0", "PROMAWS_STORAGE_MODE": "ephemeral"})
	dep.apply(t)
	s := dep.Settings
	old := h.startPrometheus(t, s)
	oldSecret := h.rotationSecret(t, s)

	step(t, "the version bump plans a new secret version and nothing ECS runs", func(t *testing.T) {
		dep.resynth(t, map[string]string{"PROMAWS_BASIC_AUTH_PASSWORD_VERSION": "2"})
		var changed []string
		for _, c := range dep.summary(t).Changes {
			changed = append(changed, c.Type+" "+string(c.Action))
			if strings.HasPrefix(c.Type, "aws_ecs_") {
				t.Errorf("%s: %s; a new password changes no task definition or service, so docs/operations.md's forced deployment is what starts a task that reads it", c.Address, c.Action)
			}
		}
		t.Logf("the bump plans: %q", changed)
		if !slices.ContainsFunc(changed, func(c string) bool { return strings.HasPrefix(c, "aws_secretsmanager_secret_version ") }) {
			t.Fatalf("bumping basicAuthPasswordVersion to 2 must change the secret's version; the plan changes %q", changed)
		}
	})

	var newSecret rotatedSecret
	step(t, "apply writes a new password; the running task keeps the one it started with", func(t *testing.T) {
		before := old.identity(t)
		dep.apply(t)
		newSecret = h.rotationSecret(t, s)
		if newSecret.versionID == oldSecret.versionID || newSecret.password == oldSecret.password {
			t.Fatalf("after the version bump the secret must hold a new version with a new password (version %s -> %s, password changed: %v)",
				oldSecret.versionID, newSecret.versionID, newSecret.password != oldSecret.password)
		}
		if !strings.HasPrefix(newSecret.webConfig, "basic_auth_users:") || newSecret.webConfig == oldSecret.webConfig {
			t.Errorf("the new version's web_config must carry the new password's hash: %q", newSecret.webConfig)
		}
		old.assertSameProcess(t, before, old.identity(t), "a new password alone changes nothing ECS runs")
		assertBasicAuth(t, old, oldSecret, newSecret, "the task started before the rotation")
	})

	step(t, "after a forced new deployment the new task answers the new password, not the old", func(t *testing.T) {
		// The command docs/operations.md gives, against the emulator.
		if _, err := ecs.NewFromConfig(h.aws).UpdateService(h.ctx, &ecs.UpdateServiceInput{Cluster: aws.String(s.StackName()),
			Service: aws.String(rig.ServiceName(s)), ForceNewDeployment: true}); err != nil {
			t.Fatalf("aws ecs update-service --force-new-deployment: %v", err)
		}
		// ECS's part (minimum healthy 0 %): stop the old task, start one
		// from the service's task definition, which reads the secret.
		old.Stop()
		fresh := h.startPrometheus(t, s)
		fresh.waitHealthy(t)
		assertBasicAuth(t, fresh, newSecret, oldSecret, "the task of the forced deployment")
	})
}

// rotatedSecret is one version of the stack's basic auth secret.
type rotatedSecret struct {
	versionID, password, webConfig string
}

// rotationSecret reads the secret's current version as an operator would.
func (h *harness) rotationSecret(t *testing.T, s *config.Settings) rotatedSecret {
	t.Helper()
	name := rig.SecretName(s)
	out, err := secretsmanager.NewFromConfig(h.aws).GetSecretValue(h.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatalf("basic auth secret %s: %v", name, err)
	}
	if !slices.Contains(out.VersionStages, "AWSCURRENT") {
		t.Fatalf("secret %s version %s is not AWSCURRENT: %v", name, aws.ToString(out.VersionId), out.VersionStages)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		t.Fatalf("secret %s is not JSON: %v", name, err)
	}
	return rotatedSecret{versionID: aws.ToString(out.VersionId), password: v["password"], webConfig: v["web_config"]}
}

// assertBasicAuth checks that Prometheus and the bundled Alertmanager of
// task p answer user admin with good's password and refuse bad's.
func assertBasicAuth(t *testing.T, p *prometheus, good, bad rotatedSecret, task string) {
	t.Helper()
	for _, url := range []string{p.api.BaseURL + "/api/v1/status/buildinfo", p.task.AlertmanagerURL + "/api/v2/status"} {
		for _, c := range []struct {
			password, which string
			want            int
		}{{good.password, "its password", http.StatusOK}, {bad.password, "the other password", http.StatusUnauthorized}} {
			req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(p.api.Username, c.password)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s: GET %s with %s: HTTP %d, want %d", task, url, c.which, resp.StatusCode, c.want)
			}
		}
	}
}
