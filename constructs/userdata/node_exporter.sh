#!/bin/bash
# node_exporter installer: the one shared user-data script of prometheus-aws.
#
# Reusable outside this app: run it as root on Amazon Linux 2023 (default) or
# Debian/Ubuntu, as EC2 user data or by hand. It needs curl or wget, tar,
# sha256sum and systemd. Running it twice is safe: nothing is downloaded or
# restarted when the pinned version is already installed and the unit is
# unchanged.
#
# What it does: downloads the pinned node_exporter release for this CPU,
# verifies it against the pinned SHA-256 (a mismatch stops the install, and
# nothing is installed), creates a system user without shell or home,
# installs a root-owned binary and a hardened systemd unit, and starts it.
#
# Settings (environment variables; defaults in brackets):
#   NODE_EXPORTER_LISTEN_ADDRESS  [:9100]  listen address
#   NODE_EXPORTER_DOWNLOAD_BASE   [GitHub releases]  mirror for air-gapped hosts
#   NODE_EXPORTER_EXTRA_FLAGS     []  extra flags, e.g. "--collector.systemd"
#   NODE_EXPORTER_ROOT            []  TEST SEAM ONLY: install below this folder,
#                                     skip user creation, chown and systemctl
#   NODE_EXPORTER_TEST_SHA256     []  TEST SEAM ONLY, honoured only together with
#                                     NODE_EXPORTER_ROOT: the checksum of a fake
#                                     release tarball
set -euo pipefail

# Pinned release. Renovate bumps the version and both checksums together
# (values from the release's sha256sums.txt).
# renovate: datasource=github-releases depName=prometheus/node_exporter
NODE_EXPORTER_VERSION="1.9.1"
NODE_EXPORTER_SHA256_AMD64="becb950ee80daa8ae7331d77966d94a611af79ad0d3307380907e0ec08f5b4e8"
NODE_EXPORTER_SHA256_ARM64="848f139986f63232ced83babe3cad1679efdbb26c694737edc1f4fbd27b96203"

NODE_EXPORTER_LISTEN_ADDRESS="${NODE_EXPORTER_LISTEN_ADDRESS:-:9100}"
NODE_EXPORTER_DOWNLOAD_BASE="${NODE_EXPORTER_DOWNLOAD_BASE:-https://github.com/prometheus/node_exporter/releases/download}"
NODE_EXPORTER_EXTRA_FLAGS="${NODE_EXPORTER_EXTRA_FLAGS:-}"
ROOT="${NODE_EXPORTER_ROOT:-}"

BIN="$ROOT/usr/local/bin/node_exporter"
UNIT="$ROOT/etc/systemd/system/node_exporter.service"
USER_NAME="node_exporter"

WORK=""
cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

log() { echo "node_exporter-install: $*"; }
die() { echo "node_exporter-install: ERROR: $*" >&2; exit 1; }

arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported CPU architecture $(uname -m); only x86_64 and aarch64 releases are pinned" ;;
  esac
}

expected_sha256() {
  if [ -n "$ROOT" ] && [ -n "${NODE_EXPORTER_TEST_SHA256:-}" ]; then
    echo "$NODE_EXPORTER_TEST_SHA256"
    return
  fi
  case "$1" in
    amd64) echo "$NODE_EXPORTER_SHA256_AMD64" ;;
    arm64) echo "$NODE_EXPORTER_SHA256_ARM64" ;;
  esac
}

installed_version() {
  [ -x "$BIN" ] || return 0
  "$BIN" --version 2>&1 | sed -n 's/^node_exporter, version \([^ ]*\).*/\1/p' | head -n 1
}

download() { # url file
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 5 --retry-delay 2 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=5 --output-document="$2" "$1"
  else
    die "neither curl nor wget is installed"
  fi
}

# CHANGED collects what this run changed; a restart follows only if non-empty.
CHANGED=""

# install_binary downloads, verifies and installs the pinned release.
install_binary() {
  local a tarball url sha
  if [ "$(installed_version)" = "$NODE_EXPORTER_VERSION" ]; then
    log "node_exporter $NODE_EXPORTER_VERSION already installed"
    return 0
  fi
  a="$(arch)"
  sha="$(expected_sha256 "$a")"
  tarball="node_exporter-${NODE_EXPORTER_VERSION}.linux-${a}.tar.gz"
  url="${NODE_EXPORTER_DOWNLOAD_BASE}/v${NODE_EXPORTER_VERSION}/${tarball}"
  WORK="$(mktemp -d)"
  log "downloading $url"
  download "$url" "$WORK/$tarball" || die "download of $url failed"
  if ! (cd "$WORK" && echo "$sha  $tarball" | sha256sum --check --status); then
    die "CHECKSUM MISMATCH for $tarball: expected $sha, got $(sha256sum "$WORK/$tarball" | cut -d' ' -f1). Nothing was installed."
  fi
  log "checksum verified ($sha)"
  tar -xzf "$WORK/$tarball" -C "$WORK"
  mkdir -p "$(dirname "$BIN")"
  if [ -n "$ROOT" ]; then
    install -m 0755 "$WORK/node_exporter-${NODE_EXPORTER_VERSION}.linux-${a}/node_exporter" "$BIN"
  else
    install -o root -g root -m 0755 "$WORK/node_exporter-${NODE_EXPORTER_VERSION}.linux-${a}/node_exporter" "$BIN"
  fi
  log "installed $BIN"
  CHANGED+=" binary"
}

ensure_user() {
  if [ -n "$ROOT" ]; then
    log "test root: skipping user creation"
    return 0
  fi
  if id "$USER_NAME" >/dev/null 2>&1; then
    return 0
  fi
  local nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  useradd --system --no-create-home --home-dir / --shell "$nologin" --user-group "$USER_NAME"
  log "created system user $USER_NAME"
}

unit_text() {
  cat <<UNIT
# Installed by the prometheus-aws node_exporter script; rerun it to update.
[Unit]
Description=Prometheus node_exporter
Documentation=https://github.com/prometheus/node_exporter
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=${USER_NAME}
Group=${USER_NAME}
ExecStart=/usr/local/bin/node_exporter --web.listen-address=${NODE_EXPORTER_LISTEN_ADDRESS} ${NODE_EXPORTER_EXTRA_FLAGS}
Restart=on-failure
RestartSec=5s

# Hardening: node_exporter reads /proc and /sys and needs nothing else.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
UMask=0077

[Install]
WantedBy=multi-user.target
UNIT
}

# install_unit writes the unit when it differs.
install_unit() {
  local tmp
  mkdir -p "$(dirname "$UNIT")"
  tmp="$(mktemp)"
  unit_text >"$tmp"
  if [ -f "$UNIT" ] && cmp -s "$tmp" "$UNIT"; then
    rm -f "$tmp"
    log "unit unchanged"
    return 0
  fi
  install -m 0644 "$tmp" "$UNIT"
  rm -f "$tmp"
  log "wrote $UNIT"
  CHANGED+=" unit"
}

main() {
  [ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || die "run as root (user data runs as root)"
  ensure_user
  install_binary
  install_unit
  if [ -n "$ROOT" ]; then
    log "test root: skipping systemctl (changed:${CHANGED:- nothing})"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable node_exporter.service >/dev/null
  if [ -n "$CHANGED" ]; then
    systemctl restart node_exporter.service
    log "node_exporter $NODE_EXPORTER_VERSION (re)started on $NODE_EXPORTER_LISTEN_ADDRESS"
  else
    systemctl start node_exporter.service
    log "nothing changed; node_exporter is running"
  fi
}

main "$@"
