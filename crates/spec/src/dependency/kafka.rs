//! Kafka: brokers (KRaft, combined mode) or Strimzi in the cluster, SASL/TLS of a managed
//! endpoint (MSK, Confluent Cloud, Event Hubs), and the declared topics, checked against the
//! lock file (`berth.lock`, written by `berth build` next to berth.yaml): Kafka cannot remove
//! partitions, and a replication-factor change needs a partition reassignment, so both are
//! refused before anything is rendered.

use super::{DependencyMode, KafkaOperator, Provider, SaslMechanism, parse_duration_ms_u64};
use crate::model::Dependency;
use std::collections::BTreeMap;
use std::path::Path;

/// The lock file, next to berth.yaml.
pub const LOCK_FILE: &str = "berth.lock";
/// Partitions of a topic that does not say.
pub const DEFAULT_PARTITIONS: u32 = 3;
/// The SASL credential's Secret part: `DEP-sasl-credentials`.
pub const SASL_ROLE: &str = "sasl";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kafka {
    /// In-cluster brokers (0 for managed).
    pub brokers: u32,
    pub operator: Option<KafkaOperator>,
    pub topics: Vec<Topic>,
    /// Managed: SASL user and mechanism (the password in `DEP-sasl-credentials`).
    pub sasl: Option<Sasl>,
    /// Managed: TLS to the brokers.
    pub tls: bool,
    pub provider: Option<Provider>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sasl {
    pub mechanism: SaslMechanism,
    pub username: String,
}

/// A declared topic as the cluster will hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub partitions: u32,
    pub replicas: u32,
    /// Topic configs (`retention.ms`, …), sorted.
    pub config: BTreeMap<String, String>,
}

/// Replication factor from the broker count: at most 3 (1 broker → 1, 2 → 2, ≥ 3 → 3).
pub fn default_replicas(brokers: u32) -> u32 {
    brokers.clamp(1, 3)
}

/// The stable name of broker `i`.
pub fn pod_host(name: &str, ns: &str, i: u32) -> String {
    super::cache::pod_host(name, ns, i)
}

