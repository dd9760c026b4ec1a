//! Redis and Valkey: persistence and the Sentinel topology in the cluster, TLS and cluster mode
//! of a managed endpoint. Both run with a password (in the cluster `requirepass`, managed the
//! AUTH token / access key) from the `DEP-default-credentials` Secret of the secret mode.

use super::{DependencyMode, parse_duration_ms};
use super::{HaSpec, Persistence, Provider};
use crate::model::{Dependency, Tier};

/// Replicas next to the master with `ha: true` or `ha: { sentinel: true }`: two, so there are
/// three Sentinels (a majority survives one pod) and the write fence (`min-replicas-to-write 1`)
/// can be on.
pub const DEFAULT_REPLICAS: u32 = 2;
/// Sentinel's own default is 30 s; measured here, failover takes this plus 1.0–1.5 s.
pub const DEFAULT_DOWN_AFTER_MS: u32 = 5_000;
/// Sentinel's own default is 180 s; it is also the retry delay after a failed election and how
/// long a replica may follow the wrong master, so it stays short.
pub const DEFAULT_FAILOVER_TIMEOUT_MS: u32 = 18_000;
/// The master name of the Sentinel set is the dependency's name.
pub const ROLE: &str = "default";

/// A Redis/Valkey dependency (in-cluster or managed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redis {
    pub persistence: Persistence,
    /// In-cluster HA: replicas and the Sentinel timings.
    pub sentinel: Option<SentinelSettings>,
    /// Managed: the endpoint speaks TLS (`rediss://`).
    pub tls: bool,
    /// Managed: a Redis Cluster endpoint (clients use the cluster protocol).
    pub cluster_mode: bool,
    pub provider: Option<Provider>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentinelSettings {
    /// Replicas besides the master (≥ 2).
    pub replicas: u32,
    pub down_after_ms: u32,
    pub failover_timeout_ms: u32,
}

impl SentinelSettings {
    /// Pods (and Sentinels): the master and its replicas.
    pub fn pods(&self) -> u32 {
        1 + self.replicas
    }
}

/// The stable name of pod `i` of an in-cluster dependency `name` in namespace `ns`.
pub fn pod_host(name: &str, ns: &str, i: u32) -> String {
    format!("{name}-{i}.{name}-headless.{ns}.svc.cluster.local")
}

