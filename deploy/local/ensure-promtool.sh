#!/usr/bin/env bash
# Installs Debian's `prometheus` package for its `promtool` (the rules tests: `promtool check
# rules`, `promtool test rules`). Modelled on ensure-chromium.sh. Idempotent: does nothing
# when promtool is already on PATH. Needs root (or sudo) and Debian's package archive.
#
# The package also ships the Prometheus server, and its postinst would start it as a service
# listening on :9090. A policy-rc.d that denies every service start is in place for the length
# of the install (invoke-rc.d and deb-systemd-invoke both honour it), recommends (the node
# exporter, another daemon) are not installed, and afterwards we check that no prometheus
# server runs.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-promtool: promtool is missing and this user is not root (no sudo); install the Debian package 'prometheus'" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-promtool: promtool is missing and apt-get is not available; put promtool on PATH" >&2
  exit 1
fi

POLICY=/usr/sbin/policy-rc.d
SAVED=
if [ -e "$POLICY" ]; then
  SAVED=$(mktemp)
  $SUDO cp -p "$POLICY" "$SAVED"
fi
restore_policy() {
  if [ -n "$SAVED" ]; then $SUDO cp -p "$SAVED" "$POLICY"; rm -f "$SAVED"; else $SUDO rm -f "$POLICY"; fi
}
trap restore_policy EXIT
# 101: "action forbidden by policy" (invoke-rc.d's contract).
printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
$SUDO chmod 755 "$POLICY"

before=$(pgrep -x prometheus || true)
echo "ensure-promtool: installing Debian's prometheus (for promtool; its service is not started)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
# Another apt run (a colleague, a second test worker) holds the dpkg lock: wait for it.
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2

if ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-promtool: apt-get finished but promtool is still missing" >&2
  exit 1
fi
after=$(pgrep -x prometheus || true)
if [ "$after" != "$before" ]; then
  echo "ensure-promtool: a prometheus server is running after the install (pid $after); it was not meant to start" >&2
  exit 1
fi
