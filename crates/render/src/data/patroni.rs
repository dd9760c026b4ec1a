//! Patroni without an operator: each pod runs Patroni, which elects a leader through the
//! Kubernetes API (`use_endpoints`: the leader lock and the writer Service's address are one
//! Endpoints object, updated atomically), fences a primary that loses the lock, and rejoins a
//! failed primary with pg_rewind.
//!
//! Timing: `ttl` 20 s, `loop_wait` 5 s, `retry_timeout` 5 s (`loop_wait + 2 × retry_timeout ≤
//! ttl`); the measured failover is in docs/high-availability.md.

use super::generic::{self, ServerPod, hardened, resources};
use super::postgres::{
    DATA_MOUNT, PATRONI_PORT, PATRONI_UID, PGDATA, SCRIPTS_DIR, api_egress, identity, parameters,
    s3_egress, scripts_for, scripts_map, secret_env, server_image, server_peers, server_selector,
    setup_job, setup_policy,
};
use super::{DATA_WAVE, dep_labels, obj, service_account, with_wave};
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::postgres::{Postgres, credentials_secret};
use berth_spec::{App, ResolvedDependency};
use serde_json::{Value, json};

pub const TTL: u32 = 20;
pub const LOOP_WAIT: u32 = 5;
pub const RETRY_TIMEOUT: u32 = 5;

/// `patroni.yml` (JSON, which YAML parsers read): everything but the per-pod values, which come
/// from `PATRONI_*` environment variables (name, addresses, passwords, namespace).
pub fn config(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Value {
    let mut c = config_base(app, dep, pg);
    super::exporters::patroni_restapi(dep, &mut c["restapi"]);
    c
}

fn config_base(app: &App, dep: &ResolvedDependency, pg: &Postgres) -> Value {
    let params: serde_json::Map<String, Value> = parameters(dep, pg)
        .into_iter()
        .filter(|(k, _)| k != "listen_addresses" && k != "port")
        .map(|(k, v)| (k, json!(v)))
        .collect();
    json!({
        "scope": dep.name,
        "kubernetes": {
            "use_endpoints": true,
            "labels": selector_labels(app, &dep.name),
            "scope_label": "berth.dev/patroni-scope",
            "role_label": "berth.dev/role",
            "leader_label_value": "primary",
            "follower_label_value": "replica",
            "ports": [{"name": "postgresql", "port": dep.port}],
        },
        "bootstrap": {
            "dcs": {
                "ttl": TTL,
                "loop_wait": LOOP_WAIT,
                "retry_timeout": RETRY_TIMEOUT,
                // A replica more than 1 MiB of WAL behind is not promoted (no silent data loss).
                "maximum_lag_on_failover": 1_048_576,
                "postgresql": {
                    "use_pg_rewind": true,
                    "use_slots": true,
                    "parameters": params,
                },
            },
            "initdb": [{"encoding": "UTF8"}, "data-checksums"],
        },
        "postgresql": {
            "listen": format!("0.0.0.0:{}", dep.port),
            "data_dir": PGDATA,
            "bin_dir": format!("/usr/lib/postgresql/{}/bin", pg.major),
            "pgpass": "/tmp/pgpass",
            "use_unix_socket": true,
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": "replicator"},
            },
            "pg_hba": [
                "local all all scram-sha-256",
                "host replication replicator all scram-sha-256",
                "host all all all scram-sha-256",
            ],
            "parameters": {"unix_socket_directories": "/var/run/postgresql"},
        },
        "restapi": {"listen": format!("0.0.0.0:{PATRONI_PORT}")},
        "watchdog": {"mode": "off"},
    })
}

