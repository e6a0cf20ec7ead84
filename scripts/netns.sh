#!/usr/bin/env bash
# netns.sh CMD [ARGS...] — run CMD in a new, loopback-only network namespace.
#
# Everything that talks to the AWS emulator runs this way (make test, make
# demo): inside, the only interface is lo, so no request can leave the
# machine, whatever a misconfigured endpoint would have done. Already inside
# such a namespace, it just runs CMD. CMD is exec'd: its exit code is ours.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: scripts/netns.sh CMD [ARGS...]" >&2
  exit 2
fi

# The interfaces of *our* network namespace. /proc/net/dev follows the
# namespace of the reading process; /sys/class/net does not (it shows the
# namespace sysfs was mounted in, i.e. the host's, even inside unshare -n).
only_loopback() {
  local ifaces
  ifaces=$(tail -n +3 /proc/net/dev 2>/dev/null | cut -d: -f1 | tr -d ' ') || return 1
  [[ -n $ifaces && $ifaces == lo ]]
}

if only_loopback; then
  exec "$@"
fi

for tool in unshare ip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "netns.sh: $tool is missing (apt-get install util-linux iproute2, or run scripts/install-tools.sh)" >&2
    exit 1
  fi
done

# Root creates just the network namespace: file owners and uids stay real,
# which the local Fargate runner needs (internal/fargate: a root-owned bind
# mount must refuse uid 65534 as on Fargate). Anyone else gets -r, a user
# namespace mapping them to root, which is what lets an unprivileged user
# create the network namespace (-n); the runner refuses to run there.
flags=-rn
if [[ $(id -u) -eq 0 ]]; then
  flags=-n
fi
if ! err=$(unshare "$flags" true 2>&1); then
  echo "netns.sh: cannot create a network namespace: unshare $flags failed: $err" >&2
  echo "  Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1," >&2
  echo "  kernel.apparmor_restrict_unprivileged_userns=0), or run as root / with CAP_SYS_ADMIN." >&2
  echo "  In a container: run it with --privileged or a seccomp profile that permits unshare." >&2
  exit 1
fi
# shellcheck disable=SC2016 # $@ expands in the inner shell
exec unshare "$flags" bash -c 'ip link set lo up && exec "$@"' netns.sh "$@"
