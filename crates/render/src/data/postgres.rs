//! In-cluster PostgreSQL per topology.
//!
//! - `ha: false`: one instance in a StatefulSet, started by berth's `start.sh` (initdb on first
//!   start, then `postgres`), a writer Service, and a role setup Job. **Manual promotion only**:
//!   nothing fails over; a drain takes it down (no PDB that would block the drain).
//! - `ha: { operator: none }`: Patroni in a StatefulSet with the Kubernetes API as its DCS and
//!   `use_endpoints`, so the selector-less writer Service always points at the lock holder.
//! - `ha: { operator: cloudnative-pg }`: CloudNativePG `Cluster`, `Database`s, `Pooler`,
//!   `ObjectStore` and `ScheduledBackup`.

use super::generic::{self, ServerPod, hardened, resources, user_peers};
use super::{DATA_WAVE, SETUP_WAVE, dep_labels, obj, owner, pgbouncer, service_account, with_wave};
use crate::labels::selector_labels;
use crate::{Object, Warning};
use berth_spec::dependency::postgres::{Postgres, Topology, credentials_secret, object_part};
use berth_spec::{App, ResolvedDependency, Tier};
use serde_json::{Value, json};

pub const CNPG_API: &str = "postgresql.cnpg.io/v1";
pub const BARMAN_API: &str = "barmancloud.cnpg.io/v1";
pub const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";
/// The namespace the CloudNativePG operator runs in (its default install).
pub const CNPG_NAMESPACE: &str = "cnpg-system";
/// CloudNativePG's operand images carry PostgreSQL and barman-cloud (`-system-` variants).
pub fn cnpg_image(major: &str) -> String {
    format!("ghcr.io/cloudnative-pg/postgresql:{major}-system-bookworm")
}
pub const PATRONI_IMAGE: &str = "ghcr.io/zalando/spilo-16:3.3-p3";
/// UID of `postgres` in CloudNativePG's images.
pub const PG_UID: u32 = 26;
pub const PATRONI_UID: u32 = 101;
pub const PGDATA: &str = "/var/lib/postgresql/data/pgdata";
pub const DATA_MOUNT: &str = "/var/lib/postgresql/data";
pub const SCRIPTS_DIR: &str = "/etc/berth/postgres";
pub const PATRONI_PORT: u16 = 8008;

pub fn server_selector(app: &App, dep: &ResolvedDependency, topology: Option<Topology>) -> Value {
    match topology {
        Some(Topology::CloudNativePg { .. }) => {
            json!({"matchLabels": {"cnpg.io/cluster": dep.name}})
        }
        _ => json!({"matchLabels": selector_labels(app, &dep.name)}),
    }
}

pub fn pooler_selector(app: &App, dep: &ResolvedDependency) -> Value {
    let pg = dep.postgres.as_ref().expect("postgres");
    match pg.topology {
        Some(Topology::CloudNativePg { .. }) => {
            json!({"matchLabels": {"cnpg.io/poolerName": pooler_name(dep)}})
        }
        _ => json!({"matchLabels": selector_labels(app, &pooler_name(dep))}),
    }
}

pub fn pooler_name(dep: &ResolvedDependency) -> String {
    format!("{}-pooler", dep.name)
}

pub fn scripts_map(dep: &ResolvedDependency) -> String {
    format!("{}-scripts", dep.name)
}