/// `KAFKA_BOOTSTRAP_SERVERS` of an in-cluster cluster: every broker's stable name.
pub fn bootstrap_servers(name: &str, ns: &str, brokers: u32) -> String {
    (0..brokers)
        .map(|i| format!("{}:9092", pod_host(name, ns, i)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Usual port and SASL mechanism of a managed provider.
pub fn provider_defaults(p: Provider) -> Option<(u16, SaslMechanism)> {
    match p {
        Provider::Msk => Some((9096, SaslMechanism::ScramSha512)),
        Provider::Confluent => Some((9092, SaslMechanism::Plain)),
        Provider::EventHubs => Some((9093, SaslMechanism::Plain)),
        _ => None,
    }
}

fn valid_topic_name(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 249
        && t != "."
        && t != ".."
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !t.starts_with("__")
}

/// What the lock file holds for one environment: dependency → topic → (partitions, replicas).
pub type Locked = BTreeMap<String, BTreeMap<String, LockedTopic>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockedTopic {
    pub partitions: u32,
    pub replicas: u32,
}

/// The lock file: `{ "kafka-topics": { ENV: { DEP: { TOPIC: { partitions, replicas } } } } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockFile {
    #[serde(rename = "kafka-topics", default)]
    pub kafka_topics: BTreeMap<String, Locked>,
}

impl LockFile {
    pub fn parse(text: &str) -> Result<LockFile, String> {
        if text.trim().is_empty() {
            return Ok(LockFile::default());
        }
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
    /// The lock after a build of `apps` (every environment): their declared topics; other
    /// environments' entries are kept.
    pub fn updated(&self, apps: &[crate::App]) -> LockFile {
        let mut out = self.clone();
        for app in apps {
            let mut env: Locked = BTreeMap::new();
            for d in &app.dependencies {
                if let Some(k) = &d.kafka
                    && !k.topics.is_empty()
                {
                    env.insert(
                        d.name.clone(),
                        k.topics
                            .iter()
                            .map(|t| {
                                (
                                    t.name.clone(),
                                    LockedTopic {
                                        partitions: t.partitions,
                                        replicas: t.replicas,
                                    },
                                )
                            })
                            .collect(),
                    );
                }
            }
            if env.is_empty() {
                out.kafka_topics.remove(&app.env);
            } else {
                out.kafka_topics.insert(app.env.clone(), env);
            }
        }
        out
    }
    pub fn is_empty(&self) -> bool {
        self.kafka_topics.is_empty()
    }
    /// Pretty JSON with a trailing newline (stable: sorted maps).
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("serialisable") + "\n"
    }
}

type Err<'a> = dyn FnMut(&[&str], String, String) + 'a;

/// Reads the lock file (absent: no lock yet).
pub(crate) fn read_lock(
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Option<LockFile>, String> {
    match read_file(Path::new(LOCK_FILE)) {
        Ok(bytes) => LockFile::parse(&String::from_utf8_lossy(&bytes)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Resolves the Kafka settings of `dep` (None for `mode: external`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve(
    name: &str,
    dep: &Dependency,
    mode: DependencyMode,
    env: &str,
    lock: &Result<Option<LockFile>, String>,
    err: &mut Err,
) -> Option<Kafka> {
    let in_cluster = mode == DependencyMode::InCluster;
    if mode == DependencyMode::External {
        for (key, set) in [
            ("topics", dep.topics.is_some()),
            ("brokers", dep.brokers.is_some()),
            ("operator", dep.operator.is_some()),
            ("sasl", dep.sasl.is_some()),
            ("provider", dep.provider.is_some()),
        ] {
            if set {
                err(
                    &[key],
                    format!("`{key}` does not apply to `mode: external`"),
                    format!(
                        "remove `{key}`, or use `mode: managed` (MSK, Confluent Cloud, Event Hubs) or `mode: in-cluster`"
                    ),
                );
            }
        }
        return None;
    }
    if in_cluster {
        for (key, set) in [
            ("sasl", dep.sasl.is_some()),
            ("provider", dep.provider.is_some()),
        ] {
            if set {
                err(
                    &[key],
                    format!("`{key}` applies to `mode: managed`"),
                    format!("remove `{key}`, or set `mode: managed` with `host:`"),
                );
            }
        }
    } else {
        for (key, set) in [
            ("brokers", dep.brokers.is_some()),
            ("operator", dep.operator.is_some()),
        ] {
            if set {
                err(
                    &[key],
                    format!(
                        "`{key}` does not apply to `mode: managed`: the provider runs the brokers"
                    ),
                    format!(
                        "remove `{key}` from this environment (`{key}: null`), or use `mode: in-cluster`"
                    ),
                );
            }
        }
    }
    if dep
        .ha
        .as_ref()
        .is_some_and(|h| *h != super::HaSpec::Flag(false))
        && in_cluster
    {
        err(&["ha"], "`ha` does not apply to kafka: its availability is the broker count".into(), "use `brokers: 3` (replication factor 3, min.insync.replicas 2: one broker may be down)".into());
    }
    let defaults = dep.provider.and_then(provider_defaults);
    if let Some(p) = dep.provider
        && defaults.is_none()
    {
        err(
            &["provider"],
            format!("`provider: {}` is a Redis/Valkey provider", p.as_str()),
            "for Kafka: msk, confluent or event-hubs".into(),
        );
    }
    let brokers = if in_cluster {
        dep.brokers.unwrap_or(1)
    } else {
        0
    };
    if in_cluster && brokers == 0 {
        err(
            &["brokers"],
            "`brokers: 0`".into(),
            "use 1 (dev) or 3 (one broker may be down)".into(),
        );
    }
    if in_cluster && brokers > 9 {
        err(
            &["brokers"],
            format!(
                "`brokers: {brokers}`: every broker is also a KRaft controller here, and more than 9 voters slow every metadata commit"
            ),
            "use 3 or 5, or `operator: strimzi` for separate controller and broker pools".into(),
        );
    }
    let brokers = brokers.max(if in_cluster { 1 } else { 0 });
    let locked = match lock {
        Ok(Some(l)) => l.kafka_topics.get(env).and_then(|e| e.get(name)).cloned(),
        Ok(None) => None,
        Err(e) => {
            err(
                &["topics"],
                format!("cannot read {LOCK_FILE}: {e}"),
                format!(
                    "{LOCK_FILE} is written by `berth build`; restore it from version control, or delete it to start a new lock"
                ),
            );
            None
        }
    };
    let mut topics = Vec::new();
    for (t, spec) in dep.topics.iter().flatten() {
        if !valid_topic_name(t) {
            err(&["topics", t], format!("`{t}` is not a Kafka topic name"), "letters, digits, `.`, `_` and `-`, at most 249, not starting with `__` (Kafka's internal topics)".into());
            continue;
        }
        let partitions = spec.partitions.unwrap_or(DEFAULT_PARTITIONS);
        if partitions == 0 {
            err(
                &["topics", t, "partitions"],
                "a topic needs at least one partition".into(),
                format!("e.g. `partitions: {DEFAULT_PARTITIONS}`"),
            );
        }
        let replicas = spec.replicas.unwrap_or_else(|| {
            if in_cluster {
                default_replicas(brokers)
            } else {
                3
            }
        });
        if replicas == 0 {
            err(
                &["topics", t, "replicas"],
                "`replicas: 0`".into(),
                "at least 1 (3 to survive a broker loss)".into(),
            );
        }
        if in_cluster && replicas > brokers {
            err(
                &["topics", t, "replicas"],
                format!(
                    "topic `{t}` wants {replicas} replicas but `{name}` has {brokers} broker{}: Kafka refuses to create it",
                    if brokers == 1 { "" } else { "s" }
                ),
                format!(
                    "use `replicas: {}` or fewer, or `brokers: {replicas}`",
                    brokers
                ),
            );
        }
        let mut config: BTreeMap<String, String> = spec
            .config
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(r) = &spec.retention {
            let ms = if r == "-1" {
                Some("-1".to_owned())
            } else {
                parse_duration_ms_u64(r).map(|v| v.to_string())
            };
            match ms {
                Some(ms) => {
                    config.insert("retention.ms".into(), ms);
                }
                None => err(
                    &["topics", t, "retention"],
                    format!("`{r}` is not a duration"),
                    "e.g. `retention: 7d` (ms, s, m, h, d, w), or `-1` to keep messages for ever"
                        .into(),
                ),
            }
        }
        for (k, v) in &config {
            if k.is_empty() || k.contains(['=', ' ', ',']) || v.contains([' ', ',']) {
                err(
                    &["topics", t, "config", k],
                    format!("`{k}: {v}` is not a topic config the topic Job can pass"),
                    "keys like `cleanup.policy`, values without spaces or commas".into(),
                );
            }
        }
        if let Some(prev) = locked.as_ref().and_then(|l| l.get(t)) {
            if partitions < prev.partitions {
                err(
                    &["topics", t, "partitions"],
                    format!(
                        "topic `{t}`: partitions {} → {partitions} ({LOCK_FILE}, environment {env}): Kafka cannot remove partitions",
                        prev.partitions
                    ),
                    format!(
                        "keep `partitions: {}`, or declare a new topic and move the consumers to it",
                        prev.partitions
                    ),
                );
            }
            if replicas != prev.replicas {
                err(
                    &["topics", t, "replicas"],
                    format!(
                        "topic `{t}`: replication factor {} → {replicas} ({LOCK_FILE}, environment {env}): this needs a partition reassignment, not a spec edit",
                        prev.replicas
                    ),
                    format!(
                        "keep `replicas: {}`; reassign with kafka-reassign-partitions.sh, then update {LOCK_FILE} (`berth build` rewrites it once the spec says the new factor and no refusal is left: remove the topic's entry by hand)",
                        prev.replicas
                    ),
                );
            }
        }
        topics.push(Topic {
            name: t.clone(),
            partitions,
            replicas,
            config,
        });
    }
    let sasl = if in_cluster {
        None
    } else {
        match (&dep.sasl, defaults) {
            (Some(s), d) => {
                let mechanism = s.mechanism.or(d.map(|d| d.1));
                let username = s.username.clone().or_else(|| {
                    (dep.provider == Some(Provider::EventHubs))
                        .then(|| "$ConnectionString".to_owned())
                });
                match (mechanism, username) {
                    (Some(mechanism), Some(username)) => Some(Sasl {
                        mechanism,
                        username,
                    }),
                    (None, _) => {
                        err(&["sasl"], "SASL needs a `mechanism`".into(), "`mechanism: scram-sha-512` (MSK), `plain` (Confluent Cloud, Event Hubs)".into());
                        None
                    }
                    (_, None) => {
                        err(
                            &["sasl"],
                            "SASL needs a `username`".into(),
                            "e.g. `username: todo` (MSK SCRAM user; Confluent: the API key)".into(),
                        );
                        None
                    }
                }
            }
            (None, Some((_, mech))) if dep.provider == Some(Provider::EventHubs) => Some(Sasl {
                mechanism: mech,
                username: "$ConnectionString".into(),
            }),
            (None, Some(_)) => {
                err(
                    &["sasl"],
                    format!(
                        "`provider: {}` authenticates with SASL: missing required key `sasl`",
                        dep.provider.map(Provider::as_str).unwrap_or_default()
                    ),
                    "e.g. `sasl: { username: todo }` (the password comes through the secret mode)"
                        .into(),
                );
                None
            }
            (None, None) => None,
        }
    };
    Some(Kafka {
        brokers,
        operator: if in_cluster { dep.operator } else { None },
        topics,
        sasl,
        tls: !in_cluster,
        provider: dep.provider,
    })
}

/// The Secret of an in-cluster KRaft cluster's ID (`DEP-cluster-id`, key [`CLUSTER_ID_KEY`]).
pub fn cluster_id_secret(dep: &str) -> String {
    format!("{dep}-cluster-id")
}
pub const CLUSTER_ID_KEY: &str = "CLUSTER_ID";

/// The KRaft cluster ID of an in-cluster Kafka that berth runs itself (Strimzi generates its
/// own): one value, the same on every broker, written into each log dir's `meta.properties` at
/// the first start and never changed. It is delivered by the environment's secret mode like a
/// role's password — plain: the dotenv key `DEP_CLUSTER_ID`; sealed: `VALUES/DEP-cluster-id/
/// CLUSTER_ID`; external: remote key `PATH/DEP-cluster-id`, property `CLUSTER_ID` — so it is
/// never in git outside dev and never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdSecret {
    /// The Secret (Opaque) and its delivery's "owner" name.
    pub secret: String,
    /// `mode: plain`: the dotenv key.
    pub dotenv_key: String,
}

/// The cluster-ID Secret `dep` needs, if it is an in-cluster Kafka without an operator.
pub fn cluster_id(dep: &crate::ResolvedDependency) -> Option<ClusterIdSecret> {
    let k = dep.kafka.as_ref()?;
    (dep.mode == DependencyMode::InCluster && k.operator.is_none()).then(|| ClusterIdSecret {
        secret: cluster_id_secret(&dep.name),
        dotenv_key: format!("{}_CLUSTER_ID", crate::resolve::env_prefix(&dep.name)),
    })
}

/// Decodes Kafka's UUID form (22 characters of URL-safe base64 without padding, what
/// `kafka-storage.sh random-uuid` prints) into its 16 bytes, as Kafka's `Uuid.fromString`
/// does; None if it is not one, or is one of Kafka's reserved ZERO/ONE UUIDs.
pub fn decode_uuid(s: &str) -> Option<[u8; 16]> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if s.len() != 22 {
        return None;
    }
    let mut bits: u128 = 0;
    let mut tail = 0u8;
    for (i, c) in s.bytes().enumerate() {
        let v = T.iter().position(|t| *t == c)? as u128;
        if i < 21 {
            bits = (bits << 6) | v;
        } else {
            // 21 × 6 = 126 bits; the last character holds the final 2 in its top bits.
            bits = (bits << 2) | (v >> 4);
            tail = (v & 0xf) as u8;
        }
    }
    (tail == 0 && bits > 1).then(|| bits.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_uuids() {
        // The form `kafka-storage.sh random-uuid` prints round-trips; a stray low bit does not.
        assert!(decode_uuid("MkU3OEVBNTcwNTJENDM2Qg").is_some());
        assert!(decode_uuid("MkU3OEVBNTcwNTJENDM2Qh").is_none());
        assert!(decode_uuid("MkU3OEVBNTcwNTJENDM2Q").is_none());
        assert!(
            decode_uuid("AAAAAAAAAAAAAAAAAAAAAA").is_none(),
            "Kafka's ZERO"
        );
        assert!(
            decode_uuid("AAAAAAAAAAAAAAAAAAAAAQ").is_none(),
            "Kafka's ONE"
        );
        assert!(decode_uuid("not a cluster id at all").is_none());
    }
}
