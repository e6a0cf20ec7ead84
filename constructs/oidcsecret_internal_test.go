package constructs

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// oidcScript is setOIDCSecretScript as Terraform hands it to /bin/sh: its
// only template sequence is the $${ escape.
func oidcScript(t *testing.T) string {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(setOIDCSecretScript, "$${", ""), "${") || strings.Contains(setOIDCSecretScript, "%{") {
		t.Fatalf("the script interpolates from Terraform:\n%s", setOIDCSecretScript)
	}
	return strings.ReplaceAll(setOIDCSecretScript, "$${", "${")
}

func TestSetOIDCSecretScriptShellcheck(t *testing.T) {
	shellcheck, err := tools.Find("shellcheck")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "set-oidc-secret.sh")
	if err := os.WriteFile(file, []byte(oidcScript(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, "-s", "sh", file).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck -s sh: %v\n%s", err, out)
	}
}

// fakeAWS is an aws that keeps its arguments and the file:// input it is
// given (copied: the script removes its own), answers with that input on
// stdout as moto does, and with AWS_FAIL set fails quoting it on stderr as
// AWS CLI v1 does for invalid JSON.
const fakeAWS = `#!/bin/sh
printf '%s\n' "$@" >"$CAPTURE/args"
for a in "$@"; do case "$a" in file://*) f=${a#file://}; cat "$f" >"$CAPTURE/input"; ls -ld "$(dirname "$f")" "$f" >"$CAPTURE/modes";; esac; done
cat "$CAPTURE/input"
if [ -n "${AWS_FAIL:-}" ]; then echo "Invalid JSON: $AWS_FAIL" >&2; echo "JSON received: $(cat "$CAPTURE/input")" >&2; exit 252; fi
`

// Given the secret in the environment, the script writes the CLI's input
// with the secret JSON-escaped in place of the placeholder, passes it as a
// private file (removed afterwards), never as an argument, and prints
// nothing of it; it refuses a secret a JSON string cannot carry as is,
// withholds a CLI error that quotes the secret, and names the AWS CLI when
// it is missing.
func TestSetOIDCSecretScript(t *testing.T) {
	script := oidcScript(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(map[string]any{"RuleArn": "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener-rule/app/p/1/2/3",
		"Actions": []any{map[string]any{"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": map[string]any{"ClientId": "c", "ClientSecret": OIDCClientSecretPlaceholder}}}})
	run := func(t *testing.T, secret, path string, env ...string) (string, string, error) {
		t.Helper()
		capture := t.TempDir()
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Env = append([]string{"PATH=" + path, "CAPTURE=" + capture, "CLIENT_SECRET=" + secret, "SECRET_ARN=arn:aws:secretsmanager:eu-central-1:123456789012:secret:oidc-AbCdEf",
			"INPUT=" + string(input), "PLACEHOLDER=" + OIDCClientSecretPlaceholder, "OPERATION=modify-rule", "REGION=eu-central-1", "TARGET=the rule", "TMPDIR=" + t.TempDir()}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), capture, err
	}
	path := bin + ":/usr/bin:/bin"

	for _, secret := range []string{"plain-Secret_1.2~3", `q"uo\te$HOME` + "`id`$(id)*?[a]&'"} {
		out, capture, err := run(t, secret, path)
		if err != nil || out != "" {
			t.Errorf("%q: want success in silence, got %v: %s", secret, err, out)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(capture, "input"))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			RuleArn string
			Actions []struct{ AuthenticateOidcConfig struct{ ClientSecret string } }
		}
		if err := json.Unmarshal(raw, &got); err != nil || len(got.Actions) != 1 || got.Actions[0].AuthenticateOidcConfig.ClientSecret != secret {
			t.Errorf("%q: the CLI's input must be the JSON with the secret in place of the placeholder: %v\n%s", secret, err, raw)
		}
		args, _ := os.ReadFile(filepath.Join(capture, "args"))
		if strings.Contains(string(args), secret) || !strings.Contains(string(args), "modify-rule\n--region\neu-central-1\n--cli-input-json\nfile://") {
			t.Errorf("%q: arguments %q: want elbv2 modify-rule --region eu-central-1 --cli-input-json file://..., never the secret", secret, args)
		}
		file := strings.TrimPrefix(strings.TrimSpace(string(args[strings.Index(string(args), "file://"):])), "file://")
		if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
			t.Errorf("%q: the input's folder %s is left behind: %v", secret, filepath.Dir(file), err)
		}
		if modes, _ := os.ReadFile(filepath.Join(capture, "modes")); !strings.HasPrefix(string(modes), "drwx------") || !strings.Contains(string(modes), "\n-rw-------") {
			t.Errorf("%q: the input must be private (0700 folder, 0600 file): %s", secret, modes)
		}
	}

	for _, c := range []struct{ name, secret, path, env, want string }{
		{"a newline", "line1\nline2", path, "", "control character"},
		{"empty", "", path, "", "empty"},
		{"the CLI quoting its input", "s3cret", path, "AWS_FAIL=Expecting value", "withheld"},
		{"no AWS CLI", "s3cret", t.TempDir(), "", "the AWS CLI (aws) is not on PATH"},
	} {
		out, capture, err := run(t, c.secret, c.path, c.env)
		if err == nil || !strings.Contains(out, "prometheus-aws: could not set the OIDC client secret from arn:aws:secretsmanager:") || !strings.Contains(out, c.want) {
			t.Errorf("%s: want a failure saying %q, got %v: %s", c.name, c.want, err, out)
		}
		if c.secret != "" && strings.Contains(out, c.secret) {
			t.Errorf("%s: the output holds the secret: %s", c.name, out)
		}
		if _, err := os.Stat(filepath.Join(capture, "args")); c.want == "control character" && err == nil {
			t.Errorf("%s: the CLI was called with a secret it would get wrong", c.name)
		}
	}
}
