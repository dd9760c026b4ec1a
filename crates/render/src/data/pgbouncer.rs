//! PgBouncer in front of the writer (without CloudNativePG; with it, its `Pooler`). It points at
//! the writer Service only, and bounds how long a server connection lives and checks it before
//! reuse, so after a failover it drops connections to the old primary and reconnects to the
//! new one. Migrations connect to the writer directly (a transaction pool drops session state).

use super::generic::{self, hardened};
use super::postgres::{pooler_name, pooler_selector, secret_env, server_selector};
use super::{DATA_WAVE, dep_labels, obj, owner, service_account, with_wave};
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::postgres::{Pooler, Postgres};
use berth_spec::{App, ResolvedDependency};
use serde_json::{Value, json};

pub const IMAGE: &str = "ghcr.io/cloudnative-pg/pgbouncer:1.24.1";
pub const UID: u32 = 998;
pub const PORT: u16 = 5432;
/// Seconds a server connection is reused at most: bounds how long a pool can stay attached to a
/// demoted primary.
pub const SERVER_LIFETIME: u32 = 300;
/// Idle seconds after which a server connection is checked with `server_check_query` before use.
pub const SERVER_CHECK_DELAY: u32 = 10;
pub const CONFIG_DIR: &str = "/etc/pgbouncer";
pub const RUN_DIR: &str = "/var/run/pgbouncer";

/// What one PgBouncer container asks for and may use (ours and CloudNativePG's Pooler pods).
pub fn resources() -> Value {
    json!({
        "requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"},
        "limits": {"cpu": "1", "memory": "256Mi", "ephemeral-storage": "1Gi"},
    })
}

/// The settings berth gives PgBouncer (shared with CloudNativePG's Pooler `parameters`).
pub fn settings(p: &Pooler) -> Vec<(&'static str, String)> {
    vec![
        ("pool_mode", p.mode.as_str().into()),
        ("max_client_conn", p.max_clients.to_string()),
        ("default_pool_size", p.pool_size.to_string()),
        ("server_lifetime", SERVER_LIFETIME.to_string()),
        ("server_check_query", "select 1".into()),
        ("server_check_delay", SERVER_CHECK_DELAY.to_string()),
        // A new primary's address is picked up within seconds of the Service moving.
        ("dns_max_ttl", "5".into()),
        ("server_connect_timeout", "5".into()),
        // After a failed server login (the writer moving), retry in 1 s, not the default 15 s.
        ("server_login_retry", "1".into()),
        // JDBC and some ORMs send this at startup; a pool must not refuse them for it.
        ("ignore_startup_parameters", "extra_float_digits".into()),
    ]
}

pub fn cnpg_parameters(p: &Pooler) -> Value {
    let m: serde_json::Map<String, Value> = settings(p)
        .into_iter()
        .filter(|(k, _)| *k != "pool_mode")
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    Value::Object(m)
}

/// `pgbouncer.ini`: every database to the writer, SCRAM for clients, users from `userlist.txt`
/// (written at start from the role Secrets, see [`start_script`]).
pub fn ini(dep: &ResolvedDependency, pg: &Postgres, p: &Pooler) -> String {
    let mut s = String::from("; berth: PgBouncer in front of the writer\n[databases]\n");
    for db in &pg.databases {
        s.push_str(&format!(
            "{db} = host={} port={} dbname={db}\n",
            pg.writer, dep.port
        ));
    }
    s.push_str(&format!(
        "\n[pgbouncer]\nlisten_addr = 0.0.0.0\nlisten_port = {PORT}\nunix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {RUN_DIR}/userlist.txt\nadmin_users =\nlog_connections = 0\nlog_disconnections = 0\n"
    ));
    for (k, v) in settings(p) {
        s.push_str(&format!("{k} = {v}\n"));
    }
    s
}

