//! Dapr: the sidecar annotations of a service's pods, the Components derived from the
//! dependencies (pubsub.kafka, state.redis), the app Configuration, Subscriptions, and the
//! NetworkPolicy rules a sidecar needs. Values follow the Dapr reference (arguments-annotations
//! overview, setup-apache-kafka, setup-redis, configuration-schema, subscription-schema v2alpha1);
//! the resources are validated against the vendored Dapr CRD schemas.

use crate::Object;
use crate::labels::app_labels;
use berth_spec::dapr::ResolvedDapr;
use berth_spec::{App, DependencyKind, ResolvedService};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Pod label of every pod that runs a Dapr sidecar (the peers of sidecar ↔ sidecar traffic).
pub const POD_LABEL: &str = "berth.dev/dapr";

/// The namespace the Dapr control plane runs in (Dapr's Helm chart default).
pub const CONTROL_PLANE_NAMESPACE: &str = "dapr-system";
/// daprd's internal gRPC port: sidecar ↔ sidecar service invocation (mTLS).
pub const INTERNAL_GRPC_PORT: u16 = 50002;
/// Control-plane pod ports a sidecar dials: dapr-operator (components, configuration) 6500,
/// dapr-sentry (workload certificates) 50001, dapr-placement (actors) 50005, dapr-scheduler
/// (jobs, reminders) 50006. NetworkPolicies match pod ports, after the Service's translation.
pub const CONTROL_PLANE_PORTS: &[u16] = &[6500, 50001, 50005, 50006];

/// A service's sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sidecar {
    pub app_id: String,
    pub app_port: Option<u16>,
    /// http (default) | grpc | https | grpcs | h2c
    pub app_protocol: Option<String>,
    /// The Configuration the sidecar loads.
    pub config: Option<String>,
    pub log_level: Option<String>,
    /// requests/limits as Kubernetes quantities
    pub cpu: (String, String),
    pub memory: (String, String),
    /// Seconds daprd waits for in-flight work on shutdown (≤ the pod's grace period).
    pub graceful_shutdown_seconds: Option<u32>,
}

impl Sidecar {
    /// Pod annotations (all values strings, as the injector reads them).
    pub fn annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            a.insert(format!("dapr.io/{k}"), v);
        };
        put("enabled", "true".into());
        put("app-id", self.app_id.clone());
        if let Some(p) = self.app_port {
            put("app-port", p.to_string());
        }
        if let Some(p) = &self.app_protocol {
            put("app-protocol", p.clone());
        }
        if let Some(c) = &self.config {
            put("config", c.clone());
        }
        put(
            "log-level",
            self.log_level.clone().unwrap_or_else(|| "info".into()),
        );
        put("log-as-json", "true".into());
        put("sidecar-cpu-request", self.cpu.0.clone());
        put("sidecar-cpu-limit", self.cpu.1.clone());
        put("sidecar-memory-request", self.memory.0.clone());
        put("sidecar-memory-limit", self.memory.1.clone());
        if let Some(s) = self.graceful_shutdown_seconds {
            put("graceful-shutdown-seconds", s.to_string());
        }
        // daprd needs no Kubernetes API token: the operator serves it components.
        a
    }
}

/// A Secret key reference, as Dapr's Kubernetes secret store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

fn meta_value(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn meta_secret(name: &str, s: &SecretRef) -> Value {
    json!({"name": name, "secretKeyRef": {"name": s.name, "key": s.key}})
}

fn component(
    name: &str,
    namespace: &str,
    kind: &str,
    metadata: Vec<Value>,
    scopes: &[String],
) -> Value {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    json!({
        "apiVersion": "dapr.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": kind, "version": "v1", "metadata": metadata},
        // Loaded only by the apps that use the dependency.
        "scopes": scopes,
    })
}

/// Kafka authentication as pubsub.kafka names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaAuth {
    None,
    /// SASL/SCRAM or PLAIN over TLS: username and password from a Secret.
    Password {
        username: SecretRef,
        password: SecretRef,
        /// SHA-512 | SHA-256 | PLAIN
        mechanism: String,
    },
}

/// `pubsub.kafka` for a Kafka dependency. `tls`: the brokers speak TLS (managed services).
pub fn pubsub_kafka(
    name: &str,
    namespace: &str,
    brokers: &str,
    auth: &KafkaAuth,
    tls: bool,
    scopes: &[String],
) -> Value {
    let mut m = vec![meta_value("brokers", brokers)];
    match auth {
        KafkaAuth::None => m.push(meta_value("authType", "none")),
        KafkaAuth::Password {
            username,
            password,
            mechanism,
        } => {
            m.push(meta_value("authType", "password"));
            m.push(meta_secret("saslUsername", username));
            m.push(meta_secret("saslPassword", password));
            m.push(meta_value("saslMechanism", mechanism.clone()));
        }
    }
    m.push(meta_value("disableTls", if tls { "false" } else { "true" }));
    // A new consumer group starts at the oldest retained message, not after the events
    // published before its first start (Dapr's default, `newest`, skips those).
    m.push(meta_value("initialOffset", "oldest"));
    component(name, namespace, "pubsub.kafka", m, scopes)
}

