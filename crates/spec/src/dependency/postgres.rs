//! Resolution and validation of dependencies: the mode of each one in this environment, and for
//! PostgreSQL its topology (one instance, CloudNativePG, Patroni), pooler, backups and databases;
//! and the services' migrations, in the order their databases are declared.

use super::catalogue::{self, HaShape};
use super::{DependencyMode, HaOperator, HaSpec, PoolMode};
use crate::error::SpecError;
use crate::model::{Dependency, DependencyKind, Spec, Tier};
use crate::quantity::{Quantity, ResourcePair};
use crate::validate::Ctx;
use std::path::Path;

/// Default PostgreSQL instances with `ha: true` or `ha: {}`.
pub const DEFAULT_INSTANCES: u32 = 3;
pub const DEFAULT_POOLER_INSTANCES: u32 = 2;
pub const DEFAULT_POOL_SIZE: u32 = 20;
pub const DEFAULT_MAX_CLIENTS: u32 = 1000;
pub const DEFAULT_RETENTION: &str = "7d";
pub const DEFAULT_RESTORE_CHECK: &str = "0 5 * * 0";
pub const DEFAULT_MIGRATION_TIMEOUT_SECONDS: u32 = 600;
/// Ordered migration steps fit between the data tier's wave and the workloads' (see
/// berth-emit's waves).
pub const MAX_MIGRATION_STEPS: usize = 15;

/// One dependency as this environment runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedDependency {
    pub name: String,
    pub kind: DependencyKind,
    pub mode: DependencyMode,
    /// The address clients connect to: the endpoint (managed/external), or the in-cluster
    /// Service (the pooler's when there is one).
    pub host: String,
    pub port: u16,
    /// In-cluster settings, for every in-cluster type.
    pub server: Option<Server>,
    /// PostgreSQL settings.
    pub postgres: Option<Postgres>,
    /// managed/external: egress is allowed only to this network.
    pub cidr: Option<String>,
    /// managed/external: the CA bundle (PEM) that signs the server's certificate.
    pub tls_ca: Option<Vec<u8>>,
    /// Redis/Valkey settings (in-cluster and managed).
    pub redis: Option<super::cache::Redis>,
    /// Kafka settings (in-cluster and managed).
    pub kafka: Option<super::kafka::Kafka>,
}

impl ResolvedDependency {
    /// The endpoint's address when its `host` is an IP (v4 or v6): cluster DNS cannot resolve
    /// an IP as an ExternalName, so such an endpoint gets a selector-less Service and an
    /// EndpointSlice instead.
    pub fn host_ip(&self) -> Option<std::net::IpAddr> {
        if self.mode == DependencyMode::InCluster {
            return None;
        }
        self.host.parse().ok()
    }

    /// The network its users' egress is limited to: the declared `cidr`, else the endpoint's IP
    /// as `/32` (`/128`); None (any address) for a host name.
    pub fn network(&self) -> Option<String> {
        if self.mode == DependencyMode::InCluster {
            return None;
        }
        self.cidr.clone().or_else(|| {
            self.host_ip().map(|ip| match ip {
                std::net::IpAddr::V4(ip) => format!("{ip}/32"),
                std::net::IpAddr::V6(ip) => format!("{ip}/128"),
            })
        })
    }
}

