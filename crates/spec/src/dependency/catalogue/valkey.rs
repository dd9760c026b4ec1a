use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Valkey,
    image: "valkey/valkey",
    version: "8.1",
    port: Some(6379),
    port_name: "redis",
    data_path: Some("/data"),
    user: 999,
    ready: Check::Exec(&["valkey-cli", "ping"]),
    live: Check::Tcp,
    env: &[],
    credentials: &[],
    writable: &["/tmp"],
    ha: HaShape::Sentinel,
    databases: false,
    in_cluster: true,
};
