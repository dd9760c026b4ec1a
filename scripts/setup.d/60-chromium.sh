#!/usr/bin/env bash
# Debian's Chromium, for the test that opens `berth graph`'s SVG headless and screenshots it.
# Idempotent: nothing to do when /usr/bin/chromium runs.
set -euo pipefail
if /usr/bin/chromium --version >/dev/null 2>&1; then
  exit 0
fi
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
apt_install_missing 60-chromium.sh chromium
/usr/bin/chromium --version >&2
