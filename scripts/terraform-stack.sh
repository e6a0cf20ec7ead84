#!/usr/bin/env bash
# terraform-stack.sh plan|apply|destroy|plan-out|apply-plan — runs plain
# Terraform on the main stack synthesized by `make synth`
# (cdktf.out/stacks/<stack>/). Apply and destroy go through a saved plan that
# you confirm, so what is applied is exactly what was shown. AUTO_APPROVE=1
# skips the question (CI).
#
# For review (make plan-out / make apply-plan, docs/CI.md): plan-out saves
# the plan as <stack>/tfplan plus its JSON <stack>/plan.json; apply-plan
# applies exactly that saved tfplan, and refuses one that deletes or
# replaces anything unless ALLOW_DESTROY=1.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:?usage: terraform-stack.sh plan|apply|destroy|plan-out|apply-plan}
# STACK: a stack name, "bootstrap" (the *-state stack), or empty for the
# main stack of the current settings (PROMAWS_ENVIRONMENT picks among the
# environments cdktf.out may hold): bin/prometheus-aws stack names it.
stack=${STACK:-}
if [[ -z $stack || $stack == bootstrap ]]; then
  [[ -x bin/prometheus-aws ]] || { echo "terraform-stack.sh: bin/prometheus-aws missing; run make build" >&2; exit 2; }
  if [[ $stack == bootstrap ]]; then
    stack=$(bin/prometheus-aws stack bootstrap) || exit 2
  else
    stack=$(bin/prometheus-aws stack) || exit 2
  fi
fi
dir=cdktf.out/stacks/$stack
[[ -f $dir/cdk.tf.json ]] || { echo "terraform-stack.sh: $dir/cdk.tf.json missing; run make synth (with the settings of stack $stack), or pick another with STACK=<name>" >&2; exit 2; }

if ! terraform -chdir="$dir" init -input=false >"$dir/init.log" 2>&1; then
  cat "$dir/init.log" >&2
  if grep -q '"s3"' "$dir/cdk.tf.json"; then
    echo "terraform-stack.sh: the S3 backend could not be initialised. Does the state bucket exist? Create it with: make bootstrap" >&2
  fi
  exit 1
fi
case $action in
  plan)
    terraform -chdir="$dir" plan -input=false ;;
  apply|destroy)
    flag=()
    [[ $action == destroy ]] && flag=(-destroy)
    terraform -chdir="$dir" plan -input=false "${flag[@]}" -out=tfplan
    if [[ ${AUTO_APPROVE:-0} != 1 ]]; then
      read -r -p "Apply this plan to stack $stack? Type yes: " answer
      [[ $answer == yes ]] || { echo "Nothing changed."; exit 1; }
    fi
    terraform -chdir="$dir" apply -input=false tfplan ;;
  plan-out)
    rm -f "$dir/tfplan" "$dir/plan.json"
    terraform -chdir="$dir" plan -input=false -out=tfplan
    terraform -chdir="$dir" show -json tfplan >"$dir/plan.json"
    echo "terraform-stack.sh: saved $dir/tfplan and $dir/plan.json (make plan-preview summarises them)" ;;
  apply-plan)
    if [[ ! -f $dir/tfplan ]]; then
      echo "terraform-stack.sh: no saved plan $dir/tfplan: run make plan-out (in CI: the plan job's artifact must be downloaded first)" >&2
      exit 2
    fi
    # Check the plan file that is applied, not a plan.json that may be older.
    terraform -chdir="$dir" show -json tfplan >"$dir/apply-plan.json"
    if [[ ${ALLOW_DESTROY:-0} != 1 ]]; then
      # Built, not go run: go run reports every failure as exit status 1.
      go build -o bin/planpreview ./cmd/planpreview
      bin/planpreview -o /dev/null -fail-on-destroy "$dir/apply-plan.json" || {
        status=$?
        [[ $status -eq 3 ]] && echo "terraform-stack.sh: not applied. Review the destroyed resources above (make plan-preview), then run again with ALLOW_DESTROY=1" >&2
        exit "$status"
      }
    fi
    terraform -chdir="$dir" apply -input=false tfplan ;;
  *)
    echo "terraform-stack.sh: unknown action $action (plan, apply, destroy, plan-out or apply-plan)" >&2; exit 2 ;;
esac
