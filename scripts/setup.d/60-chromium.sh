#!/usr/bin/env bash
# Debian's Chromium, for the test that opens `berth graph`'s SVG headless and screenshots it.
# Idempotent: nothing to do when /usr/bin/chromium runs.
set -euo pipefail
if /usr/bin/chromium --version >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >&2
/usr/bin/chromium --version >&2
