use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Mysql,
    image: "mysql",
    version: "8.4",
    port: Some(3306),
    port_name: "mysql",
    data_path: Some("/var/lib/mysql"),
    user: 999,
    ready: Check::Exec(&["mysqladmin", "ping", "-h", "127.0.0.1"]),
    live: Check::Tcp,
    env: &[("MYSQL_ROOT_PASSWORD", EnvValue::Secret("password"))],
    credentials: &["password"],
    writable: &["/var/run/mysqld", "/tmp"],
    ha: HaShape::Single,
    databases: true,
    in_cluster: true,
};
