//! The data tier's metrics: what exports each in-cluster data service's metrics, and where
//! Prometheus finds them.
//!
//! - one PostgreSQL instance: a `postgres_exporter` native sidecar (port 9187) that connects
//!   over loopback as the superuser, its password from the superuser Secret;
//! - Patroni: its own REST API's `/metrics` (port 8008, no sidecar); the unsafe endpoints
//!   (switchover, failover, restart, config) accept only the pod itself and the members
//!   (`restapi.allowlist`), since the scraper may reach the port;
//! - Redis/Valkey: a `redis_exporter` native sidecar (9121) on the local data node, with the
//!   Sentinel's own metrics through its `/scrape?target=` endpoint;
//! - Kafka: a `kafka_exporter` native sidecar (9308) in every broker pod, bootstrapped from
//!   every broker; each reports the whole cluster, so the alerts take the max over pods;
//! - Strimzi: its own Kafka Exporter (`spec.kafkaExporter`);
//! - CloudNativePG: its instance manager's exporter (9187), nothing to add.
//!
//! Sidecars are native (init containers with `restartPolicy: Always`) without a readiness probe,
//! so an exporter never takes its database out of its Services, hardened like every berth
//! container, with resources and a named port (`metrics`). With `monitoring.scrape:
//! annotations` the pods carry `prometheus.io/*` annotations instead of a PodMonitor (the
//! monitoring output). `metrics: false` on the dependency renders none of it.

use super::generic::hardened;
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::KafkaOperator;
use berth_spec::dependency::postgres::{Topology, credentials_secret};
use berth_spec::observe::ScrapeMode;
use berth_spec::{App, DependencyKind, ResolvedDependency};
use serde_json::{Value, json};

pub const POSTGRES_EXPORTER_IMAGE: &str = "quay.io/prometheuscommunity/postgres-exporter:v0.20.1";
pub const REDIS_EXPORTER_IMAGE: &str = "quay.io/oliver006/redis_exporter:v1.88.0";
pub const KAFKA_EXPORTER_IMAGE: &str = "docker.io/danielqsj/kafka-exporter:v1.9.0";
pub const POSTGRES_EXPORTER_PORT: u16 = 9187;
pub const REDIS_EXPORTER_PORT: u16 = 9121;
pub const KAFKA_EXPORTER_PORT: u16 = 9308;
/// Strimzi's Kafka Exporter port and its name.
pub const STRIMZI_EXPORTER_PORT: u16 = 9404;
/// The exporter sidecar's container name and its port's name.
pub const CONTAINER: &str = "exporter";
pub const PORT_NAME: &str = "metrics";
/// `nobody` in the postgres_exporter and kafka_exporter images; redis_exporter's own user.
const NOBODY: u32 = 65534;
const REDIS_EXPORTER_UID: u32 = 59000;
/// The newest protocol version the kafka_exporter's client (Sarama 1.45) knows; Kafka 4 refuses
/// the exporter's default (2.0).
const KAFKA_PROTOCOL: &str = "4.0.0";

/// Where Prometheus scrapes one data service.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The pods, as a label selector.
    pub selector: Value,
    /// The container port's name and number.
    pub port_name: String,
    pub port: u16,
    pub path: String,
    /// What exports it: `postgres_exporter`, `patroni`, `redis_exporter`, `kafka_exporter`.
    pub exporter: &'static str,
    /// A second endpoint on the same port: (path, query parameters), the Sentinel through
    /// redis_exporter's multi-target `/scrape`.
    pub extra: Option<(String, Vec<(String, String)>)>,
}

/// Whether `dep` gets its exporter: in-cluster and not `metrics: false`.
pub fn enabled(dep: &ResolvedDependency) -> bool {
    dep.server.as_ref().is_some_and(|s| s.metrics)
}

