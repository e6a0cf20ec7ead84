# shellcheck shell=bash
# Sourced by scripts that run tflint. tflint 0.64 now and then exits before
# its bundled-plugin child does, and the child lives on. This tflint runs each
# call in a session of its own and ends the whole process group afterwards.
tflint() {
  local pid rc=0
  setsid "$(command -v tflint)" "$@" &
  pid=$!
  wait "$pid" || rc=$?
  kill -- -"$pid" 2>/dev/null || true
  return "$rc"
}
