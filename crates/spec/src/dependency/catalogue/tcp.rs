use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

/// A TCP endpoint outside the cluster (its port must be given).
pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Tcp,
    image: "",
    version: "",
    port: None,
    port_name: "tcp",
    data_path: None,
    user: 0,
    ready: Check::Tcp,
    live: Check::Tcp,
    env: &[],
    credentials: &[],
    writable: &[],
    ha: HaShape::Single,
    databases: false,
    in_cluster: false,
};
