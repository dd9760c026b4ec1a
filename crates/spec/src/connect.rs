//! Connection variables: what a service that `uses` X gets in its environment, in the form X's
//! clients read (never `http://` for something that does not speak HTTP).

use crate::model::DependencyKind;
use crate::ports::Protocol;
use crate::resolve::env_prefix;

/// Variables for a dependency of `kind` reachable at `host:port`: `X_HOST`, `X_PORT`, and
/// what its drivers take: `X_URL=redis://…` (redis), `mongodb://…`, `amqp://…`, `http://…`;
/// `X_BOOTSTRAP_SERVERS` (kafka); `X_ADDR=host:port` (tcp). Postgres and MySQL URLs carry
/// credentials, so they come from a secret (`DATABASE_URL`), not from here.
pub fn dependency_vars(
    name: &str,
    kind: DependencyKind,
    host: &str,
    port: u16,
) -> Vec<(String, String)> {
    let p = env_prefix(name);
    let mut vars = vec![
        (format!("{p}_HOST"), host.to_owned()),
        (format!("{p}_PORT"), port.to_string()),
    ];
    // An IPv6 address takes brackets in an address or URL (`[fd00::3]:6379`).
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    match kind {
        DependencyKind::Redis | DependencyKind::Valkey => {
            vars.push((format!("{p}_URL"), format!("redis://{addr}")))
        }
        DependencyKind::Nats => vars.push((format!("{p}_URL"), format!("nats://{addr}"))),
        DependencyKind::Elasticsearch => vars.push((format!("{p}_URL"), format!("http://{addr}"))),
        DependencyKind::Memcached => vars.push((format!("{p}_ADDR"), addr)),
        DependencyKind::Mongodb => vars.push((format!("{p}_URL"), format!("mongodb://{addr}"))),
        DependencyKind::Rabbitmq => vars.push((format!("{p}_URL"), format!("amqp://{addr}"))),
        DependencyKind::Http => vars.push((format!("{p}_URL"), format!("http://{addr}"))),
        DependencyKind::Kafka => vars.push((format!("{p}_BOOTSTRAP_SERVERS"), addr)),
        DependencyKind::Tcp => vars.push((format!("{p}_ADDR"), addr)),
        DependencyKind::Postgres | DependencyKind::Mysql | DependencyKind::Mariadb => {}
    }
    vars
}

/// The plain (non-secret) variables for a resolved dependency as a service in namespace
/// `app_ns` reaches it at `host` (see [`dependency_vars`]), adjusted to its topology:
/// - Redis/Valkey with Sentinel: `X_SENTINELS` (every Sentinel `host:26379`) and
///   `X_MASTER_NAME`; no `X_URL`/`X_HOST` (there is no fixed master address).
/// - Redis/Valkey in the cluster or managed: `X_URL` carries the password, so it is composed in
///   the pod from `X_PASSWORD` (berth-render), not here; managed adds `X_TLS` and, in cluster
///   mode, `X_CLUSTER_MODE=true`.
/// - Kafka in the cluster: `X_BOOTSTRAP_SERVERS` lists every broker's stable name; managed adds
///   `X_SECURITY_PROTOCOL` (`SSL` / `SASL_SSL`), `X_SASL_MECHANISM`, `X_SASL_USERNAME` (the
///   password is `X_SASL_PASSWORD`, a Secret reference).
pub fn resolved_dependency_vars(
    dep: &crate::ResolvedDependency,
    host: &str,
    app_ns: &str,
) -> Vec<(String, String)> {
    use crate::dependency::DependencyMode;
    let p = env_prefix(&dep.name);
    let mut vars = dependency_vars(&dep.name, dep.kind, host, dep.port);
    if let Some(r) = &dep.redis {
        vars.retain(|(k, _)| *k != format!("{p}_URL"));
        if let Some(s) = &r.sentinel {
            vars.clear();
            vars.push((
                format!("{p}_SENTINELS"),
                crate::dependency::cache::sentinels(&dep.name, app_ns, s),
            ));
            vars.push((format!("{p}_MASTER_NAME"), dep.name.clone()));
        }
        if dep.mode == DependencyMode::Managed {
            vars.push((format!("{p}_TLS"), r.tls.to_string()));
            if r.cluster_mode {
                vars.push((format!("{p}_CLUSTER_MODE"), "true".into()));
            }
        }
    }
    if let Some(k) = &dep.kafka {
        let servers = format!("{p}_BOOTSTRAP_SERVERS");
        if dep.mode == DependencyMode::InCluster && k.operator.is_none() {
            for (key, v) in vars.iter_mut() {
                if *key == servers {
                    *v = crate::dependency::kafka::bootstrap_servers(&dep.name, app_ns, k.brokers);
                }
            }
        }
        if dep.mode == DependencyMode::Managed {
            let protocol = match (&k.sasl, k.tls) {
                (Some(_), true) => "SASL_SSL",
                (Some(_), false) => "SASL_PLAINTEXT",
                (None, true) => "SSL",
                (None, false) => "PLAINTEXT",
            };
            vars.push((format!("{p}_SECURITY_PROTOCOL"), protocol.into()));
            if let Some(s) = &k.sasl {
                vars.push((
                    format!("{p}_SASL_MECHANISM"),
                    s.mechanism.kafka_name().into(),
                ));
                vars.push((format!("{p}_SASL_USERNAME"), s.username.clone()));
            }
        }
    }
    vars
}

