#!/bin/sh
# prometheus-entrypoint: start Prometheus with the configuration delivered at
# run time. POSIX sh: the official image is busybox-based.
#
# One script, two callers:
#   - the image in this folder: ENTRYPOINT ["/bin/sh", "/etc/prometheus/entrypoint.sh"]
#   - the ECS task on the unmodified official image (no Docker needed to
#     deploy): entryPoint ["/bin/sh", "-c"], command ["<this script>",
#     "prometheus-entrypoint", extra flags...]; with sh -c the word after the
#     script becomes $0, so "$@" holds the extra flags in both cases.
#
# Environment:
#   PROMETHEUS_CONFIG_YAML      prometheus.yml content; empty = the baked-in
#                               /etc/prometheus/prometheus.yml
#   PROMETHEUS_WEB_CONFIG_YAML  optional web config (basic auth, TLS) content
#   PROMETHEUS_RUNTIME_DIR      where they are written (default /tmp/prometheus)
#   PROMETHEUS_STORAGE_PATH     TSDB folder (default /prometheus)
#   PROMETHEUS_PORT             listen port (default 9090)
#   PROMETHEUS_BIN              the binary (default /bin/prometheus)
# Contents are never echoed: the web config holds a password hash.
set -eu

runtime_dir=${PROMETHEUS_RUNTIME_DIR:-/tmp/prometheus}
config_file=/etc/prometheus/prometheus.yml
umask 077

if [ -n "${PROMETHEUS_CONFIG_YAML:-}" ]; then
  mkdir -p "$runtime_dir"
  config_file=$runtime_dir/prometheus.yml
  printf '%s\n' "$PROMETHEUS_CONFIG_YAML" >"$config_file"
  echo "prometheus-entrypoint: configuration from PROMETHEUS_CONFIG_YAML written to $config_file"
fi

set -- \
  "--config.file=$config_file" \
  "--storage.tsdb.path=${PROMETHEUS_STORAGE_PATH:-/prometheus}" \
  "--web.listen-address=:${PROMETHEUS_PORT:-9090}" \
  "$@"

if [ -n "${PROMETHEUS_WEB_CONFIG_YAML:-}" ]; then
  mkdir -p "$runtime_dir"
  printf '%s\n' "$PROMETHEUS_WEB_CONFIG_YAML" >"$runtime_dir/web.yml"
  set -- "$@" "--web.config.file=$runtime_dir/web.yml"
  echo "prometheus-entrypoint: web configuration written to $runtime_dir/web.yml"
fi

# Keep the contents out of Prometheus's own environment (/proc/<pid>/environ).
unset PROMETHEUS_CONFIG_YAML PROMETHEUS_WEB_CONFIG_YAML
exec "${PROMETHEUS_BIN:-/bin/prometheus}" "$@"
