use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

/// PostgreSQL (the Docker official image; HA through CloudNativePG or Patroni, see
/// `crate::dependency::postgres`).
pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Postgres,
    image: "postgres",
    version: "16",
    port: Some(5432),
    port_name: "postgresql",
    data_path: Some("/var/lib/postgresql/data"),
    user: 999,
    ready: Check::Exec(&["pg_isready", "-h", "127.0.0.1", "-p", "5432"]),
    live: Check::Exec(&["pg_isready", "-h", "127.0.0.1", "-p", "5432"]),
    env: &[
        (
            "PGDATA",
            EnvValue::Literal("/var/lib/postgresql/data/pgdata"),
        ),
        ("POSTGRES_USER", EnvValue::Secret("username")),
        ("POSTGRES_PASSWORD", EnvValue::Secret("password")),
    ],
    credentials: &["username", "password"],
    writable: &["/var/run/postgresql", "/tmp"],
    ha: HaShape::Postgres,
    databases: true,
    in_cluster: true,
};
