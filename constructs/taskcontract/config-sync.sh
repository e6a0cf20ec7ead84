#!/bin/sh
# config-sync: keep the task's generated files equal to the SSM parameters
# that hold them, so a change reaches the running task without a new task
# definition. The task's sidecar container runs it inline on the unmodified
# AWS CLI v2 image (entryPoint ["/bin/sh", "-c"], command ["<this script>",
# "config-sync"]). POSIX sh: bash on that image, dash in the local runner.
#
# Every CONFIG_SYNC_INTERVAL_SECONDS it asks SSM for the version and the
# modification time of all the parameters (one GetParameters call): a
# parameter whose version or time changed (a replaced parameter starts again
# at version 1, so the version alone would miss it) is read, decoded when its
# line says so, and written to a temporary file beside its file, then renamed over it,
# so a reader sees the old file or the new one, never half of one. Once every
# file has arrived it writes .synced, which the readers wait for. Prometheus
# reloads a changed file on its own (--config.auto-reload) and keeps the
# running configuration when the new one fails to load; the Alertmanager's
# script sends it SIGHUP (likewise kept on a failure). Errors are logged and
# retried every round: the files already there stay.
#
# Environment:
#   CONFIG_SYNC_FILES             lines "<file> <parameter name> [gzip]" (the
#                                 file relative to the folder; folders are
#                                 made; gzip: the value is gzip, base64-encoded,
#                                 for files bigger than a parameter holds)
#   CONFIG_SYNC_DIR               the shared folder (default /config)
#   CONFIG_SYNC_INTERVAL_SECONDS  seconds between rounds (default 15)
#   CONFIG_SYNC_ENDPOINT_URL      an SSM endpoint (the local profile's
#                                 emulator); default: the region's
# The AWS CLI takes the task role's credentials and the region from the
# environment ECS gives the container. Contents are never echoed.
set -u

dir=${CONFIG_SYNC_DIR:-/config}
interval=${CONFIG_SYNC_INTERVAL_SECONDS:-15}
endpoint=${CONFIG_SYNC_ENDPOINT_URL:-}
files=${CONFIG_SYNC_FILES:-}
if [ -z "$files" ]; then
  echo "config-sync: CONFIG_SYNC_FILES is empty; the task definition names the files and their parameters" >&2
  exit 1
fi

# PID 1 ignores SIGTERM without a handler: stop between rounds.
trap 'echo "config-sync: stopping"; exit 0' TERM INT

ssm() {
  if [ -n "$endpoint" ]; then
    aws --endpoint-url "$endpoint" ssm "$@"
  else
    aws ssm "$@"
  fi
}

names=$(printf '%s\n' "$files" | while read -r _ name _; do [ -n "$name" ] && printf '%s ' "$name"; done)

# One round: 0 when every file holds its parameter's current version.
sync_round() {
  # "name<TAB>version<TAB>modified" lines; a name SSM does not return is
  # missing or not readable by the task role.
  # shellcheck disable=SC2086 # one word per parameter name
  versions=$(ssm get-parameters --names $names --query 'Parameters[].[Name,Version,LastModifiedDate]' --output text) || {
    echo "config-sync: GetParameters failed (above); keeping the files as they are, next try in ${interval}s" >&2
    return 1
  }
  ok=0
  while read -r file name encoding; do
    [ -n "$name" ] || continue
    version=$(printf '%s\n' "$versions" | while read -r n v m; do [ "$n" = "$name" ] && printf '%s %s' "$v" "$m"; done)
    if [ -z "$version" ]; then
      echo "config-sync: parameter $name is missing, or the task role may not read it; $file stays as it is" >&2
      ok=1
      continue
    fi
    path=$dir/$file
    stamp=$(dirname "$path")/.$(basename "$path").version
    [ -f "$path" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] && continue
    mkdir -p "$(dirname "$path")"
    tmp=$(dirname "$path")/.$(basename "$path").tmp
    if ssm get-parameter --name "$name" --query Parameter.Value --output text >"$tmp"; then
      if [ "$encoding" = gzip ] && ! { base64 -d <"$tmp" | gunzip >"$tmp.plain" && mv -f "$tmp.plain" "$tmp"; }; then
        rm -f "$tmp" "$tmp.plain"
        echo "config-sync: $name is not gzip, base64-encoded; $file stays as it is" >&2
        ok=1
        continue
      fi
      chmod 0644 "$tmp"
      mv -f "$tmp" "$path"
      printf '%s' "$version" >"$stamp"
      echo "config-sync: $file is now version $version of $name"
    else
      rm -f "$tmp"
      echo "config-sync: reading $name failed (above); $file stays as it is" >&2
      ok=1
    fi
  done <<EOF
$files
EOF
  return $ok
}

mkdir -p "$dir"
echo "config-sync: keeping the files of $names in $dir equal to them, every ${interval}s"
while :; do
  if sync_round; then
    if [ ! -f "$dir/.synced" ]; then
      date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/.synced"
      echo "config-sync: every file has arrived"
    fi
  else
    # One line per failed round, which the stack's metric filter counts
    # (taskcontract.ConfigSyncRoundFailedLog, the config-sync-failing alarm).
    echo "config-sync: round failed; the files stay as they are" >&2
  fi
  sleep "$interval" &
  wait $!
done
