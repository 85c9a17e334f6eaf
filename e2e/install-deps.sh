#!/bin/sh
# System packages `npm run e2e` needs, from Debian's archive (the only package source besides npm):
#   podman, runc       run the container-level pod (`podman kube play`); runc because crun, podman's
#                      default, refuses these VMs' hybrid cgroup layout
#   catatonit          the init podman builds its pod's pause image around; only recommended by
#                      podman, so --no-install-recommends leaves it out and `kube play` fails
#   debootstrap        build the Debian base image offline (no image registry is reachable)
#   socat              the admin-socket one-liner the docs show, exercised by the e2e
# Run as root. Idempotent: already-installed packages are left alone.
set -eu
packages="podman runc catatonit debootstrap socat"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "e2e deps: all present ($packages)"
  exit 0
fi
echo "e2e deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
