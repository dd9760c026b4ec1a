use super::{Check, Entry, EnvValue, HaShape};
use crate::model::DependencyKind;

pub(super) const ENTRY: Entry = Entry {
    kind: DependencyKind::Rabbitmq,
    image: "rabbitmq",
    version: "3.13",
    port: Some(5672),
    port_name: "amqp",
    data_path: Some("/var/lib/rabbitmq"),
    user: 999,
    ready: Check::Exec(&["rabbitmq-diagnostics", "-q", "check_port_connectivity"]),
    live: Check::Exec(&["rabbitmq-diagnostics", "-q", "status"]),
    env: &[
        ("RABBITMQ_DEFAULT_USER", EnvValue::Secret("username")),
        ("RABBITMQ_DEFAULT_PASS", EnvValue::Secret("password")),
    ],
    credentials: &["username", "password"],
    writable: &["/tmp", "/etc/rabbitmq"],
    ha: HaShape::Single,
    databases: false,
    in_cluster: true,
};
