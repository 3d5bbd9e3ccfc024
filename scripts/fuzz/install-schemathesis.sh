#!/usr/bin/env bash
# Installs schemathesis (PyPI, pinned) into a venv cached outside the repository and prints the
# path of its `st` command. Idempotent and safe to run concurrently: a second run only checks.
# Cache: ${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}. First run about half a minute, then instant.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5

CACHE="${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}"
mkdir -p "$CACHE"
# One installer at a time (npm test and a developer may start it together).
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.install-schemathesis.lock"
  flock 9
fi

VENV="$CACHE/venv-schemathesis-$SCHEMATHESIS_VERSION"
# A venv cannot be moved (its scripts name its path), so a stamp marks a finished install.
if [ ! -f "$VENV/.installed" ] || [ ! -x "$VENV/bin/st" ]; then
  command -v python3 >/dev/null || { echo "install-schemathesis: python3 (with venv) is required" >&2; exit 1; }
  echo "install-schemathesis: installing schemathesis $SCHEMATHESIS_VERSION from PyPI" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  touch "$VENV/.installed"
fi
echo "$VENV/bin/st"
