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

step "versions"
go version
shellcheck --version | sed -n 2p
tflint --version | head -1
tfsec --version
if command -v actionlint >/dev/null; then echo "actionlint $(actionlint -version | head -1)"; fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files -co --exclude-standard -- '*.go'))
[[ -z $unformatted ]] || fail "not gofmt-formatted: $unformatted"

step "go vet"
go vet ./... || fail "go vet"

step "shellcheck"
mapfile -t bash_scripts < <(git ls-files -co --exclude-standard -- '*.sh' ':!docker/*.sh'; echo help; echo .ci/run)
shellcheck "${bash_scripts[@]}" || fail "shellcheck (bash)"
shellcheck -s sh docker/*.sh || fail "shellcheck (sh)"

stacks=(cdktf.out/stacks/*/)
[[ -e ${stacks[0]} ]] || { echo "no synthesized stacks: run make synth"; exit 2; }

step "policy checks (cmd/policycheck)"
go run ./cmd/policycheck cdktf.out/stacks/*/cdk.tf.json || fail "policy checks"

export TFLINT_PLUGIN_DIR=${TFLINT_PLUGIN_DIR:-${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}/tflint-plugins}
for dir in "${stacks[@]}"; do
  step "tflint ${dir}"
  tflint --chdir="$dir" --config="$PWD/.tflint.hcl" --format=compact || fail "tflint $dir"
  step "tfsec ${dir}"
  tfsec "$dir" --no-module-downloads --no-colour --concise-output \
    --config-file security/tfsec.yml --minimum-severity LOW || fail "tfsec $dir"
done

if [[ -d .github/workflows ]]; then
  step "actionlint"
  actionlint || fail "actionlint"
fi

echo
if [[ $failed -ne 0 ]]; then echo "lint: FAILED"; exit 1; fi
echo "lint: all gates passed"
