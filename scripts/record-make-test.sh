#!/usr/bin/env bash
# record-make-test.sh CMD [ARGS...] — runs CMD (make test's steps) and, when
# it passes, records its wall time for make bench (BENCHMARKS.md section 6).
#
# The record says which caches the run started from: "cold" when the Go
# build cache and the tools cache (TOOLS_BIN) were both empty, as on a fresh
# CI machine (make bench-test empties them), "warm" when both were filled.
# Other starts are not recorded: they compare with nothing. Records go to
# PROMAWS_RECORDS (default ~/.cache/prometheus-aws/records, outside the
# clone): make-test-cold.json and make-test-warm.json, the latest of each.
# A failing CMD records nothing and its exit status is ours.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: scripts/record-make-test.sh CMD [ARGS...]" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
records=${PROMAWS_RECORDS:-$HOME/.cache/prometheus-aws/records}
tools_bin=${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}

# Empty Go build cache: no compiled output in it (files named <hash>-d).
gocache=$(go env GOCACHE 2>/dev/null || true)
go_filled=0
if [[ -d $gocache ]] && find "$gocache" -name '*-d' -print -quit 2>/dev/null | grep -q .; then
  go_filled=1
fi
tools_filled=0
[[ -x $tools_bin/prometheus ]] && tools_filled=1
state=
case $go_filled$tools_filled in
  00) state=cold ;;
  11) state=warm ;;
esac

load() { cut -d' ' -f1 /proc/loadavg; }
load_start=$(load)
start=$(date +%s%N)
"$@"
end=$(date +%s%N)

if [[ -z $state ]]; then
  echo "record-make-test: not recorded (Go build cache filled: $go_filled, tools cache filled: $tools_filled; records are of cold or warm starts only)"
  exit 0
fi
# The run's CPU time and the processor tell a slower machine from a slower
# suite (BENCHMARKS.md section 6). bash's times: its second line is the
# children's user and system time, so it runs in this shell (a subshell's
# children are not the run). The processor's name goes into JSON as it is:
# quotes and backslashes dropped.
times_out=$(mktemp)
times >"$times_out"
cpu_seconds=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, p, /m|s/); n += p[1] * 60 + p[2] }; printf "%.1f", n }' "$times_out")
rm -f "$times_out"
cpu_model=$(awk -F': *' '/^model name/ { gsub(/["\\]/, "", $2); print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ $commit != unknown ]] && ! git -C "$repo" diff --quiet HEAD 2>/dev/null; then
  commit+=-dirty
fi
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
mkdir -p "$records"
file=$records/make-test-$state.json
cat >"$file.tmp" <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": "$commit",
  "state": "$state",
  "seconds": $seconds,
  "loadStart": $load_start,
  "loadEnd": $(load),
  "cores": $(nproc),
  "cpuSeconds": ${cpu_seconds:-0},
  "cpuModel": "${cpu_model:-unknown}"
}
JSON
mv "$file.tmp" "$file"
echo "record-make-test: make test took ${seconds}s from a $state start; recorded in $file for make bench"
