#!/usr/bin/env bash
# with-stack.sh [--keep] [--no-build] CMD...
#
# Builds (npm run build), makes sure the local stack is up, runs CMD and exits with CMD's
# exit code. Whatever it had to start is stopped again afterwards unless --keep is given;
# a stack that was already running is left alone. `npm test` is `with-stack.sh jest --runInBand`.
# --no-build skips the build (ts-jest compiles the tests itself; CI always builds).
#
# Several runs may share one .stack at once (two engineers, one checkout): each run holds a
# lease, and the parts a run started are stopped by the last run to leave, so a run never
# pulls the stack from under another one.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_SH="$ROOT/deploy/local/stack.sh"
STACK="${TRACKLANE_STACK_DIR:-$ROOT/.stack}"
RUN="$STACK/run"
LEASES="$RUN/leases"
AUTOSTARTED="$RUN/autostarted"   # components a with-stack run started, one per line
COMPONENTS=(redis kafka registry)

keep=0
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 ]]; then
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi

say() { printf 'with-stack: %s\n' "$*" >&2; }

# Runs "$@" while holding the with-stack lock (fd 8 is closed for stack.sh, so the
# long-lived processes it starts never inherit the lock).
locked() {
  mkdir -p "$LEASES"
  (
    if command -v flock >/dev/null 2>&1; then
      flock -w 600 8 || { say "could not take $RUN/with-stack.lock in 10 minutes"; exit 1; }
    fi
    "$@"
  ) 8>"$RUN/with-stack.lock"
}

lease_alive() { # a lease is a file named after the pid of a with-stack run
  local pid="${1##*/}" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # read, then match: `tr | grep -q` under pipefail is 141 when grep quits first
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *with-stack* ]]
}

acquire() {
  : >"$LEASES/$$"
  local c down=() started="$RUN/started.$$"
  for c in "${COMPONENTS[@]}"; do
    bash "$STACK_SH" status "$c" >/dev/null 2>&1 8>&- || down+=("$c")
  done
  ((${#down[@]} == 0)) && { say "stack already up"; return 0; }
  say "starting the local stack (${down[*]} down)"
  # stack.sh lists in $started the parts it really launched. Only those are ours to stop: a
  # part that status called down may be running but busy, and must never be stopped here.
  : >"$started"
  if ! TRACKLANE_WITH_STACK=1 TRACKLANE_STACK_STARTED="$started" bash "$STACK_SH" up 8>&-; then
    say "the local stack did not start (see the messages above)"
    while read -r c; do bash "$STACK_SH" stop "$c" 8>&- >/dev/null 2>&1 || true; done <"$started"
    rm -f "$LEASES/$$" "$started"
    return 1
  fi
  if ((keep)); then rm -f "$started"; return 0; fi
  while read -r c; do grep -qx "$c" "$AUTOSTARTED" 2>/dev/null || echo "$c" >>"$AUTOSTARTED"; done <"$started"
  rm -f "$started"
}

release() {
  rm -f "$LEASES/$$"
  if ((keep)); then
    rm -f "$AUTOSTARTED"
    say "--keep: the stack stays up ('bash deploy/local/stack.sh down' stops it)"
    return 0
  fi
  [[ -s "$AUTOSTARTED" ]] || return 0
  local lease others=()
  for lease in "$LEASES"/*; do
    [[ -e "$lease" ]] || continue
    if lease_alive "$lease"; then others+=("${lease##*/}"); else rm -f "$lease"; fi
  done
  if ((${#others[@]} > 0)); then
    say "leaving the stack up for the run(s) still using it (pid ${others[*]}); the last one stops it"
    return 0
  fi
  local c
  # registry first, Redis last: the reverse of the start order
  for c in registry kafka redis; do
    grep -qx "$c" "$AUTOSTARTED" && { bash "$STACK_SH" stop "$c" 8>&- || true; }
  done
  rm -f "$AUTOSTARTED"
}

cd "$ROOT" || exit 1
# A fresh clone has no node_modules: install exactly what package-lock.json pins, so the
# README's two commands are the whole set-up.
if [[ ! -d "$ROOT/node_modules" ]]; then
  say "installing dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund) || { rc=$?; say "npm ci failed (exit $rc)"; exit "$rc"; }
fi
if ((build)); then
  npm run build || { rc=$?; say "npm run build failed (exit $rc)"; exit "$rc"; }
fi

locked acquire || exit 2
cleanup() { trap - EXIT INT TERM HUP; locked release; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

"$@"
rc=$?
exit "$rc"
