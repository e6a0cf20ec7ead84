#!/bin/sh
# alertmanager-entrypoint: run the bundled Alertmanager (a container of the
# Prometheus task) with the configuration the task's config-sync sidecar
# keeps current, on the unmodified official image, and reload it in place
# when it changes. POSIX sh only: the image is busybox-based.
#
# Called inline by the ECS task: entryPoint ["/bin/sh", "-c"],
#   command ["<this script>", "alertmanager-entrypoint", flags...]
# "$@" holds extra Alertmanager flags, appended last. If the name is
# forgotten and $0 is a --flag, the flag is put back in front of "$@".
#
# Environment:
#   ALERTMANAGER_CONFIG_DIR       the folder config-sync keeps alertmanager.yml
#                                 in (required: the image's example
#                                 configuration would send nowhere); waited
#                                 for, then checked every
#                                 ALERTMANAGER_RELOAD_CHECK_SECONDS (default
#                                 10): a change is a SIGHUP, which reloads it
#                                 (a configuration that fails to load leaves
#                                 the running one in place, and says so)
#   ALERTMANAGER_CONFIG_WAIT_SECONDS  how long to wait for the first sync
#                                 (default 120)
#   ALERTMANAGER_WEB_CONFIG_YAML  optional web config (basic auth), as
#                                 Prometheus's; adds --web.config.file
#   ALERTMANAGER_RUNTIME_DIR      where they are written (default
#                                 /tmp/alertmanager, created private: umask 077)
#   ALERTMANAGER_STORAGE_PATH     silences and notification log (default
#                                 /alertmanager, the image's VOLUME)
#   ALERTMANAGER_PORT             listen port (default 9093)
#   ALERTMANAGER_BIN              the binary (default /bin/alertmanager)
# One Alertmanager per task and no peers: the cluster listener is off.
# Contents are never echoed and are removed from the environment of every
# process that outlives the start (the watcher shell, PID 1, is re-exec'd
# without them; issue 34).
set -eu

case $0 in
--*) set -- "$0" "$@" ;;
esac

runtime_dir=${ALERTMANAGER_RUNTIME_DIR:-/tmp/alertmanager}
umask 077
mkdir -p "$runtime_dir"

config_dir=${ALERTMANAGER_CONFIG_DIR:-}
if [ -z "$config_dir" ]; then
  echo "alertmanager-entrypoint: ALERTMANAGER_CONFIG_DIR is empty; the task definition names the folder the config-sync container delivers alertmanager.yml to, refusing to start without it" >&2
  exit 1
fi
config_file=$config_dir/alertmanager.yml
config_wait=${ALERTMANAGER_CONFIG_WAIT_SECONDS:-120}
waited=0
while [ ! -f "$config_dir/.synced" ]; do
  if [ "$waited" -ge "$config_wait" ]; then
    echo "alertmanager-entrypoint: no configuration in $config_dir after ${config_wait}s; the config-sync container's log says why" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "alertmanager-entrypoint: configuration from $config_file, reloaded when it changes"

if [ -n "${ALERTMANAGER_WEB_CONFIG_YAML:-}" ]; then
  printf '%s\n' "$ALERTMANAGER_WEB_CONFIG_YAML" >"$runtime_dir/web.yml"
  set -- "--web.config.file=$runtime_dir/web.yml" "$@"
fi

set -- \
  "--config.file=$config_file" \
  "--storage.path=${ALERTMANAGER_STORAGE_PATH:-/alertmanager}" \
  "--web.listen-address=:${ALERTMANAGER_PORT:-9093}" \
  "--cluster.listen-address=" \
  "$@"

# Alertmanager has no reload of its own: a shell stays as PID 1, passes
# SIGTERM on (then waits for it to write its state) and sends SIGHUP when
# the file's checksum (sha256sum) changes. That shell is a new one, exec'd
# with the delivered contents removed from its environment: unset alone
# would not change /proc/1/environ (the environment at exec), and this
# process lives as long as the task.
# shellcheck disable=SC2016 # expanded by the watcher's shell
watcher='
config_file=$1
shift
"${ALERTMANAGER_BIN:-/bin/alertmanager}" "$@" &
pid=$!
stopping=
trap '"'"'stopping=1; kill -TERM "$pid" 2>/dev/null'"'"' TERM INT
check=${ALERTMANAGER_RELOAD_CHECK_SECONDS:-10}
sum=$(sha256sum <"$config_file")
while kill -0 "$pid" 2>/dev/null; do
  sleep "$check" &
  wait $! 2>/dev/null || true
  [ -z "$stopping" ] || break
  now=$(sha256sum <"$config_file" 2>/dev/null) || continue
  if [ "$now" != "$sum" ] && kill -0 "$pid" 2>/dev/null; then
    sum=$now
    echo "alertmanager-entrypoint: $config_file changed; reloading (SIGHUP)"
    kill -HUP "$pid"
  fi
done
status=0
wait "$pid" || status=$?
# A signal may interrupt that wait too: wait for the exit itself.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
exit "$status"
'
exec env -u ALERTMANAGER_WEB_CONFIG_YAML -u PROMETHEUS_BASIC_AUTH_PASSWORD /bin/sh -c "$watcher" alertmanager-entrypoint "$config_file" "$@"
