#!/usr/bin/env bash
# compile-beside.sh COMMAND...: make test's tools step. Runs COMMAND (the
# tools' installation) while every package's tests compile into the Go build
# cache beside it, then waits for that compile, so that go test finds the
# packages compiled and only links. `go list -export -test -deps` runs the
# compile go test runs (the same cache entries), without linking or running.
#
# Why: from empty caches the tools' builds leave part of the second core idle
# (links, npm, apt) for minutes, and the tests' own compile then ran alone
# after them; warm, this compile only checks the cache. A compile error is go
# test's to report, with its context: this one's output is dropped. When
# COMMAND fails, or this script is stopped, the compile is stopped with it
# (its own process group, by PID) and COMMAND's status is returned.
set -euo pipefail
cd "$(dirname "$0")/.."

# setsid: a process group of its own (a background child of a
# non-interactive shell leads none, so setsid does not fork: $! is it).
setsid go list -e -export -test -deps ./... >/dev/null 2>&1 &
compile=$!
stop() { kill -- -"$compile" 2>/dev/null || true; }
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

status=0
"$@" || status=$?
if [[ $status -ne 0 ]]; then
  stop
  wait "$compile" 2>/dev/null || true
  exit "$status"
fi
wait "$compile" || true
