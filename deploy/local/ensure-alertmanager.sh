#!/usr/bin/env bash
# Installs Debian's Alertmanager for the alert-forwarding test (test/integration/alerts-forward.test.ts)
# and prints the path of its binary. Idempotent: does nothing but print the path when an
# `alertmanager` or `prometheus-alertmanager` binary is already there. Needs root (or sudo)
# and Debian's package archive; prints why and exits non-zero otherwise.
#
# The package's service must never run: the test starts its own Alertmanager on a free
# loopback port, and the packaged default (9093) is the local Kafka's controller port. So
# the install goes through apt-install-quiet.sh (no service starts), the unit is disabled at
# boot, and afterwards the script checks that no Alertmanager process was left running.
set -euo pipefail

find_binary() {
  for b in alertmanager prometheus-alertmanager /usr/bin/prometheus-alertmanager /usr/bin/alertmanager; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
  done
  return 1
}

if found="$(find_binary)"; then
  echo "$found"
  exit 0
fi

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install-quiet.sh" prometheus-alertmanager

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"

# Nor at the next boot: the package enables its unit (a wants/ symlink) and its SysV script,
# which would start a system-wide Alertmanager on 9093. `systemctl disable` edits those links
# without needing a running systemd; update-rc.d covers hosts without systemctl.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable prometheus-alertmanager.service >&2 || true
elif command -v update-rc.d >/dev/null 2>&1; then
  $SUDO update-rc.d prometheus-alertmanager disable >&2 || true
fi

# Belt and braces: if anything started the packaged daemon anyway, stop it (it would hold 9093).
# Only the packaged daemon: no flags, or the package's /etc config (test instances use a temp one).
if pids="$(pgrep -f '^/usr/bin/prometheus-alertmanager$|^/usr/bin/prometheus-alertmanager .*/etc/prometheus/alertmanager\.yml' 2>/dev/null)"; then
  for pid in $pids; do
    echo "ensure-alertmanager: the package started Alertmanager (pid $pid); stopping it" >&2
    $SUDO kill "$pid" || true
  done
fi

if ! found="$(find_binary)"; then
  echo "ensure-alertmanager: apt-get finished but no alertmanager binary is on the PATH" >&2
  exit 1
fi
echo "$found"
