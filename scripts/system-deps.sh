#!/usr/bin/env bash
# Installs the Debian packages that the end-to-end tests drive as real components, if missing.
# Runs before `npm test` (pretest) and in CI. As root it installs them; otherwise it says what to
# install and carries on (tests that need a missing component say clearly that they skipped).
set -uo pipefail
PACKAGES=(tmux procps iproute2 strace chromium nginx openssh-server openssh-client openssl faketime redis-server)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; install these for the full test suite: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: run as root (or: sudo apt-get install -y ${missing[*]}) for the full test suite" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
