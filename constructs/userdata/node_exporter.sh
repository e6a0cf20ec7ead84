#!/bin/bash
# node_exporter installer: the one shared user-data script of prometheus-aws.
#
# Reusable outside this app: run it as root on Amazon Linux 2023 or
# Debian/Ubuntu, as EC2 user data or by hand (curl it, or paste it into your
# own user data). It needs curl or wget, tar, sha256sum and systemd, nothing
# else. Running it again is safe: nothing is downloaded when the pinned
# version is already installed, and nothing is restarted unless the binary or
# the unit changed.
#
# What it does: downloads the pinned node_exporter release for this CPU,
# checks it against the pinned SHA-256 (on a mismatch it stops and installs
# nothing), creates a system user without login shell or home, installs a
# root-owned binary and a hardened systemd unit, and starts the service.
#
# Settings (environment variables, default in brackets):
#   NODE_EXPORTER_LISTEN_ADDRESS  [:9100]  --web.listen-address
#   NODE_EXPORTER_DOWNLOAD_BASE   [https://github.com/prometheus/node_exporter/releases/download]
#                                 a mirror for air-gapped hosts; it must serve
#                                 v<version>/node_exporter-<version>.linux-<arch>.tar.gz
#                                 (the checksum is still the pinned one, so the
#                                 mirror need not be trusted). An s3://bucket/prefix
#                                 base is read with the AWS CLI and the instance
#                                 role (a VPC without internet, S3 gateway endpoint)
#   NODE_EXPORTER_EXTRA_FLAGS     []  more flags, split on spaces by systemd,
#                                     e.g. "--collector.systemd --no-collector.nfs"
#
# Test seam (the Go tests of this repository; not for hosts):
#   NODE_EXPORTER_ROOT         prefix every path written or read with this
#                              folder, and skip what needs root or a running
#                              systemd (useradd, chown to root, systemctl),
#                              saying so on the output.
#   NODE_EXPORTER_TEST_SHA256  the checksum of a fake release tarball. Ignored
#                              unless NODE_EXPORTER_ROOT is set, so a real
#                              install always checks the pinned value.
set -euo pipefail

# Pinned release. Renovate bumps the version; the two checksums must be
# copied with it from the release's sha256sums.txt:
#   https://github.com/prometheus/node_exporter/releases/download/v<version>/sha256sums.txt
# renovate: datasource=github-releases depName=prometheus/node_exporter
NODE_EXPORTER_VERSION="1.12.1"
NODE_EXPORTER_SHA256_AMD64="b51d8a76aa2a9156a55d501aca6276fae09e262259a5e4e831d2c2222f084e63"
NODE_EXPORTER_SHA256_ARM64="ad35b605f9954b9f1ffddf5ba054bdc5a98d790b9eae5291e1eeb83f1ecbd0e7"

NODE_EXPORTER_LISTEN_ADDRESS="${NODE_EXPORTER_LISTEN_ADDRESS:-:9100}"
NODE_EXPORTER_DOWNLOAD_BASE="${NODE_EXPORTER_DOWNLOAD_BASE:-https://github.com/prometheus/node_exporter/releases/download}"
NODE_EXPORTER_EXTRA_FLAGS="${NODE_EXPORTER_EXTRA_FLAGS:-}"

ROOT="${NODE_EXPORTER_ROOT:-}"
BIN="$ROOT/usr/local/bin/node_exporter"
UNIT="$ROOT/etc/systemd/system/node_exporter.service"
MOUNTS="$ROOT/proc/self/mounts"
SERVICE_USER="node_exporter"

# CHANGED lists what this run changed; the service restarts only if non-empty.
CHANGED=""
WORK=""

log() { echo "node_exporter-install: $*"; }
die() {
  echo "node_exporter-install: ERROR: $*" >&2
  exit 1
}
cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

check_prerequisites() {
  if [ -z "$ROOT" ]; then
    [ "$(id -u)" -eq 0 ] || die "run as root (EC2 user data runs as root)"
    need systemctl "this installer manages node_exporter as a systemd service"
    need useradd "install shadow-utils (Amazon Linux) or passwd (Debian/Ubuntu)"
  fi
  need tar "install tar"
  need sha256sum "install coreutils"
  if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
    die "curl or wget is required to download node_exporter"
  fi
}

# check_settings refuses values that could break out of the ExecStart= line
# of the unit (a newline would add a directive of its own choosing).
check_settings() {
  case "$NODE_EXPORTER_LISTEN_ADDRESS" in
    "" | *[!][A-Za-z0-9.:_-]*) die "NODE_EXPORTER_LISTEN_ADDRESS=\"$NODE_EXPORTER_LISTEN_ADDRESS\" is not a host:port" ;;
  esac
  case "$NODE_EXPORTER_EXTRA_FLAGS" in
    *[[:cntrl:]]*) die "NODE_EXPORTER_EXTRA_FLAGS must be one line" ;;
  esac
}

release_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported CPU architecture $(uname -m): only x86_64 (amd64) and aarch64 (arm64) releases are pinned" ;;
  esac
}

expected_sha256() { # arch
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
  case "$1" in
    s3://*)
      need aws "the AWS CLI reads an s3:// NODE_EXPORTER_DOWNLOAD_BASE (Amazon Linux 2023 has it)"
      aws s3 cp --only-show-errors "$1" "$2"
      return
      ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --connect-timeout 10 \
      --retry 5 --retry-delay 2 --output "$2" "$1"
  else
    wget --quiet --tries=5 --timeout=30 --output-document="$2" "$1"
  fi
}

