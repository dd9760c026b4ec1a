use super::{Check, Entry, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Memcached,
    image: "memcached",
    version: "1.6",
    port: Some(11211),
    port_name: "memcache",
    data_path: None,
    user: 11211,
    ready: Check::Tcp,
    live: Check::Tcp,
    env: &[],
    credentials: &[],
    writable: &[],
    ha: HaShape::Single,
    databases: false,
    in_cluster: true,
};