/// The scrape target of `dep`, when berth renders its exporter (CloudNativePG's own is not
/// one: its PodMonitor is the monitoring output's).
pub fn target(app: &App, dep: &ResolvedDependency) -> Option<Target> {
    if !enabled(dep) {
        return None;
    }
    let own = || json!({"matchLabels": selector_labels(app, &dep.name)});
    let t = |exporter, port_name: &str, port, extra| Target {
        selector: own(),
        port_name: port_name.into(),
        port,
        path: "/metrics".into(),
        exporter,
        extra,
    };
    match dep.kind {
        DependencyKind::Postgres => match dep.postgres.as_ref()?.topology? {
            Topology::Single => Some(t(
                "postgres_exporter",
                PORT_NAME,
                POSTGRES_EXPORTER_PORT,
                None,
            )),
            Topology::Patroni { .. } => {
                Some(t("patroni", "patroni", super::postgres::PATRONI_PORT, None))
            }
            Topology::CloudNativePg { .. } => None,
        },
        DependencyKind::Redis | DependencyKind::Valkey => {
            let r = dep.redis.as_ref()?;
            let extra = r.sentinel.map(|_| {
                (
                    "/scrape".to_owned(),
                    vec![(
                        "target".to_owned(),
                        format!("redis://localhost:{}", crate::redis::SENTINEL_PORT),
                    )],
                )
            });
            Some(t("redis_exporter", PORT_NAME, REDIS_EXPORTER_PORT, extra))
        }
        DependencyKind::Kafka => {
            let k = dep.kafka.as_ref()?;
            if k.operator == Some(KafkaOperator::Strimzi) {
                return Some(Target {
                    selector: json!({"matchLabels": {"strimzi.io/cluster": dep.name, "strimzi.io/name": strimzi_exporter_name(dep)}}),
                    port_name: "tcp-prometheus".into(),
                    port: STRIMZI_EXPORTER_PORT,
                    path: "/metrics".into(),
                    exporter: "kafka_exporter",
                    extra: None,
                });
            }
            Some(t("kafka_exporter", PORT_NAME, KAFKA_EXPORTER_PORT, None))
        }
        _ => None,
    }
}

/// The Deployment (and pod name prefix) Strimzi gives its Kafka Exporter.
pub fn strimzi_exporter_name(dep: &ResolvedDependency) -> String {
    format!("{}-kafka-exporter", dep.name)
}

fn resources(cpu: (&str, &str), memory: (&str, &str)) -> Value {
    json!({
        "requests": {"cpu": cpu.0, "memory": memory.0, "ephemeral-storage": "16Mi"},
        "limits": {"cpu": cpu.1, "memory": memory.1, "ephemeral-storage": "64Mi"},
    })
}

fn sidecar(image: &str, user: u32, port: u16, env: Vec<Value>, resources: Value) -> Value {
    let mut c = serde_json::Map::new();
    c.insert("name".into(), json!(CONTAINER));
    c.insert("image".into(), json!(image));
    c.insert("imagePullPolicy".into(), json!("IfNotPresent"));
    c.insert("restartPolicy".into(), json!("Always"));
    if !env.is_empty() {
        c.insert("env".into(), json!(env));
    }
    c.insert(
        "ports".into(),
        json!([{"name": PORT_NAME, "containerPort": port, "protocol": "TCP"}]),
    );
    c.insert("resources".into(), resources);
    c.insert("securityContext".into(), hardened(user));
    Value::Object(c)
}

/// The exporter sidecar of `dep`'s pods, if it has one.
pub fn container(app: &App, dep: &ResolvedDependency) -> Option<Value> {
    let t = target(app, dep)?;
    match t.exporter {
        "postgres_exporter" => {
            let mut c = sidecar(
                POSTGRES_EXPORTER_IMAGE,
                NOBODY,
                POSTGRES_EXPORTER_PORT,
                vec![
                    json!({"name": "DATA_SOURCE_URI", "value": format!("127.0.0.1:{}/postgres?sslmode=disable", dep.port)}),
                    json!({"name": "DATA_SOURCE_USER", "value": "postgres"}),
                    super::postgres::secret_env(
                        "DATA_SOURCE_PASS",
                        &credentials_secret(&dep.name, "superuser"),
                    ),
                ],
                resources(("10m", "200m"), ("32Mi", "64Mi")),
            );
            c["args"] = json!([format!("--web.listen-address=:{POSTGRES_EXPORTER_PORT}")]);
            // The landing page answers without touching PostgreSQL: a down database is
            // `pg_up 0`, not a restarted exporter.
            c["livenessProbe"] = json!({"httpGet": {"path": "/", "port": PORT_NAME}, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3});
            Some(c)
        }
        "redis_exporter" => {
            let (secret, key) = super::cache::password_secret(dep);
            let mut c = sidecar(
                REDIS_EXPORTER_IMAGE,
                REDIS_EXPORTER_UID,
                REDIS_EXPORTER_PORT,
                vec![
                    json!({"name": "REDIS_ADDR", "value": format!("redis://localhost:{}", crate::redis::PORT)}),
                    json!({"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": key, "optional": false}}}),
                    json!({"name": "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", "value": format!(":{REDIS_EXPORTER_PORT}")}),
                ],
                resources(("10m", "200m"), ("32Mi", "64Mi")),
            );
            c["livenessProbe"] = json!({"httpGet": {"path": "/health", "port": PORT_NAME}, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3});
            Some(c)
        }
        "kafka_exporter" => {
            let cluster = super::kafka::cluster(app, dep)?;
            let mut args: Vec<String> = cluster
                .bootstrap_servers()
                .split(',')
                .map(|s| format!("--kafka.server={s}"))
                .collect();
            args.push(format!("--kafka.version={KAFKA_PROTOCOL}"));
            args.push(format!("--web.listen-address=:{KAFKA_EXPORTER_PORT}"));
            let mut c = sidecar(
                KAFKA_EXPORTER_IMAGE,
                NOBODY,
                KAFKA_EXPORTER_PORT,
                vec![],
                resources(("20m", "200m"), ("64Mi", "128Mi")),
            );
            // kafka_exporter exits when no broker answers at its start (the brokers start after
            // their sidecars): retried in the container, never restarted by the kubelet, whose
            // back-off would leave the broker's pod unready meanwhile.
            c["command"] = json!([
                "sh",
                "-c",
                "trap 'kill $pid 2>/dev/null; exit 0' TERM INT\nwhile :; do\n  /bin/kafka_exporter \"$@\" & pid=$!\n  wait $pid\n  sleep 10 & pid=$!\n  wait $pid\ndone",
                "kafka_exporter",
            ]);
            c["args"] = json!(args);
            Some(c)
        }
        _ => None,
    }
}

