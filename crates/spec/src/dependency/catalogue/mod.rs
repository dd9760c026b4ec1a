//! What each dependency type is, one file per type: its image, port, data path, probes, the
//! environment its image reads (credentials by Secret key, never values), and its HA shape. The
//! renderer builds a single-instance StatefulSet for any in-cluster type from its entry; types
//! with their own HA (postgres, redis/valkey, kafka) add to it.

mod elasticsearch;
mod http;
mod kafka;
mod mariadb;
mod memcached;
mod mongodb;
mod mysql;
mod nats;
mod postgres;
mod rabbitmq;
mod redis;
mod tcp;
mod valkey;

use crate::model::DependencyKind;

/// A catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub kind: DependencyKind,
    /// Docker Hub image (repository only) and its default tag.
    pub image: &'static str,
    pub version: &'static str,
    /// The port clients connect to and its name on the Service.
    pub port: Option<u16>,
    pub port_name: &'static str,
    /// Where the image keeps its data (the volume mount).
    pub data_path: Option<&'static str>,
    /// Non-root UID the image runs its server as.
    pub user: u32,
    /// Readiness and liveness checks.
    pub ready: Check,
    pub live: Check,
    /// Environment the image reads: literal values, and credentials from the dependency's Secret.
    pub env: &'static [(&'static str, EnvValue)],
    /// Keys of the dependency's credential Secret (`NAME-credentials`).
    pub credentials: &'static [&'static str],
    /// Extra writable paths besides the data path (the root filesystem is read-only).
    pub writable: &'static [&'static str],
    /// The HA shape the type supports.
    pub ha: HaShape,
    /// Whether `databases:` applies (one owner role per database).
    pub databases: bool,
    /// Whether berth can run it in the cluster (http and tcp are endpoints only).
    pub in_cluster: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A command in the container.
    Exec(&'static [&'static str]),
    /// A TCP connect to the port.
    Tcp,
    /// An HTTP GET on the port.
    Http(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvValue {
    Literal(&'static str),
    /// A key of the dependency's credential Secret.
    Secret(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaShape {
    /// One instance only.
    Single,
    /// PostgreSQL: CloudNativePG or Patroni (`ha: { instances, operator }`).
    Postgres,
    /// Redis/Valkey: replicas and Sentinel (`ha: { replicas, sentinel }`).
    Sentinel,
    /// Kafka: KRaft brokers (`brokers:`).
    Brokers,
}

/// The entry of a type. `const`: the renderer's defaults are read from here at compile time, so
/// the catalogue is the one place an image or version is written.
pub const fn entry(kind: DependencyKind) -> &'static Entry {
    match kind {
        DependencyKind::Postgres => &postgres::ENTRY,
        DependencyKind::Mysql => &mysql::ENTRY,
        DependencyKind::Mariadb => &mariadb::ENTRY,
        DependencyKind::Redis => &redis::ENTRY,
        DependencyKind::Valkey => &valkey::ENTRY,
        DependencyKind::Kafka => &kafka::ENTRY,
        DependencyKind::Mongodb => &mongodb::ENTRY,
        DependencyKind::Rabbitmq => &rabbitmq::ENTRY,
        DependencyKind::Elasticsearch => &elasticsearch::ENTRY,
        DependencyKind::Memcached => &memcached::ENTRY,
        DependencyKind::Nats => &nats::ENTRY,
        DependencyKind::Http => &http::ENTRY,
        DependencyKind::Tcp => &tcp::ENTRY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_in_cluster_type_has_image_port_and_data_path() {
        for kind in DependencyKind::ALL {
            let e = entry(*kind);
            assert_eq!(e.kind, *kind);
            if e.in_cluster {
                assert!(!e.image.is_empty() && !e.version.is_empty(), "{kind:?}");
                assert!(e.port.is_some(), "{kind:?}");
                assert!(e.user != 0, "{kind:?} runs as root");
            }
            for (_, v) in e.env {
                if let EnvValue::Secret(k) = v {
                    assert!(
                        e.credentials.contains(k),
                        "{kind:?}: {k} not a credential key"
                    );
                }
            }
        }
    }
}