/// An in-cluster server.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// The image, resolved (`postgres:16`).
    pub image: String,
    /// Volume size per instance.
    pub storage: Quantity,
    pub cpu: ResourcePair,
    pub memory: ResourcePair,
    /// Its metrics exporter, PodMonitor and alerts (`metrics`, default true).
    pub metrics: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Postgres {
    /// Databases; each has an owner role of the same name.
    pub databases: Vec<String>,
    /// In-cluster only.
    pub topology: Option<Topology>,
    /// The writer address (the pooler bypassed): what migrations connect to.
    pub writer: String,
    pub pooler: Option<Pooler>,
    pub backup: Option<Backup>,
    /// Major version (`16`), from the image tag.
    pub major: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One instance in a StatefulSet; manual promotion only.
    Single,
    /// CloudNativePG `Cluster`.
    CloudNativePg { instances: u32 },
    /// Patroni in a StatefulSet, the Kubernetes API as DCS.
    Patroni { instances: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pooler {
    pub mode: PoolMode,
    pub instances: u32,
    pub pool_size: u32,
    pub max_clients: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Six-field cron (seconds first).
    pub schedule: String,
    /// `7d`, `4w`, `3m`.
    pub retention: String,
    /// `s3://BUCKET/PREFIX`.
    pub destination: String,
    pub identity: Option<String>,
    pub endpoint: Option<String>,
    /// Five-field cron of the restore check.
    pub restore_check: String,
}

/// A migration Job of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedMigration {
    pub dependency: String,
    pub database: String,
    pub command: Vec<String>,
    pub timeout_seconds: u32,
    /// Position among every migrating database, in declared order (0 first).
    pub step: usize,
}

/// `identity_db` → `identity-db`: database names in object names.
pub fn object_part(db: &str) -> String {
    db.replace('_', "-")
}

/// The Secret holding a role's `username` and `password`: `DEP-DATABASE-credentials` for a
/// database's owner, `DEP-superuser-credentials` and `DEP-replication-credentials` for the
/// server's own roles (without CloudNativePG).
pub fn credentials_secret(dep: &str, role: &str) -> String {
    format!("{dep}-{}-credentials", object_part(role))
}

/// A role whose password the environment's secret mode delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The Secret (`credentials_secret`); also the "owner" of the value in the secret modes
    /// (sealed: `VALUES/SECRET/password`; external: remote key `PATH/SECRET`, property `password`).
    pub secret: String,
    /// The PostgreSQL role.
    pub role: String,
    /// `mode: plain`: the dotenv key holding the password (`POSTGRES_TODO_PASSWORD`).
    pub dotenv_key: String,
}

/// Every role of a dependency whose password the environment delivers.
pub fn credentials(dep: &ResolvedDependency) -> Vec<Credential> {
    let prefix = crate::resolve::env_prefix(&dep.name);
    // Redis/Valkey: the password of the `default` user (in-cluster `requirepass`, managed the
    // AUTH token or access key); Kafka: the SASL user's password.
    if dep.redis.is_some() {
        return vec![Credential {
            secret: credentials_secret(&dep.name, super::cache::ROLE),
            role: super::cache::ROLE.into(),
            dotenv_key: format!("{prefix}_DEFAULT_PASSWORD"),
        }];
    }
    if let Some(sasl) = dep.kafka.as_ref().and_then(|k| k.sasl.as_ref()) {
        return vec![Credential {
            secret: credentials_secret(&dep.name, super::kafka::SASL_ROLE),
            role: sasl.username.clone(),
            dotenv_key: format!("{prefix}_SASL_PASSWORD"),
        }];
    }
    let Some(pg) = &dep.postgres else {
        return Vec::new();
    };
    let mut roles: Vec<(String, String)> = pg
        .databases
        .iter()
        .map(|db| (db.clone(), db.clone()))
        .collect();
    match pg.topology {
        Some(Topology::Single) => roles.push(("superuser".into(), "postgres".into())),
        Some(Topology::Patroni { .. }) => {
            roles.push(("superuser".into(), "postgres".into()));
            roles.push(("replication".into(), "replicator".into()));
        }
        _ => {}
    }
    roles
        .into_iter()
        .map(|(part, role)| Credential {
            secret: credentials_secret(&dep.name, &part),
            dotenv_key: format!("{prefix}_{}_PASSWORD", part.to_ascii_uppercase()),
            role,
        })
        .collect()
}

/// The credentials of `dep` read by services outside the data tier's namespace `data_ns`
/// (a namespace group): `(namespace, service, credential)`, one per namespace and Secret, in
/// service order. A pod's `secretKeyRef` — and a Dapr Component's — resolves only in its own
/// namespace, so each of these needs its own copy of the Secret. Only what those services read:
/// a database's owner role, the cache's or broker's password — never a superuser's.
pub fn foreign_credentials(
    data_ns: &str,
    services: &[crate::ResolvedService],
    dep: &ResolvedDependency,
) -> Vec<(String, String, Credential)> {
    let mut out: Vec<(String, String, Credential)> = Vec::new();
    for svc in services.iter().filter(|s| s.namespace != data_ns) {
        let read: Vec<Credential> = if dep.postgres.is_some() {
            svc.uses_databases
                .iter()
                .filter(|(d, _)| *d == dep.name)
                .filter_map(|(_, db)| credentials(dep).into_iter().find(|c| &c.role == db))
                .collect()
        } else if svc.uses_dependencies.contains(&dep.name) {
            credentials(dep).into_iter().take(1).collect()
        } else {
            Vec::new()
        };
        for c in read {
            if !out
                .iter()
                .any(|(ns, _, x)| *ns == svc.namespace && x.secret == c.secret)
            {
                out.push((svc.namespace.clone(), svc.name.clone(), c));
            }
        }
    }
    out
}

