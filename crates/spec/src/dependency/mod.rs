//! Typed dependencies: how a database, cache or broker runs in each environment (`mode`), and
//! the settings of the in-cluster kinds (`ha`, `pooler`, `backup`). What each type *is* — image,
//! port, data path, probes, credentials, HA shape — lives in the [`catalogue`], one file per type.

pub mod cache;
pub mod catalogue;
pub mod kafka;
pub mod postgres;

use schemars::JsonSchema;
use serde::Deserialize;

/// Where a dependency runs in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyMode {
    /// berth renders the server: a StatefulSet, or an operator's resources (`ha`).
    InCluster,
    /// A cloud provider's service (RDS, Cloud SQL, Azure Database): endpoint, TLS and credentials
    /// only; the provider does replication, failover and backups.
    Managed,
    /// Any other endpoint: an ExternalName Service to `host`.
    External,
}

impl DependencyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyMode::InCluster => "in-cluster",
            DependencyMode::Managed => "managed",
            DependencyMode::External => "external",
        }
    }
}

/// High availability: `false`, `true` (the type's default HA shape), or its settings.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum HaSpec {
    /// `false`: one instance; `true`: the default HA shape of the type.
    Flag(bool),
    Settings(HaSettings),
}

/// HA settings. PostgreSQL: `instances` and `operator`; Redis/Valkey: `replicas` and `sentinel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaSettings {
    /// PostgreSQL: number of instances, the primary included (default 3).
    #[serde(default)]
    pub instances: Option<u32>,
    /// PostgreSQL: who fails over: `cloudnative-pg` (default; the CloudNativePG operator) or
    /// `none` (Patroni in each pod, with the Kubernetes API as its consensus store).
    #[serde(default)]
    pub operator: Option<HaOperator>,
    /// Redis/Valkey: replicas next to the primary.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Redis/Valkey: run Sentinels for automatic failover.
    #[serde(default)]
    pub sentinel: Option<bool>,
    /// Redis/Valkey with Sentinel: how long the master must be unreachable before a Sentinel
    /// calls it down (default `5s`; failover takes about this plus 1–1.5 s).
    #[serde(rename = "down-after", default)]
    pub down_after: Option<String>,
    /// Redis/Valkey with Sentinel: failover timeout (default `18s`; also the retry delay after a
    /// failed election, halved).
    #[serde(rename = "failover-timeout", default)]
    pub failover_timeout: Option<String>,
}

/// Who runs PostgreSQL failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HaOperator {
    /// The CloudNativePG operator (`Cluster`, `Pooler`, `ScheduledBackup` resources).
    CloudnativePg,
    /// No operator: Patroni in each pod, leader election through the Kubernetes API.
    None,
}

impl<'de> Deserialize<'de> for HaSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = HaSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`false`, `true`, or a mapping such as `{ instances: 3, operator: cloudnative-pg }`")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<HaSpec, E> {
                Ok(HaSpec::Flag(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<HaSpec, A::Error> {
                HaSettings::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(HaSpec::Settings)
            }
        }
        d.deserialize_any(V)
    }
}

/// A connection pooler (PgBouncer) in front of the writer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolerSpec {
    /// `transaction` (default: many clients share few server connections; no session state such
    /// as SET, LISTEN or advisory locks) or `session`.
    #[serde(default)]
    pub mode: Option<PoolMode>,
    /// PgBouncer pods (default 2).
    #[serde(default)]
    pub instances: Option<u32>,
    /// Server connections per database and user (default 20).
    #[serde(rename = "pool-size", default)]
    pub pool_size: Option<u32>,
    /// Client connections PgBouncer accepts (default 1000).
    #[serde(rename = "max-clients", default)]
    pub max_clients: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    Transaction,
    Session,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Transaction => "transaction",
            PoolMode::Session => "session",
        }
    }
}

/// Continuous backups to an object store: base backups on a schedule plus WAL archiving for
/// point-in-time recovery. Every backup comes with its restore manifest and a restore check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    /// Base backup schedule, six-field cron with seconds first (`0 0 3 * * *` = 03:00 daily), as
    /// CloudNativePG reads it.
    #[serde(default)]
    pub schedule: Option<String>,
    /// How long backups are kept: `7d`, `4w`, `3m` (default `7d`).
    #[serde(default)]
    pub retention: Option<String>,
    /// Destination: `s3://BUCKET/PREFIX` (required).
    #[serde(default)]
    pub to: Option<String>,
    /// Cloud identity that writes the bucket, put on the ServiceAccount: an IAM role ARN (IRSA).
    /// Never static keys.
    #[serde(default)]
    pub identity: Option<String>,
    /// Endpoint URL of an S3-compatible store (MinIO, Ceph); absent for AWS S3.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Schedule of the restore check: restores the latest backup into a scratch instance and runs
    /// a query (five-field cron, default `0 5 * * 0`, Sundays 05:00).
    #[serde(rename = "restore-check", default)]
    pub restore_check: Option<String>,
}

