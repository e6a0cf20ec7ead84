#!/bin/sh
# prometheus-entrypoint: start Prometheus with the configuration delivered at
# run time. POSIX sh only: the official image is busybox-based (no bash).
#
# One script, two calling conventions; in both, "$@" holds only the extra
# Prometheus flags (e.g. --storage.tsdb.retention.time=15d), appended last.
# With --agent among them (storageMode=amp), Prometheus runs in agent mode
# and the storage folder is its WAL (--storage.agent.path), not a TSDB:
#   - as a file, by the image in this folder:
#       ENTRYPOINT ["/bin/sh", "/etc/prometheus/entrypoint.sh"], CMD [flags...]
#       i.e. sh entrypoint.sh flags...          ($0 = the script's path)
#   - inline, by the ECS task on the unmodified official image (deploying
#     needs no Docker): entryPoint ["/bin/sh", "-c"],
#       command ["<this script>", "prometheus-entrypoint", flags...]
#       i.e. sh -c "$script" prometheus-entrypoint flags...
#     With sh -c the first word after the script becomes $0, not $1: always
#     pass a name there. If it is forgotten and $0 is a --flag, the flag is
#     put back in front of "$@" rather than silently dropped.
#
# Environment:
#   PROMETHEUS_CONFIG_DIR       the folder the task's config-sync sidecar keeps
#                               prometheus.yml and rules/ in (the ECS task sets
#                               /config): wait for its first sync (.synced),
#                               run from there and reload on every change
#                               (--config.auto-reload); the *_YAML contents
#                               and baked-in files below are then ignored
#   PROMETHEUS_CONFIG_WAIT_SECONDS  how long to wait for that first sync
#                               (default 120), then exit with a message
#   PROMETHEUS_CONFIG_YAML      prometheus.yml content; empty = the baked-in
#                               /etc/prometheus/prometheus.yml
#   PROMETHEUS_WEB_CONFIG_YAML  optional web config (basic auth, TLS) content;
#                               adds --web.config.file
#   PROMETHEUS_BASIC_AUTH_PASSWORD  the basic auth password, for the self-scrape
#   PROMETHEUS_RULES_YAML       alerting rules content (rules/rules.yml beside
#                               the config); empty = the baked-in
#                               /etc/prometheus/rules.yml, else no rules
#   PROMETHEUS_DEFAULT_CONFIG   the baked-in config (default
#                               /etc/prometheus/prometheus.yml)
#   PROMETHEUS_RUNTIME_DIR      where they are written (default /tmp/prometheus,
#                               created private: umask 077)
#   PROMETHEUS_STORAGE_PATH     TSDB folder, or the agent's WAL folder with
#                               --agent (default /prometheus)
#   PROMETHEUS_PORT             listen port (default 9090)
#   PROMETHEUS_BIN              the binary (default /bin/prometheus)
#   PROMETHEUS_LOCK_WAIT_SECONDS  how long to wait for another Prometheus to
#                               release the TSDB lock (default 150: longer than
#                               a stopping task's 120 s stop timeout)
#   PROMETHEUS_REPLICA          this replica's name, which the config's
#                               external labels may use as ${PROMETHEUS_REPLICA}
#                               (AMP de-duplication); default: the ECS task id
#                               from the task metadata endpoint, else hostname
# The lifecycle API (--web.enable-lifecycle) stays off.
# Contents are never echoed (they may hold secrets), and they are removed from
# the environment Prometheus inherits.
set -eu

case $0 in
--*) set -- "$0" "$@" ;;
esac

runtime_dir=${PROMETHEUS_RUNTIME_DIR:-/tmp/prometheus}
baked_config=${PROMETHEUS_DEFAULT_CONFIG:-/etc/prometheus/prometheus.yml}
web_config_file=
umask 077
mkdir -p "$runtime_dir"

# The config always runs from the runtime folder (the root filesystem is
# read-only), beside the files its relative paths name: the rule files
# (rules/*.yml) and the self-scrape password.
config_file=$runtime_dir/prometheus.yml
rules_dir=$runtime_dir/rules
config_dir=${PROMETHEUS_CONFIG_DIR:-}
if [ -n "$config_dir" ]; then
  # Delivered and kept current by the config-sync sidecar. Links, so the
  # config's relative paths still resolve here and every change shows.
  config_wait=${PROMETHEUS_CONFIG_WAIT_SECONDS:-120}
  waited=0
  while [ ! -f "$config_dir/.synced" ]; do
    if [ "$waited" -ge "$config_wait" ]; then
      echo "prometheus-entrypoint: no configuration in $config_dir after ${config_wait}s; the config-sync container's log says why (a missing parameter, the task role, the SSM endpoint)" >&2
      exit 1
    fi
    if [ "$waited" -eq 0 ]; then
      echo "prometheus-entrypoint: waiting up to ${config_wait}s for the config-sync container to deliver $config_dir/prometheus.yml"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  ln -sf "$config_dir/prometheus.yml" "$config_file"
  ln -sfn "$config_dir/rules" "$rules_dir"
  echo "prometheus-entrypoint: configuration and rules from $config_dir, reloaded when they change"
  set -- --config.auto-reload --config.auto-reload-interval=10s "$@"