/// The database of a postgres dependency without `databases:`: named after the app.
pub fn default_database(app: &str) -> String {
    let name = app.replace('-', "_");
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        format!("app_{name}")
    }
}

/// A PostgreSQL identifier berth accepts for databases and roles: lowercase, no quoting needed.
/// Whether berth can create `db` with an owner role of the same name: a plain identifier that
/// is not one of PostgreSQL's own databases or roles.
pub fn accepts_database_name(db: &str) -> bool {
    is_pg_name(db)
        && !matches!(
            db,
            "postgres" | "template0" | "template1" | "superuser" | "replication" | "replicator"
        )
}

fn is_pg_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_lowercase() || f == '_')
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        && s.len() <= 40
}

/// The effective mode: explicit, else `external` with a host, else `in-cluster`.
pub fn mode_of(dep: &Dependency) -> DependencyMode {
    dep.mode.unwrap_or(if dep.host.is_some() {
        DependencyMode::External
    } else {
        DependencyMode::InCluster
    })
}

/// A six-field cron (seconds first), as CloudNativePG's ScheduledBackup reads it.
fn check_cron(s: &str, fields: usize) -> Result<(), String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != fields {
        return Err(format!("has {} fields, expected {fields}", parts.len()));
    }
    for p in &parts {
        if !p.chars().all(|c| c.is_ascii_digit() || "*/,-?".contains(c)) {
            return Err(format!("field `{p}` is not a cron field"));
        }
    }
    Ok(())
}

/// `10m`, `1h`, `90s` → seconds.
pub fn parse_duration(s: &str) -> Option<u32> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

/// `10.0.0.3`, `fd00::3` or `[fd00::3]` → the address.
fn host_ip(h: &str) -> Option<std::net::IpAddr> {
    h.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h)
        .parse()
        .ok()
}

