#!/usr/bin/env bash
# Debian's prometheus package for promtool: `promtool check rules` and `promtool test rules` judge
# the PrometheusRules `berth render --format monitoring` writes. Idempotent: nothing to do when
# promtool runs.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && promtool --version >/dev/null 2>&1; then
  exit 0
fi
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
# Only the package's binaries are needed; its service is not started.
apt_install_missing 61-prometheus.sh prometheus
promtool --version >&2
