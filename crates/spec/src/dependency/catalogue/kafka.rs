use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Kafka,
    image: "apache/kafka",
    version: "3.9.1",
    port: Some(9092),
    port_name: "kafka",
    data_path: Some("/var/lib/kafka/data"),
    user: 1000,
    ready: Check::Tcp,
    live: Check::Tcp,
    env: &[],
    credentials: &[],
    writable: &["/tmp", "/opt/kafka/config"],
    ha: HaShape::Brokers,
    databases: false,
    in_cluster: true,
};