/// Whether the (valid) CIDR `cidr` contains `ip`.
fn cidr_contains(cidr: &str, ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let (a, b, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n).into(), u32::from(i).into(), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        _ => return false,
    };
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (width - bits)
    };
    let mask = if width == 32 {
        mask & u128::from(u32::MAX)
    } else {
        mask
    };
    a & mask == b & mask
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// Resolves every dependency of the merged spec; problems go to `errors`.
pub(crate) fn resolve_dependencies(
    ctx: &Ctx,
    spec: &Spec,
    tier: Tier,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    errors: &mut Vec<SpecError>,
) -> Vec<ResolvedDependency> {
    let mut out = Vec::new();
    // Read only when a Kafka dependency declares topics.
    let mut lock: Option<Result<Option<super::kafka::LockFile>, String>> = None;
    for (name, dep) in &spec.dependencies {
        let at = |rest: &[&str]| -> Vec<String> {
            let mut v = vec!["dependencies".to_owned(), name.clone()];
            v.extend(rest.iter().map(|s| s.to_string()));
            v
        };
        let mut err = |rest: &[&str], msg: String, help: String| {
            let p = at(rest);
            let refs: Vec<&str> = p.iter().map(String::as_str).collect();
            errors.push(ctx.err(&refs, msg, Some(help)));
        };
        let Some(kind) = dep.kind else {
            err(
                &[],
                "missing required key `type`".into(),
                "e.g. `type: postgres` (postgres, mysql, mariadb, redis, valkey, kafka, mongodb, rabbitmq, elasticsearch, memcached, nats, http, tcp)".into(),
            );
            continue;
        };
        let entry = catalogue::entry(kind);
        let mode = mode_of(dep);
        let in_cluster = mode == DependencyMode::InCluster;
        let t = kind.as_str();
        let m = mode.as_str();

        // Keys that belong to one mode only.
        if in_cluster {
            if !entry.in_cluster {
                err(
                    &[],
                    format!(
                        "a `{t}` dependency is an endpoint; berth cannot run it in the cluster"
                    ),
                    "add `host:` (the endpoint), which makes it `mode: external`".into(),
                );
                continue;
            }
            if dep.host.is_some() {
                err(
                    &["host"],
                    "`host` is for `mode: managed` or `mode: external`; an in-cluster dependency gets its own Service".into(),
                    "remove `host`, or set `mode: managed` / `mode: external`".into(),
                );
            }
            for (key, set) in [("cidr", dep.cidr.is_some()), ("tls", dep.tls.is_some())] {
                if set {
                    err(
                        &[key],
                        format!(
                            "`{key}` applies to managed and external dependencies, not in-cluster ones"
                        ),
                        format!("remove `{key}`, or set `mode: managed` with `host:`"),
                    );
                }
            }
        } else {
            for (key, set, why) in [
                (
                    "ha",
                    dep.ha.as_ref().is_some_and(|h| *h != HaSpec::Flag(false)),
                    "the provider (or whoever runs it) does failover",
                ),
                (
                    "pooler",
                    dep.pooler.is_some(),
                    "run the provider's proxy (RDS Proxy, Cloud SQL connector), or make it in-cluster",
                ),
                (
                    "backup",
                    dep.backup.is_some(),
                    "the provider takes the backups (RDS automated backups, Cloud SQL PITR)",
                ),
                (
                    "storage",
                    dep.storage.is_some(),
                    "storage is the provider's",
                ),
                ("image", dep.image.is_some(), "berth runs no server for it"),
                (
                    "version",
                    dep.version.is_some(),
                    "the provider runs the server",
                ),
                (
                    "resources",
                    dep.resources.is_some(),
                    "berth runs no server for it",
                ),
            ] {
                if set {
                    err(
                        &[key],
                        format!("`{key}` does not apply to `mode: {m}`: {why}"),
                        format!(
                            "remove `{key}` from this environment (e.g. `{key}: null` in its overrides), or use `mode: in-cluster`"
                        ),
                    );
                }
            }
            match &dep.host {
                None => err(
                    &[],
                    format!("`mode: {m}` needs `host`"),
                    "the endpoint's host name, e.g. `host: todo.abc123.eu-west-1.rds.amazonaws.com`".into(),
                ),
                // An IPv6 address is a host too (written bare or in brackets).
                Some(h)
                    if h.is_empty()
                        || (h.contains(['/', ' ', ':']) && host_ip(h).is_none()) =>
                {
                    err(
                        &["host"],
                        format!("`{h}` is not a host name or IP address"),
                        "write only the host name or address; the port goes in `port:`".into(),
                    )
                }
                _ => {}
            }
            if let Some(c) = &dep.cidr {
                if !is_cidr(c) {
                    err(
                        &["cidr"],
                        format!("`{c}` is not a CIDR"),
                        "e.g. `cidr: 10.0.0.0/16` (the VPC or subnet of the endpoint)".into(),
                    );
                } else if let Some(ip) = dep.host.as_deref().and_then(host_ip)
                    && !cidr_contains(c, ip)
                {
                    err(
                        &["cidr"],
                        format!(
                            "`{c}` does not contain the host `{ip}`: egress to it would be blocked"
                        ),
                        format!(
                            "use a network that contains {ip}, or remove `cidr` (egress is then to {ip} alone)"
                        ),
                    );
                }
            }
        }
        if dep.port.is_none() && entry.port.is_none() {
            err(
                &[],
                "missing required key `port`".into(),
                format!("a `{t}` dependency has no usual port; set `port:`"),
            );
        }
        if dep.port == Some(0) {
            err(
                &["port"],
                "port must be between 1 and 65535".into(),
                "e.g. `port: 5432`".into(),
            );
        }
        let provider_port = dep.provider.and_then(|p| {
            super::cache::provider_port(p).or(super::kafka::provider_defaults(p).map(|d| d.0))
        });
        let port = dep.port.or(provider_port).or(entry.port).unwrap_or(1);
        // Keys of one type only.
        let redis_like = matches!(kind, DependencyKind::Redis | DependencyKind::Valkey);
        for (key, set, applies, types) in [
            (
                "brokers",
                dep.brokers.is_some(),
                kind == DependencyKind::Kafka,
                "kafka",
            ),
            (
                "topics",
                dep.topics.is_some(),
                kind == DependencyKind::Kafka,
                "kafka",
            ),
            (
                "operator",
                dep.operator.is_some(),
                kind == DependencyKind::Kafka,
                "kafka (`operator: strimzi`; postgres: `ha: { operator: … }`)",
            ),
            (
                "sasl",
                dep.sasl.is_some(),
                kind == DependencyKind::Kafka,
                "kafka",
            ),
            (
                "persistence",
                dep.persistence.is_some(),
                redis_like,
                "redis and valkey",
            ),
            (
                "cluster-mode",
                dep.cluster_mode.is_some(),
                redis_like,
                "redis and valkey",
            ),
            (
                "provider",
                dep.provider.is_some(),
                redis_like || kind == DependencyKind::Kafka,
                "redis, valkey and kafka",
            ),
        ] {
            if set && !applies {
                err(
                    &[key],
                    format!("`{key}` does not apply to `{t}`"),
                    format!("remove `{key}`; it applies to {types}"),
                );
            }
        }
        let redis = if redis_like {
            super::cache::resolve(dep, mode, tier, &mut err)
        } else {
            None
        };
        let kafka = if kind == DependencyKind::Kafka {
            let lock: &Result<_, _> = if dep.topics.as_ref().is_some_and(|t| !t.is_empty()) {
                lock.get_or_insert_with(|| super::kafka::read_lock(read_file))
            } else {
                &Ok(None)
            };
            super::kafka::resolve(name, dep, mode, ctx.env, lock, &mut err)
        } else {
            None
        };

        // `ha` per type.
        if let Some(ha) = &dep.ha
            && in_cluster
            && !matches!(ha, HaSpec::Flag(false))
            && entry.ha == HaShape::Single
        {
            err(
                &["ha"],
                format!("`ha` is not supported for `{t}` yet"),
                "remove `ha` (one instance), or use a managed service".into(),
            );
        }
        for (key, set) in [
            ("pooler", dep.pooler.is_some()),
            ("backup", dep.backup.is_some()),
        ] {
            if set && kind != DependencyKind::Postgres {
                err(
                    &[key],
                    format!("`{key}` applies to postgres only"),
                    format!("remove `{key}`"),
                );
            }
        }
        if dep.databases.is_some() && !entry.databases {
            err(
                &["databases"],
                format!("`databases` does not apply to `{t}`"),
                "remove `databases`".into(),
            );
        }

        let server = if in_cluster {
            let image = match &dep.image {
                Some(i) => i.clone(),
                None => format!(
                    "{}:{}",
                    entry.image,
                    dep.version.as_deref().unwrap_or(entry.version)
                ),
            };
            let default_storage = if tier == Tier::Dev { "1Gi" } else { "10Gi" };
            let storage = match Quantity::parse(dep.storage.as_deref().unwrap_or(default_storage)) {
                Ok(q) => q,
                Err(e) => {
                    err(
                        &["storage"],
                        format!("storage: {e}"),
                        "e.g. `storage: 10Gi`".into(),
                    );
                    Quantity::parse("1Gi").expect("valid")
                }
            };
            let res = dep.resources.clone().unwrap_or_default();
            Some(Server {
                image,
                storage,
                cpu: res
                    .cpu
                    .unwrap_or_else(|| ResourcePair::parse("250m/1").expect("valid")),
                memory: res
                    .memory
                    .unwrap_or_else(|| ResourcePair::parse("512Mi/1Gi").expect("valid")),
                metrics: dep.metrics.unwrap_or(true),
            })
        } else {
            None
        };

        let tls_ca = match dep.tls.as_ref().and_then(|t| t.ca.as_ref()) {
            None => None,
            Some(rel) => match read_file(Path::new(rel)) {
                Ok(bytes)
                    if String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") =>
                {
                    Some(bytes)
                }
                Ok(_) => {
                    err(&["tls", "ca"], format!("`{rel}` holds no PEM certificate"), "download the provider's CA bundle (e.g. https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)".into());
                    None
                }
                Err(e) => {
                    err(
                        &["tls", "ca"],
                        format!("cannot read the CA bundle `{rel}`: {e}"),
                        "paths are relative to the directory holding berth.yaml".into(),
                    );
                    None
                }
            },
        };

        // `[fd00::3]` is stored as the bare address (URLs add the brackets back).
        let mut host = match dep.host.as_deref() {
            Some(h) => host_ip(h).map_or_else(|| h.to_owned(), |ip| ip.to_string()),
            None => name.clone(),
        };
        if in_cluster
            && kafka
                .as_ref()
                .is_some_and(|k| k.operator == Some(super::KafkaOperator::Strimzi))
        {
            // Strimzi's bootstrap Service.
            host = format!("{name}-kafka-bootstrap");
        }
        // An external postgres without `databases` keeps the endpoint-only wiring (`NAME_HOST`,
        // `NAME_PORT`); the app brings its own connection string.
        let typed = mode != DependencyMode::External || dep.databases.is_some();
        let default_db = default_database(&spec.app);
        let postgres = if kind == DependencyKind::Postgres && typed {
            let databases = dep
                .databases
                .clone()
                .unwrap_or_else(|| vec![default_db.clone()]);
            if databases.is_empty() {
                err(
                    &["databases"],
                    "`databases` is empty".into(),
                    format!("list at least one, e.g. `databases: [{default_db}]`"),
                );
            }
            let mut seen: Vec<String> = Vec::new();
            for (i, db) in databases.iter().enumerate() {
                if !accepts_database_name(db) {
                    err(
                        &["databases", &i.to_string()],
                        format!("`{db}` is not a database name berth accepts"),
                        "lowercase letters, digits and `_`, starting with a letter, at most 40; not postgres, template0/1, superuser, replication or replicator".into(),
                    );
                }
                let part = object_part(db);
                if seen.contains(&part) {
                    err(
                        &["databases", &i.to_string()],
                        format!("`{db}` is listed twice (or clashes with another after `_` → `-`)"),
                        "list each database once".into(),
                    );
                }
                seen.push(part);
            }
            let topology = if in_cluster {
                Some(match &dep.ha {
                    None | Some(HaSpec::Flag(false)) => Topology::Single,
                    Some(HaSpec::Flag(true)) => Topology::CloudNativePg {
                        instances: DEFAULT_INSTANCES,
                    },
                    Some(HaSpec::Settings(s)) => {
                        for (key, set) in [
                            ("replicas", s.replicas.is_some()),
                            ("sentinel", s.sentinel.is_some()),
                            ("down-after", s.down_after.is_some()),
                            ("failover-timeout", s.failover_timeout.is_some()),
                        ] {
                            if set {
                                err(&["ha", key], format!("`ha.{key}` is a Redis setting"), "postgres takes `ha: { instances: 3, operator: cloudnative-pg | none }`".into());
                            }
                        }
                        let instances = s.instances.unwrap_or(DEFAULT_INSTANCES);
                        if instances < 2 {
                            err(&["ha", "instances"], format!("`ha.instances: {instances}` is not highly available"), "use at least 2 (3 to survive a node loss with a quorum), or `ha: false`".into());
                        }
                        match s.operator.unwrap_or(HaOperator::CloudnativePg) {
                            HaOperator::CloudnativePg => Topology::CloudNativePg { instances },
                            HaOperator::None => Topology::Patroni { instances },
                        }
                    }
                })
            } else {
                None
            };
            let writer = match topology {
                Some(Topology::CloudNativePg { .. }) => format!("{name}-rw"),
                _ => host.clone(),
            };
            let pooler = if in_cluster {
                dep.pooler.as_ref().map(|p| {
                    let pool = Pooler {
                        mode: p.mode.unwrap_or(PoolMode::Transaction),
                        instances: p.instances.unwrap_or(DEFAULT_POOLER_INSTANCES),
                        pool_size: p.pool_size.unwrap_or(DEFAULT_POOL_SIZE),
                        max_clients: p.max_clients.unwrap_or(DEFAULT_MAX_CLIENTS),
                    };
                    if pool.instances == 0 || pool.pool_size == 0 || pool.max_clients == 0 {
                        err(
                            &["pooler"],
                            "pooler `instances`, `pool-size` and `max-clients` must be at least 1"
                                .into(),
                            "e.g. `pooler: { mode: transaction, instances: 2 }`".into(),
                        );
                    }
                    pool
                })
            } else {
                None
            };
            let backup = if in_cluster {
                dep.backup.as_ref().map(|b| {
                    let schedule = b.schedule.clone().unwrap_or_else(|| "0 0 3 * * *".into());
                    if let Err(why) = check_cron(&schedule, 6) {
                        err(&["backup", "schedule"], format!("backup schedule `{schedule}` {why}"), "six fields, seconds first, as CloudNativePG reads it: `0 0 3 * * *` is 03:00 daily".into());
                    } else if !matches!(topology, Some(Topology::CloudNativePg { .. })) {
                        let f: Vec<&str> = schedule.split_whitespace().collect();
                        let fixed = |s: &str| s.chars().all(|c| c.is_ascii_digit());
                        if !(fixed(f[0]) && fixed(f[1]) && fixed(f[2]) && f[3..].iter().all(|x| *x == "*" || *x == "?")) {
                            err(&["backup", "schedule"], format!("backup schedule `{schedule}`: without CloudNativePG, base backups run once a day at a fixed time"), "write `S M H * * *`, e.g. `0 0 3 * * *`, or use `ha: { operator: cloudnative-pg }`".into());
                        }
                    }
                    let retention = b.retention.clone().unwrap_or_else(|| DEFAULT_RETENTION.into());
                    let ok_ret = retention.len() > 1
                        && retention[..retention.len() - 1].chars().all(|c| c.is_ascii_digit())
                        && retention.ends_with(['d', 'w', 'm'])
                        && !retention.starts_with('0');
                    if !ok_ret {
                        err(&["backup", "retention"], format!("retention `{retention}` is not a number of days, weeks or months"), "e.g. `retention: 7d` (or `4w`, `3m`)".into());
                    }
                    let destination = match &b.to {
                        None => {
                            err(&["backup"], "a backup needs a destination: missing required key `to`".into(), "e.g. `to: s3://my-bucket/pg` (an S3 or S3-compatible bucket)".into());
                            String::new()
                        }
                        Some(to) if !to.starts_with("s3://") || to.len() <= 5 || to[5..].starts_with('/') => {
                            err(&["backup", "to"], format!("`{to}` is not an s3:// destination"), "e.g. `to: s3://my-bucket/pg` (S3-compatible stores take `endpoint:` too)".into());
                            to.clone()
                        }
                        Some(to) => to.trim_end_matches('/').to_owned(),
                    };
                    if let Some(e) = &b.endpoint
                        && !(e.starts_with("https://") || e.starts_with("http://"))
                    {
                        err(&["backup", "endpoint"], format!("`{e}` is not a URL"), "e.g. `endpoint: https://minio.storage.svc:9000`".into());
                    }
                    if b.identity.is_none() && b.endpoint.is_none() && tier != Tier::Dev {
                        err(&["backup"], "a backup to S3 needs a cloud identity: missing required key `identity`".into(), "the IAM role the database pods assume (IRSA), e.g. `identity: arn:aws:iam::123456789012:role/pg-backup`; berth never uses static keys".into());
                    }
                    let restore_check = b.restore_check.clone().unwrap_or_else(|| DEFAULT_RESTORE_CHECK.into());
                    if let Err(why) = check_cron(&restore_check, 5) {
                        err(&["backup", "restore-check"], format!("restore-check schedule `{restore_check}` {why}"), "five fields as a CronJob takes them: `0 5 * * 0` is Sundays 05:00".into());
                    }
                    Backup {
                        schedule,
                        retention,
                        destination,
                        identity: b.identity.clone(),
                        endpoint: b.endpoint.clone(),
                        restore_check,
                    }
                })
            } else {
                None
            };
            if in_cluster {
                host = match (&pooler, topology) {
                    (Some(_), _) => format!("{name}-pooler"),
                    (None, Some(Topology::CloudNativePg { .. })) => format!("{name}-rw"),
                    _ => name.clone(),
                };
            }
            let major = server
                .as_ref()
                .map(|s| {
                    let tag = s.image.rsplit_once(':').map(|(_, t)| t).unwrap_or("16");
                    tag.split(['.', '-']).next().unwrap_or("16").to_owned()
                })
                .unwrap_or_else(|| "16".into());
            Some(Postgres {
                databases,
                topology,
                writer,
                pooler,
                backup,
                major,
            })
        } else {
            None
        };
        out.push(ResolvedDependency {
            name: name.clone(),
            kind,
            mode,
            host,
            port,
            server,
            postgres,
            cidr: dep.cidr.clone(),
            tls_ca,
            redis,
            kafka,
        });
    }
    out
}

