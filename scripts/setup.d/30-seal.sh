#!/usr/bin/env bash
# berth-seal compatibility tests: the independent npm encoder @linode/kubeseal-encrypt, in .tools/npm.
# (The Python side, `cryptography`, comes from scripts/requirements/seal.txt via 00-python.sh.)
set -euo pipefail
dir="$BERTH_TOOLS/npm"
version="1.0.1"
pkg="$dir/node_modules/@linode/kubeseal-encrypt/package.json"
if [ -f "$pkg" ] && grep -q "\"version\": \"$version\"" "$pkg"; then
  exit 0
fi
command -v npm >/dev/null || { echo "30-seal.sh: npm is missing (Node.js 18+ is needed for the kubeseal-encrypt test)" >&2; exit 1; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || printf '{ "name": "berth-test-tools", "private": true }\n' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --silent "@linode/kubeseal-encrypt@$version"
