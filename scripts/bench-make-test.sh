#!/usr/bin/env bash
# bench-make-test.sh — `make bench-test`: runs make test twice, cold then
# warm, so that it records both wall times (scripts/record-make-test.sh),
# and puts them into BENCHMARKS.md.
#
# Cold: an empty Go build cache (GOCACHE) and an empty tools cache
# (TOOLS_BIN: make tools builds Prometheus, promtool and node_exporter
# again), as on a fresh CI machine; the Go module cache is kept (downloads
# measure the network, not this project). Warm: the same run again with
# those caches now filled. Both caches are temporary folders, removed at the
# end; your own caches are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/promaws-bench-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for state in cold warm; do
  echo "== make test, $state (Go build cache $tmp/gocache, tools cache $tmp/tools/bin)"
  GOCACHE=$tmp/gocache TOOLS_BIN=$tmp/tools/bin make --no-print-directory test
done
echo "== BENCHMARKS.md section 6 from the new records"
go run ./cmd/bench -render
