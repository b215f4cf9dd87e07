#!/usr/bin/env bash
# apt-install-quiet.sh PACKAGE...: installs Debian packages for the tests without starting
# any service they ship (the ensure-*.sh scripts call it when a tool is missing).
#
# Why: Debian's prometheus and prometheus-alertmanager start system-wide daemons from their
# postinst (on :9090 and :9093, the local Kafka's controller port). A policy-rc.d that denies
# every service start (invoke-rc.d and deb-systemd-invoke honour it; 101 = forbidden) is in
# place for the length of the install; an existing policy is kept aside and put back whatever
# happens. Recommends (e.g. the node exporter, another daemon) are not installed. Another apt
# run holding the dpkg lock is waited for. Needs root (or passwordless sudo) and apt-get.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: apt-install-quiet.sh PACKAGE..." >&2; exit 64; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "apt-install-quiet: not root and no sudo; install the Debian package(s) $* by hand" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install-quiet: apt-get is not available; install $* (or the tools they provide) by hand" >&2
  exit 1
fi

POLICY=/usr/sbin/policy-rc.d
SAVED=
if [ -e "$POLICY" ]; then
  SAVED="$(mktemp)"
  $SUDO cp -p "$POLICY" "$SAVED"
fi
restore_policy() {
  if [ -n "$SAVED" ]; then $SUDO cp -p "$SAVED" "$POLICY"; rm -f "$SAVED"; else $SUDO rm -f "$POLICY"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# apt-install-quiet.sh: no service starts during the install\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
$SUDO chmod 755 "$POLICY"

echo "apt-install-quiet: installing Debian's $* (services are not started)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >&2
