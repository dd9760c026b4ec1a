#!/usr/bin/env bash
# Data-tier integration tests (crates/render/tests/data_*.rs): real servers from Debian's packages —
# PostgreSQL 15, PgBouncer, Patroni, etcd (standing in for the Kubernetes DCS), pgBackRest,
# barman-cloud, and Redis/Sentinel for the Redis tests. moto (the S3 store for backups) comes from
# scripts/requirements/data.txt through 00-python.sh. Needs root for apt-get; quick when installed.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
apt_install_missing 50-data.sh postgresql postgresql-15 postgresql-client-15 pgbouncer patroni \
  etcd-server etcd-client pgbackrest barman-cli-cloud redis-server redis-sentinel redis-tools
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
