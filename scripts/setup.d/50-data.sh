#!/usr/bin/env bash
# Data-tier integration tests (crates/render/tests/data_*.rs): real servers from Debian's packages —
# PostgreSQL 15, PgBouncer, Patroni, etcd (standing in for the Kubernetes DCS), pgBackRest,
# barman-cloud, and Redis/Sentinel for the Redis tests. moto (the S3 store for backups) comes from
# scripts/requirements/data.txt through 00-python.sh. Needs root for apt-get; quick when installed.
set -euo pipefail
pkgs=(postgresql postgresql-15 postgresql-client-15 pgbouncer patroni etcd-server etcd-client
      pgbackrest barman-cli-cloud redis-server redis-sentinel redis-tools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "50-data.sh: needs root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: install the packages without starting their system services (the tests start
  # their own servers on loopback ports).
  prc=/usr/sbin/policy-rc.d
  had_prc=0; [ -e "$prc" ] && had_prc=1
  [ $had_prc = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ $had_prc = 1 ] || rm -f "$prc"
fi
# The servers refuse to run as root: the tests run them as this unprivileged user (runuser).
id berthdata >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin berthdata
# Links in .tools/bin so the tests find every binary in one place.
mkdir -p "$BERTH_TOOLS/bin"
pgbin=/usr/lib/postgresql/15/bin
for b in initdb pg_ctl postgres pg_basebackup pg_rewind pg_isready psql pg_controldata; do
  ln -sf "$pgbin/$b" "$BERTH_TOOLS/bin/$b"
done
for b in pgbouncer patroni patronictl etcd etcdctl pgbackrest barman-cloud-backup barman-cloud-restore \
         barman-cloud-wal-archive barman-cloud-wal-restore barman-cloud-backup-list redis-server redis-sentinel redis-cli; do
  # The system binary, not a link of ours (.tools/bin is first on PATH: a link to itself loops).
  p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$b" || true)
  [ -n "$p" ] && ln -sf "$p" "$BERTH_TOOLS/bin/$b"
done