/// TLS to a managed or external database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// CA bundle (PEM) that signs the server's certificate, relative to berth.yaml; clients use
    /// `sslmode=verify-full` against it.
    #[serde(default)]
    pub ca: Option<String>,
}

/// A schema migration run as a Job before the new version of the service: an Argo CD hook and a
/// Helm hook, one Job per database, in the databases' declared order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The migration command, with the service's image, env and secrets (e.g.
    /// `[goose, -dir, /migrations, postgres, up]`; the connection comes in `DATABASE_URL`).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// `DEPENDENCY/DATABASE` (or `DEPENDENCY` when it has one database).
    #[serde(default)]
    pub database: Option<String>,
    /// Longest the Job may run, a duration (default `10m`).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// One migration or several (one per database).
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum Migrations {
    One(Migration),
    Many(Vec<Migration>),
}

impl Migrations {
    pub fn list(&self) -> Vec<&Migration> {
        match self {
            Migrations::One(m) => vec![m],
            Migrations::Many(v) => v.iter().collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Migrations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Migrations;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping `{ command: [...], database: DEP/DB }` or a list of them")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Migrations, A::Error> {
                Migration::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Migrations::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Migrations, A::Error> {
                let mut v = Vec::new();
                while let Some(m) = seq.next_element::<Migration>()? {
                    v.push(m);
                }
                Ok(Migrations::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A declared Kafka topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions (default 3). Can only grow: a decrease is refused against `berth.lock`.
    #[serde(default)]
    pub partitions: Option<u32>,
    /// How long messages are kept: `7d`, `12h`, `30m`, or `-1` for ever (default: the broker's, 7d).
    #[serde(default)]
    pub retention: Option<String>,
    /// Replication factor (default: derived from the broker count, at most 3). At most the
    /// number of brokers; a change is refused against `berth.lock` (it needs a reassignment).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Other topic configs (`cleanup.policy: compact`, `max.message.bytes: "2097152"`).
    #[serde(default)]
    pub config: Option<indexmap::IndexMap<String, String>>,
}

/// Who runs an in-cluster Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KafkaOperator {
    /// The Strimzi operator (`Kafka`, `KafkaNodePool`, `KafkaTopic`, API `kafka.strimzi.io/v1`).
    Strimzi,
}

/// How Redis/Valkey persists its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    /// Append-only file, fsync every second: at most about a second of writes lost on a crash.
    Aof,
    /// Snapshots only: minutes of writes lost on a crash; smaller files, faster restarts.
    Rdb,
}

/// A managed service's provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Amazon ElastiCache (Redis OSS / Valkey), in-transit encryption and an AUTH token.
    Elasticache,
    /// Google Cloud Memorystore (Redis / Valkey), in-transit encryption (port 6378) and AUTH.
    Memorystore,
    /// Azure Cache for Redis (TLS port 6380, access key as password).
    AzureCache,
    /// Amazon MSK, SASL/SCRAM over TLS (port 9096).
    Msk,
    /// Confluent Cloud, SASL/PLAIN over TLS with an API key and secret (port 9092).
    Confluent,
    /// Azure Event Hubs' Kafka endpoint, SASL/PLAIN over TLS, username `$ConnectionString`,
    /// the connection string as password (port 9093).
    EventHubs,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Elasticache => "elasticache",
            Provider::Memorystore => "memorystore",
            Provider::AzureCache => "azure-cache",
            Provider::Msk => "msk",
            Provider::Confluent => "confluent",
            Provider::EventHubs => "event-hubs",
        }
    }
}

/// SASL settings of a managed Kafka.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaslSpec {
    /// `scram-sha-512` (MSK), `scram-sha-256`, or `plain` (Confluent Cloud, Event Hubs).
    #[serde(default)]
    pub mechanism: Option<SaslMechanism>,
    /// The SASL user (Confluent: the API key; Event Hubs: `$ConnectionString`, the default there).
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SaslMechanism {
    ScramSha512,
    ScramSha256,
    Plain,
}

impl SaslMechanism {
    /// As Kafka clients name it (`sasl.mechanism`).
    pub fn kafka_name(self) -> &'static str {
        match self {
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::Plain => "PLAIN",
        }
    }
    /// As Dapr's pubsub.kafka names it (`saslMechanism`).
    pub fn dapr_name(self) -> &'static str {
        match self {
            SaslMechanism::ScramSha512 => "SHA-512",
            SaslMechanism::ScramSha256 => "SHA-256",
            SaslMechanism::Plain => "PLAIN",
        }
    }
}

/// A duration in milliseconds: `500ms`, `5s`, `10m`, `12h`, `7d`, `2w`. None if not one.
pub fn parse_duration_ms(s: &str) -> Option<u32> {
    let v = parse_duration_ms_u64(s)?;
    u32::try_from(v).ok()
}

/// [`parse_duration_ms`] without the 32-bit bound (topic retention may be years).
pub fn parse_duration_ms_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}