/// `REDIS_SENTINELS`: every Sentinel as `host:26379`, comma-separated.
pub fn sentinels(name: &str, ns: &str, s: &SentinelSettings) -> String {
    (0..s.pods())
        .map(|i| format!("{}:26379", pod_host(name, ns, i)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The usual port of a managed provider's endpoint.
pub fn provider_port(p: Provider) -> Option<u16> {
    match p {
        Provider::Elasticache => Some(6379),
        Provider::Memorystore => Some(6378),
        Provider::AzureCache => Some(6380),
        _ => None,
    }
}

type Err<'a> = dyn FnMut(&[&str], String, String) + 'a;

/// Resolves the Redis/Valkey settings of `dep` (None for `mode: external`, which keeps the plain
/// endpoint wiring).
pub(crate) fn resolve(
    dep: &Dependency,
    mode: DependencyMode,
    tier: Tier,
    err: &mut Err,
) -> Option<Redis> {
    let _ = tier;
    if mode == DependencyMode::External {
        for (key, set) in [
            ("persistence", dep.persistence.is_some()),
            ("cluster-mode", dep.cluster_mode.is_some()),
            ("provider", dep.provider.is_some()),
        ] {
            if set {
                err(
                    &[key],
                    format!("`{key}` does not apply to `mode: external`"),
                    format!(
                        "remove `{key}`, or use `mode: managed` (a provider's endpoint) or `mode: in-cluster`"
                    ),
                );
            }
        }
        return None;
    }
    let in_cluster = mode == DependencyMode::InCluster;
    if in_cluster {
        for (key, set, why) in [
            (
                "cluster-mode",
                dep.cluster_mode.is_some(),
                "berth runs Sentinel, not Redis Cluster, in the cluster",
            ),
            (
                "provider",
                dep.provider.is_some(),
                "a provider runs managed endpoints",
            ),
        ] {
            if set {
                err(
                    &[key],
                    format!("`{key}` does not apply to an in-cluster dependency: {why}"),
                    format!("remove `{key}`, or set `mode: managed` with `host:`"),
                );
            }
        }
    } else if dep.persistence.is_some() {
        err(&["persistence"], "`persistence` does not apply to `mode: managed`: the provider persists the data".into(), "remove `persistence` from this environment (`persistence: null`), or use `mode: in-cluster`".into());
    }
    if let Some(p) = dep.provider
        && provider_port(p).is_none()
    {
        err(
            &["provider"],
            format!("`provider: {}` is a Kafka provider", p.as_str()),
            "for Redis/Valkey: elasticache, memorystore or azure-cache".into(),
        );
    }
    let sentinel = if in_cluster {
        match &dep.ha {
            None | Some(HaSpec::Flag(false)) => None,
            Some(HaSpec::Flag(true)) => Some(SentinelSettings {
                replicas: DEFAULT_REPLICAS,
                down_after_ms: DEFAULT_DOWN_AFTER_MS,
                failover_timeout_ms: DEFAULT_FAILOVER_TIMEOUT_MS,
            }),
            Some(HaSpec::Settings(s)) => {
                for (key, set) in [
                    ("instances", s.instances.is_some()),
                    ("operator", s.operator.is_some()),
                ] {
                    if set {
                        err(
                            &["ha", key],
                            format!("`ha.{key}` is a PostgreSQL setting"),
                            "redis/valkey take `ha: { replicas: 2, sentinel: true }`".into(),
                        );
                    }
                }
                let replicas = s.replicas.unwrap_or(DEFAULT_REPLICAS);
                let sentinel = s.sentinel.unwrap_or(true);
                if !sentinel {
                    err(&["ha", "sentinel"], "`sentinel: false`: replicas without Sentinel are never promoted, so a lost master stays lost".into(), "use `ha: { replicas: 2, sentinel: true }` for automatic failover, or `ha: false` for one instance".into());
                } else if replicas < 2 {
                    err(
                        &["ha", if s.replicas.is_some() { "replicas" } else { "sentinel" }],
                        format!("`sentinel: true` with {replicas} replica{}: Sentinel needs a quorum of three (one per pod), so at least 2 replicas", if replicas == 1 { "" } else { "s" }),
                        "use `ha: { replicas: 2, sentinel: true }` (three pods: a majority survives one), or `ha: false`".into(),
                    );
                }
                let dur = |key: &str, v: &Option<String>, default: u32, err: &mut Err| match v {
                    None => default,
                    Some(t) => match parse_duration_ms(t) {
                        Some(ms) if (100..=3_600_000).contains(&ms) => ms,
                        _ => {
                            err(
                                &["ha", key],
                                format!("`{t}` is not a duration between 100ms and 1h"),
                                format!("e.g. `{key}: {}s`", default / 1000),
                            );
                            default
                        }
                    },
                };
                let down_after_ms = dur("down-after", &s.down_after, DEFAULT_DOWN_AFTER_MS, err);
                let failover_timeout_ms = dur(
                    "failover-timeout",
                    &s.failover_timeout,
                    DEFAULT_FAILOVER_TIMEOUT_MS,
                    err,
                );
                if failover_timeout_ms < down_after_ms {
                    err(&["ha", "failover-timeout"], format!("failover-timeout ({failover_timeout_ms} ms) is shorter than down-after ({down_after_ms} ms): a failover would be abandoned before it could start"), "keep failover-timeout at least a few times down-after, e.g. `down-after: 5s`, `failover-timeout: 18s`".into());
                }
                Some(SentinelSettings {
                    replicas: replicas.max(2),
                    down_after_ms,
                    failover_timeout_ms,
                })
            }
        }
    } else {
        None
    };
    Some(Redis {
        persistence: dep.persistence.unwrap_or(Persistence::Aof),
        sentinel,
        // Every managed provider offers in-transit encryption; berth always asks for it.
        tls: !in_cluster,
        cluster_mode: !in_cluster && dep.cluster_mode.unwrap_or(false),
        provider: dep.provider,
    })
}