else
  if [ -n "${PROMETHEUS_CONFIG_YAML:-}" ]; then
    printf '%s\n' "$PROMETHEUS_CONFIG_YAML" >"$config_file"
    echo "prometheus-entrypoint: configuration from PROMETHEUS_CONFIG_YAML written to $config_file"
  else
    cp "$baked_config" "$config_file"
    echo "prometheus-entrypoint: PROMETHEUS_CONFIG_YAML is empty; using $baked_config"
  fi
  # Alerting rules, where the config's rule_files (rules/*.yml) looks:
  # delivered, baked in, or an empty rule set.
  mkdir -p "$rules_dir"
  rules_file=$rules_dir/rules.yml
  baked_rules=${PROMETHEUS_DEFAULT_RULES:-/etc/prometheus/rules.yml}
  if [ -n "${PROMETHEUS_RULES_YAML:-}" ]; then
    printf '%s\n' "$PROMETHEUS_RULES_YAML" >"$rules_file"
  elif [ -f "$baked_rules" ]; then
    cp "$baked_rules" "$rules_file"
  else
    printf 'groups: []\n' >"$rules_file"
  fi
fi

# The password Prometheus scrapes itself with when basic auth is on
# (promconfig.SelfScrapePasswordFile, relative to the config). Empty
# without basic auth: the header is then ignored.
printf '%s' "${PROMETHEUS_BASIC_AUTH_PASSWORD:-}" >"$runtime_dir/self-scrape-password"

if [ -n "${PROMETHEUS_WEB_CONFIG_YAML:-}" ]; then
  mkdir -p "$runtime_dir"
  web_config_file=$runtime_dir/web.yml
  printf '%s\n' "$PROMETHEUS_WEB_CONFIG_YAML" >"$web_config_file"
  echo "prometheus-entrypoint: web configuration from PROMETHEUS_WEB_CONFIG_YAML written to $web_config_file"
fi

# A name unique to this task: replicas of one HA pair must differ.
if [ -z "${PROMETHEUS_REPLICA:-}" ] && [ -n "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
  # TaskARN ends in /<task id>; busybox has wget and sed, not jq. The
  # call is bounded with timeout, not wget -T (Debian's busybox-static 1.35,
  # the local runner's, crashes on -T).
  PROMETHEUS_REPLICA=$(timeout 5 wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task" 2>/dev/null |
    sed -n 's/.*"TaskARN":"[^"]*\/\([^"/]*\)".*/\1/p') || PROMETHEUS_REPLICA=
fi
export PROMETHEUS_REPLICA="${PROMETHEUS_REPLICA:-$(hostname)}"
echo "prometheus-entrypoint: replica $PROMETHEUS_REPLICA"

# A replacement task may start while the task it replaces still closes the
# TSDB (ECS counts a stopping task against no maximum), and on EFS both see
# one folder. Prometheus takes the TSDB lock (flock on <storage>/lock, which
# NFSv4 carries to the server) and exits at once when it is held: wait for
# it within a bound instead, so a good deployment neither fails nor counts
# against the circuit breaker. Without the flock applet, no wait.
storage_path=${PROMETHEUS_STORAGE_PATH:-/prometheus}
lock_wait=${PROMETHEUS_LOCK_WAIT_SECONDS:-150}
if command -v flock >/dev/null 2>&1 && [ -d "$storage_path" ] && [ -w "$storage_path" ]; then
  if ! flock -n "$storage_path/lock" true 2>/dev/null; then
    echo "prometheus-entrypoint: the TSDB in $storage_path is locked by another Prometheus (a task still stopping?); waiting up to ${lock_wait}s for it"
    if timeout "$lock_wait" flock "$storage_path/lock" true; then
      echo "prometheus-entrypoint: the TSDB lock is free"
    else
      echo "prometheus-entrypoint: the TSDB is still locked after ${lock_wait}s; starting anyway (Prometheus refuses a held lock and says so)" >&2
    fi
  fi
fi

# Agent mode keeps a WAL for remote write where the server keeps its TSDB;
# each mode refuses the other's storage flags.
storage_flag=--storage.tsdb.path=
for arg in "$@"; do
  case $arg in
  --agent) storage_flag=--storage.agent.path= ;;
  esac
done

# Fixed flags first, the caller's extra flags last.
if [ -n "$web_config_file" ]; then
  set -- "--web.config.file=$web_config_file" "$@"
fi
set -- \
  "--config.file=$config_file" \
  "$storage_flag$storage_path" \
  "--web.listen-address=:${PROMETHEUS_PORT:-9090}" \
  "$@"

# Keep the contents out of Prometheus's own environment (/proc/<pid>/environ).
unset PROMETHEUS_CONFIG_YAML PROMETHEUS_WEB_CONFIG_YAML PROMETHEUS_BASIC_AUTH_PASSWORD PROMETHEUS_RULES_YAML
exec "${PROMETHEUS_BIN:-/bin/prometheus}" "$@"