/// Where a `state.redis` store connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One node (in-cluster single instance, or a managed primary endpoint): `host:port`.
    Node(String),
    /// Sentinel: the Sentinel addresses (comma-separated) and the master name.
    Sentinel { sentinels: String, master: String },
    /// Redis Cluster (managed, cluster mode on): the configuration endpoint(s).
    Cluster(String),
}

/// `state.redis` for a Redis/Valkey dependency.
pub fn state_redis(
    name: &str,
    namespace: &str,
    target: &RedisTarget,
    password: Option<&SecretRef>,
    tls: bool,
    scopes: &[String],
) -> Value {
    let mut m = Vec::new();
    match target {
        RedisTarget::Node(h) => {
            m.push(meta_value("redisHost", h.clone()));
            m.push(meta_value("redisType", "node"));
        }
        RedisTarget::Sentinel { sentinels, master } => {
            m.push(meta_value("redisHost", sentinels.clone()));
            m.push(meta_value("redisType", "node"));
            m.push(meta_value("failover", "true"));
            m.push(meta_value("sentinelMasterName", master.clone()));
            // berth's Sentinels require the same password as the data nodes.
            if let Some(p) = password {
                m.push(meta_secret("sentinelPassword", p));
            }
        }
        RedisTarget::Cluster(h) => {
            m.push(meta_value("redisHost", h.clone()));
            m.push(meta_value("redisType", "cluster"));
        }
    }
    if let Some(p) = password {
        m.push(meta_secret("redisPassword", p));
    }
    m.push(meta_value("enableTLS", if tls { "true" } else { "false" }));
    component(name, namespace, "state.redis", m, scopes)
}

/// Tracing of the app Configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracing {
    /// OTLP endpoint `host:port`.
    pub endpoint: String,
    /// "0".."1"
    pub sampling: String,
    /// grpc | http
    pub protocol: String,
    pub secure: bool,
}

/// The app Configuration. mTLS between sidecars is a control-plane setting (the `daprsystem`
/// Configuration in dapr-system, on by default); an app Configuration cannot turn it off, so
/// berth renders none and documents it.
pub fn configuration(name: &str, namespace: &str, tracing: Option<&Tracing>) -> Value {
    let mut spec = json!({"metrics": {"enabled": true}});
    if let Some(t) = tracing {
        spec["tracing"] = json!({
            "samplingRate": t.sampling,
            "otel": {"endpointAddress": t.endpoint, "isSecure": t.secure, "protocol": t.protocol},
        });
    }
    json!({
        "apiVersion": "dapr.io/v1alpha1",
        "kind": "Configuration",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    })
}