/// Images whose server is known not to speak HTTP: the protocol and port name `port: N` gets
/// for them, and the URL scheme their clients read (if one carries no credentials).
pub(crate) fn known_server(repository: &str) -> Option<(&'static str, Option<&'static str>)> {
    let last = repository.rsplit('/').next().unwrap_or(repository);
    Some(match last {
        "redis" | "valkey" | "redis-stack-server" | "keydb" | "dragonfly" => {
            ("redis", Some("redis"))
        }
        "postgres" | "postgis" | "timescaledb" => ("postgres", None),
        "mysql" | "mariadb" | "percona" => ("mysql", None),
        "mongo" | "mongodb" => ("mongodb", Some("mongodb")),
        "memcached" => ("memcached", None),
        "rabbitmq" => ("amqp", Some("amqp")),
        "nats" => ("nats", Some("nats")),
        "zookeeper" => ("zookeeper", None),
        "cassandra" => ("cql", None),
        _ => return None,
    })
}

/// The protocol of a `port: N` short form for an image: tcp for known non-HTTP servers.
pub(crate) fn short_form_protocol(repository: &str) -> (Protocol, Option<&'static str>) {
    match known_server(repository) {
        Some((name, _)) => (Protocol::Tcp, Some(name)),
        None => (Protocol::Http, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_gets_what_its_drivers_take() {
        let get = |kind, k: &str| {
            dependency_vars("cache", kind, "cache", 6379)
                .into_iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v)
        };
        assert_eq!(
            get(DependencyKind::Redis, "CACHE_URL").as_deref(),
            Some("redis://cache:6379")
        );
        assert_eq!(get(DependencyKind::Postgres, "CACHE_URL"), None);
        assert_eq!(
            get(DependencyKind::Postgres, "CACHE_HOST").as_deref(),
            Some("cache")
        );
        assert_eq!(
            get(DependencyKind::Kafka, "CACHE_BOOTSTRAP_SERVERS").as_deref(),
            Some("cache:6379")
        );
        for kind in [
            DependencyKind::Redis,
            DependencyKind::Kafka,
            DependencyKind::Postgres,
            DependencyKind::Mysql,
            DependencyKind::Tcp,
        ] {
            assert!(
                dependency_vars("x", kind, "x", 1)
                    .iter()
                    .all(|(_, v)| !v.starts_with("http://")),
                "{kind:?}"
            );
        }
    }
}
