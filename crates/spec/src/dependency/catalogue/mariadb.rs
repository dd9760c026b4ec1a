use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Mariadb,
    image: "mariadb",
    version: "11.4",
    port: Some(3306),
    port_name: "mysql",
    data_path: Some("/var/lib/mysql"),
    user: 999,
    ready: Check::Exec(&["healthcheck.sh", "--connect", "--innodb_initialized"]),
    live: Check::Tcp,
    env: &[("MARIADB_ROOT_PASSWORD", EnvValue::Secret("password"))],
    credentials: &["password"],
    writable: &["/run/mysqld", "/tmp"],
    ha: HaShape::Single,
    databases: true,
    in_cluster: true,
};
