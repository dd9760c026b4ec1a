#!/usr/bin/env bash
# config-sync integration tests for az:// sources: Azurite, the official Azure Storage emulator
# (npm package, pinned), in its own prefix $BERTH_TOOLS/azurite; the tests run
# $BERTH_TOOLS/bin/azurite-blob. Idempotent: does nothing when the pinned version is installed.
set -euo pipefail
tools="${BERTH_TOOLS:-$(cd "$(dirname "$0")/../.." && pwd)/.tools}"
dir="$tools/azurite"
version="3.37.0"
pkg="$dir/node_modules/azurite/package.json"
if ! { [ -f "$pkg" ] && grep -q "\"version\": \"$version\"" "$pkg"; }; then
  command -v npm >/dev/null || { echo "45-azurite.sh: npm is missing (Node.js 18+ is needed for Azurite)" >&2; exit 1; }
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || printf '{ "name": "berth-test-azurite", "private": true }\n' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --silent "azurite@$version"
fi
mkdir -p "$tools/bin"
ln -sfn "../azurite/node_modules/.bin/azurite-blob" "$tools/bin/azurite-blob"
