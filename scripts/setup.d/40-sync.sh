#!/usr/bin/env bash
# config-sync integration tests: s3s-fs, a local S3 server (pinned: 0.14.1 is the newest that builds
# on rustc 1.95; ~3.5 min to build, cached in $BERTH_TOOLS/bin). moto comes from
# scripts/requirements/sync.txt through 00-python.sh.
set -euo pipefail
bin="$BERTH_TOOLS/bin/s3s-fs"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "0.14.1"; then
  exit 0
fi
cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$BERTH_TOOLS"