pub fn objects(app: &App, dep: &ResolvedDependency, warnings: &mut Vec<Warning>) -> Vec<Object> {
    let pg = dep.postgres.as_ref().expect("postgres");
    let mut out = match pg.topology.expect("in-cluster") {
        Topology::Single => {
            if app.tier != Tier::Dev {
                warnings.push(Warning {
                    path: format!("dependencies.{}.ha", dep.name),
                    message: format!("`{}` is one PostgreSQL instance in {}: manual promotion only, and a node drain takes it down; use `ha: {{ instances: 3 }}`", dep.name, app.env),
                });
            }
            single(app, dep, pg)
        }
        Topology::Patroni { instances } => {
            if pg.backup.is_some() && server_image(dep, pg, true) == PATRONI_IMAGE {
                warnings.push(Warning {
                    path: format!("dependencies.{}.image", dep.name),
                    message: "Patroni with backups needs an image with patroni and barman-cloud (the default Spilo image has WAL-G only); set `image:`".into(),
                });
            }
            super::patroni::objects(app, dep, pg, instances)
        }
        Topology::CloudNativePg { instances } => cnpg(app, dep, pg, instances),
    };
    if pg.pooler.is_some() && !matches!(pg.topology, Some(Topology::CloudNativePg { .. })) {
        out.extend(pgbouncer::objects(app, dep, pg));
    }
    if let Some(b) = &pg.backup
        && !matches!(pg.topology, Some(Topology::CloudNativePg { .. }))
    {
        out.extend(super::backup::restore_check(
            app,
            dep,
            pg,
            b,
            &server_image(
                dep,
                pg,
                matches!(pg.topology, Some(Topology::Patroni { .. })),
            ),
        ));
    }
    out
}

/// The image of an own-pods topology: the spec's, else one with PostgreSQL and barman-cloud.
pub fn server_image(dep: &ResolvedDependency, pg: &Postgres, patroni: bool) -> String {
    let s = dep.server.as_ref().expect("in-cluster");
    // The catalogue default (`postgres:N`) is replaced: berth starts the server itself and needs
    // barman-cloud in the image for WAL archiving.
    if s.image.starts_with("postgres:") {
        if patroni {
            PATRONI_IMAGE.into()
        } else {
            cnpg_image(&pg.major)
        }
    } else {
        s.image.clone()
    }
}

/// PostgreSQL settings berth sets (both own-pods topologies).
pub fn parameters(dep: &ResolvedDependency, pg: &Postgres) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("listen_addresses".into(), "*".into()),
        ("port".into(), dep.port.to_string()),
        ("password_encryption".into(), "scram-sha-256".into()),
        ("wal_level".into(), "replica".into()),
        ("wal_log_hints".into(), "on".into()),
        ("max_wal_senders".into(), "10".into()),
        ("max_replication_slots".into(), "10".into()),
        // A gone replica must not fill the disk with retained WAL.
        ("max_slot_wal_keep_size".into(), "4GB".into()),
        ("hot_standby".into(), "on".into()),
    ];
    if let Some(b) = &pg.backup {
        p.push(("archive_mode".into(), "on".into()));
        p.push((
            "archive_command".into(),
            super::backup::archive_command(dep, b),
        ));
        // A WAL segment at least every 5 minutes: the recovery point objective.
        p.push(("archive_timeout".into(), "300".into()));
    }
    p
}

/// `start.sh`: initdb on an empty volume (checksums on, SCRAM), then exec postgres with berth's
/// settings. Reads `PGDATA` and the superuser password from the environment.
pub fn start_script(dep: &ResolvedDependency, pg: &Postgres) -> String {
    let params: Vec<String> = parameters(dep, pg)
        .iter()
        .map(|(k, v)| format!("  -c {k}={}", sh_quote(v)))
        .collect();
    format!(
        r#"#!/bin/sh
# berth: start PostgreSQL (one instance; manual promotion only).
set -eu
: "${{PGDATA:?}}" "${{POSTGRES_PASSWORD:?}}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --data-checksums --auth-local=peer --auth-host=scram-sha-256 --username=postgres --pwfile="$pwfile" -D "$PGDATA"
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\nhost replication all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
fi
# Settings after berth's ("$@") win: the last -c of a name counts.
exec postgres -D "$PGDATA" \
{} \
  "$@"
"#,
        params.join(" \\\n")
    )
}

pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:=%*".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `setup.sql`: every database's owner role (with the password from its Secret) and the
/// database itself, idempotent; run by psql with one `pw_ROLE` variable per role, so a password
/// is never on a command line or in a log.
pub fn setup_sql(pg: &Postgres) -> String {
    let mut sql = String::from(
        "-- berth: one owner role per database (idempotent; passwords from psql variables)\n\\set ON_ERROR_STOP on\n",
    );
    for db in &pg.databases {
        sql.push_str(&format!(
            "SELECT format('CREATE ROLE %I LOGIN', '{db}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{db}') \\gexec\n\
             ALTER ROLE \"{db}\" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_{db}';\n\
             SELECT format('CREATE DATABASE %I OWNER %I', '{db}', '{db}') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n\
             REVOKE ALL ON DATABASE \"{db}\" FROM PUBLIC;\n\
             GRANT ALL ON DATABASE \"{db}\" TO \"{db}\";\n"
        ));
    }
    sql
}

/// The shell command of the setup Job (also what the tests run): waits for the writer, then
/// psql with one variable per role password, read from the environment.
pub fn setup_command(pg: &Postgres) -> String {
    let vars: Vec<String> = pg
        .databases
        .iter()
        .map(|db| format!("-v pw_{db}=\"$PW_{}\"", db.to_ascii_uppercase()))
        .collect();
    format!(
        "until pg_isready -q; do sleep 2; done; psql -X -q -v ON_ERROR_STOP=1 {} -f {SCRIPTS_DIR}/setup.sql",
        vars.join(" ")
    )
}

fn scripts(
    app: &App,
    dep: &ResolvedDependency,
    pg: &Postgres,
    extra: Vec<(&str, String)>,
) -> Object {
    let mut data = serde_json::Map::new();
    data.insert("setup.sql".into(), json!(setup_sql(pg)));
    if let Some(b) = &pg.backup {
        data.insert(
            "backup.sh".into(),
            json!(super::backup::backup_script(dep, b)),
        );
        data.insert(
            "restore.sh".into(),
            json!(super::backup::restore_script(dep, b)),
        );
    }
    for (k, v) in extra {
        data.insert(k.into(), json!(v));
    }
    obj(
        app,
        "v1",
        "ConfigMap",
        &scripts_map(dep),
        with_wave(
            json!({
                "metadata": {"labels": dep_labels(app, &dep.name, "database")},
                "data": data,
            }),
            DATA_WAVE - 1,
        ),
    )
}

pub(crate) fn secret_env(name: &str, secret: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": "password", "optional": false}}})
}

/// The role setup Job: a Sync hook after the server, before the migrations.
pub(crate) fn setup_job(
    app: &App,
    dep: &ResolvedDependency,
    pg: &Postgres,
    image: &str,
    user: u32,
) -> Object {
    let superuser = credentials_secret(&dep.name, "superuser");
    let mut env = vec![
        json!({"name": "PGHOST", "value": pg.writer}),
        json!({"name": "PGPORT", "value": dep.port.to_string()}),
        json!({"name": "PGUSER", "value": "postgres"}),
        json!({"name": "PGDATABASE", "value": "postgres"}),
        secret_env("PGPASSWORD", &superuser),
    ];
    for db in &pg.databases {
        env.push(secret_env(
            &format!("PW_{}", db.to_ascii_uppercase()),
            &owner(dep, db).secret,
        ));
    }
    let name = format!("{}-setup", dep.name);
    let mut labels = dep_labels(app, &name, "database-setup");
    labels.extend(selector_labels(app, &name));
    obj(
        app,
        "batch/v1",
        "Job",
        &name,
        json!({
            "metadata": {"labels": labels, "annotations": super::migrate::hook_annotations(SETUP_WAVE)},
            "spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 600,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "restartPolicy": "Never",
                        "automountServiceAccountToken": false,
                        "enableServiceLinks": false,
                        "securityContext": generic::pod_security(user),
                        "containers": [{
                            "name": "setup",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", setup_command(pg)],
                            "env": env,
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "1Gi"}},
                            "securityContext": hardened(user),
                            "volumeMounts": [
                                {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": true},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }],
                        "volumes": [
                            {"name": "scripts", "configMap": {"name": scripts_map(dep)}},
                            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        ],
                    },
                },
            },
        }),
    )
}

