//! Dapr: the sidecar annotations of a service's pods, the Components derived from the
//! dependencies (pubsub.kafka, state.redis), the app Configuration, Subscriptions, and the
//! NetworkPolicy rules a sidecar needs. Values follow the Dapr reference (arguments-annotations
//! overview, setup-apache-kafka, setup-redis, configuration-schema, subscription-schema v2alpha1);
//! the resources are validated against the vendored Dapr CRD schemas.

use serde_json::{Value, json};
use std::collections::BTreeMap;

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
    password: &SecretRef,
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
            m.push(meta_secret("sentinelPassword", password));
        }
        RedisTarget::Cluster(h) => {
            m.push(meta_value("redisHost", h.clone()));
            m.push(meta_value("redisType", "cluster"));
        }
    }
    m.push(meta_secret("redisPassword", password));
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
            &pw,
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