/// `start.sh`: writes `userlist.txt` from the `PW_*` variables (plain passwords, so PgBouncer
/// can authenticate to the server with SCRAM) into memory-backed storage, then runs PgBouncer.
pub fn start_script(pg: &Postgres) -> String {
    let mut lines = String::new();
    for db in &pg.databases {
        lines.push_str(&format!(
            "printf '\"%s\" \"%s\"\\n' '{db}' \"$PW_{}\" >> \"$list\"\n",
            db.to_ascii_uppercase()
        ));
    }
    format!(
        "#!/bin/sh\n# berth: PgBouncer with users from the role Secrets (never logged)\nset -eu\nrun=\"${{PGBOUNCER_RUN:-{RUN_DIR}}}\"\nlist=\"$run/userlist.txt\"\numask 077\n: > \"$list\"\n{lines}exec pgbouncer \"${{PGBOUNCER_INI:-{CONFIG_DIR}/pgbouncer.ini}}\"\n"
    )
}

pub fn objects(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Vec<Object> {
    let p = pg.pooler.as_ref().expect("pooler");
    let name = pooler_name(dep);
    let mut labels = dep_labels(app, &name, "pooler");
    labels.extend(selector_labels(app, &name));
    let mut env = Vec::new();
    for db in &pg.databases {
        env.push(secret_env(
            &format!("PW_{}", db.to_ascii_uppercase()),
            &owner(dep, db).secret,
        ));
    }
    let container = json!({
        "name": "pgbouncer",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", format!("{CONFIG_DIR}/start.sh")],
        "ports": [{"name": "pgbouncer", "containerPort": PORT, "protocol": "TCP"}],
        "env": env,
        "resources": resources(),
        "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 5},
        "livenessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 10, "failureThreshold": 6},
        // Let clients finish: PgBouncer stops accepting, then exits when its pools drain.
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "securityContext": hardened(UID),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": true},
            {"name": "run", "mountPath": RUN_DIR},
        ],
    });
    let mut out = vec![
        obj(
            app,
            "v1",
            "ConfigMap",
            &name,
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "data": {"pgbouncer.ini": ini(dep, pg, p), "start.sh": start_script(pg)},
                }),
                DATA_WAVE - 1,
            ),
        ),
        service_account(app, &name, json!(labels), None, false),
        obj(
            app,
            "apps/v1",
            "Deployment",
            &name,
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "spec": {
                        "replicas": p.instances,
                        "selector": {"matchLabels": selector_labels(app, &name)},
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "serviceAccountName": name,
                                "automountServiceAccountToken": false,
                                "enableServiceLinks": false,
                                "securityContext": generic::pod_security(UID),
                                "containers": [container],
                                "volumes": [
                                    {"name": "config", "configMap": {"name": name}},
                                    {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
                                ],
                                "topologySpreadConstraints": [{
                                    "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                                    "labelSelector": {"matchLabels": selector_labels(app, &name)},
                                }],
                            },
                        },
                    },
                }),
                DATA_WAVE,
            ),
        ),
        obj(
            app,
            "v1",
            "Service",
            &name,
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "spec": {
                        "type": "ClusterIP",
                        "selector": selector_labels(app, &name),
                        "ports": [{"name": "postgresql", "port": PORT, "targetPort": PORT, "protocol": "TCP"}],
                    },
                }),
                DATA_WAVE,
            ),
        ),
    ];
    if p.instances >= 2 {
        out.push(obj(app, "policy/v1", "PodDisruptionBudget", &name, with_wave(json!({
            "metadata": {"labels": labels},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(app, &name)}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        }), DATA_WAVE - 1)));
    }
    let users: Vec<Value> = app
        .services
        .iter()
        .filter(|s| s.uses_dependencies.contains(&dep.name))
        .map(|s| json!({"podSelector": {"matchLabels": selector_labels(app, &s.name)}}))
        .collect();
    out.push(generic::policy(app, dep, &name, pooler_selector(app, dep), users, &[PORT], vec![
        json!({"to": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}]}),
    ]));
    out
}