/// The pod annotations `monitoring.scrape: annotations` asks for.
pub fn scrape_annotations(app: &App, dep: &ResolvedDependency) -> Option<Value> {
    if app.scrape != ScrapeMode::Annotations {
        return None;
    }
    let t = target(app, dep)?;
    Some(json!({
        crate::pod::SCRAPE_ANNOTATION: "true",
        "prometheus.io/port": t.port.to_string(),
        "prometheus.io/path": t.path,
    }))
}

/// Adds `dep`'s exporter sidecar (and, by setting, its scrape annotations) to its server
/// StatefulSet `sts`.
pub fn attach(app: &App, dep: &ResolvedDependency, sts: &mut Object) {
    let template = &mut sts.body["spec"]["template"];
    if let Some(c) = container(app, dep) {
        match template["spec"]["initContainers"].as_array_mut() {
            Some(list) => list.push(c),
            None => template["spec"]["initContainers"] = json!([c]),
        }
    }
    if let Some(Value::Object(a)) = scrape_annotations(app, dep) {
        for (k, v) in a {
            template["metadata"]["annotations"][k] = v;
        }
    }
}

/// CloudNativePG's instances export on 9187 already; with `monitoring.scrape: annotations` the
/// Cluster's `inheritedMetadata` puts the scrape annotations on them.
pub fn cnpg(app: &App, dep: &ResolvedDependency, spec: &mut Value) {
    if app.scrape != ScrapeMode::Annotations || !enabled(dep) {
        return;
    }
    spec["inheritedMetadata"]["annotations"] = json!({
        crate::pod::SCRAPE_ANNOTATION: "true",
        "prometheus.io/port": POSTGRES_EXPORTER_PORT.to_string(),
        "prometheus.io/path": "/metrics",
    });
}

/// Strimzi's Kafka Exporter in the `Kafka` resource `kafka` (it runs the exporter as its own
/// Deployment, `NAME-kafka-exporter`).
pub fn strimzi(app: &App, dep: &ResolvedDependency, kafka: &mut Value) {
    if !enabled(dep) {
        return;
    }
    let mut exporter = json!({
        "topicRegex": ".*",
        "groupRegex": ".*",
        "resources": resources(("20m", "200m"), ("64Mi", "128Mi")),
    });
    if app.scrape == ScrapeMode::Annotations {
        exporter["template"]["pod"]["metadata"]["annotations"] = json!({
            crate::pod::SCRAPE_ANNOTATION: "true",
            "prometheus.io/port": STRIMZI_EXPORTER_PORT.to_string(),
            "prometheus.io/path": "/metrics",
        });
    }
    kafka["spec"]["kafkaExporter"] = exporter;
}

/// Patroni's REST API: unsafe endpoints only from the pod itself and the members, once anything
/// else (the scraper) may reach the port.
pub fn patroni_restapi(dep: &ResolvedDependency, restapi: &mut Value) {
    if !enabled(dep) {
        return;
    }
    restapi["allowlist"] = json!(["127.0.0.1/32", "::1/128"]);
    restapi["allowlist_include_members"] = json!(true);
}
