use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

/// An HTTP endpoint outside the cluster.
pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Http,
    image: "",
    version: "",
    port: Some(80),
    port_name: "http",
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
