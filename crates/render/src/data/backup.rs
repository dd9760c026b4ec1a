//! Backups and their restores.
//!
//! CloudNativePG: the barman-cloud plugin's `ObjectStore` and a `ScheduledBackup` (in
//! [`super::postgres`]); the restore is a new `Cluster` bootstrapped with `recovery` — its
//! manifest ships in the ConfigMap `DEP-restore`, and a weekly restore check applies it to a
//! scratch cluster, queries it, and deletes it.
//!
//! Without an operator: WAL archiving with `barman-cloud-wal-archive` (the server's
//! `archive_command`), a daily base backup from a sidecar on the primary, and `restore.sh`
//! (restore the base backup before the target, replay WAL from the store to the target time)
//! used by the restore check CronJob and by a manual restore. The store is reached with the
//! pod's cloud identity (IRSA on the ServiceAccount), never static keys.

use super::generic::{self, hardened};
use super::postgres::{
    BARMAN_PLUGIN, CNPG_API, PGDATA, SCRIPTS_DIR, object_store, s3_egress, scripts_map, secret_env,
    server_selector,
};
use super::{dep_labels, obj, owner};
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::postgres::{Backup, Postgres, credentials_secret};
use berth_spec::{App, ResolvedDependency};
use serde_json::{Value, json};

/// Options every barman-cloud command gets.
pub fn cloud_options(b: &Backup) -> String {
    match &b.endpoint {
        Some(e) => format!("--cloud-provider aws-s3 --endpoint-url {e}"),
        None => "--cloud-provider aws-s3".into(),
    }
}

/// The server's `archive_command`.
pub fn archive_command(dep: &ResolvedDependency, b: &Backup) -> String {
    format!(
        "barman-cloud-wal-archive {} --gzip {} {} %p",
        cloud_options(b),
        b.destination,
        dep.name
    )
}

/// `RECOVERY WINDOW OF 7 DAYS` from `7d`.
pub fn retention_policy(b: &Backup) -> String {
    let (n, unit) = b.retention.split_at(b.retention.len() - 1);
    let unit = match unit {
        "w" => "WEEKS",
        "m" => "MONTHS",
        _ => "DAYS",
    };
    format!("RECOVERY WINDOW OF {n} {unit}")
}

/// Seconds after midnight UTC of a daily `S M H * * *` schedule.
fn daily_seconds(schedule: &str) -> u32 {
    let f: Vec<u32> = schedule
        .split_whitespace()
        .take(3)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.first().copied().unwrap_or(0)
        + 60 * f.get(1).copied().unwrap_or(0)
        + 3600 * f.get(2).copied().unwrap_or(0)
}

/// `backup.sh`: once a day at the scheduled time (UTC), on the primary only, a base backup and
/// the retention policy. `BACKUP_ONCE=1` takes one backup now and exits (runbooks, tests).
pub fn backup_script(dep: &ResolvedDependency, b: &Backup) -> String {
    let opts = cloud_options(b);
    format!(
        r#"#!/bin/sh
# berth: daily base backup of `{name}` to {dest} (primary only), then retention ({ret}).
set -eu
backup() {{
  if [ "$(psql -X -tAc 'select pg_is_in_recovery()')" != "f" ]; then
    echo "not the primary: no backup"; return 0
  fi
  # An immediate checkpoint: the backup starts now, not after a spread checkpoint (minutes).
  barman-cloud-backup {opts} --gzip --immediate-checkpoint "{dest}" "{name}"
  barman-cloud-backup-delete {opts} --retention-policy "{ret}" "{dest}" "{name}"
}}
if [ "${{BACKUP_ONCE:-}}" = 1 ]; then backup; exit 0; fi
while :; do
  now=$(( $(date -u +%s) % 86400 ))
  wait=$(( ({at} - now + 86400) % 86400 ))
  [ "$wait" -eq 0 ] && wait=86400
  sleep "$wait"
  backup || echo "backup failed" >&2
done
"#,
        name = dep.name,
        dest = b.destination,
        ret = retention_policy(b),
        at = daily_seconds(&b.schedule),
    )
}

