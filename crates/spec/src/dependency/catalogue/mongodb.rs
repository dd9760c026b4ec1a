use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Mongodb,
    image: "mongo",
    version: "7.0",
    port: Some(27017),
    port_name: "mongodb",
    data_path: Some("/data/db"),
    user: 999,
    ready: Check::Exec(&["mongosh", "--quiet", "--eval", "db.adminCommand('ping')"]),
    live: Check::Tcp,
    env: &[
        ("MONGO_INITDB_ROOT_USERNAME", EnvValue::Secret("username")),
        ("MONGO_INITDB_ROOT_PASSWORD", EnvValue::Secret("password")),
    ],
    credentials: &["username", "password"],
    writable: &["/tmp", "/data/configdb"],
    ha: HaShape::Single,
    databases: false,
    in_cluster: true,
};
