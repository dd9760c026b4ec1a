//! One in-cluster server from its catalogue entry: a StatefulSet (one instance, hardened like
//! every berth pod, its data on a volume claim), a headless Service for the pod's stable name, a
//! client Service, and the NetworkPolicy that admits only its users. Used directly for types
//! without their own HA, and as the base of PostgreSQL's StatefulSets.

use super::{DATA_WAVE, dep_labels, obj, service_account, with_wave};
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::catalogue::{self, Check, EnvValue};
use berth_spec::{App, ResolvedDependency};
use serde_json::{Value, json};

/// The container security context berth gives every container.
pub fn hardened(user: u32) -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": user,
        "runAsGroup": user,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

pub fn pod_security(user: u32) -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": user,
        "runAsGroup": user,
        "fsGroup": user,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

pub fn probe(check: Check, port: u16) -> Value {
    match check {
        Check::Exec(cmd) => json!({"exec": {"command": cmd}}),
        Check::Tcp => json!({"tcpSocket": {"port": port}}),
        Check::Http(path) => json!({"httpGet": {"path": path, "port": port}}),
    }
}

pub fn resources(dep: &ResolvedDependency) -> Value {
    let s = dep.server.as_ref().expect("in-cluster");
    json!({
        "requests": {"cpu": s.cpu.request.text, "memory": s.memory.request.text, "ephemeral-storage": "128Mi"},
        "limits": {"cpu": s.cpu.limit.text, "memory": s.memory.limit.text, "ephemeral-storage": "2Gi"},
    })
}

/// Parts of a server StatefulSet.
pub struct ServerPod {
    pub replicas: u32,
    pub service_name: String,
    pub containers: Vec<Value>,
    pub volumes: Vec<Value>,
    /// A ServiceAccount that mounts its token (Patroni); `None`: `DEP`, without a token.
    pub service_account: Option<String>,
    pub user: u32,
    pub labels: std::collections::BTreeMap<String, String>,
}

pub fn statefulset(app: &App, dep: &ResolvedDependency, pod: ServerPod) -> Object {
    let s = dep.server.as_ref().expect("in-cluster");
    let selector = selector_labels(app, &dep.name);
    let mut pod_labels = pod.labels.clone();
    pod_labels.extend(selector.clone());
    let spec = json!({
        "serviceAccountName": pod.service_account.clone().unwrap_or_else(|| dep.name.clone()),
        "automountServiceAccountToken": pod.service_account.is_some(),
        "enableServiceLinks": false,
        "terminationGracePeriodSeconds": 60,
        "securityContext": pod_security(pod.user),
        "containers": pod.containers,
        "volumes": pod.volumes,
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector}},
        }]}},
    });
    obj(
        app,
        "apps/v1",
        "StatefulSet",
        &dep.name,
        with_wave(
            json!({
                "metadata": {"labels": pod.labels},
                "spec": {
                    "replicas": pod.replicas,
                    "serviceName": pod.service_name,
                    "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate"},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                    "selector": {"matchLabels": selector},
                    "template": {"metadata": {"labels": pod_labels}, "spec": spec},
                    "volumeClaimTemplates": [{
                        "metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": s.storage.text}}},
                    }],
                },
            }),
            DATA_WAVE,
        ),
    )
}

pub fn service(
    app: &App,
    dep: &ResolvedDependency,
    name: &str,
    headless: bool,
    ports: &[(String, u16)],
) -> Object {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p)| json!({"name": n, "port": p, "targetPort": p, "protocol": "TCP"}))
        .collect();
    let mut spec = json!({"selector": selector_labels(app, &dep.name), "ports": ports});
    if headless {
        spec["clusterIP"] = json!("None");
        // Pods are addressable while they start (replication, bootstrap).
        spec["publishNotReadyAddresses"] = json!(true);
    } else {
        spec["type"] = json!("ClusterIP");
    }
    obj(
        app,
        "v1",
        "Service",
        name,
        with_wave(
            json!({
                "metadata": {"labels": dep_labels(app, &dep.name, "database")},
                "spec": spec,
            }),
            DATA_WAVE,
        ),
    )
}