/// A declarative Subscription (v2alpha1): `topic` on `pubsub`, delivered to `route` of the
/// scoped apps; failed messages to `dead_letter` when given.
pub fn subscription(
    name: &str,
    namespace: &str,
    pubsub: &str,
    topic: &str,
    route: &str,
    dead_letter: Option<&str>,
    scopes: &[String],
) -> Value {
    let mut spec = json!({
        "pubsubname": pubsub,
        "topic": topic,
        "routes": {"default": route},
    });
    if let Some(d) = dead_letter {
        spec["deadLetterTopic"] = json!(d);
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    json!({
        "apiVersion": "dapr.io/v2alpha1",
        "kind": "Subscription",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "scopes": scopes,
    })
}

/// NetworkPolicy rules for a pod with a sidecar: egress to the control plane, ingress from and
/// egress to other sidecars on the internal gRPC port. `sidecar_selector` selects every pod of
/// the app that runs a sidecar.
pub fn policy_rules(sidecar_selector: &Value) -> (Vec<Value>, Vec<Value>) {
    let ports = |ps: &[u16]| -> Vec<Value> {
        ps.iter()
            .map(|p| json!({"protocol": "TCP", "port": p}))
            .collect()
    };
    let control_plane = json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": CONTROL_PLANE_NAMESPACE}}});
    let ingress = vec![json!({
        "from": [{"podSelector": sidecar_selector}],
        "ports": ports(&[INTERNAL_GRPC_PORT]),
    })];
    let egress = vec![
        json!({"to": [control_plane], "ports": ports(CONTROL_PLANE_PORTS)}),
        json!({"to": [{"podSelector": sidecar_selector}], "ports": ports(&[INTERNAL_GRPC_PORT])}),
    ];
    (ingress, egress)
}

/// The annotations of a service's pods (the sidecar injector reads them).
pub(crate) fn pod_annotations(app: &App, d: &ResolvedDapr) -> BTreeMap<String, String> {
    Sidecar {
        app_id: d.app_id.clone(),
        app_port: d.app_port,
        app_protocol: d.protocol.clone(),
        config: Some(configuration_name(app)),
        log_level: Some(d.log_level.clone()),
        cpu: (d.cpu.request.text.clone(), d.cpu.limit.text.clone()),
        memory: (d.memory.request.text.clone(), d.memory.limit.text.clone()),
        graceful_shutdown_seconds: None,
    }
    .annotations()
}

fn configuration_name(app: &App) -> String {
    format!("{}-dapr", app.name)
}

/// The pods of `app` that run a sidecar.
pub(crate) fn sidecar_selector(app: &App) -> Value {
    json!({"matchLabels": {"app.kubernetes.io/instance": app.name, POD_LABEL: "true"}})
}

fn with_labels(mut v: Value, app: &App) -> Object {
    v["metadata"]["labels"] = json!(app_labels(app, "dapr"));
    Object {
        api_version: v["apiVersion"].as_str().unwrap_or_default().to_owned(),
        kind: v["kind"].as_str().unwrap_or_default().to_owned(),
        name: v["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        namespace: v["metadata"]["namespace"].as_str().map(str::to_owned),
        body: v,
    }
}

/// `host:port` of a dependency as seen from namespace `ns`.
fn address(app: &App, dep: &berth_spec::ResolvedDependency, ns: &str) -> String {
    format!(
        "{}:{}",
        berth_spec::service_host(&dep.name, &app.namespace, ns),
        dep.port
    )
}

/// Where a pub/sub component of a Kafka dependency connects, and how: every broker's stable
/// name (in-cluster), Strimzi's bootstrap Service, or the managed endpoint with its SASL user
/// and password (Secret references) over TLS.
fn kafka_target(
    app: &App,
    dep: &berth_spec::ResolvedDependency,
    ns: &str,
) -> (String, KafkaAuth, bool) {
    use berth_spec::dependency::DependencyMode;
    let Some(k) = &dep.kafka else {
        return (address(app, dep, ns), KafkaAuth::None, false);
    };
    match dep.mode {
        DependencyMode::InCluster if k.operator.is_none() => (
            crate::data::kafka::cluster(app, dep)
                .map(|c| c.bootstrap_servers())
                .unwrap_or_else(|| address(app, dep, ns)),
            KafkaAuth::None,
            false,
        ),
        DependencyMode::Managed => {
            let cred = berth_spec::dependency::postgres::credentials(dep)
                .into_iter()
                .next();
            let auth = match (&k.sasl, cred) {
                (Some(s), Some(c)) => KafkaAuth::Password {
                    username: SecretRef {
                        name: c.secret.clone(),
                        key: "username".into(),
                    },
                    password: SecretRef {
                        name: c.secret,
                        key: "password".into(),
                    },
                    mechanism: s.mechanism.dapr_name().into(),
                },
                _ => KafkaAuth::None,
            };
            (format!("{}:{}", dep.host, dep.port), auth, k.tls)
        }
        _ => (address(app, dep, ns), KafkaAuth::None, false),
    }
}

/// Where a state store of a Redis/Valkey dependency connects: the Sentinels (HA), the node, or
/// a managed endpoint (cluster mode: `redisType: cluster`); with its password Secret.
fn redis_target(
    app: &App,
    dep: &berth_spec::ResolvedDependency,
    ns: &str,
) -> (RedisTarget, Option<SecretRef>, bool) {
    use berth_spec::dependency::DependencyMode;
    let Some(r) = &dep.redis else {
        return (RedisTarget::Node(address(app, dep, ns)), None, false);
    };
    let (name, key) = crate::data::cache::password_secret(dep);
    let password = Some(SecretRef { name, key });
    let target = match (dep.mode, crate::data::cache::topology(app, dep)) {
        (DependencyMode::InCluster, Some(t)) if t.sentinel.is_some() => RedisTarget::Sentinel {
            sentinels: t.sentinels(),
            master: t.name.clone(),
        },
        (DependencyMode::Managed, _) if r.cluster_mode => {
            RedisTarget::Cluster(format!("{}:{}", dep.host, dep.port))
        }
        (DependencyMode::Managed, _) => RedisTarget::Node(format!("{}:{}", dep.host, dep.port)),
        _ => RedisTarget::Node(address(app, dep, ns)),
    };
    (target, password, r.tls)
}

/// Every Dapr resource of the app: per namespace with sidecars, a pub/sub Component per Kafka
/// dependency and a state store Component per Redis/Valkey dependency — each scoped to exactly
/// the apps that use it — a Subscription per subscribed topic, and the app Configuration.
pub(crate) fn objects(app: &App) -> Vec<Object> {
    let dapr_svcs: Vec<(&ResolvedService, &ResolvedDapr)> = app
        .services
        .iter()
        .filter_map(|s| s.dapr.as_ref().map(|d| (s, d)))
        .collect();
    if dapr_svcs.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut namespaces: Vec<&str> = dapr_svcs
        .iter()
        .map(|(s, _)| s.namespace.as_str())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let tracing = app
        .dapr
        .as_ref()
        .and_then(|d| d.tracing.as_ref())
        .map(|(e, s, p)| Tracing {
            endpoint: e.clone(),
            sampling: s.clone(),
            protocol: p.clone(),
            secure: false,
        });
    for ns in namespaces {
        let here: Vec<&(&ResolvedService, &ResolvedDapr)> = dapr_svcs
            .iter()
            .filter(|(s, _)| s.namespace == ns)
            .collect();
        out.push(with_labels(
            configuration(&configuration_name(app), ns, tracing.as_ref()),
            app,
        ));
        for dep in &app.dependencies {
            let users: Vec<&&(&ResolvedService, &ResolvedDapr)> = here
                .iter()
                .filter(|(_, d)| d.pubsub.as_deref() == Some(dep.name.as_str()))
                .collect();
            if dep.kind == DependencyKind::Kafka && !users.is_empty() {
                let scopes: Vec<String> = users.iter().map(|(_, d)| d.app_id.clone()).collect();
                let (brokers, auth, tls) = kafka_target(app, dep, ns);
                let mut c = pubsub_kafka(&dep.name, ns, &brokers, &auth, tls, &scopes);
                // Each app may publish and subscribe only to the topics it declares.
                let scope_list = |f: &dyn Fn(&ResolvedDapr) -> Vec<String>| -> String {
                    users
                        .iter()
                        .map(|(_, d)| format!("{}={}", d.app_id, f(d).join(",")))
                        .collect::<Vec<_>>()
                        .join(";")
                };
                let md = c["spec"]["metadata"].as_array_mut().expect("metadata list");
                md.push(meta_value(
                    "publishingScopes",
                    scope_list(&|d| d.publish.clone()),
                ));
                md.push(meta_value(
                    "subscriptionScopes",
                    scope_list(&|d| d.subscribe.iter().map(|(t, _)| t.clone()).collect()),
                ));
                out.push(with_labels(c, app));
            }
            let state_users: Vec<String> = here
                .iter()
                .filter(|(_, d)| d.state.contains(&dep.name))
                .map(|(_, d)| d.app_id.clone())
                .collect();
            if !state_users.is_empty() {
                let (target, password, tls) = redis_target(app, dep, ns);
                out.push(with_labels(
                    state_redis(&dep.name, ns, &target, password.as_ref(), tls, &state_users),
                    app,
                ));
            }
        }
        for (s, d) in &here {
            let Some(pubsub) = &d.pubsub else { continue };
            for (topic, route) in &d.subscribe {
                let name = format!(
                    "{}-{}",
                    s.name,
                    topic.to_ascii_lowercase().replace(['.', '_'], "-")
                );
                out.push(with_labels(
                    subscription(
                        &name,
                        ns,
                        pubsub,
                        topic,
                        route,
                        None,
                        std::slice::from_ref(&d.app_id),
                    ),
                    app,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_state_store_has_failover_settings_and_secret_refs() {
        let pw = SecretRef {
            name: "cache-credentials".into(),
            key: "password".into(),
        };
        let c = state_redis(
            "statestore",
            "todo",
            &RedisTarget::Sentinel {
                sentinels: "a:26379,b:26379".into(),
                master: "cache".into(),
            },
            Some(&pw),
            false,
            &["backend".into()],
        );
        let meta = c["spec"]["metadata"].as_array().unwrap();
        let get = |n: &str| meta.iter().find(|m| m["name"] == n).cloned().unwrap();
        assert_eq!(get("failover")["value"], "true");
        assert_eq!(get("sentinelMasterName")["value"], "cache");
        assert_eq!(get("redisHost")["value"], "a:26379,b:26379");
        assert_eq!(
            get("redisPassword")["secretKeyRef"]["name"],
            "cache-credentials"
        );
        assert!(get("redisPassword").get("value").is_none());
        assert_eq!(c["scopes"], json!(["backend"]));
    }

    #[test]
    fn annotations_are_strings() {
        let a = Sidecar {
            app_id: "backend".into(),
            app_port: Some(8000),
            cpu: ("100m".into(), "300m".into()),
            memory: ("64Mi".into(), "256Mi".into()),
            ..Default::default()
        }
        .annotations();
        assert_eq!(a["dapr.io/enabled"], "true");
        assert_eq!(a["dapr.io/app-port"], "8000");
        assert_eq!(a["dapr.io/sidecar-memory-limit"], "256Mi");
    }
}
