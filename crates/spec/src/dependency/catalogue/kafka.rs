use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Kafka,
    image: "apache/kafka",
    // Strimzi's v1 API (Strimzi ≥ 0.49) runs only Kafka 4.x; the KRaft settings berth renders are
    // those of 4.x (no ZooKeeper anywhere).
    version: "4.1.0",
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
