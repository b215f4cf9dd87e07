#!/usr/bin/env bash
# Installs Debian's `prometheus` package for its `promtool` (the rules tests: `promtool check
# rules`, `promtool test rules`). Idempotent: does nothing
# when promtool is already on PATH. Needs root (or sudo) and Debian's package archive.
#
# The package also ships the Prometheus server, and its postinst would start it as a service
# listening on :9090: apt-install-quiet.sh installs it with service starts denied and without
# recommends (the node exporter), and afterwards we check that no prometheus server runs.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi

before=$(pgrep -x prometheus || true)
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install-quiet.sh" prometheus

if ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-promtool: apt-get finished but promtool is still missing" >&2
  exit 1
fi
after=$(pgrep -x prometheus || true)
if [ "$after" != "$before" ]; then
  echo "ensure-promtool: a prometheus server is running after the install (pid $after); it was not meant to start" >&2
  exit 1
fi
