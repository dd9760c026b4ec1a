use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Elasticsearch,
    image: "docker.elastic.co/elasticsearch/elasticsearch",
    version: "8.15.3",
    port: Some(9200),
    port_name: "http",
    data_path: Some("/usr/share/elasticsearch/data"),
    user: 1000,
    ready: Check::Tcp,
    live: Check::Tcp,
    env: &[
        ("discovery.type", EnvValue::Literal("single-node")),
        ("ELASTIC_PASSWORD", EnvValue::Secret("password")),
    ],
    credentials: &["password"],
    writable: &[
        "/tmp",
        "/usr/share/elasticsearch/logs",
        "/usr/share/elasticsearch/config",
    ],
    ha: HaShape::Single,
    databases: false,
    in_cluster: true,
};