# install_binary downloads, verifies and installs the pinned release, unless
# that version is installed already.
install_binary() {
  local arch sha tarball url member
  if [ "$(installed_version)" = "$NODE_EXPORTER_VERSION" ]; then
    log "node_exporter $NODE_EXPORTER_VERSION already installed at $BIN"
    return 0
  fi
  arch="$(release_arch)"
  sha="$(expected_sha256 "$arch")"
  case "$sha" in
    *[!0-9a-f]*) die "the expected SHA-256 \"$sha\" is not 64 lowercase hex digits" ;;
  esac
  [ "${#sha}" -eq 64 ] || die "the expected SHA-256 \"$sha\" is not 64 lowercase hex digits"

  tarball="node_exporter-${NODE_EXPORTER_VERSION}.linux-${arch}.tar.gz"
  member="node_exporter-${NODE_EXPORTER_VERSION}.linux-${arch}/node_exporter"
  url="${NODE_EXPORTER_DOWNLOAD_BASE%/}/v${NODE_EXPORTER_VERSION}/${tarball}"
  WORK="$(mktemp -d)"
  log "downloading $url"
  download "$url" "$WORK/$tarball" || die "download of $url failed"

  if ! (cd "$WORK" && echo "$sha  $tarball" | sha256sum -c --status -); then
    die "CHECKSUM MISMATCH for $tarball: expected sha256 $sha, got $(sha256sum "$WORK/$tarball" | cut -d' ' -f1). Nothing was installed."
  fi
  log "sha256 verified: $sha"

  tar -xzf "$WORK/$tarball" -C "$WORK" "$member" || die "$tarball has no $member"
  mkdir -p "$(dirname "$BIN")"
  if [ -n "$ROOT" ]; then
    log "test root: installing without chown to root"
    install -m 0755 "$WORK/$member" "$BIN"
  else
    install -o root -g root -m 0755 "$WORK/$member" "$BIN"
  fi
  log "installed $BIN ($NODE_EXPORTER_VERSION)"
  CHANGED+=" binary"
}

ensure_user() {
  if [ -n "$ROOT" ]; then
    log "test root: skipping creation of user $SERVICE_USER"
    return 0
  fi
  if id "$SERVICE_USER" >/dev/null 2>&1; then
    return 0
  fi
  local shell=/bin/false candidate
  for candidate in /usr/sbin/nologin /sbin/nologin; do
    if [ -x "$candidate" ]; then
      shell="$candidate"
      break
    fi
  done
  # Reuse a group left by an earlier install; else create one of the same name.
  local group=(--user-group)
  if getent group "$SERVICE_USER" >/dev/null 2>&1; then
    group=(--gid "$SERVICE_USER")
  fi
  useradd --system --no-create-home --home-dir /nonexistent --shell "$shell" \
    "${group[@]}" --comment "Prometheus node_exporter" "$SERVICE_USER"
  log "created system user $SERVICE_USER (shell $shell, no home)"
}

# protect_home is "yes" unless something is mounted at or under /home: the
# filesystem collector must still see those mounts, so they stay read-only.
protect_home() {
  if [ -r "$MOUNTS" ] && awk '$2 == "/home" || index($2, "/home/") == 1 { found = 1 } END { exit !found }' "$MOUNTS"; then
    echo read-only
  else
    echo yes
  fi
}

# exec_escape protects % and $ (systemd specifiers and variables) and
# backslashes in a value written to ExecStart=.
exec_escape() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//%/%%}"
  s="${s//\$/\$\$}"
  printf '%s' "$s"
}

unit_text() {
  local flags
  flags="--web.listen-address=$(exec_escape "$NODE_EXPORTER_LISTEN_ADDRESS")"
  if [ -n "$NODE_EXPORTER_EXTRA_FLAGS" ]; then
    flags+=" $(exec_escape "$NODE_EXPORTER_EXTRA_FLAGS")"
  fi
  cat <<UNIT
# Written by the prometheus-aws node_exporter installer; rerun it to change.
[Unit]
Description=Prometheus node_exporter
Documentation=https://github.com/prometheus/node_exporter
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
ExecStart=/usr/local/bin/node_exporter ${flags}
Restart=on-failure
RestartSec=5s

# Hardening: node_exporter only reads /proc and /sys and serves HTTP.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=$(protect_home)
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
RemoveIPC=yes
UMask=0077
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
UNIT
}

# install_unit writes the unit only when its text differs.
install_unit() {
  local tmp
  mkdir -p "$(dirname "$UNIT")"
  tmp="$(mktemp)"
  unit_text >"$tmp"
  if [ -f "$UNIT" ] && cmp -s "$tmp" "$UNIT"; then
    rm -f "$tmp"
    log "unit $UNIT unchanged"
    return 0
  fi
  install -m 0644 "$tmp" "$UNIT"
  rm -f "$tmp"
  log "wrote $UNIT"
  CHANGED+=" unit"
}

start_service() {
  if [ -n "$ROOT" ]; then
    log "test root: skipping systemctl (changed:${CHANGED:- nothing})"
    return 0
  fi
  local was_active=no
  if systemctl is-active --quiet node_exporter.service; then
    was_active=yes
  fi
  systemctl daemon-reload
  systemctl enable --now node_exporter.service
  if [ -n "$CHANGED" ] && [ "$was_active" = yes ]; then
    systemctl restart node_exporter.service
    log "restarted node_exporter (changed:$CHANGED)"
  fi
  log "node_exporter $NODE_EXPORTER_VERSION is running on $NODE_EXPORTER_LISTEN_ADDRESS (changed:${CHANGED:- nothing})"
}

main() {
  trap cleanup EXIT
  check_prerequisites
  check_settings
  ensure_user
  install_binary
  install_unit
  start_service
}

main "$@"
