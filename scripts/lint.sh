#!/usr/bin/env bash
# lint.sh — the static gates of `make lint` (run by CI after `make synth`):
# Go formatting and vet, shellcheck, our policy checks on every synthesized
# stack, tflint with the AWS ruleset, and tfsec. Accepted scanner findings
# live in security/tfsec.yml, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; failed=1; }

export TFLINT_PLUGIN_DIR=${TFLINT_PLUGIN_DIR:-${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}/tflint-plugins}
tools_bin=${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}

# shellcheck source=scripts/lib/tflint.sh
source scripts/lib/tflint.sh

step "versions"
go version
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
tflint --version --config="$PWD/.tflint.hcl" | tr '\n' ' '; echo
# A locally built tfsec prints no version of its own; the build records it.
echo "tfsec $(sed 's/.*@//' "$tools_bin/.tfsec.version" 2>/dev/null || echo '(unknown build)')"
if command -v actionlint >/dev/null; then echo "actionlint $(actionlint -version | head -1)"; fi

step "gofmt"
mapfile -t go_files < <(git ls-files -co --exclude-standard -- '*.go')
unformatted=$(gofmt -l "${go_files[@]}")
[[ -z $unformatted ]] || fail "not gofmt-formatted: $unformatted"

step "go vet"
go vet ./... || fail "go vet"

step "shellcheck"
mapfile -t bash_scripts < <(git ls-files -co --exclude-standard -- '*.sh' ':!docker/*.sh'; echo help; echo .ci/run)
shellcheck "${bash_scripts[@]}" || fail "shellcheck (bash)"
shellcheck -s sh docker/*.sh || fail "shellcheck (sh)"

# Every stack the app can produce: the synth of the current settings
# (make synth), plus one with every option on (state bucket, so the
# bootstrap stack and the S3 backend; HTTPS load balancer with a created
# certificate; customer KMS key; flow logs; other discovery regions and an
# Alertmanager, so the extra egress rules; the amp storage mode with two
# replicas, the default efs being in cdktf.out; an alarm email; the private
# network with its NAT gateway and endpoints) so those are scanned too.
[[ -e cdktf.out/stacks ]] || { echo "no synthesized stacks: run make synth"; exit 2; }
rm -rf cdktf.out.lint
CDKTF_OUTDIR=cdktf.out.lint PROMAWS_STATE_BUCKET=example-prometheus-tfstate \
  PROMAWS_TLS_DOMAIN=prometheus.example.com PROMAWS_TLS_ZONE_ID=Z0123456789ABCDEFGHIJ PROMAWS_ADMIN_CIDRS=198.51.100.0/24 \
  PROMAWS_KMS_KEY_ARN=arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab PROMAWS_FLOW_LOGS=true \
  PROMAWS_DISCOVERY_REGIONS=eu-west-1 PROMAWS_SCRAPE_ADDRESS=public PROMAWS_ALERTMANAGER_URLS=http://198.51.100.9:9093 \
  PROMAWS_STORAGE_MODE=amp PROMAWS_REPLICAS=2 PROMAWS_ALARM_EMAIL=ops@example.com PROMAWS_NETWORK_MODE=private \
  bin/prometheus-aws
stacks=(cdktf.out/stacks/*/ cdktf.out.lint/stacks/*/)

step "policy checks (cmd/policycheck)"
go run ./cmd/policycheck cdktf.out/stacks/*/cdk.tf.json cdktf.out.lint/stacks/*/cdk.tf.json || fail "policy checks"

for dir in "${stacks[@]}"; do
  step "tflint ${dir}"
  tflint --chdir="$dir" --config="$PWD/.tflint.hcl" --format=compact || fail "tflint $dir"
  step "tfsec ${dir}"
  # tfsec 1.x predates Terraform's ephemeral resources (1.10) and refuses a
  # file with an "ephemeral" block, so it scans a copy without it. Nothing
  # is lost: an ephemeral value is never stored, and the resources that use
  # it are still scanned.
  scan=$(mktemp -d)
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("ephemeral",None); json.dump(d,open(sys.argv[2],"w"))' \
    "$dir/cdk.tf.json" "$scan/cdk.tf.json"
  tfsec "$scan" --no-module-downloads --no-colour --concise-output \
    --config-file security/tfsec.yml --minimum-severity LOW || fail "tfsec $dir"
  rm -rf "$scan"
done

if [[ -d .github/workflows ]]; then
  step "actionlint"
  actionlint || fail "actionlint"
fi

# Renovate's own validator (offline, strict) on renovate.json, with the
# Node 22 make tools installs for gitlab-ci-local.
step "renovate-config-validator"
node22="$tools_bin/../gitlab-ci-local/node_modules/.bin/node"
validator="$tools_bin/../renovate/node_modules/renovate/dist/config-validator.js"
if [[ -x $node22 && -f $validator ]]; then
  "$node22" "$validator" --strict renovate.json 2>&1 | grep -v -e '^ *at ' -e 're2' || true
  "$node22" "$validator" --strict renovate.json >/dev/null 2>&1 || fail "renovate-config-validator"
else
  fail "renovate-config-validator is not installed: run make tools-lint"
fi

echo
if [[ $failed -ne 0 ]]; then echo "lint: FAILED"; exit 1; fi
echo "lint: all gates passed"
