#!/usr/bin/env bash
# Installs the pinned helm (built from source with the Go toolchain: the module proxy is reachable,
# GitHub release downloads are not) and kubernetes-validate (PyPI; ships the Kubernetes JSON
# schemas, so rendered manifests are validated offline). Idempotent; prints the bin directory.
set -euo pipefail
HELM_VERSION=v3.22.0
KUBERNETES_VALIDATE_VERSION=1.37.0
CACHE="${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

if [ ! -x "$BIN/helm-$HELM_VERSION" ]; then
  command -v go >/dev/null || { echo "install-helm: Go is required to build helm" >&2; exit 1; }
  echo "install-helm: building helm $HELM_VERSION with go install (a few minutes the first time)" >&2
  GOBIN="$BIN/.build" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$BIN/.build/helm" "$BIN/helm-$HELM_VERSION"
fi
ln -sfn "helm-$HELM_VERSION" "$BIN/helm"

VENV="$CACHE/venv-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  echo "install-helm: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI" >&2
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
fi
ln -sfn "$VENV/bin/kubernetes-validate" "$BIN/kubernetes-validate"
echo "$BIN"