/// The users of `dep` (services that `use` it, and its migration Jobs) as policy peers.
pub fn user_peers(app: &App, dep: &ResolvedDependency) -> Vec<Value> {
    let mut peers: Vec<Value> = app
        .services
        .iter()
        .filter(|s| s.uses_dependencies.contains(&dep.name))
        .map(|s| json!({"podSelector": {"matchLabels": selector_labels(app, &s.name)}}))
        .collect();
    for svc in &app.services {
        for m in &svc.migrations {
            if m.dependency == dep.name {
                peers.push(json!({"podSelector": {"matchLabels": selector_labels(app, &super::migrate::job_name(svc, m))}}));
            }
        }
    }
    peers
}

pub fn objects(app: &App, dep: &ResolvedDependency) -> Vec<Object> {
    let e = catalogue::entry(dep.kind);
    let s = dep.server.as_ref().expect("in-cluster");
    let port = dep.port;
    let secret = format!("{}-credentials", dep.name);
    let env: Vec<Value> = e
        .env
        .iter()
        .map(|(k, v)| match v {
            EnvValue::Literal(l) => json!({"name": k, "value": l}),
            EnvValue::Secret(key) => {
                json!({"name": k, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
            }
        })
        .collect();
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    if let Some(p) = e.data_path {
        mounts.push(json!({"name": "data", "mountPath": p}));
    }
    for (i, w) in e.writable.iter().enumerate() {
        volumes.push(json!({"name": format!("writable-{i}"), "emptyDir": {"sizeLimit": "256Mi"}}));
        mounts.push(json!({"name": format!("writable-{i}"), "mountPath": w}));
    }
    let mut live = probe(e.live, port);
    live["periodSeconds"] = json!(10);
    live["timeoutSeconds"] = json!(5);
    live["failureThreshold"] = json!(6);
    let container = json!({
        "name": e.port_name,
        "image": s.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": e.port_name, "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": resources(dep),
        "readinessProbe": probe(e.ready, port),
        "livenessProbe": live,
        "securityContext": hardened(e.user),
        "volumeMounts": mounts,
    });
    let mut out = vec![
        service_account(
            app,
            &dep.name,
            json!(dep_labels(app, &dep.name, "database")),
            None,
            false,
        ),
        service(
            app,
            dep,
            &format!("{}-headless", dep.name),
            true,
            &[(e.port_name.to_owned(), port)],
        ),
        service(
            app,
            dep,
            &dep.name,
            false,
            &[(e.port_name.to_owned(), port)],
        ),
        statefulset(
            app,
            dep,
            ServerPod {
                replicas: 1,
                service_name: format!("{}-headless", dep.name),
                containers: vec![container],
                volumes,
                service_account: None,
                user: e.user,
                labels: dep_labels(app, &dep.name, "database"),
            },
        ),
    ];
    out.push(policy(
        app,
        dep,
        &dep.name,
        json!({"matchLabels": selector_labels(app, &dep.name)}),
        user_peers(app, dep),
        &[port],
        vec![],
    ));
    out
}

/// A NetworkPolicy for server pods: ingress from `peers` on `ports` only; egress as given
/// (DNS comes from the namespace policy).
/// `o` with exactly these labels (the data tier's own component labels on a shared builder's
/// object).
pub(crate) fn relabel(
    mut o: Object,
    labels: &std::collections::BTreeMap<String, String>,
) -> Object {
    o.body["metadata"]["labels"] = json!(labels);
    o
}

pub fn policy(
    app: &App,
    dep: &ResolvedDependency,
    name: &str,
    pods: Value,
    peers: Vec<Value>,
    ports: &[u16],
    egress: Vec<Value>,
) -> Object {
    let ports: Vec<Value> = ports
        .iter()
        .map(|p| json!({"port": p, "protocol": "TCP"}))
        .collect();
    let ingress: Vec<Value> = if peers.is_empty() {
        vec![]
    } else {
        vec![json!({"from": peers, "ports": ports})]
    };
    let mut spec = json!({"podSelector": pods, "policyTypes": ["Ingress", "Egress"]});
    if !ingress.is_empty() {
        spec["ingress"] = json!(ingress);
    }
    if !egress.is_empty() {
        spec["egress"] = json!(egress);
    }
    obj(
        app,
        "networking.k8s.io/v1",
        "NetworkPolicy",
        name,
        with_wave(
            json!({
                "metadata": {"labels": dep_labels(app, &dep.name, "network-policy")},
                "spec": spec,
            }),
            DATA_WAVE - 1,
        ),
    )
}