/// `restore.sh`: restores into an empty `$PGDATA` the last base backup that ended before
/// `$RECOVERY_TARGET_TIME` (RFC 3339; latest when unset) and configures WAL replay from the
/// store up to that time, then promotion. Start postgres afterwards.
pub fn restore_script(dep: &ResolvedDependency, b: &Backup) -> String {
    let opts = cloud_options(b);
    format!(
        r#"#!/bin/sh
# berth: restore `{name}` from {dest} into $PGDATA (point in time: $RECOVERY_TARGET_TIME).
set -eu
: "${{PGDATA:?}}"
target="${{RECOVERY_TARGET_TIME:-}}"
id=$(barman-cloud-backup-list {opts} --format json "{dest}" "{name}" | TARGET="$target" python3 -c '
import datetime, json, os, sys
target = os.environ["TARGET"]
t = datetime.datetime.fromisoformat(target.replace("Z", "+00:00")).timestamp() if target else None
best = None
for b in json.load(sys.stdin)["backups_list"]:
    if b.get("status") != "DONE":
        continue
    end = datetime.datetime.strptime(b["end_time"], "%a %b %d %H:%M:%S %Y").replace(tzinfo=datetime.timezone.utc).timestamp()
    if (t is None or end < t) and (best is None or end > best[0]):
        best = (end, b["backup_id"])
if best is None:
    sys.exit("no base backup ended before the target time")
print(best[1])
')
echo "restoring base backup $id"
barman-cloud-restore {opts} "{dest}" "{name}" "$id" "$PGDATA"
# RFC 3339 (`2026-12-01T10:00:00Z`) as PostgreSQL reads a timestamptz.
[ -n "$target" ] && target=$(TARGET="$target" python3 -c '
import datetime, os
t = datetime.datetime.fromisoformat(os.environ["TARGET"].replace("Z", "+00:00"))
print(t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00"))
')
chmod 700 "$PGDATA"
{{
  echo "restore_command = 'barman-cloud-wal-restore {opts} {dest} {name} %f %p'"
  echo "recovery_target_action = 'promote'"
  [ -n "$target" ] && echo "recovery_target_time = '$target'"
  # Archive nothing from a restored copy into the source's store.
  echo "archive_mode = 'off'"
}} >> "$PGDATA/postgresql.auto.conf"
touch "$PGDATA/recovery.signal"
"#,
        name = dep.name,
        dest = b.destination,
    )
}

/// `check.sh` of the restore check: restore, start, wait for promotion, query every database.
pub fn check_script(pg: &Postgres) -> String {
    let dbs: Vec<String> = pg.databases.iter().map(|d| format!("'{d}'")).collect();
    format!(
        r#"#!/bin/sh
# berth: restore check — fails loudly when the latest backup cannot be restored and queried.
set -eu
scratch="${{SCRATCH:-/scratch}}"
export PGDATA="$scratch/pgdata"
sh {SCRIPTS_DIR}/restore.sh
# A throwaway instance on a socket only (no network), so local trust needs no password.
printf 'local all all trust\n' > "$scratch/hba.conf"
pg_ctl -D "$PGDATA" -w -t 3600 -o "-c listen_addresses='' -c unix_socket_directories=$scratch -c port=5432 -c hba_file=$scratch/hba.conf" start
until [ "$(psql -X -h "$scratch" -p 5432 -U postgres -d postgres -tAc 'select pg_is_in_recovery()')" = "f" ]; do sleep 2; done
n=$(psql -X -h "$scratch" -p 5432 -U postgres -d postgres -tAc "select count(*) from pg_database where datname in ({dbs})")
pg_ctl -D "$PGDATA" -m fast stop
if [ "$n" != "{count}" ]; then
  echo "RESTORE CHECK FAILED: $n of {count} databases restored" >&2
  exit 1
fi
echo "restore check passed: {count} databases restored"
"#,
        dbs = dbs.join(", "),
        count = pg.databases.len(),
    )
}

/// The backup sidecar in each server pod.
pub fn sidecar(dep: &ResolvedDependency, b: &Backup, image: &str, user: u32) -> Value {
    let _ = b;
    json!({
        "name": "backup",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", format!("{SCRIPTS_DIR}/backup.sh")],
        "env": [
            {"name": "PGHOST", "value": "127.0.0.1"},
            {"name": "PGPORT", "value": dep.port.to_string()},
            {"name": "PGUSER", "value": "postgres"},
            {"name": "PGDATABASE", "value": "postgres"},
            secret_env("PGPASSWORD", &credentials_secret(&dep.name, "superuser")),
            {"name": "PGDATA", "value": PGDATA},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi", "ephemeral-storage": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi", "ephemeral-storage": "1Gi"}},
        // Ready when it can reach the server it backs up.
        "readinessProbe": {"exec": {"command": ["pg_isready", "-h", "127.0.0.1", "-p", dep.port.to_string()]}, "periodSeconds": 10, "timeoutSeconds": 3},
        "securityContext": hardened(user),
        "volumeMounts": [
            {"name": "data", "mountPath": super::postgres::DATA_MOUNT, "readOnly": true},
            {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": true},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    })
}

fn check_name(dep: &ResolvedDependency) -> String {
    format!("{}-restore-check", dep.name)
}

/// The weekly restore check (own-pods topologies): a CronJob restoring the latest backup into a
/// scratch volume and querying it.
pub fn restore_check(
    app: &App,
    dep: &ResolvedDependency,
    pg: &Postgres,
    b: &Backup,
    image: &str,
) -> Vec<Object> {
    let name = check_name(dep);
    let mut labels = dep_labels(app, &name, "restore-check");
    labels.extend(selector_labels(app, &name));
    let user = if super::own_pods(pg.topology)
        && matches!(
            pg.topology,
            Some(berth_spec::dependency::postgres::Topology::Patroni { .. })
        ) {
        super::postgres::PATRONI_UID
    } else {
        super::postgres::PG_UID
    };
    let storage = dep
        .server
        .as_ref()
        .map(|s| s.storage.text.clone())
        .unwrap_or_else(|| "10Gi".into());
    let job = json!({
        "backoffLimit": 0,
        "activeDeadlineSeconds": 6 * 3600,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "Never",
                // Reads the store with the database's identity.
                "serviceAccountName": dep.name,
                "automountServiceAccountToken": false,
                "enableServiceLinks": false,
                "securityContext": generic::pod_security(user),
                "containers": [{
                    "name": "restore-check",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", format!("{SCRIPTS_DIR}/check.sh")],
                    "env": [{"name": "SCRATCH", "value": "/scratch"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "64Mi"}, "limits": {"cpu": "2", "memory": "1Gi", "ephemeral-storage": "1Gi"}},
                    "securityContext": hardened(user),
                    "volumeMounts": [
                        {"name": "scratch", "mountPath": "/scratch"},
                        {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": true},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                }],
                "volumes": [
                    {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}}}},
                    {"name": "scripts", "configMap": {"name": format!("{}-restore-check", dep.name)}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                ],
            },
        },
    });
    let cm = obj(
        app,
        "v1",
        "ConfigMap",
        &name,
        json!({
            "metadata": {"labels": labels},
            "data": {"restore.sh": restore_script(dep, b), "check.sh": check_script(pg)},
        }),
    );
    let cron = obj(
        app,
        "batch/v1",
        "CronJob",
        &name,
        json!({
            "metadata": {"labels": labels},
            "spec": {
                "schedule": b.restore_check,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 1,
                // Failed checks stay for their logs.
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"metadata": {"labels": labels}, "spec": job},
            },
        }),
    );
    let mut egress = Vec::new();
    egress.extend(s3_egress(pg));
    let policy = generic::policy(
        app,
        dep,
        &name,
        json!({"matchLabels": selector_labels(app, &name)}),
        vec![],
        &[],
        egress,
    );
    let _ = (scripts_map, server_selector, owner);
    vec![cm, cron, policy]
}

/// CloudNativePG: the restore manifest (a new Cluster bootstrapped from the object store) in the
/// ConfigMap `DEP-restore`, and a CronJob that applies it as a scratch cluster, waits for it,
/// queries it and deletes it.
pub fn cnpg_restore(
    app: &App,
    dep: &ResolvedDependency,
    pg: &Postgres,
    b: &Backup,
    image: &str,
) -> Vec<Object> {
    let scratch = format!("{}-restore", dep.name);
    let storage = dep
        .server
        .as_ref()
        .map(|s| s.storage.text.clone())
        .unwrap_or_else(|| "10Gi".into());
    let manifest = json!({
        "apiVersion": CNPG_API,
        "kind": "Cluster",
        "metadata": {"name": scratch, "namespace": app.namespace, "labels": dep_labels(app, &dep.name, "restore")},
        "spec": {
            "instances": 1,
            "imageName": image,
            "storage": {"size": storage},
            "bootstrap": {"recovery": {
                "source": "origin",
                // For a point in time: "recoveryTarget": {"targetTime": "2026-12-01T10:00:00Z"}
            }},
            "externalClusters": [{
                "name": "origin",
                "plugin": {"name": BARMAN_PLUGIN, "parameters": {"barmanObjectName": object_store(dep), "serverName": dep.name}},
            }],
            "serviceAccountTemplate": {"metadata": {"annotations": super::postgres::identity(pg)}},
        },
    });
    let text = serde_json::to_string_pretty(&manifest).expect("json");
    let name = check_name(dep);
    let mut labels = dep_labels(app, &name, "restore-check");
    labels.extend(selector_labels(app, &name));
    let first = &pg.databases[0];
    let script = format!(
        r#"#!/bin/sh
# berth: restore check — a scratch cluster from the latest backup, queried, then deleted.
set -eu
trap 'kubectl delete cluster {scratch} --ignore-not-found --wait=false' EXIT
kubectl apply -f /etc/berth/restore/cluster.json
kubectl wait cluster/{scratch} --for=condition=Ready --timeout=6h
kubectl exec {scratch}-1 -c postgres -- psql -X -tAc "select count(*) from pg_database where datname = '{first}'" | grep -qx 1 \
  || {{ echo "RESTORE CHECK FAILED: {first} missing in the restored cluster" >&2; exit 1; }}
echo "restore check passed"
"#
    );
    let _ = (b, owner(dep, first));
    let rbac = dep_labels(app, &name, "restore-check");
    vec![
        obj(
            app,
            "v1",
            "ConfigMap",
            &scratch,
            json!({
                "metadata": {"labels": dep_labels(app, &dep.name, "restore")},
                "data": {"cluster.json": text, "check.sh": script},
            }),
        ),
        obj(
            app,
            "v1",
            "ServiceAccount",
            &name,
            json!({"metadata": {"labels": rbac}, "automountServiceAccountToken": false}),
        ),
        obj(
            app,
            "rbac.authorization.k8s.io/v1",
            "Role",
            &name,
            json!({
                "metadata": {"labels": rbac},
                "rules": [
                    {"apiGroups": ["postgresql.cnpg.io"], "resources": ["clusters"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
                    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                ],
            }),
        ),
        obj(
            app,
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &name,
            json!({
                "metadata": {"labels": rbac},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": app.namespace}],
            }),
        ),
        obj(
            app,
            "batch/v1",
            "CronJob",
            &name,
            json!({
                "metadata": {"labels": labels},
                "spec": {
                    "schedule": b.restore_check,
                    "timeZone": "Etc/UTC",
                    "concurrencyPolicy": "Forbid",
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                        "backoffLimit": 0,
                        "activeDeadlineSeconds": 7 * 3600,
                        "template": {"metadata": {"labels": labels}, "spec": {
                            "restartPolicy": "Never",
                            "serviceAccountName": name,
                            "automountServiceAccountToken": true,
                            "enableServiceLinks": false,
                            "securityContext": generic::pod_security(65532),
                            "containers": [{
                                "name": "restore-check",
                                "image": KUBECTL_IMAGE,
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sh", "/etc/berth/restore/check.sh"],
                                "resources": {"requests": {"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi", "ephemeral-storage": "1Gi"}},
                                "securityContext": hardened(65532),
                                "volumeMounts": [{"name": "restore", "mountPath": "/etc/berth/restore", "readOnly": true}, {"name": "tmp", "mountPath": "/tmp"}],
                            }],
                            "volumes": [{"name": "restore", "configMap": {"name": scratch}}, {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                        }},
                    }},
                },
            }),
        ),
        generic::policy(
            app,
            dep,
            &name,
            json!({"matchLabels": selector_labels(app, &name)}),
            vec![],
            &[],
            vec![super::postgres::api_egress()],
        ),
    ]
}

/// An image with a shell and kubectl for the CloudNativePG restore check.
pub const KUBECTL_IMAGE: &str = "docker.io/alpine/k8s:1.33.4";