pub fn objects(app: &App, dep: &ResolvedDependency, pg: &Postgres, instances: u32) -> Vec<Object> {
    let image = server_image(dep, pg, true);
    let labels = dep_labels(app, &dep.name, "database");
    let sa = dep.name.clone();
    let role = format!("{}-patroni", dep.name);
    let field = |name: &str, path: &str| json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}});
    let mut containers = vec![json!({
        "name": "patroni",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["patroni", format!("{SCRIPTS_DIR}/patroni.yml")],
        "ports": [
            {"name": "postgresql", "containerPort": dep.port, "protocol": "TCP"},
            {"name": "patroni", "containerPort": PATRONI_PORT, "protocol": "TCP"},
        ],
        "env": [
            field("PATRONI_NAME", "metadata.name"),
            field("PATRONI_KUBERNETES_NAMESPACE", "metadata.namespace"),
            field("PATRONI_KUBERNETES_POD_IP", "status.podIP"),
            {"name": "PATRONI_KUBERNETES_USE_ENDPOINTS", "value": "true"},
            {"name": "PATRONI_POSTGRESQL_CONNECT_ADDRESS", "value": format!("$(PATRONI_KUBERNETES_POD_IP):{}", dep.port)},
            {"name": "PATRONI_RESTAPI_CONNECT_ADDRESS", "value": format!("$(PATRONI_KUBERNETES_POD_IP):{PATRONI_PORT}")},
            secret_env("PATRONI_SUPERUSER_PASSWORD", &credentials_secret(&dep.name, "superuser")),
            secret_env("PATRONI_REPLICATION_PASSWORD", &credentials_secret(&dep.name, "replication")),
            {"name": "PGDATA", "value": PGDATA},
        ],
        "resources": resources(dep),
        // /readiness is 200 on a running member that is not lagging; /liveness on a live Patroni.
        "readinessProbe": {"httpGet": {"path": "/readiness", "port": PATRONI_PORT}, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/liveness", "port": PATRONI_PORT}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
        "securityContext": hardened(PATRONI_UID),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": true},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    })];
    if let Some(b) = &pg.backup {
        containers.push(super::backup::sidecar(dep, b, &image, PATRONI_UID));
    }
    let cfg = serde_json::to_string_pretty(&config(app, dep, pg)).expect("json");
    let rbac_labels = dep_labels(app, &dep.name, "database");
    let mut out = vec![
        // Patroni talks to the API server: the token is mounted (and only here).
        service_account(app, &sa, json!(labels), Some(identity(pg)), true),
        // What Patroni's Kubernetes DCS needs (patroni/kubernetes/patroni_k8s.yaml).
        obj(
            app,
            "rbac.authorization.k8s.io/v1",
            "Role",
            &role,
            with_wave(
                json!({
                    "metadata": {"labels": rbac_labels},
                    "rules": [
                        {"apiGroups": [""], "resources": ["endpoints", "configmaps"], "verbs": ["create", "get", "list", "patch", "update", "watch", "delete"]},
                        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "patch", "update", "watch"]},
                        {"apiGroups": [""], "resources": ["services"], "verbs": ["create"]},
                    ],
                }),
                DATA_WAVE - 1,
            ),
        ),
        obj(
            app,
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &role,
            with_wave(
                json!({
                    "metadata": {"labels": rbac_labels},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": app.namespace}],
                }),
                DATA_WAVE - 1,
            ),
        ),
        scripts_for(app, dep, pg, vec![("patroni.yml", cfg)]),
        // The writer: no selector; Patroni writes the leader's address into its Endpoints in the
        // same update that takes the leader lock.
        obj(
            app,
            "v1",
            "Service",
            &dep.name,
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "spec": {"type": "ClusterIP", "ports": [{"name": "postgresql", "port": dep.port, "targetPort": dep.port, "protocol": "TCP"}]},
                }),
                DATA_WAVE,
            ),
        ),
        // Keeps `DEP-config` Endpoints (Patroni's cluster config) from the endpoints controller.
        obj(
            app,
            "v1",
            "Service",
            &format!("{}-config", dep.name),
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "spec": {"clusterIP": "None"},
                }),
                DATA_WAVE,
            ),
        ),
        generic::service(
            app,
            dep,
            &format!("{}-headless", dep.name),
            true,
            &[
                ("postgresql".into(), dep.port),
                ("patroni".into(), PATRONI_PORT),
            ],
        ),
    ];
    let mut pod_labels = labels.clone();
    pod_labels.insert("berth.dev/patroni-scope".into(), dep.name.clone());
    let mut sts = generic::statefulset(
        app,
        dep,
        ServerPod {
            replicas: instances,
            service_name: format!("{}-headless", dep.name),
            containers,
            volumes: vec![
                json!({"name": "scripts", "configMap": {"name": scripts_map(dep)}}),
                json!({"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}),
                json!({"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}),
            ],
            service_account: Some(sa),
            user: PATRONI_UID,
            labels: pod_labels,
        },
    );
    super::exporters::attach(app, dep, &mut sts);
    out.push(sts);
    // One instance may be down at a time: a drain proceeds, and a quorum stays.
    out.push(obj(app, "policy/v1", "PodDisruptionBudget", &dep.name, with_wave(json!({
        "metadata": {"labels": labels},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(app, &dep.name)}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }), DATA_WAVE - 1)));
    let peers = server_peers(app, dep, pg);
    let mut egress = vec![
        api_egress(),
        json!({"to": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}, {"port": PATRONI_PORT, "protocol": "TCP"}]}),
    ];
    egress.extend(s3_egress(pg));
    let mut policy = generic::policy(
        app,
        dep,
        &dep.name,
        server_selector(app, dep, pg.topology),
        peers,
        &[dep.port],
        egress,
    );
    if let Some(ing) = policy.body["spec"]["ingress"].as_array_mut() {
        // Members call each other's REST API (leader race, failsafe checks).
        ing.push(json!({"from": [{"podSelector": server_selector(app, dep, pg.topology)}], "ports": [{"port": PATRONI_PORT, "protocol": "TCP"}]}));
    }
    out.push(policy);
    out.push(setup_job(app, dep, pg, &image, PATRONI_UID));
    out.push(setup_policy(app, dep, pg));
    out
}