/// The services' migrations, validated, each with its step in the declared database order.
pub(crate) fn resolve_migrations(
    ctx: &Ctx,
    spec: &Spec,
    deps: &[ResolvedDependency],
    errors: &mut Vec<SpecError>,
) -> Vec<(String, ResolvedMigration)> {
    // Declared order: dependencies in spec order, databases in list order.
    let order: Vec<(String, String)> = deps
        .iter()
        .filter_map(|d| d.postgres.as_ref().map(|p| (d, p)))
        .flat_map(|(d, p)| {
            p.databases
                .iter()
                .map(move |db| (d.name.clone(), db.clone()))
        })
        .collect();
    let mut found: Vec<(String, ResolvedMigration)> = Vec::new();
    for (svc_name, svc) in &spec.services {
        let Some(migrations) = &svc.migrate else {
            continue;
        };
        let many = matches!(migrations, super::Migrations::Many(_));
        for (i, m) in migrations.list().into_iter().enumerate() {
            let idx = i.to_string();
            let mut path: Vec<&str> = vec!["services", svc_name, "migrate"];
            if many {
                path.push(&idx);
            }
            let sub = |key: &str| {
                let mut p = path.clone();
                p.push(key);
                p.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            };
            let mut push = |p: Vec<String>, msg: String, help: String| {
                let refs: Vec<&str> = p.iter().map(String::as_str).collect();
                errors.push(ctx.err(&refs, msg, Some(help)));
            };
            let command = match &m.command {
                Some(c) if !c.is_empty() => c.clone(),
                _ => {
                    push(sub("command"), "a migration needs a `command`".into(), "e.g. `command: [goose, -dir, /migrations, postgres, up]` (the connection is in `$DATABASE_URL`)".into());
                    continue;
                }
            };
            let names: Vec<String> = order.iter().map(|(d, db)| format!("{d}/{db}")).collect();
            let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let Some(target) = &m.database else {
                push(
                    sub("database"),
                    "a migration needs a `database`".into(),
                    format!(
                        "name it as DEPENDENCY/DATABASE: {}",
                        if names.is_empty() {
                            "declare a postgres dependency first".into()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
                continue;
            };
            let (dep, db) = match target.split_once('/') {
                Some((d, db)) => (d.to_owned(), Some(db.to_owned())),
                None => (target.clone(), None),
            };
            let Some(resolved) = deps.iter().find(|d| d.name == dep) else {
                push(
                    sub("database"),
                    format!("`{target}` names no dependency: `{dep}` is not declared"),
                    crate::de::suggest(target, &name_refs),
                );
                continue;
            };
            let Some(pg) = &resolved.postgres else {
                push(
                    sub("database"),
                    format!(
                        "`{dep}` is a `{}` dependency; migrations run against postgres databases",
                        resolved.kind.as_str()
                    ),
                    crate::de::suggest(target, &name_refs),
                );
                continue;
            };
            let db = match db {
                Some(db) if pg.databases.contains(&db) => db,
                Some(db) => {
                    push(
                        sub("database"),
                        format!("`{dep}` has no database `{db}`"),
                        format!(
                            "{}; or add `{db}` to `dependencies.{dep}.databases`",
                            crate::de::suggest(target, &name_refs)
                        ),
                    );
                    continue;
                }
                None if pg.databases.len() == 1 => pg.databases[0].clone(),
                None => {
                    push(
                        sub("database"),
                        format!("`{dep}` has several databases; say which one"),
                        format!(
                            "one of: {}",
                            pg.databases
                                .iter()
                                .map(|d| format!("`{dep}/{d}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    continue;
                }
            };
            let timeout_seconds = match &m.timeout {
                None => DEFAULT_MIGRATION_TIMEOUT_SECONDS,
                Some(t) => match parse_duration(t) {
                    Some(s) => s,
                    None => {
                        push(
                            sub("timeout"),
                            format!("`{t}` is not a duration"),
                            "e.g. `timeout: 10m` (s, m or h)".into(),
                        );
                        continue;
                    }
                },
            };
            if let Some((other, _)) = found
                .iter()
                .find(|(_, f)| f.dependency == dep && f.database == db)
            {
                push(
                    sub("database"),
                    format!("`{dep}/{db}` is already migrated by `{other}`"),
                    "one service owns each database's migrations; remove one of them".into(),
                );
                continue;
            }
            found.push((
                svc_name.clone(),
                ResolvedMigration {
                    dependency: dep,
                    database: db,
                    command,
                    timeout_seconds,
                    step: 0,
                },
            ));
        }
    }
    // Steps follow the declared order of the databases, not of the services.
    let mut ranked: Vec<usize> = (0..found.len()).collect();
    ranked.sort_by_key(|&i| {
        order
            .iter()
            .position(|(d, db)| *d == found[i].1.dependency && *db == found[i].1.database)
            .unwrap_or(usize::MAX)
    });
    for (step, i) in ranked.into_iter().enumerate() {
        found[i].1.step = step;
    }
    if found.len() > MAX_MIGRATION_STEPS {
        errors.push(ctx.err(&["services"], format!("{} databases migrate in order; berth orders at most {MAX_MIGRATION_STEPS}", found.len()), Some("migrate several databases in one Job (one service's command can run them in sequence)".into())));
    }
    found
}
