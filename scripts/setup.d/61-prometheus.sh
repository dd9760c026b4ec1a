#!/usr/bin/env bash
# Debian's prometheus package for promtool: `promtool check rules` and `promtool test rules` judge
# the PrometheusRules `berth render --format monitoring` writes. Idempotent: nothing to do when
# promtool runs.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && promtool --version >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
# Only the package's binaries are needed; its service is not started in a container.
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2
promtool --version >&2