/// Policy peers of the setup Job (it connects to the writer).
pub fn setup_peer(app: &App, dep: &ResolvedDependency) -> Value {
    json!({"podSelector": {"matchLabels": selector_labels(app, &format!("{}-setup", dep.name))}})
}

/// Who may connect to the server pods: users (or the pooler), the setup Job, migration Jobs,
/// and the other instances.
pub fn server_peers(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Vec<Value> {
    let mut peers = if pg.pooler.is_some() {
        // Users reach the pooler; migrations still connect directly.
        let mut p = vec![json!({"podSelector": pooler_selector(app, dep)})];
        p.extend(user_peers(app, dep).into_iter().filter(|peer| {
            let name = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                .as_str()
                .unwrap_or_default();
            app.services.iter().all(|s| s.name != name)
        }));
        p
    } else {
        user_peers(app, dep)
    };
    if super::own_pods(pg.topology) {
        peers.push(setup_peer(app, dep));
    }
    peers.push(json!({"podSelector": server_selector(app, dep, pg.topology)}));
    peers
}

pub fn api_egress() -> Value {
    // The API server has no pod labels; its address is cluster-specific.
    json!({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]})
}

pub fn s3_egress(pg: &Postgres) -> Option<Value> {
    let b = pg.backup.as_ref()?;
    let port = b
        .endpoint
        .as_deref()
        .and_then(|e| {
            e.trim_end_matches('/')
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
        })
        .unwrap_or(443);
    Some(
        json!({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": port, "protocol": "TCP"}]}),
    )
}

fn single(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Vec<Object> {
    let image = server_image(dep, pg, false);
    let superuser = credentials_secret(&dep.name, "superuser");
    let ready = json!(["pg_isready", "-h", "127.0.0.1", "-p", dep.port.to_string()]);
    let mut containers = vec![json!({
        "name": "postgres",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", format!("{SCRIPTS_DIR}/start.sh")],
        "ports": [{"name": "postgresql", "containerPort": dep.port, "protocol": "TCP"}],
        "env": [
            {"name": "PGDATA", "value": PGDATA},
            secret_env("POSTGRES_PASSWORD", &superuser),
        ],
        "resources": resources(dep),
        "readinessProbe": {"exec": {"command": ready}, "periodSeconds": 5, "timeoutSeconds": 3},
        "livenessProbe": {"exec": {"command": ready}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
        "startupProbe": {"exec": {"command": ready}, "periodSeconds": 5, "failureThreshold": 120},
        "securityContext": hardened(PG_UID),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": true},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    })];
    if let Some(b) = &pg.backup {
        containers.push(super::backup::sidecar(dep, b, &image, PG_UID));
    }
    let mut out = vec![
        service_account(
            app,
            &dep.name,
            json!(dep_labels(app, &dep.name, "database")),
            Some(identity(pg)),
            false,
        ),
        scripts(app, dep, pg, vec![("start.sh", start_script(dep, pg))]),
        generic::service(
            app,
            dep,
            &format!("{}-headless", dep.name),
            true,
            &[("postgresql".into(), dep.port)],
        ),
        generic::service(
            app,
            dep,
            &dep.name,
            false,
            &[("postgresql".into(), dep.port)],
        ),
    ];
    let mut labels = dep_labels(app, &dep.name, "database");
    labels.insert("berth.dev/failover".into(), "manual".into());
    let mut sts = generic::statefulset(
        app,
        dep,
        ServerPod {
            replicas: 1,
            service_name: format!("{}-headless", dep.name),
            containers,
            volumes: vec![
                json!({"name": "scripts", "configMap": {"name": scripts_map(dep)}}),
                json!({"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}),
                json!({"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}),
            ],
            service_account: None,
            user: PG_UID,
            labels,
        },
    );
    super::exporters::attach(app, dep, &mut sts);
    out.push(sts);
    let egress: Vec<Value> = s3_egress(pg).into_iter().collect();
    out.push(generic::policy(
        app,
        dep,
        &dep.name,
        server_selector(app, dep, pg.topology),
        server_peers(app, dep, pg),
        &[dep.port],
        egress,
    ));
    out.push(setup_job(app, dep, pg, &image, PG_UID));
    out.push(setup_policy(app, dep, pg));
    out
}

pub fn setup_policy(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Object {
    let name = format!("{}-setup", dep.name);
    generic::policy(
        app,
        dep,
        &name,
        json!({"matchLabels": selector_labels(app, &name)}),
        vec![],
        &[],
        vec![
            json!({"to": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}]}),
        ],
    )
}

/// The ServiceAccount annotation that gives the pods the backup identity (IRSA).
pub fn identity(pg: &Postgres) -> Value {
    match pg.backup.as_ref().and_then(|b| b.identity.as_ref()) {
        Some(arn) => json!({"eks.amazonaws.com/role-arn": arn}),
        None => json!({}),
    }
}

pub(crate) fn scripts_for(
    app: &App,
    dep: &ResolvedDependency,
    pg: &Postgres,
    extra: Vec<(&str, String)>,
) -> Object {
    scripts(app, dep, pg, extra)
}

fn cnpg(app: &App, dep: &ResolvedDependency, pg: &Postgres, instances: u32) -> Vec<Object> {
    let s = dep.server.as_ref().expect("in-cluster");
    // The plugin's sidecar brings barman-cloud: the operand image need not.
    let image = if s.image.starts_with("postgres:") {
        format!(
            "ghcr.io/cloudnative-pg/postgresql:{}-standard-bookworm",
            pg.major
        )
    } else {
        s.image.clone()
    };
    let first = &pg.databases[0];
    let roles: Vec<Value> = pg.databases[1..]
        .iter()
        .map(|db| json!({"name": db, "ensure": "present", "login": true, "passwordSecret": {"name": owner(dep, db).secret}}))
        .collect();
    let mut spec = json!({
        "instances": instances,
        "imageName": image,
        "primaryUpdateStrategy": "unsupervised",
        // Updates switch the primary over to an updated replica instead of restarting it.
        "primaryUpdateMethod": "switchover",
        "enablePDB": true,
        "enableSuperuserAccess": false,
        "storage": {"size": s.storage.text},
        "resources": resources(dep),
        "affinity": {"enablePodAntiAffinity": true, "topologyKey": "kubernetes.io/hostname", "podAntiAffinityType": "required"},
        "postgresql": {"parameters": {"password_encryption": "scram-sha-256", "max_slot_wal_keep_size": "4GB"}},
        "bootstrap": {"initdb": {"database": first, "owner": first, "secret": {"name": owner(dep, first).secret}, "dataChecksums": true}},
        "inheritedMetadata": {"labels": {"app.kubernetes.io/part-of": app.name}},
    });
    if !roles.is_empty() {
        spec["managed"] = json!({"roles": roles});
    }
    super::exporters::cnpg(app, dep, &mut spec);
    if pg.backup.is_some() {
        spec["plugins"] = json!([{"name": BARMAN_PLUGIN, "enabled": true, "isWALArchiver": true, "parameters": {"barmanObjectName": object_store(dep)}}]);
        spec["serviceAccountTemplate"] = json!({"metadata": {"annotations": identity(pg)}});
    }
    let labels = dep_labels(app, &dep.name, "database");
    let mut out = vec![obj(
        app,
        CNPG_API,
        "Cluster",
        &dep.name,
        with_wave(
            json!({"metadata": {"labels": labels}, "spec": spec}),
            DATA_WAVE,
        ),
    )];
    for db in &pg.databases[1..] {
        out.push(obj(app, CNPG_API, "Database", &format!("{}-{}", dep.name, object_part(db)), with_wave(json!({
            "metadata": {"labels": labels},
            "spec": {"cluster": {"name": dep.name}, "name": db, "owner": db, "ensure": "present", "databaseReclaimPolicy": "retain"},
        }), DATA_WAVE)));
    }
    if let Some(p) = &pg.pooler {
        out.push(obj(app, CNPG_API, "Pooler", &pooler_name(dep), with_wave(json!({
            "metadata": {"labels": dep_labels(app, &dep.name, "pooler")},
            "spec": {
                "cluster": {"name": dep.name},
                "instances": p.instances,
                "type": "rw",
                "pgbouncer": {"poolMode": p.mode.as_str(), "parameters": pgbouncer::cnpg_parameters(p)},
                // The operator fills in the rest of the pod; without this it runs unbounded.
                "template": {"spec": {"containers": [{"name": "pgbouncer", "resources": pgbouncer::resources()}]}},
            },
        }), DATA_WAVE)));
    }
    if let Some(b) = &pg.backup {
        let mut config = json!({
            "destinationPath": b.destination,
            "s3Credentials": {"inheritFromIAMRole": true},
            "wal": {"compression": "gzip"},
            "data": {"compression": "gzip"},
        });
        if let Some(e) = &b.endpoint {
            config["endpointURL"] = json!(e);
        }
        out.push(obj(
            app,
            BARMAN_API,
            "ObjectStore",
            &object_store(dep),
            with_wave(
                json!({
                    "metadata": {"labels": dep_labels(app, &dep.name, "backup")},
                    "spec": {"configuration": config, "retentionPolicy": b.retention},
                }),
                DATA_WAVE - 1,
            ),
        ));
        out.push(obj(
            app,
            CNPG_API,
            "ScheduledBackup",
            &dep.name,
            with_wave(
                json!({
                    "metadata": {"labels": dep_labels(app, &dep.name, "backup")},
                    "spec": {
                        "schedule": b.schedule,
                        "cluster": {"name": dep.name},
                        "method": "plugin",
                        "pluginConfiguration": {"name": BARMAN_PLUGIN},
                        "backupOwnerReference": "self",
                        "target": "prefer-standby",
                        "immediate": true,
                    },
                }),
                DATA_WAVE,
            ),
        ));
        out.extend(super::backup::cnpg_restore(app, dep, pg, b, &image));
    }
    // Operator → instances (status port 8000, PostgreSQL), instances ↔ instances, users → instances.
    let operator = json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": CNPG_NAMESPACE}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "cloudnative-pg"}}});
    let mut egress = vec![
        api_egress(),
        json!({"to": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}, {"port": 8000, "protocol": "TCP"}]}),
    ];
    egress.extend(s3_egress(pg));
    let mut policy = generic::policy(
        app,
        dep,
        &dep.name,
        server_selector(app, dep, pg.topology),
        server_peers(app, dep, pg),
        &[dep.port],
        egress,
    );
    if let Some(ing) = policy.body["spec"]["ingress"].as_array_mut() {
        ing.push(json!({
            "from": [operator.clone(), {"podSelector": server_selector(app, dep, pg.topology)}],
            "ports": [{"port": 8000, "protocol": "TCP"}, {"port": dep.port, "protocol": "TCP"}],
        }));
    }
    out.push(policy);
    if pg.pooler.is_some() {
        let mut pooler = generic::policy(
            app,
            dep,
            &pooler_name(dep),
            pooler_selector(app, dep),
            user_peers(app, dep),
            &[5432],
            vec![
                api_egress(),
                json!({"to": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}]}),
            ],
        );
        let rule = json!({"from": [operator], "ports": [{"port": 8000, "protocol": "TCP"}]});
        match pooler.body["spec"]["ingress"].as_array_mut() {
            Some(ing) => ing.push(rule),
            None => pooler.body["spec"]["ingress"] = json!([rule]),
        }
        out.push(pooler);
    }
    out
}

pub fn object_store(dep: &ResolvedDependency) -> String {
    format!("{}-backup", dep.name)
}
