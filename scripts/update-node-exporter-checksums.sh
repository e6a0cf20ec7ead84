#!/usr/bin/env bash
# update-node-exporter-checksums.sh [VERSION] — set the pinned SHA-256 sums of
# the node_exporter release tarballs (amd64, arm64) in the user-data script to
# those the release publishes, for VERSION (default: the version the script
# pins now). Renovate runs it after bumping NODE_EXPORTER_VERSION
# (postUpgradeTasks, renovate.json); run it by hand when Renovate cannot
# (docs/CI.md).
#
#   SHA256SUMS_FILE=path   use this sha256sums.txt instead of downloading it
#   NODE_EXPORTER_SCRIPT   the file to update [constructs/userdata/node_exporter.sh]
set -euo pipefail
cd "$(dirname "$0")/.."

script=${NODE_EXPORTER_SCRIPT:-constructs/userdata/node_exporter.sh}
[[ -f $script ]] || { echo "update-node-exporter-checksums: $script not found" >&2; exit 2; }
version=${1:-$(sed -n 's/^NODE_EXPORTER_VERSION="\(.*\)"$/\1/p' "$script")}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
  echo "update-node-exporter-checksums: version '$version' is not X.Y.Z (pass it, or fix NODE_EXPORTER_VERSION in $script)" >&2
  exit 2
}

if [[ -n ${SHA256SUMS_FILE:-} ]]; then
  sums=$(cat "$SHA256SUMS_FILE")
else
  url="https://github.com/prometheus/node_exporter/releases/download/v$version/sha256sums.txt"
  sums=$(curl -fsSL --retry 3 "$url") || { echo "update-node-exporter-checksums: cannot download $url" >&2; exit 1; }
fi

sum_for() { # arch
  local sum
  sum=$(awk -v f="node_exporter-$version.linux-$1.tar.gz" '$2 == f || $2 == "*" f { print $1 }' <<<"$sums")
  [[ $sum =~ ^[0-9a-f]{64}$ ]] || {
    echo "update-node-exporter-checksums: no SHA-256 for node_exporter-$version.linux-$1.tar.gz in sha256sums.txt" >&2
    exit 1
  }
  echo "$sum"
}
amd64=$(sum_for amd64)
arm64=$(sum_for arm64)

sed -i \
  -e "s/^NODE_EXPORTER_VERSION=\".*\"$/NODE_EXPORTER_VERSION=\"$version\"/" \
  -e "s/^NODE_EXPORTER_SHA256_AMD64=\".*\"$/NODE_EXPORTER_SHA256_AMD64=\"$amd64\"/" \
  -e "s/^NODE_EXPORTER_SHA256_ARM64=\".*\"$/NODE_EXPORTER_SHA256_ARM64=\"$arm64\"/" \
  "$script"
for line in "NODE_EXPORTER_SHA256_AMD64=\"$amd64\"" "NODE_EXPORTER_SHA256_ARM64=\"$arm64\""; do
  if ! grep -qx "$line" "$script"; then
    echo "update-node-exporter-checksums: $script lacks the line ${line%%=*}=\"...\" to update" >&2
    exit 1
  fi
done
echo "update-node-exporter-checksums: $script pins node_exporter $version (amd64 $amd64, arm64 $arm64)"
