#!/usr/bin/env bash
# Installs the chart tooling into a cache outside the repository and prints its bin directory:
#  - helm, pinned, built from source with `go install` (the Go module proxy is reachable here,
#    GitHub release downloads are not), with the version stamps helm's own release build sets;
#  - kubernetes-validate from PyPI, which ships the Kubernetes JSON schemas, so rendered manifests
#    are validated offline (kubeconform would download them from GitHub).
# Idempotent and safe to run concurrently: a second run only checks and prints the directory.
# Cache: ${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}. First run about 2-3 minutes (helm's modules
# and compilation), then well under a second.
set -euo pipefail
HELM_VERSION=v3.22.0
# Kubernetes version of helm v3.22.0's client-go (v0.37.0): what `helm template` assumes without
# --kube-version and what `helm lint` checks deprecations against, as in helm's release build.
HELM_K8S_MAJOR=1
HELM_K8S_MINOR=37
KUBERNETES_VALIDATE_VERSION=1.37.0

CACHE="${EVENTFLOW_CACHE:-$HOME/.cache/eventflow}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

# One installer at a time (npm test and a developer may start it together).
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.install.lock"
  flock 9
fi

helm_ok() { [ -x "$BIN/helm-$HELM_VERSION" ] && [ "$("$BIN/helm-$HELM_VERSION" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; }
if ! helm_ok; then
  command -v go >/dev/null || { echo "install-helm: Go is required to build helm (apt-get install golang, or https://go.dev/dl)" >&2; exit 1; }
  echo "install-helm: building helm $HELM_VERSION with go install (a few minutes the first time)" >&2
  started=$SECONDS
  build="$BIN/.build-$$"
  rm -rf "$build"
  CGO_ENABLED=0 GOBIN="$build" go install -trimpath -ldflags "-w -s \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$HELM_K8S_MAJOR \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$HELM_K8S_MAJOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$build/helm" "$BIN/helm-$HELM_VERSION"
  rm -rf "$build"
  helm_ok || { echo "install-helm: the built helm does not report $HELM_VERSION" >&2; exit 1; }
  echo "install-helm: helm $HELM_VERSION built in $((SECONDS - started)) s" >&2
fi
ln -sfn "helm-$HELM_VERSION" "$BIN/helm"

VENV="$CACHE/venv-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
# A venv cannot be moved (its scripts name its path), so a stamp marks a finished install.
if [ ! -f "$VENV/.installed" ] || [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  command -v python3 >/dev/null || { echo "install-helm: python3 (with venv) is required for kubernetes-validate" >&2; exit 1; }
  echo "install-helm: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
  touch "$VENV/.installed"
fi
ln -sfn "$VENV/bin/kubernetes-validate" "$BIN/kubernetes-validate"
echo "$BIN"
