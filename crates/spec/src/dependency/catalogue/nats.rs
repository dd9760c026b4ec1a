use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Nats,
    image: "nats",
    version: "2.10",
    port: Some(4222),
    port_name: "nats",
    data_path: Some("/data"),
    user: 1000,
    ready: Check::Http("/healthz"),
    live: Check::Tcp,
    env: &[],
    credentials: &[],
    writable: &[],
    ha: HaShape::Single,
    databases: false,
    in_cluster: true,
};
