#!/usr/bin/env bash
# netns.sh CMD [ARGS...] — run CMD in a new, loopback-only network namespace.
#
# Everything that talks to the AWS emulator runs this way (make test, make
# demo): inside, the only interface is lo, so no request can leave the
# machine, whatever a misconfigured endpoint would have done. Already inside
# such a namespace, it just runs CMD.
set -euo pipefail

# /sys/class/net shows the namespace sysfs was mounted in; ip asks netlink.
only_loopback() {
  [[ $(ip -o link show | awk -F': ' '{print $2}' | grep -cv '^lo$') -eq 0 ]]
}

if only_loopback; then
  exec "$@"
fi

if ! unshare -rn true 2>/dev/null; then
  echo "netns.sh: cannot create a network namespace (unshare -rn failed)." >&2
  echo "  Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run as root." >&2
  exit 1
fi
exec unshare -rn bash -c 'ip link set lo up && exec "$@"' netns "$@"
