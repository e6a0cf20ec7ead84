#!/bin/sh
# alertmanager-entrypoint: start the bundled Alertmanager (the Prometheus
# task's second container) with the configuration delivered at run time, on
# the unmodified official image. POSIX sh only: the image is busybox-based.
#
# Called inline by the ECS task: entryPoint ["/bin/sh", "-c"],
#   command ["<this script>", "alertmanager-entrypoint", flags...]
# "$@" holds extra Alertmanager flags, appended last. If the name is
# forgotten and $0 is a --flag, the flag is put back in front of "$@".
#
# Environment:
#   ALERTMANAGER_CONFIG_YAML      alertmanager.yml content (required: the image's
#                                 example configuration would send nowhere)
#   ALERTMANAGER_WEB_CONFIG_YAML  optional web config (basic auth), as
#                                 Prometheus's; adds --web.config.file
#   ALERTMANAGER_RUNTIME_DIR      where they are written (default
#                                 /tmp/alertmanager, created private: umask 077)
#   ALERTMANAGER_STORAGE_PATH     silences and notification log (default
#                                 /alertmanager, the image's VOLUME)
#   ALERTMANAGER_PORT             listen port (default 9093)
#   ALERTMANAGER_BIN              the binary (default /bin/alertmanager)
# One Alertmanager per task and no peers: the cluster listener is off.
# Contents are never echoed and are removed from the environment
# Alertmanager inherits.
set -eu

case $0 in
--*) set -- "$0" "$@" ;;
esac

runtime_dir=${ALERTMANAGER_RUNTIME_DIR:-/tmp/alertmanager}
umask 077
mkdir -p "$runtime_dir"

if [ -z "${ALERTMANAGER_CONFIG_YAML:-}" ]; then
  echo "alertmanager-entrypoint: ALERTMANAGER_CONFIG_YAML is empty; the task definition delivers the configuration (its secrets), refusing to start without it" >&2
  exit 1
fi
printf '%s\n' "$ALERTMANAGER_CONFIG_YAML" >"$runtime_dir/alertmanager.yml"
echo "alertmanager-entrypoint: configuration from ALERTMANAGER_CONFIG_YAML written to $runtime_dir/alertmanager.yml"

if [ -n "${ALERTMANAGER_WEB_CONFIG_YAML:-}" ]; then
  printf '%s\n' "$ALERTMANAGER_WEB_CONFIG_YAML" >"$runtime_dir/web.yml"
  set -- "--web.config.file=$runtime_dir/web.yml" "$@"
fi

set -- \
  "--config.file=$runtime_dir/alertmanager.yml" \
  "--storage.path=${ALERTMANAGER_STORAGE_PATH:-/alertmanager}" \
  "--web.listen-address=:${ALERTMANAGER_PORT:-9093}" \
  "--cluster.listen-address=" \
  "$@"

unset ALERTMANAGER_CONFIG_YAML ALERTMANAGER_WEB_CONFIG_YAML
exec "${ALERTMANAGER_BIN:-/bin/alertmanager}" "$@"
